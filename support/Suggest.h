//===- Suggest.h - "did you mean" for command-line flags ------------------===//
//
// The tools with their own flag parsers (the runtime's, which link no LLVM)
// answer a mistyped flag the way LLVM's parser does: with the nearest known
// spelling, when one is close enough to be what was meant.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_SUPPORT_SUGGEST_H
#define FMC_SUPPORT_SUGGEST_H

#include <string>
#include <string_view>
#include <vector>

namespace fmc {

/// The candidate nearest to `typed` by edit distance, if at most a third of
/// its length (at least 1, at most 3) away; else empty.
std::string nearestSpelling(std::string_view typed,
                            const std::vector<std::string> &candidates);

/// "unknown option 'X' (see --help)" or, with a near spelling, "unknown
/// option 'X'; did you mean 'Y'?".
std::string unknownOptionMessage(std::string_view typed,
                                 const std::vector<std::string> &candidates);

} // namespace fmc

#endif // FMC_SUPPORT_SUGGEST_H
