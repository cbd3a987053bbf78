//===- QuantMath.cpp - low-bit weight quantization and its packed layout --===//

#include "lowering/quant/QuantMath.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace fmc::quant {

namespace {

uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// A value rounded to the scale type, as the f32 the kernels will use.
float roundScale(ScaleType type, float v) {
  return type == ScaleType::F16 ? halfToFloat(floatToHalf(v))
                                : bfloatToFloat(floatToBFloat(v));
}
uint16_t encodeScale(ScaleType type, float v) {
  return type == ScaleType::F16 ? floatToHalf(v) : floatToBFloat(v);
}
float decodeScale(ScaleType type, uint16_t v) {
  return type == ScaleType::F16 ? halfToFloat(v) : bfloatToFloat(v);
}

/// One group's quantization: codes, scale and minimum (already rounded to
/// the scale type), and its squared error.
struct GroupResult {
  float scale = 0.0f, min = 0.0f;
  double error = std::numeric_limits<double>::infinity();
  bool exact = false;
};

/// Dequantized value of a code (the kernels' and dequantize()'s formula).
inline float value(Grid grid, float offset, float s, float m, int q) {
  return grid == Grid::Balanced ? s * (static_cast<float>(q) - offset)
                                : s * static_cast<float>(q) + m;
}

inline int codeFor(Grid grid, float offset, int qmax, float s, float m,
                   float w) {
  if (s == 0.0f)
    return grid == Grid::Balanced ? (std::signbit(w) ? 0 : qmax) : 0;
  float q = grid == Grid::Balanced ? w / s + offset : (w - m) / s;
  q = std::nearbyint(q);
  return static_cast<int>(std::clamp(q, 0.0f, static_cast<float>(qmax)));
}

double groupError(Grid grid, float offset, int qmax, float s, float m,
                  const float *w, int64_t n, int *codes) {
  double err = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    int q = codeFor(grid, offset, qmax, s, m, w[i]);
    codes[i] = q;
    double d = static_cast<double>(w[i]) - value(grid, offset, s, m, q);
    err += d * d;
  }
  return err;
}

bool exactWith(Grid grid, float offset, int qmax, float s, float m,
               const float *w, int64_t n, int *codes) {
  for (int64_t i = 0; i < n; ++i) {
    int q = codeFor(grid, offset, qmax, s, m, w[i]);
    if (floatBits(value(grid, offset, s, m, q)) != floatBits(w[i]))
      return false;
    codes[i] = q;
  }
  return true;
}

/// Finds scales under which the group is represented bit for bit (weights
/// trained on the grid), trying the scales the group's extremes imply.
bool findExact(const Format &f, const float *w, int64_t n, int *codes,
               GroupResult &result) {
  int qmax = (1 << f.bits) - 1;
  float offset = qmax / 2.0f;
  float lo = *std::min_element(w, w + n), hi = *std::max_element(w, w + n);
  if (f.grid == Grid::Balanced) {
    float amax = std::max(std::fabs(lo), std::fabs(hi));
    if (amax == 0.0f) {
      result = {0.0f, 0.0f, 0.0, true};
      return exactWith(f.grid, offset, qmax, 0.0f, 0.0f, w, n, codes);
    }
    // amax is s times one of the code magnitudes 0.5, 1.5, ..., offset.
    for (float mag = offset; mag > 0.0f; mag -= 1.0f) {
      float s = roundScale(f.scaleType, amax / mag);
      if (s > 0.0f && std::isfinite(s) &&
          exactWith(f.grid, offset, qmax, s, 0.0f, w, n, codes)) {
        result = {s, 0.0f, 0.0, true};
        return true;
      }
    }
    return false;
  }
  float m = roundScale(f.scaleType, lo);
  if (lo == hi) {
    if (exactWith(f.grid, offset, qmax, 0.0f, m, w, n, codes)) {
      result = {0.0f, m, 0.0, true};
      return true;
    }
    return false;
  }
  // The range is s times (top code - bottom code); the minimum m is the
  // smallest value minus s times the bottom code (0 unless a short group
  // never used it).
  for (int span = qmax; span >= 1; --span) {
    float s = roundScale(f.scaleType, (hi - lo) / static_cast<float>(span));
    if (!(s > 0.0f) || !std::isfinite(s))
      continue;
    for (int bottom = 0; bottom + span <= qmax; ++bottom) {
      float min = roundScale(f.scaleType, lo - s * static_cast<float>(bottom));
      if (exactWith(f.grid, offset, qmax, s, min, w, n, codes)) {
        result = {s, min, 0.0, true};
        return true;
      }
    }
  }
  return false;
}

