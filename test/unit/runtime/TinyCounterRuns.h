//===- TinyCounterRuns.h - the tiny counter program's runs, checked -------===//
//
// The runs every GPU device's test makes of the tiny counter executable
// (TinyGpuArtifact.h) through a session, with the values its two kernels
// must produce: after k earlier runs, logits[r][v] = 10 tokens[r] + v +
// positions[r] + k. Shared by the vulkan device's test (SPIR-V on a Vulkan
// device) and the cuda device's (a fake driver computing the kernels); call
// them under ASSERT_NO_FATAL_FAILURE.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_RUNTIME_TINYCOUNTERRUNS_H
#define FMC_TEST_UNIT_RUNTIME_TINYCOUNTERRUNS_H

#include "TinyGpuArtifact.h"

#include "runtime/Session.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace fmc::test {

/// logits[v] of `token` at `position` after `runs` earlier runs.
inline float tinyCounterLogit(int32_t token, int64_t position, int runs,
                              int v) {
  return static_cast<float>(10 * token + v + position + runs);
}

/// Decode logits of `token` at `position` as run `runs`.
inline void expectTinyDecode(Session &session, int32_t token,
                             int64_t position, int runs) {
  absl::StatusOr<const float *> logits = session.decode(token, position);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  for (int v = 0; v < kTinyVocab; ++v)
    EXPECT_EQ((*logits)[v], tinyCounterLogit(token, position, runs, v))
        << "decode at " << position << ", v " << v;
}

/// A fresh session's runs: decode, a prefill of three chunks with every
/// row, one of two chunks with the last row only, decode again (runs 0 to
/// 6), then the memory figures.
/// `extraArena`: bytes a variant's programs add after the logits (a part's
/// all-reduce sum).
inline void expectTinyCounterRuns(Session &session, uint64_t extraArena = 0) {
  EXPECT_FALSE(session.prefillLogitsLastOnly());
  // Run 0: the counter starts at zero (caches are zeroed at load).
  ASSERT_NO_FATAL_FAILURE(expectTinyDecode(session, 3, 0, 0));

  // Ten tokens from position 1: chunks of 4, 4, 2 are runs 1, 2, 3.
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 0, 1, 2};
  std::map<int64_t, std::vector<float>> rows;
  auto keep = [&](int64_t position, const float *row) {
    rows[position].assign(row, row + kTinyVocab);
  };
  absl::Status status = session.prefill(prompt, 1, /*allLogits=*/true, keep);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), prompt.size());
  for (int i = 0; i < 10; ++i)
    for (int v = 0; v < kTinyVocab; ++v)
      EXPECT_EQ(rows[1 + i][v],
                tinyCounterLogit(prompt[i], 1 + i, 1 + i / 4, v))
          << "position " << 1 + i << ", v " << v;

  // Last logits only: one row, from the second chunk (runs 4 and 5).
  rows.clear();
  status = session.prefill({5, 6, 7, 1, 2}, 11, /*allLogits=*/false, keep);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows.count(15), 1u);
  for (int v = 0; v < kTinyVocab; ++v)
    EXPECT_EQ(rows[15][v], tinyCounterLogit(2, 15, 5, v));

  ASSERT_NO_FATAL_FAILURE(expectTinyDecode(session, 7, 15, 6));

  MemoryStats memory = session.memory();
  EXPECT_EQ(memory.weightsBytes, 512u);
  EXPECT_EQ(memory.kvBytesTotal, 512u);
  EXPECT_EQ(memory.kvBytesPerToken, 32u);
  EXPECT_EQ(memory.arenaBytes, tinyArenaBytes(kTinyPrefillRows) + extraArena);
}

/// A fresh session opened with a context of 9 positions: the counter (at
/// byte 256 of the cache, position 8's bytes) lives in the last position
/// the device allocated. A prefill of positions 0 to 5 (runs 0 and 1), then
/// decode steps up to position 8 (runs 2 to 4); position 9 is refused.
inline void expectTinyCounterRunsInContext9(Session &session) {
  EXPECT_EQ(session.maxContext(), 9);
  std::map<int64_t, std::vector<float>> rows;
  absl::Status status = session.prefill(
      {1, 2, 3, 4, 5, 6}, 0, /*allLogits=*/true,
      [&](int64_t position, const float *row) {
        rows[position].assign(row, row + kTinyVocab);
      });
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), 6u);
  for (int v = 0; v < kTinyVocab; ++v)
    EXPECT_EQ(rows[5][v], tinyCounterLogit(6, 5, 1, v)) << v;
  for (int64_t position = 6; position < 9; ++position)
    ASSERT_NO_FATAL_FAILURE(expectTinyDecode(
        session, 7, position, static_cast<int>(position) - 4));
  absl::StatusOr<const float *> past = session.decode(7, 9);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.status().message(),
            "positions 9 to 9 exceed the model's context of 9");
  MemoryStats memory = session.memory();
  EXPECT_EQ(memory.kvBytesTotal, 9u * 32u);
  EXPECT_EQ(memory.kvBytesPerToken, 32u);
}

/// A fresh session on the artifact with a last_row kernel: six tokens are
/// chunks of 4 and 2 (runs 0 and 1); one callback, for the last position,
/// with logits row 0 of the last run (the counter kernel's row for that
/// chunk's first token, 5 at position 4).
inline void expectTinyLastRowPrefill(Session &session) {
  EXPECT_TRUE(session.prefillLogitsLastOnly());
  std::map<int64_t, std::vector<float>> rows;
  absl::Status status = session.prefill(
      {1, 2, 3, 4, 5, 6}, 0, /*allLogits=*/true,
      [&](int64_t position, const float *row) {
        rows[position].assign(row, row + kTinyVocab);
      });
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows.count(5), 1u);
  for (int v = 0; v < kTinyVocab; ++v)
    EXPECT_EQ(rows[5][v], tinyCounterLogit(5, 4, 1, v)) << v;
}

} // namespace fmc::test

#endif // FMC_TEST_UNIT_RUNTIME_TINYCOUNTERRUNS_H
