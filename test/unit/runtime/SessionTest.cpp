//===- SessionTest.cpp - what every backend shares, over a recording device ===//
//
// The session over a device that records what it is asked (RecordingDevice
// below) and serves logits rows it can tell apart: prefill chunks, the run
// record, which logits rows each run reads and which positions they are
// reported for, last-row programs, input checks, memory figures and
// profiles per kernel family. The artifact is the tiny one of
// TinyGpuArtifact.h (prefill chunks of 4 tokens, context 16, vocabulary 8).
//
//===----------------------------------------------------------------------===//

#include "TinyAdapter.h"
#include "TinyGpuArtifact.h"

#include "runtime/Session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace fmc {
namespace {

/// One run as the device saw it.
struct RecordedRun {
  ProgramKind program;
  std::vector<int32_t> tokens, positions;
  RunRecord record;
  LogitsRows logits;
};

/// What the recording device saw; outlives the device the session owns.
struct Recording {
  std::vector<RecordedRun> runs;
  /// Fail the next setInputs / execute with this status.
  absl::Status failSetInputs, failExecute;
  /// Dispatch times each execute reports.
  std::vector<DispatchTime> times;
  /// Each writeWeights call's offset and size.
  std::vector<std::pair<uint64_t, uint64_t>> weightWrites;
};

/// Logits row `row` of run `run` holds run * 100 + row at every index.
class RecordingDevice final : public Device {
public:
  explicit RecordingDevice(Recording &recording) : recording(recording) {}
  std::string name() const override { return "recording"; }
  absl::Status setInputs(ProgramKind program,
                         const RunInputs &inputs) override {
    if (!recording.failSetInputs.ok())
      return recording.failSetInputs;
    RecordedRun run;
    run.program = program;
    run.tokens.assign(inputs.tokens.begin(), inputs.tokens.end());
    run.positions.assign(inputs.positions.begin(), inputs.positions.end());
    run.record = inputs.record;
    recording.runs.push_back(run);
    return absl::OkStatus();
  }
  absl::Status execute(ProgramKind program, LogitsRows logits,
                       std::vector<DispatchTime> &times) override {
    if (!recording.failExecute.ok())
      return recording.failExecute;
    EXPECT_EQ(recording.runs.back().program, program);
    recording.runs.back().logits = logits;
    rows.assign(logits.count * test::kTinyVocab, 0.0f);
    for (int64_t r = 0; r < logits.count; ++r)
      std::fill_n(rows.begin() + r * test::kTinyVocab, test::kTinyVocab,
                  static_cast<float>(100 * (recording.runs.size() - 1) +
                                     logits.from + r));
    from = logits.from;
    times.insert(times.end(), recording.times.begin(), recording.times.end());
    return absl::OkStatus();
  }
  absl::Status writeWeights(uint64_t offset,
                            absl::Span<const uint8_t> data) override {
    recording.weightWrites.push_back({offset, data.size()});
    return absl::OkStatus();
  }
  const float *logitsRow(ProgramKind, int64_t row) const override {
    EXPECT_GE(row, from);
    EXPECT_LT((row - from) * test::kTinyVocab,
              static_cast<int64_t>(rows.size()));
    return rows.data() + (row - from) * test::kTinyVocab;
  }

private:
  Recording &recording;
  std::vector<float> rows;
  int64_t from = 0;
};

class SessionTest : public ::testing::Test {
protected:
  void open(bool lastRow = false, bool loraSlot = false) {
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::fromBytes(
        test::buildTinyArtifact(
            {}, lastRow,
            loraSlot ? std::vector<schema::LoraSlot>{test::kTinyLoraSlot}
                     : std::vector<schema::LoraSlot>{}),
        "tiny.fmc");
    ASSERT_TRUE(a.ok()) << a.status().message();
    artifact = std::move(*a);
    session = std::make_unique<Session>(
        *artifact, std::make_unique<RecordingDevice>(recording));
  }

  /// Prefill `tokens` from `start`; the reported rows by position (the
  /// first float of each).
  std::map<int64_t, float> prefill(const std::vector<int32_t> &tokens,
                                   int64_t start, bool allLogits) {
    std::map<int64_t, float> reported;
    absl::Status s = session->prefill(
        tokens, start, allLogits, [&](int64_t position, const float *row) {
          EXPECT_EQ(reported.count(position), 0u) << position;
          reported[position] = row[0];
        });
    EXPECT_TRUE(s.ok()) << s.message();
    return reported;
  }