/// The scale (and minimum) minimizing the group's squared error: from each
/// start, alternate nearest-code assignment (with the scale rounded to the
/// scale type, as stored) and the least-squares fit of the scale (balanced)
/// or scale and minimum (affine) to those codes; keep the best seen.
GroupResult fitGroup(const Format &f, const float *w, int64_t n, int *codes,
                     std::vector<int> &work) {
  int qmax = (1 << f.bits) - 1;
  float offset = qmax / 2.0f;
  GroupResult best;
  auto refine = [&](float s, float m) {
    for (int iter = 0; iter < 3; ++iter) {
      s = roundScale(f.scaleType, s);
      m = roundScale(f.scaleType, m);
      if (!std::isfinite(s) || !std::isfinite(m) || s < 0.0f)
        return;
      double err = groupError(f.grid, offset, qmax, s, m, w, n, work.data());
      if (err < best.error) {
        best = {s, m, err, false};
        std::copy(work.begin(), work.begin() + n, codes);
      }
      if (iter == 2 || err == 0.0)
        return;
      double sqq = 0, sqw = 0, sq = 0, sw = 0;
      for (int64_t i = 0; i < n; ++i) {
        double q = f.grid == Grid::Balanced ? work[i] - offset : work[i];
        sqq += q * q;
        sqw += q * w[i];
        sq += q;
        sw += w[i];
      }
      if (f.grid == Grid::Balanced) {
        if (sqq == 0.0)
          return;
        s = static_cast<float>(sqw / sqq);
      } else {
        double det = n * sqq - sq * sq;
        if (det == 0.0)
          return;
        s = static_cast<float>((n * sqw - sq * sw) / det);
        m = static_cast<float>((sw - s * sq) / n);
      }
    }
  };
  float lo = *std::min_element(w, w + n), hi = *std::max_element(w, w + n);
  if (f.grid == Grid::Balanced) {
    float amax = std::max(std::fabs(lo), std::fabs(hi));
    if (amax == 0.0f) {
      refine(0.0f, 0.0f);
      return best;
    }
    for (float shrink : {1.0f, 0.85f, 0.7f})
      refine(amax / offset * shrink, 0.0f);
  } else {
    if (lo == hi) {
      refine(0.0f, lo);
      return best;
    }
    for (float shrink : {1.0f, 0.9f})
      refine((hi - lo) * shrink / qmax, lo + (hi - lo) * (1.0f - shrink) / 2);
  }
  return best;
}

void storeScale(uint8_t *p, ScaleType type, float v) {
  uint16_t bits = encodeScale(type, v);
  std::memcpy(p, &bits, 2);
}
float loadScale(const uint8_t *p, ScaleType type) {
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  return decodeScale(type, bits);
}

} // namespace

int64_t effectiveGroupSize(const Format &format, int64_t k) {
  return format.groupSize == 0 ? k : std::min(format.groupSize, k);
}
int64_t groupsPerRow(const Format &format, int64_t k) {
  int64_t g = format.groupSize == 0 ? k : format.groupSize;
  return (k + g - 1) / g;
}
uint64_t rowCodeBytes(const Format &format, int64_t k) {
  return (static_cast<uint64_t>(k) * format.bits + 7) / 8;
}
uint64_t scalesOffset(const Format &format, int64_t rows, int64_t k) {
  return rows * rowCodeBytes(format, k);
}
uint64_t minsOffset(const Format &format, int64_t rows, int64_t k) {
  return scalesOffset(format, rows, k) + rows * groupsPerRow(format, k) * 2;
}
uint64_t packedBytes(const Format &format, int64_t rows, int64_t k) {
  uint64_t perGroup = format.grid == Grid::Affine ? 2 : 1;
  return scalesOffset(format, rows, k) +
         rows * groupsPerRow(format, k) * perGroup * 2;
}

double Stats::relativeError() const {
  return sumSquared > 0.0 ? std::sqrt(sumSquaredError / sumSquared) : 0.0;
}
double Stats::rmsError(int64_t elements) const {
  return elements > 0 ? std::sqrt(sumSquaredError / elements) : 0.0;
}

