//===- CudaDeviceHostTest.cpp - the cuda device over a fake driver --------===//
//
// The cuda device's host logic with no GPU: a session on the cuda device of
// the tiny counter artifact (TinyGpuArtifact.h), whose driver computes the
// two kernels in C++ over host memory (FakeCudaDriver.h). It checks every
// value the runs produce (uploads, zeroed caches, run records, the decode
// graph's own copies, logits rows read back, chunked prefill), that each
// program is recorded once as a graph and replayed, and how launches are
// made: with programmatic stream serialization exactly when the executable
// says its kernels wait (programmatic_dependent_launch) and the device is
// sm_90 or later, every launch but the first of a program, and plainly
// otherwise. A part of a split model runs its collective dispatches through
// the run's collective between the kernels, polls instead of
// synchronizing, and ends a run whose peers fail or stall.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"
#include "TinyCounterRuns.h"
#include "TinyGpuArtifact.h"

#include "runtime/Collective.h"
#include "runtime/GpuDispatchPlan.h"
#include "runtime/Session.h"
#include "runtime/cuda/CudaDevice.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

namespace fmc {
namespace {

class CudaDeviceHost : public ::testing::Test {
protected:
  /// A session on the cuda device of the tiny artifact with a cuda
  /// executable (a stand-in cubin: the fake loads anything).
  void open(bool waits, BackendOptions options = {}, bool lastRow = false) {
    test::TinyExecutable exe =
        test::tinyCounterExecutable("cuda", "cubin", {0x7f, 'E', 'L', 'F'});
    exe.arch = "sm_90";
    exe.programmaticDependentLaunch = waits;
    absl::StatusOr<std::unique_ptr<Artifact>> a =
        Artifact::fromBytes(test::buildTinyArtifact({exe}, lastRow), "tiny.fmc");
    ASSERT_TRUE(a.ok()) << a.status().message();
    artifact = std::move(*a);
    absl::StatusOr<std::unique_ptr<Device>> device =
        cuda::createCudaDevice(*artifact, options, fake.driver());
    ASSERT_TRUE(device.ok()) << device.status().message();
    session = std::make_unique<Session>(*artifact, std::move(*device),
                                        options.context);
  }

  /// The launches recorded into graphs, in order.
  std::vector<test::FakeLaunch> captured() const {
    std::vector<test::FakeLaunch> result;
    for (const test::FakeLaunch &l : fake.launches)
      if (l.captured)
        result.push_back(l);
    return result;
  }

  void TearDown() override {
    session.reset();
    EXPECT_EQ(fake.liveAllocations, 0) << "the device leaked driver objects";
  }

