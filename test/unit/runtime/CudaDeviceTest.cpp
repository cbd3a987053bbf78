//===- CudaDeviceTest.cpp - the cuda backend against the cpu backend ------===//
//
// ctest label `gpu`: runs only where a CUDA device is present and skips,
// saying why, everywhere else (CI has none). stories260K compiled for cuda
// (prefill chunks of 64 tokens: runtime.compile_stories260k_cuda) and for
// cpu (chunks of 512) from the same source: prefill (every position, in
// chunks) and greedy decode logits must agree within the tolerances below,
// and the greedy tokens must be identical. A run that fails fails the test
// there and then. Tolerances: the model is f32 on both backends; only the
// order of floating-point sums differs (GPU reductions are trees), so every
// logit row must agree to 1e-4 relative L2 error and 2e-3 absolute per
// logit (the logits are O(10)).
//
//===----------------------------------------------------------------------===//

#include "runtime/Session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace fmc {
namespace {

/// Greedy decode steps after the prompt.
constexpr int kDecodeSteps = 40;

void expectClose(const float *gpu, const float *cpu, int64_t vocab,
                 const std::string &where) {
  double diff2 = 0, ref2 = 0, maxAbs = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    ASSERT_TRUE(std::isfinite(gpu[i])) << where << " logit " << i;
    double d = double(gpu[i]) - cpu[i];
    diff2 += d * d;
    ref2 += double(cpu[i]) * cpu[i];
    maxAbs = std::max(maxAbs, std::fabs(d));
  }
  EXPECT_LT(std::sqrt(diff2 / std::max(ref2, 1e-30)), 1e-4) << where;
  EXPECT_LT(maxAbs, 2e-3) << where;
}

/// The test artifacts where ctest's fixtures compiled them, or in
/// $FMC_TEST_ARTIFACT_DIR (bench/gpu_decode.sh carries them to a GPU
/// machine beside this binary).
std::string artifactPath(const char *compiled, const char *file) {
  const char *dir = std::getenv("FMC_TEST_ARTIFACT_DIR");
  return dir && *dir ? std::string(dir) + "/" + file : compiled;
}

int32_t argmax(const float *row, int64_t vocab) {
  return static_cast<int32_t>(std::max_element(row, row + vocab) - row);
}

class CudaDevice : public ::testing::Test {
protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Artifact>> p =
        Artifact::open(artifactPath(FMC_TEST_ARTIFACT, "stories260k.fmc"));
    ASSERT_TRUE(p.ok()) << p.status().message();
    cpuArtifact = std::move(*p);
    // Whether this machine has a device at all: the cuda device of an
    // artifact without cuda code gets past the driver and device checks
    // only where a GPU is.
    absl::StatusOr<std::unique_ptr<Device>> probe =
        createCudaDevice(*cpuArtifact, BackendOptions());
    if (!probe.ok() && probe.status().code() == absl::StatusCode::kUnavailable)
      GTEST_SKIP() << "no GPU here: " << probe.status().message();
    absl::StatusOr<std::unique_ptr<Artifact>> c = Artifact::open(
        artifactPath(FMC_TEST_CUDA_ARTIFACT, "stories260k-cuda.fmc"));
    ASSERT_TRUE(c.ok()) << c.status().message();
    cudaArtifact = std::move(*c);
    absl::StatusOr<std::unique_ptr<Session>> g =
        Session::open(*cudaArtifact, "cuda", BackendOptions());
    ASSERT_TRUE(g.ok()) << g.status().message();
    gpu = std::move(*g);
    BackendOptions one;
    one.threads = 1;
    absl::StatusOr<std::unique_ptr<Session>> c2 =
        Session::open(*cpuArtifact, "cpu", one);
    ASSERT_TRUE(c2.ok()) << c2.status().message();
    cpu = std::move(*c2);
    vocab = cpuArtifact->root().config()->vocab_size();
  }

  /// Every logits row prefill reports, in order, or why it failed (the
  /// caller asserts the status before it reads any row).
  absl::StatusOr<std::vector<std::vector<float>>>
  prefill(Session &session, const std::vector<int32_t> &tokens,
          int64_t start) {
    std::vector<std::vector<float>> rows;
    absl::Status s =
        session.prefill(tokens, start, true, [&](int64_t, const float *row) {
          rows.emplace_back(row, row + vocab);
        });
    if (!s.ok())
      return s;
    return rows;
  }

  std::unique_ptr<Artifact> cudaArtifact, cpuArtifact;
  std::unique_ptr<Session> gpu, cpu;
  int64_t vocab = 0;
};

