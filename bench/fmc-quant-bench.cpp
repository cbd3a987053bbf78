//===- fmc-quant-bench.cpp - speed of the packed-weight kernels -----------===//
//
// fmc-quant-bench [--threads N] [--mb M] [--tokens T]
//
// Times the packed-weight products of runtime/cpu/QuantKernels.h alone,
// for every kernel table this CPU runs, on the 853M Llama's shapes (the
// seven linears of a layer, 2048 wide, FFN 5632) at 2 and 4 bits:
//   compute  one 512 x 2048 matrix that stays in L2, best of many calls:
//            nanoseconds per 128-weight block of a row, with no memory wait;
//   stream   layers of matrices, M MB in all (several times the L3), one
//            call per matrix, threads splitting rows as the runtime does;
//            each matrix's best call, summed: GB/s of packed weights read,
//            and that as a fraction of this machine's read bandwidth.
// A shared machine makes single timings noisy; minima are what the kernel
// can do. Printed, never asserted.
//
//===----------------------------------------------------------------------===//

#include "ReadBandwidth.h"
#include "runtime/cpu/QuantKernels.h"
#include "runtime/cpu/ThreadPool.h"
#include "support/Suggest.h"
#include "support/Version.h"

#include "absl/strings/numbers.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using fmc::cpu::QuantActivations;
using fmc::cpu::QuantKernelTable;
using fmc::cpu::QuantWeights;

double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Packed bytes of an [n][k] matrix with f16 scales per group of 64.
uint64_t packedBytes(int bits, int64_t n, int64_t k) {
  return static_cast<uint64_t>(n) * (k * bits / 8 + 2 * (k / 64));
}

/// A view of `bytes` (filled with arbitrary codes) with small f16 scales.
QuantWeights makeWeights(uint8_t *bytes, int bits, int64_t n, int64_t k) {
  QuantWeights w =
      QuantWeights::view(bytes, bits, /*affine=*/false, /*bf16Scales=*/false,
                         /*groupSize=*/64, n, k);
  for (uint64_t i = 0; i < n * w.rowBytes; ++i)
    bytes[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  auto *scales = reinterpret_cast<uint16_t *>(const_cast<uint8_t *>(w.scales));
  for (int64_t i = 0; i < n * w.groups; ++i)
    scales[i] = 0x2000; // About 0.0078.
  return w;
}

std::vector<float> activations(int64_t count) {
  std::vector<float> x(count);
  for (int64_t i = 0; i < count; ++i)
    x[i] = static_cast<float>((i * 37) % 101) / 50.0f - 1.0f;
  return x;
}

/// y = x W^T over all rows, split as QuantInstances.cpp splits a product.
void product(const QuantKernelTable &table, fmc::cpu::ThreadPool &pool,
             const QuantWeights &w, const QuantActivations &a, float *y,
             int64_t tokens) {
  int64_t chunks = pool.size() == 1 ? 1 : 4 * pool.size();
  int64_t chunk = (w.n + chunks - 1) / chunks;
  pool.run(chunks, [&](int64_t task, int) {
    int64_t r0 = task * chunk, r1 = std::min(w.n, r0 + chunk);
    if (r0 < r1)
      table.linear(w, a, y, w.n, r0, r1, 0, tokens);
  });
}

void compute(const QuantKernelTable &table, int bits, int64_t tokens) {
  const int64_t n = 512, k = 2048;
  std::vector<uint8_t> bytes(packedBytes(bits, n, k));
  QuantWeights w = makeWeights(bytes.data(), bits, n, k);
  std::vector<float> x = activations(tokens * k), y(tokens * n);
  QuantActivations a(w, tokens);
  a.prepare(w, x.data(), k, 0, tokens);
  double best = 1e9;
  for (int rep = 0; rep < 2000; ++rep) {
    double t0 = seconds();
    table.linear(w, a, y.data(), n, 0, n, 0, tokens);
    best = std::min(best, seconds() - t0);
  }
  double rowBlocks = static_cast<double>(n) * (k / 128) * tokens;
  std::printf("  %-10s %d-bit compute  %lld token(s): %6.2f ns per row-block "
              "of 128 weights per token (%.1f GB/s from L2)\n",
              table.isa, bits, static_cast<long long>(tokens),
              best * 1e9 / rowBlocks, bytes.size() / best / 1e9);
}

void stream(const QuantKernelTable &table, int bits, int threads, int64_t mb,
            int64_t tokens, double bandwidth) {
  struct Shape {
    int64_t n, k;
  };
  const Shape layer[] = {{2048, 2048}, {512, 2048},  {512, 2048}, {2048, 2048},
                         {5632, 2048}, {5632, 2048}, {2048, 5632}};
  uint64_t layerBytes = 0;
  for (Shape s : layer)
    layerBytes += packedBytes(bits, s.n, s.k);
  int64_t layers =
      std::max<int64_t>(1, static_cast<int64_t>((mb << 20) / layerBytes));
  uint64_t total = layers * layerBytes;
  const uint64_t huge = 1 << 21;
  auto *memory = static_cast<uint8_t *>(
      std::aligned_alloc(huge, (total + huge - 1) / huge * huge));
  ::madvise(memory, total, MADV_HUGEPAGE);
  std::vector<QuantWeights> matrices;
  uint64_t offset = 0;
  for (int64_t l = 0; l < layers; ++l)
    for (Shape s : layer) {
      matrices.push_back(makeWeights(memory + offset, bits, s.n, s.k));
      offset += packedBytes(bits, s.n, s.k);
    }
  std::vector<float> x = activations(tokens * 5632), y(tokens * 5632);
  QuantActivations a;
  for (const QuantWeights &w : matrices)
    a.reserve(w, tokens);
  fmc::cpu::ThreadPool pool(threads);
  std::vector<double> best(matrices.size(), 1e9);
  for (int rep = 0; rep < 20; ++rep)
    for (size_t m = 0; m < matrices.size(); ++m) {
      const QuantWeights &w = matrices[m];
      a.prepare(w, x.data(), w.k, 0, tokens);
      double t0 = seconds();
      product(table, pool, w, a, y.data(), tokens);
      best[m] = std::min(best[m], seconds() - t0);
    }
  double sum = 0;
  for (double b : best)
    sum += b;
  double gbs = total / sum / 1e9;
  std::printf("  %-10s %d-bit stream   %lld token(s), %d thread(s), %.0f MB: "
              "%.2f ms, %.1f GB/s = %.0f%% of the read bandwidth\n",
              table.isa, bits, static_cast<long long>(tokens), threads,
              total / 1e6, sum * 1e3, gbs, 100.0 * gbs / bandwidth);
  std::free(memory);
}

int usageError(const std::string &message) {
  std::fprintf(stderr, "fmc-quant-bench: error: %s\n", message.c_str());
  return 1;
}

const char *const kUsage = R"(usage: fmc-quant-bench [options]

Times the cpu backend's packed 2- and 4-bit weight products alone, for every
kernel table this CPU runs, on the 853M Llama's shapes: "compute" (one
matrix that stays in L2: ns per 128-weight block) and "stream" (M MB of
matrices: GB/s read, as a fraction of this machine's read bandwidth).
Printed, never asserted: minima are what the kernel can do.

  --threads N   threads splitting rows in the stream test (default 1)
  --mb M        MB of matrices streamed (default 256)
  --tokens T    activation rows per product (default 1: decode)
  -h, --help    this text
  --version     fmc's version and git revision
)";

} // namespace

