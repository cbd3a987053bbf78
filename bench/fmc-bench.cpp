//===- fmc-bench.cpp - prefill and decode speed of a compiled model -------===//
//
//   fmc-bench model.fmc [--threads N] [--prefill-tokens P] [--decode-tokens D]
//                       [--repeat R] [--bandwidth-mb M] [--load copy|map]
//                       [--profile] [--kernels] [--json F]
//                       [--backend NAME] [--peak-gbs G]
//
// Measures, in one run: this machine's memory read bandwidth (a read loop
// over M MB with N threads), prefill tokens/s for a P-token prompt, and
// decode tokens/s over D steps, each the best of R repetitions, plus the
// weight traffic decode achieves (weight bytes x tokens/s: batch-1 decode
// reads every weight once per token) as a fraction of that bandwidth. CPU
// time is reported beside wall time: on a shared machine the two differ.
//
// With --backend cuda (bench/gpu_decode.sh), the bandwidth is the device's:
// a device-to-device copy of M MB measured in the same run, and the nominal
// peak G GB/s when given; decode's traffic counts the KV-cache bytes its
// attention kernels read (averaged over the positions decoded) beside the
// weights.
//
// --kernels (GPU backends; implies --profile) is the kernel benchmark: the
// decode launches timed one by one, grouped by kernel and weight bytes (one
// row per fused matvec shape), each row's median time and weight bytes per
// second as a fraction of the same bandwidth. Timing launches one by one
// replaces the recorded graph, so the tokens/s of such a run are lower:
// bench/gpu_decode.sh runs it separately.
//
//===----------------------------------------------------------------------===//

#include "bench/LaunchTable.h"
#include "bench/ReadBandwidth.h"
#include "runtime/Adapter.h"
#include "runtime/Artifact.h"
#include "runtime/Session.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/QuantKernels.h"
#include "support/Suggest.h"
#include "support/Version.h"

#ifdef FMC_HAVE_CUDA
#include "runtime/cuda/CudaDriver.h"
#endif

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

namespace {

double cpuSeconds() {
  struct rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Timing {
  double wall = 1e30; ///< Best repetition.
  double cpu = 0;     ///< CPU seconds of that repetition.
  std::vector<double> walls; ///< Every repetition.
  double median() const {
    if (walls.empty())
      return wall;
    std::vector<double> sorted = walls;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }
};

/// Bytes of weights one decode step reads: every tensor but embedding
/// tables (a step reads one row of those), unless the output head shares it.
uint64_t decodeWeightBytes(const fmc::schema::Artifact &root) {
  std::vector<bool> skip(root.tensors()->size(), false);
  for (const fmc::schema::Kernel *k : *root.decode()->kernels())
    if (const auto *s = k->spec_as_EmbeddingSpec())
      skip[s->table()] = true;
  for (const fmc::schema::Kernel *k : *root.decode()->kernels())
    if (const auto *s = k->spec_as_LogitsSpec())
      skip[s->weight()] = false;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < root.tensors()->size(); ++i)
    if (!skip[i])
      bytes += root.tensors()->Get(i)->bytes();
  return bytes;
}

/// Bytes of KV cache the decode program's attention kernels read at
/// `position`: each kernel reads its cache's keys and values (and int8
/// scales) at every position it attends to (all earlier ones, or a ring's
/// capacity). Layers sharing a cache each read it.
uint64_t decodeKvBytes(const fmc::schema::Artifact &root, int64_t position) {
  uint64_t bytes = 0;
  for (const fmc::schema::Kernel *k : *root.decode()->kernels()) {
    const auto *s = k->spec_as_AttentionSpec();
    if (!s || s->reads() < 0)
      continue;
    const fmc::schema::KVCache *c = root.kv_caches()->Get(s->reads());
    int64_t attended = std::min<int64_t>(position + 1, c->capacity());
    bytes += c->bytes() / c->capacity() * attended;
  }
  return bytes;
}

int usageError(const std::string &message) {
  std::fprintf(stderr, "fmc-bench: error: %s\n", message.c_str());
  return 1;
}

const char *const kUsage = R"(usage: fmc-bench model.fmc [options]

Measures in one run this machine's memory read bandwidth, prefill tokens/s
of a P-token prompt and decode tokens/s over D steps (each the best of R
repetitions), and the bytes decode reads per second as a fraction of that
bandwidth. Printed, never asserted: quote medians of several runs.

