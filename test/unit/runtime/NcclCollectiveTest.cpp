//===- NcclCollectiveTest.cpp - the NCCL engine over a stand-in libnccl ---===//
//
// runtime/nccl on machines without GPUs: the library loader's errors, and
// the engine's start-up, sums, failures and aborts with thread ranks over
// the stand-in library (FakeNccl.cpp; device pointers are host pointers).
// The host collective the engine bootstraps over is a thread group here,
// where under mpirun it is MPI.
//
//===----------------------------------------------------------------------===//

#include "runtime/nccl/NcclCollective.h"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fmc {
namespace {

using ::testing::HasSubstr;

/// Threads as the ranks of a host collective: broadcast only (what the
/// NCCL engine needs of it).
class ThreadGroup {
public:
  explicit ThreadGroup(int size) : size(size) {}

  void broadcast(int rank, void *data, size_t bytes) {
    std::unique_lock<std::mutex> lock(mutex);
    if (rank == 0)
      board.assign(static_cast<char *>(data), static_cast<char *>(data) + bytes);
    arriveAndWait(lock);
    if (rank != 0)
      std::memcpy(data, board.data(), bytes);
    arriveAndWait(lock);
  }

private:
  void arriveAndWait(std::unique_lock<std::mutex> &lock) {
    long generation = this->generation;
    if (++arrived == size) {
      arrived = 0;
      ++this->generation;
      changed.notify_all();
      return;
    }
    changed.wait(lock, [&] { return this->generation != generation; });
  }

  int size;
  std::mutex mutex;
  std::condition_variable changed;
  int arrived = 0;
  long generation = 0;
  std::vector<char> board;
};

class ThreadRank final : public Collective {
public:
  ThreadRank(ThreadGroup &group, int rank, int size)
      : group(group), rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int64_t timeoutMs() const override { return 1000; }
  absl::Status allReduceSum(const float *, float *, size_t) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::Status broadcast(void *data, size_t bytes) override {
    group.broadcast(rank_, data, bytes);
    return absl::OkStatus();
  }

private:
  ThreadGroup &group;
  int rank_, size_;
};

std::shared_ptr<const nccl::Library> fakeLibrary() {
  absl::StatusOr<std::shared_ptr<const nccl::Library>> lib =
      nccl::loadLibrary(FMC_FAKE_NCCL);
  EXPECT_TRUE(lib.ok()) << lib.status();
  return lib.ok() ? *lib : nullptr;
}

int fakeCounter(const char *name) {
  void *handle = dlopen(FMC_FAKE_NCCL, RTLD_NOW | RTLD_NOLOAD);
  auto counter = handle ? reinterpret_cast<int (*)()>(dlsym(handle, name))
                        : nullptr;
  return counter ? counter() : -1;
}

/// Runs `body(rank)` on `size` threads, each with its own NCCL engine over
/// one thread group, and returns each rank's attach status.
std::vector<absl::Status>
runRanks(int size, const std::function<std::shared_ptr<const nccl::Library>(
                       int)> &libraryOf,
         const std::function<void(int, NcclCollective &)> &body) {
  ThreadGroup group(size);
  std::vector<absl::Status> attached(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      ThreadRank host(group, r, size);
      std::shared_ptr<const nccl::Library> lib = libraryOf(r);
      NcclCollective engine = lib ? NcclCollective(host, lib)
                                  : NcclCollective(host);
      attached[r] = engine.attachCudaDevice(r);
      if (attached[r].ok())
        body(r, engine);
    });
  for (std::thread &t : threads)
    t.join();
  return attached;
}

class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() { ::unsetenv(name); }

private:
  const char *name;
};

TEST(NcclLibrary, MissingLibraryNamesItAndWhatToDo) {
  absl::StatusOr<std::shared_ptr<const nccl::Library>> lib =
      nccl::loadLibrary("/nonexistent/libnccl.so.2");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(lib.status().message(),
              HasSubstr("CUDA ranks need NCCL: cannot load "
                        "/nonexistent/libnccl.so.2"));
  EXPECT_THAT(lib.status().message(),
              HasSubstr("install libnccl2 or name the library with "
                        "FMC_NCCL_LIBRARY"));
}

TEST(NcclLibrary, ALibraryThatIsNotNcclNamesTheMissingEntryPoint) {
  absl::StatusOr<std::shared_ptr<const nccl::Library>> lib =
      nccl::loadLibrary("libm.so.6");
  ASSERT_FALSE(lib.ok());
  EXPECT_THAT(lib.status().message(),
              HasSubstr("CUDA ranks need NCCL 2.11 or later: libm.so.6 lacks "
                        "ncclGetVersion"));
}

