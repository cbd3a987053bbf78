//===- fmc-fill-weights.cpp - random weights behind an artifact's header --===//
//
//   fmc-fill-weights HEADER OUT [--seed N]
//
// Benchmarks of full-size models run on machines a multi-GB artifact cannot
// be copied to (bench/gpu_decode.sh: the device machine receives at most
// 64 MiB). There, only the artifact's header travels (the file cut at its
// weight segment: FlatBuffer, executables, dispatch lists) and this tool
// writes the weight segment anew, with random values every kernel reads as
// it would real ones: float tensors uniform in +-1/sqrt(k) (k the last
// dimension; vectors, i.e. norm weights, 1.0), packed tensors random codes
// with scales of 1/(1.5 sqrt(k)) and zero minimums (QuantMath.h's layout:
// codes, then scales, then minimums). Speed does not depend on the values,
// but zeros or NaNs could hide unwritten outputs or take other paths.
// Links the runtime only, like fmc-run.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ArtifactChecksum.h"
#include "runtime/cpu/Float16.h"

#include "absl/strings/numbers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "fmc-fill-weights: error: %s\n", message.c_str());
  return 1;
}

/// xorshift64*: fast, and plenty for benchmark weights.
struct Random {
  uint64_t state;
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  }
  /// Uniform in [-1, 1).
  float symmetric() {
    return static_cast<float>(next() >> 40) * (2.0f / 16777216.0f) - 1.0f;
  }
};

void storeScalar(uint8_t *out, fmc::schema::DType dtype, float value) {
  switch (dtype) {
  case fmc::schema::DType::F32:
    std::memcpy(out, &value, 4);
    break;
  case fmc::schema::DType::F16: {
    uint16_t h = fmc::cpu::floatToF16(value);
    std::memcpy(out, &h, 2);
    break;
  }
  case fmc::schema::DType::BF16: {
    uint16_t b = fmc::cpu::floatToBf16(value);
    std::memcpy(out, &b, 2);
    break;
  }
  default:
    break;
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string headerPath, outPath;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seed" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &seed))
        return fail("--seed needs a number");
    } else if (headerPath.empty()) {
      headerPath = arg;
    } else if (outPath.empty()) {
      outPath = arg;
    } else {
      return fail("usage: fmc-fill-weights HEADER OUT [--seed N]");
    }
  }
  if (outPath.empty())
    return fail("usage: fmc-fill-weights HEADER OUT [--seed N]");

  std::ifstream in(headerPath, std::ios::binary);
  std::vector<uint8_t> header((std::istreambuf_iterator<char>(in)), {});
  if (header.size() < 8)
    return fail("'" + headerPath + "' is no artifact header");
  flatbuffers::Verifier verifier(header.data(), header.size());
  if (!fmc::schema::VerifySizePrefixedArtifactBuffer(verifier))
    return fail("'" + headerPath +
                "' is no artifact header (FlatBuffers "
                "verification failed)");
  const fmc::schema::Artifact &root =
      *fmc::schema::GetSizePrefixedArtifact(header.data());
  uint64_t segmentOffset = root.weights_offset(),
           segmentBytes = root.weights_bytes();
  if (segmentOffset < 4 + flatbuffers::ReadScalar<uint32_t>(header.data()))
    return fail("'" + headerPath + "' puts its weights inside its FlatBuffer");
  header.resize(segmentOffset, 0); // Drop any weights, pad to the segment.

  std::vector<uint8_t> segment(segmentBytes, 0);
  Random random{seed * 0x9E3779B97F4A7C15ull + 1};
  for (const fmc::schema::Tensor *t : *root.tensors()) {
    if (t->offset() + t->bytes() > segmentBytes)
      return fail("tensor '" + t->name()->str() +
                  "' lies outside the weight segment");
    uint8_t *out = segment.data() + t->offset();
    int64_t k = t->shape() && t->shape()->size()
                    ? t->shape()->Get(t->shape()->size() - 1)
                    : 1;
    bool vector = !t->shape() || t->shape()->size() <= 1;
    float amplitude =
        1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(k, 1)));
    if (t->dtype() == fmc::schema::DType::Packed) {
      const fmc::schema::QuantEncoding *q = t->quant();
      if (!q)
        return fail("packed tensor '" + t->name()->str() + "' has no encoding");
      uint64_t rows = t->bytes() ? 1 : 0;
      for (uint32_t d = 0; d + 1 < t->shape()->size(); ++d)
        rows *= t->shape()->Get(d);
      uint64_t rowCodes = (static_cast<uint64_t>(k) * q->bits() + 7) / 8;
      uint64_t group = q->group_size() > 0 ? q->group_size() : k;
      uint64_t groups = (k + group - 1) / group;
      uint64_t codes = rows * rowCodes;
      if (codes + rows * groups * 2 > t->bytes())
        return fail("packed tensor '" + t->name()->str() +
                    "' is smaller than its encoding's layout");
      for (uint64_t i = 0; i < codes; i += 8) {
        uint64_t r = random.next();
        std::memcpy(out + i, &r, std::min<uint64_t>(8, codes - i));
      }
      float scale = amplitude / 1.5f;
      for (uint64_t i = 0; i < rows * groups; ++i)
        storeScalar(out + codes + 2 * i, q->scale_dtype(),
                    scale * (0.75f + 0.25f * random.symmetric()));
      // Affine minimums (after the scales) stay zero.
      continue;
    }
    uint64_t size = fmc::dtypeBytes(t->dtype());
    if (size == 0 || t->dtype() == fmc::schema::DType::I8 ||
        t->dtype() == fmc::schema::DType::I32) {
      for (uint64_t i = 0; i < t->bytes(); ++i)
        out[i] = static_cast<uint8_t>(random.next());
      continue;
    }
    for (uint64_t i = 0; i + size <= t->bytes(); i += size)
      storeScalar(out + i, t->dtype(),
                  vector ? 1.0f : amplitude * random.symmetric());
  }

  // New weights, new checksums: the header records the segment's.
  fmc::sealHeader(header.data(),
                  4 + flatbuffers::ReadScalar<uint32_t>(header.data()),
                  fmc::weightsChecksum(segment.data(), segment.size()));

  std::string temp = outPath + ".tmp";
  std::FILE *f = std::fopen(temp.c_str(), "wb");
  if (!f)
    return fail("cannot write '" + temp + "'");
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(segment.data(), 1, segment.size(), f) == segment.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), outPath.c_str()) != 0) {
    std::remove(temp.c_str());
    return fail("cannot write '" + outPath + "'");
  }
  // The result must open like any artifact.
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> check =
      fmc::Artifact::open(outPath, {fmc::WeightLoading::Map});
  if (!check.ok())
    return fail(std::string(check.status().message()));
  std::printf("%s: %llu bytes of weights written (%u tensors)\n",
              outPath.c_str(), static_cast<unsigned long long>(segmentBytes),
              root.tensors()->size());
  return 0;
}