  test::FakeCuda fake;
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Session> session;
};

TEST_F(CudaDeviceHost, RunsTheTinyCounterProgramThroughGraphs) {
  fake.major = 8;
  open(/*waits=*/false);
  // Each program recorded once: count then rows.
  ASSERT_EQ(captured().size(), 4u);
  EXPECT_EQ(fake.graphLaunches, 0);

  ASSERT_NO_FATAL_FAILURE(test::expectTinyCounterRuns(*session));
  // Seven runs, each one replay; no launch outside the recording.
  EXPECT_EQ(fake.graphLaunches, 7);
  EXPECT_EQ(fake.launches.size(), 4u);
}

TEST_F(CudaDeviceHost, AllocatesCachesForTheOpenedContext) {
  fake.major = 8;
  BackendOptions options;
  options.context = 9;
  open(/*waits=*/false, options);
  // The cache is zeroed for its 9 positions of 32 bytes, not 16.
  EXPECT_NE(std::find(fake.memsets.begin(), fake.memsets.end(), 9u * 32u),
            fake.memsets.end());
  EXPECT_EQ(std::find(fake.memsets.begin(), fake.memsets.end(), 16u * 32u),
            fake.memsets.end());
  ASSERT_NO_FATAL_FAILURE(test::expectTinyCounterRunsInContext9(*session));
}

TEST_F(CudaDeviceHost, LaunchesProgrammaticallyOnSm90WhenTheKernelsWait) {
  fake.major = 9;
  open(/*waits=*/true);
  std::vector<test::FakeLaunch> launches = captured();
  ASSERT_EQ(launches.size(), 4u);
  for (int program = 0; program < 2; ++program) {
    SCOPED_TRACE(program == 0 ? "prefill" : "decode");
    const test::FakeLaunch &count = launches[2 * program];
    const test::FakeLaunch &rows = launches[2 * program + 1];
    // The first launch waits for the input copies in full.
    EXPECT_EQ(count.entry, "count");
    EXPECT_FALSE(count.viaLaunchKernelEx);
    EXPECT_FALSE(count.programmatic);
    EXPECT_EQ(rows.entry, "rows");
    EXPECT_TRUE(rows.viaLaunchKernelEx);
    EXPECT_TRUE(rows.programmatic);
    EXPECT_EQ(rows.otherAttributes, 0);
    EXPECT_EQ(rows.block, (std::array<unsigned, 3>{8, 1, 1}));
  }
  EXPECT_EQ(launches[1].grid, (std::array<unsigned, 3>{4, 1, 1}));
  EXPECT_EQ(launches[3].grid, (std::array<unsigned, 3>{1, 1, 1}));
  // The same values as plain launches give.
  test::expectTinyDecode(*session, 3, 0, 0);
}

TEST_F(CudaDeviceHost, LaunchesPlainlyWithoutSm90WaitingCodeOrTheEntryPoint) {
  struct Case {
    const char *what;
    int major;
    bool waits, haveLaunchKernelEx;
  };
  for (Case c : {Case{"sm_80", 8, true, true},
                 Case{"code that does not wait", 9, false, true},
                 Case{"a driver without cuLaunchKernelEx", 9, true, false}}) {
    SCOPED_TRACE(c.what);
    session.reset();
    fake.launches.clear();
    fake.major = c.major;
    fake.haveLaunchKernelEx = c.haveLaunchKernelEx;
    open(c.waits);
    ASSERT_EQ(captured().size(), 4u);
    for (const test::FakeLaunch &l : fake.launches) {
      EXPECT_FALSE(l.viaLaunchKernelEx) << l.entry;
      EXPECT_FALSE(l.programmatic) << l.entry;
    }
  }
}

TEST_F(CudaDeviceHost, RecordsPlainGraphsWhenProgrammaticCaptureFails) {
  fake.major = 9;
  fake.failLaunchKernelEx = true;
  open(/*waits=*/true);
  // Per program: a failed programmatic capture (count, rows via Ex), then
  // the plain one (count, rows).
  std::vector<test::FakeLaunch> launches = captured();
  ASSERT_EQ(launches.size(), 8u);
  for (int program = 0; program < 2; ++program) {
    EXPECT_TRUE(launches[4 * program + 1].viaLaunchKernelEx);
    EXPECT_FALSE(launches[4 * program + 2].viaLaunchKernelEx);
    EXPECT_FALSE(launches[4 * program + 3].viaLaunchKernelEx);
  }
  test::expectTinyDecode(*session, 4, 2, 0);
}

TEST_F(CudaDeviceHost, ProfilingLaunchesEachDispatchAndTimesItPerFamily) {
  fake.major = 9;
  BackendOptions options;
  options.profile = true;
  open(/*waits=*/true, options);
  EXPECT_TRUE(captured().empty()); // No graphs: every launch is timed.
  ASSERT_TRUE(session->decode(1, 0).ok());
  ASSERT_TRUE(session->prefill({1, 2, 3}, 1, false, nullptr).ok());
  for (const test::FakeLaunch &l : fake.launches)
    EXPECT_FALSE(l.programmatic) << l.entry;
  // Dispatch 0 implements kernel 0 (embedding), dispatch 1 kernel 1
  // (logits); the fake's events are 0.5 ms apart.
  std::vector<KernelProfile> profile = session->profile();
  ASSERT_EQ(profile.size(), 2u);
  EXPECT_EQ(profile[0].family, "EmbeddingSpec");
  EXPECT_EQ(profile[1].family, "LogitsSpec");
  for (const KernelProfile &p : profile) {
    EXPECT_EQ(p.calls, 2);
    EXPECT_DOUBLE_EQ(p.seconds, 2 * 0.5e-3);
  }
}

TEST_F(CudaDeviceHost, GraphsCanBeTurnedOff) {
  fake.major = 9;
  setenv("FMC_CUDA_GRAPHS", "0", 1);
  open(/*waits=*/true);
  unsetenv("FMC_CUDA_GRAPHS");
  EXPECT_TRUE(captured().empty());
  test::expectTinyDecode(*session, 2, 5, 0);
  ASSERT_EQ(fake.launches.size(), 2u);
  for (const test::FakeLaunch &l : fake.launches)
    EXPECT_FALSE(l.viaLaunchKernelEx) << l.entry;
  EXPECT_EQ(fake.graphLaunches, 0);
}

TEST_F(CudaDeviceHost, ReadsRowZeroAfterALastRowKernel) {
  fake.major = 8;
  open(/*waits=*/false, {}, /*lastRow=*/true);
  test::expectTinyLastRowPrefill(*session);
}

TEST_F(CudaDeviceHost, NamesAnEntryPointTheCodeLacks) {
  test::TinyExecutable exe =
      test::tinyCounterExecutable("cuda", "cubin", {0x7f, 'E', 'L', 'F'});
  exe.entries[1].name = "rows_f16";
  absl::StatusOr<std::unique_ptr<Artifact>> a =
      Artifact::fromBytes(test::buildTinyArtifact({exe}), "tiny.fmc");
  ASSERT_TRUE(a.ok()) << a.status().message();
  absl::StatusOr<std::unique_ptr<Device>> device =
      cuda::createCudaDevice(**a, {}, fake.driver());
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(device.status().message(),
            "'tiny.fmc': corrupt artifact: cuda executable: entry point "
            "'rows_f16' is not a kernel of its code (cuModuleGetFunction: "
            "CUDA_ERROR_NOT_FOUND (500))");
}

TEST_F(CudaDeviceHost, WritesWeightsThatLaterReplaysRead) {
  // How an adapter reaches the GPU (Session::setAdapter): bytes written
  // over the uploaded weights, here table row 2 of tensor 1 (at 256), which
  // the recorded graphs read on their next replay.
  fake.major = 8;
  open(/*waits=*/false);
  ASSERT_NO_FATAL_FAILURE(test::expectTinyCounterRuns(*session));
  absl::StatusOr<std::unique_ptr<Device>> device =
      cuda::createCudaDevice(*artifact, {}, fake.driver());
  ASSERT_TRUE(device.ok()) << device.status().message();
  std::vector<float> row(test::kTinyVocab);
  for (int64_t v = 0; v < test::kTinyVocab; ++v)
    row[v] = 1000.0f + static_cast<float>(v);
  ASSERT_TRUE((*device)
                  ->writeWeights(256 + 2 * test::kTinyVocab * 4,
                                 {reinterpret_cast<const uint8_t *>(row.data()),
                                  row.size() * 4})
                  .ok());
  Session written(*artifact, std::move(*device));
  // The first run of a fresh device: logits = table[token] + position.
  absl::StatusOr<const float *> logits = written.decode(2, 3);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  for (int64_t v = 0; v < test::kTinyVocab; ++v)
    EXPECT_EQ((*logits)[v], 1003.0f + static_cast<float>(v)) << v;
}

} // namespace
} // namespace fmc

