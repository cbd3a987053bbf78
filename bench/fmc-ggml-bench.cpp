//===- fmc-ggml-bench.cpp - speed of the ggml block dot products ----------===//
//
// fmc-ggml-bench [--all] [--rows N] [--k K] [--reps R] [--tokens T]
//
// Times the integer dot products of runtime/cpu/GgmlDot.h alone, for every
// table this CPU runs, on one N x K matrix (default 256 x 2048: a few
// hundred KB, so it stays in L2 and nothing waits for memory), best of R
// products: nanoseconds per 256 weights of a row and the GB/s of blocks that
// makes, one row at a time and, where the table has them, in tiles of
// kGgmlTileRows rows (GgmlDot.h; what decode runs), and where the table
// has token tiles (prefill), the same rows times T tokens (default 64) in
// token tiles: nanoseconds per 256 weights and token. Without --all only
// the formats of the usual files (Q8_0, Q4_K, Q6_K, TQ2_0). End-to-end
// decode and prefill, with memory, are fmc-bench's (bench/run.sh).
// Printed, never asserted.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/GgmlDot.h"

#include "absl/strings/numbers.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using fmc::cpu::GgmlActivations;
using fmc::cpu::GgmlDotTable;
namespace ggml = fmc::ggml;

double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Arbitrary block bytes below 0x40, which keeps every f16 field in a block
/// a positive number below 2 (no infinities, NaNs or denormal products to
/// slow the f32 part), whatever the format's layout.
std::vector<uint8_t> blockBytes(uint64_t count) {
  std::vector<uint8_t> bytes(count);
  for (uint64_t i = 0; i < count; ++i)
    bytes[i] = static_cast<uint8_t>(((i * 2654435761u) >> 13) & 0x3F);
  return bytes;
}

void time(const GgmlDotTable &table, const ggml::BlockFormat &format,
          int64_t n, int64_t k, int reps, int64_t tokens) {
  int64_t blocks = k / format.elements;
  uint64_t rowBytes = static_cast<uint64_t>(blocks) * format.bytes;
  std::vector<uint8_t> w = blockBytes(n * rowBytes);
  std::vector<float> x(k), y(n);
  for (int64_t i = 0; i < k; ++i)
    x[i] = static_cast<float>((i * 37) % 101) / 50.0f - 1.0f;
  GgmlActivations a;
  a.prepare(x.data(), k, 0, 1, format.elements);
  int index = fmc::cpu::ggmlFormatIndex(format);
  fmc::cpu::GgmlRowDotFn dot = table.dot[index];
  fmc::cpu::GgmlTileDotFn tile = table.tile[index];
  constexpr int64_t kTile = fmc::cpu::kGgmlTileRows;
  // The best of `reps` products, one row at a time or (tiles) kTile rows
  // at a time (the runtime's way where the table has tiles).
  auto best = [&](bool tiles) {
    double fastest = 1e9;
    for (int rep = 0; rep < reps; ++rep) {
      double t0 = seconds();
      int64_t r = 0;
      if (tiles)
        for (; r + kTile <= n; r += kTile) {
          const uint8_t *rows[kTile];
          for (int64_t i = 0; i < kTile; ++i)
            rows[i] = w.data() + (r + i) * rowBytes;
          tile(rows, blocks, a.q(0), a.d(0), a.sums(0), a.qsums(0), &y[r]);
        }
      for (; r < n; ++r)
        y[r] = dot(w.data() + r * rowBytes, blocks, a.q(0), a.d(0),
                   a.sums(0), a.qsums(0));
      fastest = std::min(fastest, seconds() - t0);
    }
    return fastest;
  };
  auto report = [&](double s, const char *how) {
    std::printf("  %-10s %-7s %-5s %7.2f ns per 256 weights  %6.1f GB/s of "
                "blocks\n",
                table.isa, std::string(format.name).c_str(), how,
                s * 1e9 / (static_cast<double>(n) * k / 256),
                static_cast<double>(w.size()) / s / 1e9);
  };
  report(best(false), "rows");
  if (tile)
    report(best(true), "tiles");
  fmc::cpu::GgmlTokenTileFn tokenTile = table.tokens[index];
  if (!tokenTile)
    return;
  // Token tiles: every row times `tokens` tokens, as prefill runs them.
  std::vector<float> xs(tokens * k), ys(tokens * n);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t i = 0; i < k; ++i)
      xs[t * k + i] = x[(i + 7 * t) % k];
  GgmlActivations at;
  at.prepare(xs.data(), k, 0, tokens, format.elements);
  fmc::cpu::GgmlPanel panel;
  double fastest = 1e9;
  for (int rep = 0; rep < std::max(1, reps / 8); ++rep) {
    double t0 = seconds();
    constexpr int64_t kRows = fmc::cpu::kGgmlTokenRows;
    for (int64_t r = 0; r < n; r += kRows) {
      int count = static_cast<int>(std::min<int64_t>(kRows, n - r));
      tokenTile(w.data() + r * rowBytes, rowBytes, count, blocks, at, 0,
                tokens, ys.data() + r, n, panel);
    }
    fastest = std::min(fastest, seconds() - t0);
  }
  std::printf("  %-10s %-7s %-5s %7.2f ns per 256 weights and token (%lld "
              "tokens)\n",
              table.isa, std::string(format.name).c_str(), "tokens",
              fastest * 1e9 / (static_cast<double>(n) * k / 256 * tokens),
              static_cast<long long>(tokens));
}

int usageError(const std::string &message) {
  std::fprintf(stderr, "fmc-ggml-bench: error: %s\n", message.c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  int64_t n = 256, k = 2048, reps = 200, tokens = 64;
  bool all = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto number = [&](int64_t &out) {
      return i + 1 < argc && absl::SimpleAtoi(argv[++i], &out) && out > 0;
    };
    if (arg == "--all")
      all = true;
    else if (!((arg == "--rows" && number(n)) || (arg == "--k" && number(k)) ||
               (arg == "--reps" && number(reps)) ||
               (arg == "--tokens" && number(tokens))))
      return usageError("bad argument '" + arg + "'");
  }
  if (k % 256 != 0)
    return usageError("--k must be a multiple of 256");
  std::vector<const GgmlDotTable *> tables = {&fmc::cpu::bestGgmlDot()};
  for (const GgmlDotTable *t :
       {&fmc::cpu::ggmlDotAvx512Vnni(), &fmc::cpu::ggmlDotAvx2(),
        &fmc::cpu::ggmlDotGeneric()})
    if (t != tables[0])
      tables.push_back(t);
  const ggml::Type usual[] = {ggml::Type::Q8_0, ggml::Type::Q4_K,
                              ggml::Type::Q6_K, ggml::Type::TQ2_0};
  std::printf("ggml block dot products, %lld x %lld, best of %lld, 1 thread\n",
              static_cast<long long>(n), static_cast<long long>(k),
              static_cast<long long>(reps));
  for (const GgmlDotTable *table : tables)
    for (const ggml::BlockFormat &format : ggml::kBlockFormats)
      if (all || std::find(std::begin(usual), std::end(usual), format.type) !=
                     std::end(usual))
        time(*table, format, n, k, static_cast<int>(reps), tokens);
  return 0;
}
