//===- SpecializeKernel.cpp - one template kernel as SPIR-V, for tests ----===//
//
//   fmc-specialize-kernel TEMPLATE WORKGROUP SPEC BYTES OUT.spv [FILE...]
//
// Specializes kernel template TEMPLATE exactly as a family lowering's
// LaunchBuilder::dispatch does (SPEC: comma-separated specialization values,
// a '.' marking an f32; BYTES: the comma-separated sizes of its bindings;
// WORKGROUP: threads in x), lowers the kernel to SPIR-V with the vulkan
// target's lowering, writes it to OUT.spv and prints the entry point's
// name. test/Lowering/GPU/Templates runs the result on a Vulkan device.
// With FILEs, the templates are read from them rather than the copies
// built into the compiler, so a test runs the file it names.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/KernelTemplates.h"
#include "lowering/spirv/SpirvLowering.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

int fail(const llvm::Twine &message) {
  llvm::errs() << "fmc-specialize-kernel: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 6)
    return fail("usage: fmc-specialize-kernel TEMPLATE WORKGROUP SPEC BYTES "
                "OUT.spv [FILE...]");
  llvm::SmallVector<fmc::gpu::SpecValue> spec;
  llvm::SmallVector<llvm::StringRef> fields;
  llvm::StringRef(argv[3]).split(fields, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef field : fields) {
    if (field.contains('.')) {
      double value;
      if (field.getAsDouble(value))
        return fail("bad f32 value '" + field + "'");
      spec.push_back(value);
    } else {
      int64_t value;
      if (field.getAsInteger(10, value))
        return fail("bad integer value '" + field + "'");
      spec.push_back(value);
    }
  }
  llvm::SmallVector<uint64_t> bytes;
  fields.clear();
  llvm::StringRef(argv[4]).split(fields, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef field : fields) {
    uint64_t value;
    if (field.getAsInteger(10, value))
      return fail("bad binding size '" + field + "'");
    bytes.push_back(value);
  }
  uint32_t workgroup = static_cast<uint32_t>(std::atoi(argv[2]));

  mlir::MLIRContext context;
  fmc::gpu::loadKernelDialects(context);
  std::vector<std::string> texts;
  std::vector<fmc::gpu::TemplateSource> sources;
  for (int i = 6; i < argc; ++i) {
    std::ifstream in(argv[i]);
    if (!in)
      return fail(llvm::Twine("cannot read '") + argv[i] + "'");
    texts.emplace_back(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }
  for (int i = 6; i < argc; ++i)
    sources.push_back({argv[i], texts[i - 6].c_str()});
  auto templates = sources.empty()
                       ? fmc::gpu::KernelTemplates::load(context)
                       : fmc::gpu::KernelTemplates::load(context, sources);
  if (!templates)
    return fail(llvm::toString(templates.takeError()));
  auto module = fmc::gpu::createKernelsModule(context);
  auto kernels = fmc::gpu::kernelsOf(*module);
  llvm::Expected<std::string> name = (*templates)->specialize(
      argv[1], spec, bytes, {workgroup, 1, 1}, kernels);
  if (!name)
    return fail(llvm::toString(name.takeError()));
  llvm::Expected<std::vector<uint32_t>> words =
      fmc::spirv::lowerToSpirv(*module, fmc::spirv::SpirvOptions());
  if (!words)
    return fail(llvm::toString(words.takeError()));
  std::ofstream out(argv[5], std::ios::binary);
  out.write(reinterpret_cast<const char *>(words->data()),
            static_cast<std::streamsize>(words->size() * 4));
  if (!out)
    return fail(llvm::Twine("cannot write ") + argv[5]);
  llvm::outs() << *name << "\n";
  return 0;
}
