//===- ThreadPool.h - a fork-join pool for per-kernel parallelism ---------===//
//
// Kernels run one after another; each splits its work into tasks that all
// threads (the caller included) take from a shared counter. Decode issues
// hundreds of such parallel regions per token, so workers spin briefly
// before sleeping: waking a sleeping thread costs more than a small kernel.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_THREADPOOL_H
#define FMC_RUNTIME_CPU_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace fmc::cpu {

class ThreadPool {
public:
  /// A pool of `threads` threads in all (the caller counts as one).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return threads_; }
  /// Why fewer threads than requested started (empty when all did).
  const std::string &startError() const { return startError_; }

  /// Calls fn(task, thread) for every task in [0, tasks), spread over the
  /// pool; returns when all are done. `thread` is in [0, size()).
  template <typename Fn> void run(int64_t tasks, Fn &&fn) {
    if (tasks <= 0)
      return;
    if (threads_ == 1 || tasks == 1) {
      for (int64_t t = 0; t < tasks; ++t)
        fn(t, 0);
      return;
    }
    using F = std::remove_reference_t<Fn>;
    runJob(
        tasks,
        [](void *ctx, int64_t task, int thread) {
          (*static_cast<F *>(ctx))(task, thread);
        },
        const_cast<void *>(static_cast<const void *>(&fn)));
  }

private:
  using TaskFn = void (*)(void *ctx, int64_t task, int thread);
  void runJob(int64_t tasks, TaskFn fn, void *ctx);
  void worker(int index);
  void drain(int thread);

  int threads_;
  std::string startError_;
  std::vector<std::thread> workers_;
  // The current job.
  TaskFn fn_ = nullptr;
  void *ctx_ = nullptr;
  int64_t tasks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int> busy_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  // Sleeping workers wait here.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleeping_{0};
};

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_THREADPOOL_H
