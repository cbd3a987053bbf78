//===- Suggest.cpp - "did you mean" for command-line flags ----------------===//

#include "support/Suggest.h"

#include <algorithm>
#include <cstddef>

namespace {

/// Levenshtein distance: insertions, deletions and substitutions.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace

std::string fmc::nearestSpelling(std::string_view typed,
                                 const std::vector<std::string> &candidates) {
  size_t limit = std::clamp<size_t>(typed.size() / 3, 1, 3);
  std::string best;
  size_t bestDistance = limit + 1;
  for (const std::string &candidate : candidates) {
    size_t distance = editDistance(typed, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string
fmc::unknownOptionMessage(std::string_view typed,
                          const std::vector<std::string> &candidates) {
  std::string near = nearestSpelling(typed, candidates);
  std::string message = "unknown option '" + std::string(typed) + "'";
  return near.empty() ? message + " (see --help)"
                      : message + "; did you mean '" + near + "'?";
}