  Recording recording;
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Session> session;
};

TEST_F(SessionTest, PrefillRunsChunksOfMaxTokensWithTheirRunRecords) {
  open();
  EXPECT_EQ(session->backend(), "recording");
  EXPECT_FALSE(session->prefillLogitsLastOnly());
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 0, 1, 2};
  std::map<int64_t, float> rows = prefill(prompt, 1, /*allLogits=*/true);
  ASSERT_EQ(recording.runs.size(), 3u);
  const int64_t sizes[] = {4, 4, 2};
  for (int run = 0; run < 3; ++run) {
    const RecordedRun &r = recording.runs[run];
    SCOPED_TRACE(run);
    EXPECT_EQ(r.program, ProgramKind::Prefill);
    ASSERT_EQ(static_cast<int64_t>(r.tokens.size()), sizes[run]);
    for (int64_t i = 0; i < sizes[run]; ++i) {
      EXPECT_EQ(r.tokens[i], prompt[4 * run + i]);
      EXPECT_EQ(r.positions[i], 1 + 4 * run + i);
    }
    EXPECT_EQ(r.record, (RunRecord{static_cast<int32_t>(sizes[run]), 1}));
    EXPECT_EQ(r.logits.from, 0);
    EXPECT_EQ(r.logits.count, sizes[run]);
  }
  // Every position once, with its run's row.
  ASSERT_EQ(rows.size(), prompt.size());
  for (int64_t i = 0; i < 10; ++i)
    EXPECT_EQ(rows[1 + i], 100 * (i / 4) + i % 4) << "position " << 1 + i;
}

TEST_F(SessionTest, PrefillReadsOnlyThePromptsLastRowUnlessAllAreWanted) {
  open();
  std::map<int64_t, float> rows = prefill({5, 6, 7, 1, 2}, 11, false);
  ASSERT_EQ(recording.runs.size(), 2u);
  EXPECT_EQ(recording.runs[0].logits.count, 0);
  EXPECT_EQ(recording.runs[1].logits.from, 0);
  EXPECT_EQ(recording.runs[1].logits.count, 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[15], 100);

  // Nobody listening: no run reads a row.
  recording.runs.clear();
  ASSERT_TRUE(session->prefill({1, 2, 3, 4, 5, 6}, 0, true, nullptr).ok());
  ASSERT_EQ(recording.runs.size(), 2u);
  for (const RecordedRun &r : recording.runs)
    EXPECT_EQ(r.logits.count, 0);
}