namespace fmc {
namespace {

/// A collective that records what the cuda device hands it: rank 0 of
/// `size`, whose peers hold the same values (out = size * scale * in).
class RecordingCollective final : public Collective {
public:
  explicit RecordingCollective(const test::FakeCuda &fake) : fake(fake) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int64_t timeoutMs() const override { return 50; }
  int localRank() const override { return 3; }
  absl::Status allReduceSum(const float *, float *, size_t) override {
    return absl::UnimplementedError("host memory is not under test");
  }
  absl::Status broadcast(void *, size_t) override { return absl::OkStatus(); }
  absl::Status attachCudaDevice(int ordinal) override {
    attached.push_back(ordinal);
    return attachStatus;
  }
  absl::Status enqueueDeviceAllReduce(absl::Span<const DeviceBuffer> buffers,
                                      float scale, void *) override {
    for (const DeviceBuffer &b : buffers) {
      calls.push_back({b, scale, fake.launches.size()});
      auto *in = reinterpret_cast<const float *>(b.in);
      auto *out = reinterpret_cast<float *>(b.out);
      for (size_t i = 0; i < b.count; ++i)
        out[i] = 2 * scale * in[i];
    }
    return absl::OkStatus();
  }
  absl::Status deviceError() override { return peerError; }
  void abortDevice() override { ++aborts; }

  struct Call {
    DeviceBuffer buffer;
    float scale;
    size_t launchesBefore;
  };
  const test::FakeCuda &fake;
  std::vector<int> attached;
  std::vector<Call> calls;
  absl::Status attachStatus, peerError;
  int aborts = 0;
};

class CudaDeviceCollective : public ::testing::Test {
protected:
  absl::StatusOr<std::unique_ptr<Device>> create(Collective *collective) {
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::fromBytes(
        test::buildTinyArtifact({test::tinyCollectiveExecutable(
                                    "cuda", "cubin", {0x7f, 'E', 'L', 'F'})},
                                false, {}, /*allReduceRanks=*/2),
        "tiny.fmc");
    EXPECT_TRUE(a.ok()) << a.status().message();
    if (!a.ok())
      return a.status();
    artifact = std::move(*a);
    BackendOptions options;
    options.collective = collective;
    return cuda::createCudaDevice(*artifact, options, fake.driver());
  }

