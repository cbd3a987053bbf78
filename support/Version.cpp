//===- Version.cpp - fmc's version for every tool's --version -------------===//

#include "support/Version.h"

#include "support/GitRevision.h" // Generated in the build tree.

const char *fmc::version() { return FMC_VERSION; }

const char *fmc::gitRevision() { return FMC_GIT_REVISION; }

std::string fmc::versionLine(const std::string &tool) {
  return tool + " (fmc " + version() + ", git " + gitRevision() + ")";
}