TEST_F(SessionTest, ALastRowProgramReportsThePromptsLastPositionOnce) {
  open(/*lastRow=*/true);
  EXPECT_TRUE(session->prefillLogitsLastOnly());
  std::map<int64_t, float> rows = prefill({1, 2, 3, 4, 5, 6}, 0, true);
  ASSERT_EQ(recording.runs.size(), 2u);
  // The first chunk's single row nobody wants; the last chunk's row 0 is
  // the prompt's last position.
  EXPECT_EQ(recording.runs[0].logits.count, 0);
  EXPECT_EQ(recording.runs[1].logits.from, 0);
  EXPECT_EQ(recording.runs[1].logits.count, 1);
  EXPECT_EQ(recording.runs[1].record, (RunRecord{2, 1}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.count(5), 1u);
  EXPECT_EQ(rows[5], 100);
}

TEST_F(SessionTest, DecodeRunsOneRowAndReturnsItsLogits) {
  open();
  absl::StatusOr<const float *> logits = session->decode(7, 9);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  EXPECT_EQ((*logits)[0], 0);
  ASSERT_EQ(recording.runs.size(), 1u);
  const RecordedRun &r = recording.runs[0];
  EXPECT_EQ(r.program, ProgramKind::Decode);
  EXPECT_EQ(r.tokens, std::vector<int32_t>{7});
  EXPECT_EQ(r.positions, std::vector<int32_t>{9});
  EXPECT_EQ(r.record, (RunRecord{1, 1}));
  EXPECT_EQ(r.logits.from, 0);
  EXPECT_EQ(r.logits.count, 1);
}

TEST_F(SessionTest, RejectsTokensAndPositionsBeforeTheDeviceSeesThem) {
  open();
  absl::StatusOr<const float *> logits = session->decode(8, 0);
  ASSERT_FALSE(logits.ok());
  EXPECT_EQ(logits.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(logits.status().message(),
            "token id 8 is outside the vocabulary of 8");
  logits = session->decode(-1, 0);
  EXPECT_EQ(logits.status().message(),
            "token id -1 is outside the vocabulary of 8");
  absl::Status status = session->prefill({1, 2}, 15, false, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(status.message(),
            "positions 15 to 16 exceed the model's context of 16");
  status = session->prefill({1}, -1, false, nullptr);
  EXPECT_EQ(status.message(),
            "positions -1 to -1 exceed the model's context of 16");
  EXPECT_TRUE(recording.runs.empty());
}

TEST_F(SessionTest, DeviceErrorsEndTheRunWithNoLogits) {
  open();
  recording.failExecute = absl::InternalError("cuda: the launch failed");
  int reported = 0;
  absl::Status status = session->prefill(
      {1, 2, 3, 4, 5}, 0, true, [&](int64_t, const float *) { ++reported; });
  EXPECT_EQ(status, recording.failExecute);
  EXPECT_EQ(reported, 0);
  EXPECT_EQ(recording.runs.size(), 1u); // The first chunk stopped it.
  recording.failExecute = absl::OkStatus();
  recording.failSetInputs = absl::InternalError("no staging");
  EXPECT_EQ(session->decode(1, 0).status(), recording.failSetInputs);
}

TEST_F(SessionTest, MemoryFiguresComeFromTheArtifact) {
  open();
  MemoryStats memory = session->memory();
  EXPECT_EQ(memory.weightsBytes, 512u);
  // One linear f32 cache of 16 positions, 1 head of 4: keys and values.
  EXPECT_EQ(memory.kvBytesTotal, 512u);
  EXPECT_EQ(memory.kvBytesPerToken, 32u);
  EXPECT_EQ(memory.kvScaleBytesTotal, 0u);
  EXPECT_EQ(memory.arenaBytes, test::tinyArenaBytes(test::kTinyPrefillRows));
  EXPECT_EQ(session->vocab(), test::kTinyVocab);
  EXPECT_EQ(session->maxContext(), test::kTinyContext);
}

TEST_F(SessionTest, ProfilesSumDispatchTimesPerKernelFamily) {
  open(/*lastRow=*/true);
  EXPECT_TRUE(session->profile().empty());
  // Prefill kernels: embedding, last_row, logits; decode: embedding, logits.
  recording.times = {{0, 0.5}, {2, 0.25}, {2, 0.125}};
  ASSERT_TRUE(session->prefill({1, 2}, 0, false, nullptr).ok());
  recording.times = {{1, 1.0}};
  ASSERT_TRUE(session->decode(3, 2).ok());
  std::vector<KernelProfile> profile = session->profile();
  ASSERT_EQ(profile.size(), 2u);
  EXPECT_EQ(profile[0].family, "EmbeddingSpec");
  EXPECT_EQ(profile[0].calls, 1);
  EXPECT_DOUBLE_EQ(profile[0].seconds, 0.5);
  EXPECT_EQ(profile[1].family, "LogitsSpec");
  EXPECT_EQ(profile[1].calls, 3);
  EXPECT_DOUBLE_EQ(profile[1].seconds, 1.375);
}

TEST(PrefillLogitsRows, FollowTheCpuBackend) {
  auto rows = [](bool lastRow, bool all, bool lastChunk, bool wanted,
                 int64_t n) {
    LogitsRows r = prefillLogitsRows(lastRow, all, lastChunk, wanted, n);
    return std::make_pair(r.from, r.count);
  };
  using Rows = std::pair<int64_t, int64_t>;
  // Every row of every chunk with allLogits.
  EXPECT_EQ(rows(false, true, false, true, 8), Rows(0, 8));
  EXPECT_EQ(rows(false, true, true, true, 3), Rows(0, 3));
  // Else the prompt's last row only.
  EXPECT_EQ(rows(false, false, false, true, 8).second, 0);
  EXPECT_EQ(rows(false, false, true, true, 3), Rows(2, 1));
  // Nobody listening: nothing.
  EXPECT_EQ(rows(false, true, true, false, 3).second, 0);
  // A last_row program: its one row, in the last chunk, even with allLogits.
  EXPECT_EQ(rows(true, true, false, true, 8).second, 0);
  EXPECT_EQ(rows(true, true, true, true, 3), Rows(0, 1));
  EXPECT_EQ(rows(true, false, true, false, 3).second, 0);
}

TEST(HasLastRow, SeesALastRowKernelInTheProgram) {
  for (bool lastRow : {false, true}) {
    std::vector<uint8_t> bytes = test::buildTinyArtifact({}, lastRow);
    const schema::Artifact *root =
        schema::GetSizePrefixedArtifact(bytes.data());
    EXPECT_EQ(hasLastRow(*root->prefill()), lastRow);
    EXPECT_FALSE(hasLastRow(*root->decode()));
  }
}

TEST(Session, OpensTheBackendItIsAskedFor) {
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::fromBytes(test::buildTinyArtifact({}), "tiny.fmc");
  ASSERT_TRUE(artifact.ok()) << artifact.status().message();
  BackendOptions options;
  options.threads = 1;
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::open(**artifact, "auto", options);
  ASSERT_TRUE(session.ok()) << session.status().message();
  EXPECT_EQ((*session)->backend(), "cpu");
  absl::StatusOr<std::unique_ptr<Session>> unknown =
      Session::open(**artifact, "tpu", options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "unknown backend 'tpu' (known: auto, cpu, cuda, vulkan, metal)");
}

// What fmc-run checks before it compiles a model for a backend: the same
// name errors as opening one, and a probe that needs no artifact.
TEST(Backend, NamesAndProbesWithoutAnArtifact) {
  EXPECT_TRUE(checkBackendName("auto").ok());
  EXPECT_TRUE(checkBackendName("cpu").ok());
  absl::Status unknown = checkBackendName("tpu");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.message(),
            "unknown backend 'tpu' (known: auto, cpu, cuda, vulkan, metal)");
  EXPECT_TRUE(probeBackend("cpu").ok());
  EXPECT_FALSE(probeBackend("tpu").ok());
  std::vector<std::string> built = builtBackends();
  std::string best = bestBackendHere();
  EXPECT_NE(std::find(built.begin(), built.end(), best), built.end()) << best;
  EXPECT_TRUE(probeBackend(best).ok());
}

TEST_F(SessionTest, AdaptersFillTheSlotsAndSwitchingClearsWhatTheNextLeaves) {
  open(false, /*loraSlot=*/true);
  auto adapter = [&](std::vector<test::TinyAdapterTensor> tensors) {
    test::TinyAdapterSpec spec;
    spec.baseWeightsChecksum = artifact->root().checksums()->weights();
    spec.tensors = std::move(tensors);
    absl::StatusOr<std::unique_ptr<Adapter>> a =
        Adapter::fromBytes(test::buildTinyAdapter(spec), *artifact);
    EXPECT_TRUE(a.ok()) << a.status().message();
    return a.ok() ? std::move(*a) : nullptr;
  };
  std::unique_ptr<Adapter> both = adapter(
      {{2, "logits.weight.lora_a", 1}, {3, "logits.weight.lora_b", 2}});
  std::unique_ptr<Adapter> onlyA = adapter({{2, "logits.weight.lora_a", 3}});
  using Writes = std::vector<std::pair<uint64_t, uint64_t>>;
  // No adapter at first: the slots are the artifact's zeros already.
  ASSERT_TRUE(session->setAdapter(nullptr).ok());
  EXPECT_EQ(recording.weightWrites, Writes{});
  ASSERT_TRUE(session->setAdapter(both.get()).ok());
  EXPECT_EQ(recording.weightWrites, (Writes{{512, 32}, {576, 32}}));
  EXPECT_EQ(session->adapter(), both.get());
  recording.weightWrites.clear();
  ASSERT_TRUE(session->setAdapter(both.get()).ok()); // Already applied.
  EXPECT_EQ(recording.weightWrites, Writes{});
  // A then zeros over the B the first adapter filled.
  ASSERT_TRUE(session->setAdapter(onlyA.get()).ok());
  EXPECT_EQ(recording.weightWrites, (Writes{{512, 32}, {576, 32}}));
  recording.weightWrites.clear();
  // Back to the base: only A held anything.
  ASSERT_TRUE(session->setAdapter(nullptr).ok());
  EXPECT_EQ(recording.weightWrites, (Writes{{512, 32}}));
  EXPECT_EQ(session->adapter(), nullptr);
}

} // namespace
} // namespace fmc