int main(int argc, char **argv) {
  int64_t threads = 1, mb = 256, tokens = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto number = [&](int64_t &out) {
      return i + 1 < argc && absl::SimpleAtoi(argv[++i], &out) && out > 0;
    };
    if (arg == "--help" || arg == "-h")
      return std::fputs(kUsage, stdout), 0;
    if (arg == "--version")
      return std::printf("%s\n", fmc::versionLine("fmc-quant-bench").c_str()),
             0;
    const std::vector<std::string> flags = {"--threads", "--mb", "--tokens",
                                            "--help", "--version"};
    if (std::find(flags.begin(), flags.end(), arg) == flags.end())
      return usageError(fmc::unknownOptionMessage(arg, flags));
    if (!((arg == "--threads" && number(threads)) ||
          (arg == "--mb" && number(mb)) ||
          (arg == "--tokens" && number(tokens))))
      return usageError(arg + " needs a positive number (see --help)");
  }
  std::vector<const QuantKernelTable *> tables = {
      &fmc::cpu::bestQuantKernels()};
  if (tables[0] != &fmc::cpu::quantAvx2Kernels() &&
      tables[0] != &fmc::cpu::quantGenericKernels())
    tables.push_back(&fmc::cpu::quantAvx2Kernels());
  fmc::bench::Bandwidth bandwidth = fmc::bench::measureReadBandwidth(
      uint64_t{512} << 20, static_cast<int>(threads), 5);
  std::printf("memory read bandwidth %.1f GB/s (%lld threads, %s pages)\n",
              bandwidth.gbPerSecond, static_cast<long long>(threads),
              bandwidth.hugePages ? "2 MB" : "4 KB");
  for (const QuantKernelTable *table : tables)
    for (int bits : {2, 4}) {
      compute(*table, bits, tokens);
      stream(*table, bits, static_cast<int>(threads), mb, tokens,
             bandwidth.gbPerSecond);
    }
  return 0;
}