TEST(NcclLibrary, TooOldAVersionIsRefused) {
  ScopedEnv old("FMC_FAKE_NCCL_VERSION", "20907");
  absl::StatusOr<std::shared_ptr<const nccl::Library>> lib =
      nccl::loadLibrary(FMC_FAKE_NCCL);
  ASSERT_FALSE(lib.ok());
  EXPECT_THAT(lib.status().message(),
              HasSubstr("CUDA ranks need NCCL 2.11 or later"));
  EXPECT_THAT(lib.status().message(), HasSubstr("is version code 20907"));
}

TEST(NcclLibrary, LibraryPathFollowsTheEnvironment) {
  EXPECT_EQ(nccl::libraryPath(), "libnccl.so.2");
  ScopedEnv path("FMC_NCCL_LIBRARY", "/opt/nccl/lib/libnccl.so.2");
  EXPECT_EQ(nccl::libraryPath(), "/opt/nccl/lib/libnccl.so.2");
}

TEST(NcclCollective, RanksSumScaledBuffersAsOneExchange) {
  std::shared_ptr<const nccl::Library> lib = fakeLibrary();
  ASSERT_NE(lib, nullptr);
  constexpr int kRanks = 3;
  std::vector<std::vector<float>> a(kRanks), b(kRanks), outA(kRanks);
  std::vector<int64_t> calls(kRanks);
  std::vector<uint64_t> bytes(kRanks);
  std::vector<absl::Status> enqueued(kRanks);
  std::vector<absl::Status> attached = runRanks(
      kRanks, [&](int) { return lib; },
      [&](int r, NcclCollective &engine) {
        a[r] = {1.0f + r, 2.0f * r, -4.0f};
        b[r] = {10.0f * r, 1.0f};
        outA[r].assign(3, 0.0f);
        // A mean over 4 tracks: a's sum into outA and b's in place, times
        // 1/4, as one exchange.
        Collective::DeviceBuffer buffers[] = {
            {reinterpret_cast<uint64_t>(a[r].data()),
             reinterpret_cast<uint64_t>(outA[r].data()), 3},
            {reinterpret_cast<uint64_t>(b[r].data()),
             reinterpret_cast<uint64_t>(b[r].data()), 2}};
        enqueued[r] = engine.enqueueDeviceAllReduce(buffers, 0.25f, nullptr);
        if (enqueued[r].ok())
          enqueued[r] = engine.deviceError();
        calls[r] = engine.allReduces();
        bytes[r] = engine.bytesSent();
      });
  for (int r = 0; r < kRanks; ++r) {
    ASSERT_TRUE(attached[r].ok()) << attached[r];
    ASSERT_TRUE(enqueued[r].ok()) << enqueued[r];
    // (1 + 2 + 3) / 4, (0 + 2 + 4) / 4, -12 / 4; (0 + 10 + 20) / 4, 3 / 4.
    EXPECT_EQ(outA[r], (std::vector<float>{1.5f, 1.5f, -3.0f})) << r;
    EXPECT_EQ(b[r], (std::vector<float>{7.5f, 0.75f})) << r;
    EXPECT_EQ(calls[r], 1);
    EXPECT_EQ(bytes[r], 5 * sizeof(float));
  }
}

TEST(NcclCollective, ASumWithoutScaleUsesNcclSum) {
  std::shared_ptr<const nccl::Library> lib = fakeLibrary();
  std::vector<std::vector<float>> x(2);
  runRanks(2, [&](int) { return lib; },
           [&](int r, NcclCollective &engine) {
             x[r] = {static_cast<float>(r + 1)};
             Collective::DeviceBuffer buffer{
                 reinterpret_cast<uint64_t>(x[r].data()),
                 reinterpret_cast<uint64_t>(x[r].data()), 1};
             EXPECT_TRUE(engine.enqueueDeviceAllReduce({&buffer, 1}, 1.0f,
                                                       nullptr)
                             .ok());
           });
  EXPECT_EQ(x[0], std::vector<float>{3.0f});
  EXPECT_EQ(x[1], std::vector<float>{3.0f});
}

