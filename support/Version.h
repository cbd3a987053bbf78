//===- Version.h - fmc's version for every tool's --version ---------------===//
//
// One line per tool, the same in all of them: the tool, fmc's release and
// the git revision of the tree it was built from ("-dirty" with uncommitted
// changes), so a bug report names the exact build.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_VERSION_VERSION_H
#define FMC_VERSION_VERSION_H

#include <string>

namespace fmc {

/// "0.5.0".
const char *version();
/// "e0b6188a1c2d" or "e0b6188a1c2d-dirty"; "unknown" outside a git tree.
const char *gitRevision();
/// "fmc-run (fmc 0.5.0, git e0b6188a1c2d)".
std::string versionLine(const std::string &tool);

} // namespace fmc

#endif // FMC_VERSION_VERSION_H