  --threads N          CPU threads (default: all cores)
  --prefill-tokens P   prompt length (default 128)
  --decode-tokens D    decode steps (default 256)
  --repeat R           repetitions, best kept (default 3)
  --bandwidth-mb M     MB read by the bandwidth loop (default 1024)
  --load copy|map      weights copied (default) or mapped from the file
  --backend NAME       cpu (default), cuda, vulkan: GPU backends measure the
                       device's bandwidth with a device-to-device copy
  --peak-gbs G         also compare with a nominal peak of G GB/s
  --profile            time every dispatch; per-family table
  --kernels            GPU: time decode launches one by one (implies
                       --profile; lowers tokens/s, run separately)
  --adapter F          run with LoRA adapter F (.fmca, for this model)
  --json F             also write the figures as JSON
  -h, --help           this text
  --version            fmc's version and git revision
)";

/// Every flag, for "did you mean".
const std::vector<std::string> kFlags = {
    "--threads", "--prefill-tokens", "--decode-tokens", "--bandwidth-mb",
    "--repeat",  "--load",           "--profile",       "--kernels",
    "--json",    "--backend",        "--peak-gbs",      "--help",
    "--version", "--adapter"};

} // namespace

int main(int argc, char **argv) {
  std::string path, json, adapterPath;
  int threads =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int64_t prefillTokens = 128, decodeTokens = 256, bandwidthMb = 1024;
  int repeat = 3;
  bool map = false, profile = false, kernels = false;
  std::string backendName = "cpu";
  int64_t peakGbs = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    auto number = [&](int64_t &out) {
      return absl::SimpleAtoi(value(), &out) && out >= 0;
    };
    int64_t n;
    if (arg == "--threads" && number(n) && n > 0)
      threads = static_cast<int>(n);
    else if (arg == "--prefill-tokens" && number(prefillTokens))
      ;
    else if (arg == "--decode-tokens" && number(decodeTokens))
      ;
    else if (arg == "--bandwidth-mb" && number(bandwidthMb))
      ;
    else if (arg == "--repeat" && number(n) && n > 0)
      repeat = static_cast<int>(n);
    else if (arg == "--load")
      map = value() == "map";
    else if (arg == "--profile")
      profile = true;
    else if (arg == "--kernels")
      kernels = profile = true;
    else if (arg == "--adapter" && !(adapterPath = value()).empty()) {
      // Applied once the session is open.
    }
    else if (arg == "--json")
      json = value();
    else if (arg == "--backend")
      backendName = value();
    else if (arg == "--peak-gbs" && number(peakGbs))
      ;
    else if (arg == "--help" || arg == "-h")
      return std::fputs(kUsage, stdout), 0;
    else if (arg == "--version")
      return std::printf("%s\n", fmc::versionLine("fmc-bench").c_str()), 0;
    else if (!arg.empty() && arg[0] != '-' && path.empty())
      path = arg;
    else if (std::find(kFlags.begin(), kFlags.end(), arg) != kFlags.end())
      return usageError(arg + " needs a valid value (see --help)");
    else if (!arg.empty() && arg[0] == '-')
      return usageError(fmc::unknownOptionMessage(arg, kFlags));
    else
      return usageError("unexpected argument '" + arg + "'");
  }
  if (path.empty())
    return usageError("usage: fmc-bench model.fmc [options]");

  fmc::ArtifactOptions artifactOptions;
  artifactOptions.weights =
      map ? fmc::WeightLoading::Map : fmc::WeightLoading::Copy;
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
      fmc::Artifact::open(path, artifactOptions);
  if (!artifact.ok())
    return usageError(std::string(artifact.status().message()));
  const fmc::schema::Artifact &root = (*artifact)->root();
  int64_t vocab = root.config()->vocab_size(),
          context = root.config()->max_context();
  fmc::BackendOptions options;
  options.threads = threads;
  options.profile = profile;
  absl::StatusOr<std::unique_ptr<fmc::Session>> opened =
      fmc::Session::open(**artifact, backendName, options);
  if (!opened.ok())
    return usageError(std::string(opened.status().message()));
  fmc::Session &session = **opened;
  std::unique_ptr<fmc::Adapter> adapter;
  if (!adapterPath.empty()) {
    absl::StatusOr<std::unique_ptr<fmc::Adapter>> loaded =
        fmc::Adapter::open(adapterPath, **artifact);
    if (!loaded.ok())
      return usageError(std::string(loaded.status().message()));
    adapter = std::move(*loaded);
    if (absl::Status s = session.setAdapter(adapter.get()); !s.ok())
      return usageError(std::string(s.message()));
  }
  uint64_t weights = session.memory().weightsBytes;
  const fmc::schema::Executable *executable = nullptr;
  for (const fmc::schema::Executable *exe : *root.executables())
    if (exe->target()->str() == session.backend() &&
        fmc::dispatchListOf(*exe, fmc::ProgramKind::Decode))
      executable = exe;
  if (kernels && !executable)
    return usageError("--kernels times GPU launches; the " +
                      session.backend() +
                      " backend runs none (--profile times its kernels)");

  fmc::bench::Bandwidth bandwidth;
  bool device = session.backend() != "cpu";
  if (!device) {
    bandwidth = fmc::bench::measureReadBandwidth(bandwidthMb << 20, threads, 5);
  } else if (session.backend() == "cuda") {
#ifdef FMC_HAVE_CUDA
    absl::StatusOr<double> copy =
        fmc::cuda::measureDeviceCopyBandwidth(bandwidthMb << 20, 10);
    if (!copy.ok())
      return usageError(std::string(copy.status().message()));
    bandwidth.gbPerSecond = *copy;
#endif
  }
  if (bandwidth.gbPerSecond <= 0 && peakGbs > 0)
    bandwidth.gbPerSecond = static_cast<double>(peakGbs);
  if (bandwidth.gbPerSecond <= 0)
    return usageError("no bandwidth to compare with: give --peak-gbs");

  // Prefill: a prompt of valid ids, logits of its last position only.
  prefillTokens = std::min(prefillTokens, context);
  std::vector<int32_t> prompt(prefillTokens);
  for (int64_t i = 0; i < prefillTokens; ++i)
    prompt[i] = static_cast<int32_t>((i * 7919 + 1) % vocab);
  Timing prefill;
  for (int r = 0; r < repeat && prefillTokens > 0; ++r) {
    double wall = now(), cpu = cpuSeconds();
    absl::Status s = session.prefill(prompt, 0, false, nullptr);
    if (!s.ok())
      return usageError(std::string(s.message()));
    wall = now() - wall;
    prefill.walls.push_back(wall);
    if (wall < prefill.wall) {
      prefill.wall = wall;
      prefill.cpu = cpuSeconds() - cpu;
    }
  }

  // Decode: one token at a time, feeding back the argmax, from position 1.
  decodeTokens = std::min(decodeTokens, context - 1);
  Timing decode;
  for (int r = 0; r < repeat && decodeTokens > 0; ++r) {
    int32_t token = 1 % static_cast<int32_t>(vocab);
    double wall = now(), cpu = cpuSeconds();
    for (int64_t step = 0; step < decodeTokens; ++step) {
      absl::StatusOr<const float *> logits = session.decode(token, 1 + step);
      if (!logits.ok())
        return usageError(std::string(logits.status().message()));
      token = static_cast<int32_t>(std::max_element(*logits, *logits + vocab) -
                                   *logits);
    }
    wall = now() - wall;
    decode.walls.push_back(wall);
    if (wall < decode.wall) {
      decode.wall = wall;
      decode.cpu = cpuSeconds() - cpu;
    }
  }

  double prefillRate = prefillTokens > 0 ? prefillTokens / prefill.wall : 0.0;
  double decodeRate = decodeTokens > 0 ? decodeTokens / decode.wall : 0.0;
  double traffic = weights * decodeRate / 1e9;
  uint64_t stepBytes = decodeWeightBytes(root);
  double prefillMedian =
      prefillTokens > 0 ? prefillTokens / prefill.median() : 0.0;
  double decodeMedian = decodeTokens > 0 ? decodeTokens / decode.median() : 0.0;
  double stepTraffic = stepBytes * decodeMedian / 1e9;
  // KV bytes per step, averaged over the positions decode ran at (1..D).
  double kvStepBytes = 0;
  for (int64_t step = 0; step < decodeTokens; ++step)
    kvStepBytes += decodeKvBytes(root, 1 + step);
  if (decodeTokens > 0)
    kvStepBytes /= decodeTokens;
  double deviceTraffic = (stepBytes + kvStepBytes) * decodeMedian / 1e9;
  std::string peakText =
      peakGbs > 0 ? absl::StrFormat(", nominal peak %d GB/s", peakGbs) : "";
  if (device) {
    std::printf("model %s: %.1f MB of weights, %s backend\n", path.c_str(),
                weights / 1e6, session.backend().c_str());
    std::printf("  device copy bandwidth  %.1f GB/s (read + write, %lld MB)%s\n",
                bandwidth.gbPerSecond, static_cast<long long>(bandwidthMb),
                peakText.c_str());
  } else {
    std::printf("model %s: %.1f MB of weights, %d threads, %s kernels, %s "
                "packed-weight kernels\n",
                path.c_str(), weights / 1e6, threads,
                fmc::cpu::bestKernels().isa, fmc::cpu::bestQuantKernels().isa);
    std::printf(
        "  memory read bandwidth  %.1f GB/s (%d threads, %lld MB, %s pages)\n",
        bandwidth.gbPerSecond, threads, static_cast<long long>(bandwidthMb),
        bandwidth.hugePages ? "2 MB" : "4 KB");
  }
  if (prefillTokens > 0)
    std::printf("  prefill                %.1f tokens/s (%lld tokens, %.2f ms "
                "wall, %.2f ms cpu)\n",
                prefillRate, static_cast<long long>(prefillTokens),
                prefill.wall * 1e3, prefill.cpu * 1e3);
  std::printf(
      "  decode                 %.1f tokens/s (%lld steps, %.1f us/token wall, "
      "%.1f us/token cpu)\n",
      decodeRate, static_cast<long long>(decodeTokens),
      decode.wall / decodeTokens * 1e6, decode.cpu / decodeTokens * 1e6);
  std::printf(
      "  decode weight traffic  %.1f GB/s = %.0f%% of the read bandwidth\n",
      traffic, 100.0 * traffic / bandwidth.gbPerSecond);
  std::printf("  medians of %d runs     prefill %.1f tokens/s, decode %.1f "
              "tokens/s\n",
              repeat, prefillMedian, decodeMedian);
  std::printf("  decode reads           %.1f MB/token (weights but embedding "
              "tables) = %.1f GB/s at the median = %.0f%% of the read "
              "bandwidth\n",
              stepBytes / 1e6, stepTraffic,
              100.0 * stepTraffic / bandwidth.gbPerSecond);
  if (device) {
    std::printf("  decode reads           %.1f MB weights + %.2f MB KV cache "
                "per token (mean over positions 1..%lld) = %.1f GB/s at the "
                "median decode rate\n",
                stepBytes / 1e6, kvStepBytes / 1e6,
                static_cast<long long>(decodeTokens), deviceTraffic);
    std::printf("  HBM fraction           %.1f%% of the measured copy "
                "bandwidth%s\n",
                100.0 * deviceTraffic / bandwidth.gbPerSecond,
                peakGbs > 0 ? absl::StrFormat(", %.1f%% of the nominal peak",
                                              100.0 * deviceTraffic / peakGbs)
                                  .c_str()
                            : "");
  }
  if (profile) {
    std::printf("  kernel time by family (all runs):\n");
    for (const fmc::KernelProfile &p : session.profile())
      std::printf("    %-16s %8lld calls %10.3f ms\n", p.family.c_str(),
                  static_cast<long long>(p.calls), p.seconds * 1e3);
  }
  std::vector<fmc::bench::LaunchGroup> launches;
  if (kernels) {
    launches = fmc::bench::groupDecodeLaunches(
        *executable, session.launchTimes(fmc::ProgramKind::Decode));
    if (launches.empty() && decodeTokens > 0)
      return usageError("the profiled decode runs do not match the " +
                        session.backend() + " executable's decode dispatches");
    fmc::bench::printLaunchTable(launches, bandwidth.gbPerSecond);
  }
  if (!json.empty()) {
    std::FILE *f = std::fopen(json.c_str(), "w");
    if (!f)
      return usageError("cannot write '" + json + "'");
    std::fprintf(
        f,
        "{\n  \"model\": \"%s\",\n  \"threads\": %d,\n  \"weights_bytes\": "
        "%llu,\n"
        "  \"read_bandwidth_gb_per_s\": %.3f,\n  \"huge_pages\": %s,\n"
        "  \"prefill_tokens\": %lld,\n  \"prefill_tokens_per_s\": %.3f,\n"
        "  \"decode_tokens\": %lld,\n  \"decode_tokens_per_s\": %.3f,\n"
        "  \"decode_us_per_token_cpu\": %.3f,\n"
        "  \"decode_weight_traffic_gb_per_s\": %.3f,\n  "
        "\"bandwidth_fraction\": %.4f,\n"
        "  \"prefill_tokens_per_s_median\": %.3f,\n"
        "  \"decode_tokens_per_s_median\": %.3f,\n"
        "  \"decode_bytes_per_token\": %llu,\n"
        "  \"decode_bandwidth_fraction_median\": %.4f,\n"
        "  \"backend\": \"%s\",\n"
        "  \"decode_kv_bytes_per_token\": %.0f,\n"
        "  \"decode_device_traffic_gb_per_s_median\": %.3f,\n"
        "  \"nominal_peak_gb_per_s\": %lld,\n"
        "  \"decode_launches\": %s\n}\n",
        path.c_str(), threads, static_cast<unsigned long long>(weights),
        bandwidth.gbPerSecond, bandwidth.hugePages ? "true" : "false",
        static_cast<long long>(prefillTokens), prefillRate,
        static_cast<long long>(decodeTokens), decodeRate,
        decode.cpu / decodeTokens * 1e6, traffic,
        traffic / bandwidth.gbPerSecond, prefillMedian, decodeMedian,
        static_cast<unsigned long long>(stepBytes),
        stepTraffic / bandwidth.gbPerSecond, session.backend().c_str(),
        kvStepBytes, deviceTraffic, static_cast<long long>(peakGbs),
        fmc::bench::launchTableJson(launches, bandwidth.gbPerSecond).c_str());
    std::fclose(f);
  }
  return 0;
}