  test::FakeCuda fake;
  RecordingCollective collective{fake};
  std::unique_ptr<Artifact> artifact;
};

TEST_F(CudaDeviceCollective, AllReducesRunBetweenTheKernelsWithoutGraphs) {
  fake.major = 9;
  absl::StatusOr<std::unique_ptr<Device>> device = create(&collective);
  ASSERT_TRUE(device.ok()) << device.status().message();
  // The device is its local rank's GPU (3 of the fake's 1: device 0).
  EXPECT_EQ(collective.attached, std::vector<int>{0});
  {
    Session session(*artifact, std::move(*device));
    // The counter runs give the same logits with the collective between
    // 'count' and 'rows' of every run.
    ASSERT_NO_FATAL_FAILURE(test::expectTinyCounterRuns(
        session, /*extraArena=*/test::kTinyPrefillRows * test::kTinyVocab * 4));
  }
  EXPECT_EQ(fake.graphLaunches, 0) << "programs with collectives run eagerly";
  // Seven runs (decode, prefill chunks of 4, 4, 2, then 4 and 1, decode),
  // each: 'count', the all-reduce, 'rows'.
  ASSERT_EQ(collective.calls.size(), 7u);
  std::vector<size_t> counts;
  for (size_t i = 0; i < collective.calls.size(); ++i) {
    const RecordingCollective::Call &c = collective.calls[i];
    EXPECT_EQ(c.launchesBefore, 2 * i + 1) << "after 'count' of run " << i;
    EXPECT_EQ(c.scale, 0.5f);
    // x at 128 into the sum buffer of the program's arena.
    int64_t rows = i == 0 || i == 6 ? 1 : test::kTinyPrefillRows;
    EXPECT_EQ(c.buffer.out - c.buffer.in, test::tinySumOffset(rows) - 128);
    counts.push_back(c.buffer.count);
  }
  // Each run's rows of 8 floats, not the program's maximum.
  EXPECT_EQ(counts, (std::vector<size_t>{8, 32, 32, 16, 32, 8, 8}));
  // The stream was polled, not synchronized, for each run.
  EXPECT_GE(fake.streamQueries, 7);
}

TEST_F(CudaDeviceCollective, AStalledPeerEndsTheRunAtTheTimeout) {
  absl::StatusOr<std::unique_ptr<Device>> device = create(&collective);
  ASSERT_TRUE(device.ok()) << device.status().message();
  Session session(*artifact, std::move(*device));
  fake.streamBusyQueries = -1; // The all-reduce never completes.
  absl::StatusOr<const float *> logits = session.decode(3, 0);
  ASSERT_FALSE(logits.ok());
  EXPECT_EQ(logits.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(logits.status().message(),
            "rank 0: the other ranks did not finish an all-reduce of the "
            "decode program within 0.05 s (a rank failed or stalls; "
            "--collective-timeout sets the wait) after the decode program");
  EXPECT_EQ(collective.aborts, 1);
  EXPECT_GT(fake.streamQueries, 1);
}

TEST_F(CudaDeviceCollective, APeerFailureEndsTheWaitAtOnce) {
  absl::StatusOr<std::unique_ptr<Device>> device = create(&collective);
  ASSERT_TRUE(device.ok()) << device.status().message();
  Session session(*artifact, std::move(*device));
  fake.streamBusyQueries = -1;
  collective.peerError = absl::UnavailableError("rank 1 died");
  absl::StatusOr<const float *> logits = session.decode(3, 0);
  ASSERT_FALSE(logits.ok());
  EXPECT_EQ(logits.status().message(), "rank 1 died after the decode program");
  EXPECT_EQ(collective.aborts, 1);
}

TEST_F(CudaDeviceCollective, AFailedAttachFailsTheDevice) {
  collective.attachStatus = absl::UnavailableError("no NCCL here");
  absl::StatusOr<std::unique_ptr<Device>> device = create(&collective);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().message(), "no NCCL here");
}

TEST_F(CudaDeviceCollective, APartNeedsItsRanks) {
  absl::StatusOr<std::unique_ptr<Device>> device = create(nullptr);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().message(),
            "this artifact's cuda code sums activations across the ranks of a "
            "split model: run its parts together under mpirun");
}

TEST_F(CudaDeviceCollective, BackendsWithoutACollectiveEngineRefuseIt) {
  ASSERT_TRUE(create(&collective).ok());
  const schema::Artifact &root = artifact->root();
  const schema::Executable *exe = root.executables()->Get(1);
  GpuLimits limits;
  limits.api = "Vulkan";
  absl::StatusOr<GpuDispatchPlan> plan =
      planGpuDispatches(root, *exe, exe->decode(), "decode", limits);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plan.status().message(),
            "the Vulkan backend has no collective engine, and decode dispatch "
            "1 is an all-reduce across the ranks of a split model: run the "
            "parts on cuda (NCCL) or cpu (MPI) ranks");
}

} // namespace
} // namespace fmc