TEST(NcclCollective, EveryRankFailsWhenRankZeroCannotLoadNccl) {
  std::shared_ptr<const nccl::Library> lib = fakeLibrary();
  ScopedEnv missing("FMC_NCCL_LIBRARY", "/nonexistent/libnccl.so.2");
  // Rank 0 loads from the environment (and fails); rank 1 has the library.
  std::vector<absl::Status> attached =
      runRanks(2, [&](int r) { return r == 0 ? nullptr : lib; },
               [](int, NcclCollective &) {});
  EXPECT_THAT(attached[0].message(),
              HasSubstr("cannot load /nonexistent/libnccl.so.2"));
  EXPECT_THAT(attached[1].message(),
              HasSubstr("rank 0 could not start NCCL: CUDA ranks need NCCL: "
                        "cannot load /nonexistent/libnccl.so.2"));
}

TEST(NcclCollective, AFailedUniqueIdEndsEveryRank) {
  std::shared_ptr<const nccl::Library> lib = fakeLibrary();
  ScopedEnv fail("FMC_FAKE_NCCL_FAIL", "uniqueid");
  std::vector<absl::Status> attached =
      runRanks(2, [&](int) { return lib; }, [](int, NcclCollective &) {});
  for (const absl::Status &s : attached)
    EXPECT_THAT(s.message(),
                HasSubstr("rank 0 could not start NCCL: ncclGetUniqueId: "
                          "unhandled system error (fake) (2)"));
}

TEST(NcclCollective, AFailedJoinNamesTheRankAndDevice) {
  std::shared_ptr<const nccl::Library> lib = fakeLibrary();
  ScopedEnv fail("FMC_FAKE_NCCL_FAIL", "init");
  std::vector<absl::Status> attached =
      runRanks(2, [&](int) { return lib; }, [](int, NcclCollective &) {});
  EXPECT_THAT(attached[1].message(),
              HasSubstr("rank 1 (CUDA device 1) could not join the NCCL "
                        "communicator: ncclCommInitRank: unhandled system "
                        "error (fake) (2)"));
}

TEST(NcclCollective, AnAsynchronousErrorIsReportedAndAbortEndsTheCommunicator) {
  std::shared_ptr<const nccl::Library> lib = fakeLibrary();
  int abortsBefore = fakeCounter("fmc_fake_nccl_aborts");
  int destroysBefore = fakeCounter("fmc_fake_nccl_destroys");
  std::vector<absl::Status> errors(2), afterAbort(2);
  {
    // Every communicator reports a peer's failure once it exists.
    ScopedEnv fail("FMC_FAKE_NCCL_FAIL", "async");
    runRanks(2, [&](int) { return lib; },
             [&](int r, NcclCollective &engine) {
               errors[r] = engine.deviceError();
               engine.abortDevice();
               afterAbort[r] = engine.deviceError();
             });
  }
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(errors[r].code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(errors[r].message(),
                HasSubstr("NCCL failed while the ranks exchanged activations "
                          "(another rank may have failed): "
                          "ncclCommGetAsyncError: remote process exited"));
    EXPECT_TRUE(afterAbort[r].ok()) << "an aborted communicator is gone";
  }
  EXPECT_EQ(fakeCounter("fmc_fake_nccl_aborts"), abortsBefore + 2);
  // Aborted communicators are not destroyed again; healthy ones are, when
  // their engine ends.
  EXPECT_EQ(fakeCounter("fmc_fake_nccl_destroys"), destroysBefore);
  runRanks(2, [&](int) { return lib; },
           [&](int, NcclCollective &engine) {
             EXPECT_TRUE(engine.deviceError().ok());
           });
  EXPECT_EQ(fakeCounter("fmc_fake_nccl_destroys"), destroysBefore + 2);
  EXPECT_EQ(fakeCounter("fmc_fake_nccl_aborts"), abortsBefore + 2);
}

TEST(NcclCollective, DeviceAllReducesNeedAnAttachedDevice) {
  ThreadGroup group(1);
  ThreadRank host(group, 0, 1);
  NcclCollective engine(host, fakeLibrary());
  float x = 1;
  Collective::DeviceBuffer buffer{reinterpret_cast<uint64_t>(&x),
                                  reinterpret_cast<uint64_t>(&x), 1};
  absl::Status s = engine.enqueueDeviceAllReduce({&buffer, 1}, 1.0f, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(),
              HasSubstr("no CUDA device is attached to this run's collective "
                        "engine"));
}

TEST(NcclCollective, AHostOnlyEngineRefusesDevices) {
  ThreadGroup group(1);
  ThreadRank host(group, 0, 1);
  absl::Status s = host.attachCudaDevice(0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(),
              HasSubstr("this run's collective engine sums host memory only "
                        "(MPI); CUDA ranks need NCCL"));
}

} // namespace
} // namespace fmc