TEST_F(CudaDevice, Stories260KLogitsAndGreedyTextMatchTheCpuBackend) {
  // A prompt longer than one prefill chunk (one chunk and 7 tokens) where
  // it and the decode steps fit the context; shorter where they would not.
  int64_t chunk = cudaArtifact->root().prefill()->max_tokens();
  int64_t context = cudaArtifact->root().config()->max_context();
  int64_t length = std::min<int64_t>(chunk + 7, context - kDecodeSteps);
  ASSERT_GT(length, 0) << "the context (" << context
                       << ") holds no prompt beside " << kDecodeSteps
                       << " decode steps";
  if (chunk + 7 + kDecodeSteps <= context) {
    ASSERT_GT(length, chunk) << "the prompt spans two prefill chunks";
  }
  std::vector<int32_t> prompt(length);
  for (size_t i = 0; i < prompt.size(); ++i)
    prompt[i] = static_cast<int32_t>((i * 37 + 1) % vocab);
  absl::StatusOr<std::vector<std::vector<float>>> g = prefill(*gpu, prompt, 0);
  ASSERT_TRUE(g.ok()) << "cuda prefill: " << g.status().message();
  absl::StatusOr<std::vector<std::vector<float>>> c = prefill(*cpu, prompt, 0);
  ASSERT_TRUE(c.ok()) << "cpu prefill: " << c.status().message();
  ASSERT_EQ(g->size(), c->size());
  ASSERT_FALSE(g->empty()) << "prefill reported no logits row";
  ASSERT_EQ(gpu->prefillLogitsLastOnly(), cpu->prefillLogitsLastOnly());
  for (size_t r = 0; r < g->size(); ++r)
    expectClose((*g)[r].data(), (*c)[r].data(), vocab,
                "prefill row " + std::to_string(r));

  int64_t position = prompt.size();
  int32_t gToken = argmax(g->back().data(), vocab);
  int32_t cToken = argmax(c->back().data(), vocab);
  for (int step = 0; step < kDecodeSteps; ++step, ++position) {
    ASSERT_EQ(gToken, cToken) << "greedy token " << step;
    absl::StatusOr<const float *> gl = gpu->decode(gToken, position);
    absl::StatusOr<const float *> cl = cpu->decode(cToken, position);
    ASSERT_TRUE(gl.ok()) << gl.status().message();
    ASSERT_TRUE(cl.ok()) << cl.status().message();
    expectClose(*gl, *cl, vocab, "decode step " + std::to_string(step));
    gToken = argmax(*gl, vocab);
    cToken = argmax(*cl, vocab);
  }
  EXPECT_GT(gpu->memory().weightsBytes, 0u);
  EXPECT_EQ(gpu->memory().kvBytesTotal, cpu->memory().kvBytesTotal);
}

TEST_F(CudaDevice, GraphReplayAndDirectLaunchesAgree) {
  // The same decode step through the recorded graph and, in a second
  // backend, launch by launch (FMC_CUDA_GRAPHS=0) with profiling.
  setenv("FMC_CUDA_GRAPHS", "0", 1);
  BackendOptions profiled;
  profiled.profile = true;
  absl::StatusOr<std::unique_ptr<Session>> direct =
      Session::open(*cudaArtifact, "cuda", profiled);
  unsetenv("FMC_CUDA_GRAPHS");
  ASSERT_TRUE(direct.ok()) << direct.status().message();
  std::vector<int32_t> prompt = {1, 200, 300, 400};
  for (Session *session : {gpu.get(), direct->get()}) {
    absl::StatusOr<std::vector<std::vector<float>>> rows =
        prefill(*session, prompt, 0);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
  }
  for (int step = 0; step < 5; ++step) {
    absl::StatusOr<const float *> a = gpu->decode(10 + step, 4 + step);
    ASSERT_TRUE(a.ok()) << a.status().message();
    std::vector<float> first(*a, *a + vocab);
    absl::StatusOr<const float *> b = (*direct)->decode(10 + step, 4 + step);
    ASSERT_TRUE(b.ok()) << b.status().message();
    expectClose(first.data(), *b, vocab, "step " + std::to_string(step));
  }
  std::vector<KernelProfile> profile = (*direct)->profile();
  EXPECT_FALSE(profile.empty());
  for (const KernelProfile &p : profile)
    EXPECT_GT(p.calls, 0) << p.family;
}

TEST_F(CudaDevice, RejectsTokensAndPositionsOutOfRange) {
  absl::StatusOr<const float *> bad =
      gpu->decode(static_cast<int32_t>(vocab), 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "token id " + std::to_string(vocab) +
                                        " is outside the vocabulary of " +
                                        std::to_string(vocab));
  int64_t context = cudaArtifact->root().config()->max_context();
  absl::StatusOr<const float *> far = gpu->decode(1, context);
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.status().code(), absl::StatusCode::kOutOfRange);
}

} // namespace
} // namespace fmc
