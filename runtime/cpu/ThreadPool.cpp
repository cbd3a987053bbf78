//===- ThreadPool.cpp - a fork-join pool for per-kernel parallelism -------===//

#include "runtime/cpu/ThreadPool.h"

#include <string>
#include <system_error>

#if defined(__x86_64__)
#include <immintrin.h>
#define FMC_PAUSE() _mm_pause()
#else
#define FMC_PAUSE() std::this_thread::yield()
#endif

namespace fmc::cpu {

namespace {
// About 50-100 microseconds of spinning before a worker sleeps.
constexpr int kSpins = 20000;
} // namespace

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  int requested = threads_;
  for (int i = 1; i < requested; ++i) {
    // The system may refuse a thread (limits, memory for its stack): run
    // with those that started and say so (startError) rather than abort.
    try {
      workers_.emplace_back([this, i] { worker(i); });
    } catch (const std::system_error &error) {
      threads_ = i;
      startError_ = "cannot start " + std::to_string(requested) +
                    " threads (the system refused thread " +
                    std::to_string(i + 1) + ": " + error.what() + ")";
      break;
    }
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

void ThreadPool::drain(int thread) {
  for (;;) {
    int64_t task = next_.fetch_add(1, std::memory_order_relaxed);
    if (task >= tasks_)
      break;
    fn_(ctx_, task, thread);
  }
}

void ThreadPool::runJob(int64_t tasks, TaskFn fn, void *ctx) {
  fn_ = fn;
  ctx_ = ctx;
  tasks_ = tasks;
  next_.store(0, std::memory_order_relaxed);
  busy_.store(threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1); // seq_cst: ordered before the sleeping_ load.
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  drain(0);
  // Spin briefly, then yield: when there are more threads than free cores,
  // the worker we wait for may need this core to finish.
  for (int spins = 0; busy_.load(std::memory_order_acquire) > 0; ++spins) {
    if (spins < 256)
      FMC_PAUSE();
    else
      std::this_thread::yield();
  }
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    uint64_t current;
    while ((current = generation_.load(std::memory_order_acquire)) == seen) {
      if (stop_.load(std::memory_order_relaxed))
        return;
      if (++spins < kSpins) {
        // Yield now and then so a caller sharing this core can proceed.
        if (spins % 256 == 0)
          std::this_thread::yield();
        else
          FMC_PAUSE();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_.fetch_add(1);
      wake_.wait(lock, [&] {
        return stop_.load() ||
               generation_.load(std::memory_order_acquire) != seen;
      });
      sleeping_.fetch_sub(1, std::memory_order_acq_rel);
      spins = 0;
    }
    seen = current;
    drain(index);
    busy_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

} // namespace fmc::cpu