Stats quantize(const Format &f, const float *w, int64_t rows, int64_t k,
               uint8_t *out, int64_t firstRow, int64_t endRow) {
  Stats stats;
  int64_t group = effectiveGroupSize(f, k), groups = groupsPerRow(f, k);
  uint64_t rowBytes = rowCodeBytes(f, k);
  if (endRow < 0)
    endRow = rows;
  std::vector<int> codes(group), work(group);
  for (int64_t r = firstRow; r < endRow; ++r) {
    const float *row = w + (r - firstRow) * k;
    if (out)
      std::memset(out + r * rowBytes, 0, rowBytes);
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * group, n = std::min(group, k - begin);
      GroupResult result;
      if (findExact(f, row + begin, n, codes.data(), result)) {
        ++stats.groupsOnGrid;
      } else {
        result = fitGroup(f, row + begin, n, codes.data(), work);
        stats.sumSquaredError += result.error;
      }
      ++stats.groups;
      for (int64_t i = 0; i < n; ++i)
        stats.sumSquared +=
            static_cast<double>(row[begin + i]) * row[begin + i];
      if (!out)
        continue;
      uint8_t *codeRow = out + r * rowBytes;
      for (int64_t i = 0; i < n; ++i) {
        uint64_t bit = static_cast<uint64_t>(begin + i) * f.bits;
        codeRow[bit / 8] |= static_cast<uint8_t>(codes[i] << (bit % 8));
      }
      storeScale(out + scalesOffset(f, rows, k) + 2 * (r * groups + g),
                 f.scaleType, result.scale);
      if (f.grid == Grid::Affine)
        storeScale(out + minsOffset(f, rows, k) + 2 * (r * groups + g),
                   f.scaleType, result.min);
    }
  }
  return stats;
}

void dequantize(const Format &f, const uint8_t *packed, int64_t rows, int64_t k,
                float *out) {
  int qmax = (1 << f.bits) - 1;
  float offset = qmax / 2.0f;
  int64_t group = effectiveGroupSize(f, k), groups = groupsPerRow(f, k);
  uint64_t rowBytes = rowCodeBytes(f, k);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < k; ++i) {
      int64_t g = i / group;
      uint64_t bit = static_cast<uint64_t>(i) * f.bits;
      int q = (packed[r * rowBytes + bit / 8] >> (bit % 8)) & qmax;
      float s =
          loadScale(packed + scalesOffset(f, rows, k) + 2 * (r * groups + g),
                    f.scaleType);
      float m = f.grid == Grid::Affine
                    ? loadScale(packed + minsOffset(f, rows, k) +
                                    2 * (r * groups + g),
                                f.scaleType)
                    : 0.0f;
      out[r * k + i] = value(f.grid, offset, s, m, q);
    }
}

uint16_t floatToHalf(float value) {
  uint32_t x = floatBits(value);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t exp = (x >> 23) & 0xff, mant = x & 0x7fffff;
  if (exp == 0xff)
    return sign | 0x7c00 | (mant ? 0x200 : 0);
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31)
    return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10)
      return sign;
    mant |= 0x800000;
    int shift = 14 - e;
    uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    ++half; // May carry into the exponent, up to infinity: still correct.
  return sign | half;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31)
    return bitsFloat(sign | 0x7f800000 | (mant << 13));
  return bitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t floatToBFloat(float value) {
  uint32_t x = floatBits(value);
  if ((x & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

float bfloatToFloat(uint16_t bits) {
  return bitsFloat(static_cast<uint32_t>(bits) << 16);
}

std::string formatToString(const Format &f) {
  return std::to_string(f.bits) + ":" +
         (f.grid == Grid::Balanced ? "balanced" : "affine") + ":" +
         (f.groupSize == 0 ? std::string("row") : std::to_string(f.groupSize)) +
         ":" + (f.scaleType == ScaleType::F16 ? "f16" : "bf16");
}

std::string parseFormat(const std::string &text, Format &f) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos)
      break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 4)
    return "expected bits:grid[:group[:scale]] (e.g. 2:balanced:64:f16), got "
           "'" +
           text + "'";
  if (parts[0] == "2" || parts[0] == "4")
    f.bits = parts[0][0] - '0';
  else
    return "bits must be 2 or 4, got '" + parts[0] + "'";
  if (parts[1] == "balanced")
    f.grid = Grid::Balanced;
  else if (parts[1] == "affine")
    f.grid = Grid::Affine;
  else
    return "grid must be 'balanced' or 'affine', got '" + parts[1] + "'";
  f.groupSize = 64;
  if (parts.size() > 2) {
    if (parts[2] == "row" || parts[2] == "0")
      f.groupSize = 0;
    else if (parts[2] == "32" || parts[2] == "64" || parts[2] == "128")
      f.groupSize = std::stoi(parts[2]);
    else
      return "group size must be 32, 64, 128 or 'row', got '" + parts[2] + "'";
  }
  f.scaleType = ScaleType::F16;
  if (parts.size() > 3) {
    if (parts[3] == "bf16")
      f.scaleType = ScaleType::BF16;
    else if (parts[3] != "f16")
      return "scale type must be 'f16' or 'bf16', got '" + parts[3] + "'";
  }
  return "";
}

} // namespace fmc::quant
