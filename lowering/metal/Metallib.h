//===- Metallib.h - MSL into a metallib with Xcode's Metal compiler -------===//
//
// On macOS the Metal target can ship a compiled library (executable format
// "metallib") instead of MSL source, so the runtime skips compiling the
// source at load. The compiler is Xcode's (`xcrun metal`, `xcrun metallib`),
// which exists on macOS only; elsewhere this fails and the MSL is kept.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_METAL_METALLIB_H
#define FMC_LOWERING_METAL_METALLIB_H

#include "lowering/metal/MslTranslation.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace fmc::metal {

/// Compiles `msl` (as translateSpirvToMsl writes it, for `options`' MSL
/// version and platform) into a metallib with
///   xcrun -sdk macosx|iphoneos metal -std=metalX.Y -c kernels.metal
///   xcrun -sdk macosx|iphoneos metallib kernels.air
/// in a temporary directory. `xcrun` is the program to run (empty: the
/// `xcrun` on PATH). Fails when there is none or a step fails, with the
/// command and its output.
llvm::Expected<std::string> buildMetallib(llvm::StringRef msl,
                                          const MslOptions &options = {},
                                          llvm::StringRef xcrun = "");

} // namespace fmc::metal

#endif // FMC_LOWERING_METAL_METALLIB_H
