//===- TargetExecutables.cpp - the GPU targets of one compilation ---------===//

#include "lowering/targets/TargetExecutables.h"

#include "lowering/cuda/PtxLowering.h"
#include "lowering/metal/Metallib.h"
#include "lowering/metal/MslTranslation.h"
#include "lowering/spirv/SpirvLowering.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace fmc::targets {

namespace {

gpu::ExecutableImage imageOf(const gpu::GpuProgram &program,
                             std::string target, std::string format,
                             std::string arch, std::string data) {
  gpu::ExecutableImage image;
  image.target = std::move(target);
  image.format = std::move(format);
  image.arch = std::move(arch);
  image.data = std::move(data);
  image.entryPoints = program.entryPoints;
  image.prefill = program.prefill;
  image.decode = program.decode;
  return image;
}

void report(const TargetOptions &options, const std::string &step) {
  if (options.progress)
    options.progress(step);
}

} // namespace

std::vector<std::string> gpuTargets() { return {"cuda", "vulkan", "metal"}; }

llvm::Expected<std::vector<gpu::ExecutableImage>>
buildExecutables(mlir::ModuleOp planModule,
                 const std::vector<std::string> &targets,
                 const TargetOptions &options) {
  std::vector<gpu::ExecutableImage> images;
  bool wantCuda = llvm::is_contained(targets, "cuda");
  bool wantVulkan = llvm::is_contained(targets, "vulkan");
  bool wantMetal = llvm::is_contained(targets, "metal");
  bool wantSpirv = wantVulkan || wantMetal;
  if (!wantCuda && !wantSpirv)
    return images;

  report(options, "building GPU kernels");
  llvm::Expected<gpu::GpuProgram> program = gpu::buildGpuProgram(planModule);
  if (!program)
    return program.takeError();

  if (wantCuda) {
    std::string ptxas = options.cubins ? cuda::findPtxas() : "";
    for (const std::string &arch : options.cudaArchs) {
      report(options, "lowering to PTX for " + arch);
      cuda::PtxOptions ptxOptions;
      ptxOptions.chip = arch;
      llvm::Expected<std::string> ptx =
          cuda::lowerToPtx(*program->kernels, ptxOptions);
      if (!ptx)
        return ptx.takeError();
      // PTX for a chip with grid dependency control has every kernel wait
      // for its predecessor; so does the cubin assembled from it.
      bool waits = cuda::hasGridDependencyControl(arch);
      if (!ptxas.empty()) {
        report(options, "assembling the cubin for " + arch);
        llvm::Expected<std::string> cubin =
            cuda::assembleCubin(*ptx, arch, ptxas);
        if (!cubin)
          return cubin.takeError();
        images.push_back(
            imageOf(*program, "cuda", "cubin", arch, std::move(*cubin)));
        images.back().programmaticDependentLaunch = waits;
      }
      images.push_back(imageOf(*program, "cuda", "ptx", arch, std::move(*ptx)));
      images.back().programmaticDependentLaunch = waits;
    }
  }
  if (wantSpirv) {
    report(options, "lowering to SPIR-V");
    llvm::Expected<std::vector<uint32_t>> words =
        spirv::lowerToSpirv(*program->kernels, spirv::SpirvOptions());
    if (!words)
      return words.takeError();
    std::string bytes(reinterpret_cast<const char *>(words->data()),
                      words->size() * sizeof(uint32_t));
    if (wantVulkan)
      images.push_back(imageOf(*program, "vulkan", "spirv", "", bytes));
    if (wantMetal) {
      // The Metal kernels are the same SPIR-V, translated (lowering/metal).
      report(options, "translating SPIR-V to MSL");
      llvm::Expected<std::string> msl =
          metal::translateSpirvToMsl(*words, program->entryPoints);
      if (!msl)
        return msl.takeError();
      if (options.metallib) {
        report(options, "building the metallib");
        llvm::Expected<std::string> library =
            metal::buildMetallib(*msl, metal::MslOptions(), options.xcrun);
        if (!library)
          return library.takeError();
        images.push_back(
            imageOf(*program, "metal", "metallib", "", std::move(*library)));
      } else {
        images.push_back(
            imageOf(*program, "metal", "msl", "", std::move(*msl)));
      }
    }
  }
  return images;
}

llvm::Expected<std::vector<std::string>>
dumpExecutables(const std::vector<gpu::ExecutableImage> &executables,
                llvm::StringRef directory) {
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return llvm::createStringError("cannot create '" + directory +
                                   "': " + ec.message());
  std::vector<std::string> written;
  for (const gpu::ExecutableImage &image : executables) {
    llvm::StringRef extension = llvm::StringSwitch<llvm::StringRef>(image.format)
                                    .Case("spirv", "spv")
                                    .Case("msl", "metal")
                                    .Default(image.format);
    std::string name = image.target;
    if (!image.arch.empty())
      name += "." + image.arch;
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, name + "." + extension);
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
    if (ec)
      return llvm::createStringError("cannot write '" + path +
                                     "': " + ec.message());
    out << image.data;
    written.push_back(path.str().str());
  }
  return written;
}

} // namespace fmc::targets
