//===- SpirvEntryPointsTest.cpp - cutting one kernel out of a module ------===//

#include "lowering/metal/SpirvEntryPoints.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>
#include <spirv-tools/libspirv.hpp>

#include <fstream>
#include <sstream>

namespace {

using fmc::metal::SpirvModule;

/// test/Metal/Inputs/kernels.spvasm, assembled.
std::vector<uint32_t> kernels() {
  std::ifstream in(FMC_METAL_KERNELS_SPVASM);
  std::stringstream text;
  text << in.rdbuf();
  spvtools::SpirvTools tools(SPV_ENV_UNIVERSAL_1_3);
  std::vector<uint32_t> words;
  EXPECT_TRUE(tools.Assemble(text.str(), &words)) << FMC_METAL_KERNELS_SPVASM;
  return words;
}

std::string disassemble(const std::vector<uint32_t> &words) {
  spvtools::SpirvTools tools(SPV_ENV_UNIVERSAL_1_3);
  std::string text;
  EXPECT_TRUE(tools.Disassemble(words, &text));
  return text;
}

size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1))
    ++n;
  return n;
}

TEST(SpirvEntryPoints, ListsTheComputeEntryPoints) {
  llvm::Expected<SpirvModule> module = SpirvModule::parse(kernels());
  ASSERT_TRUE(static_cast<bool>(module)) << llvm::toString(module.takeError());
  EXPECT_EQ(module->computeEntryPoints(),
            (std::vector<std::string>{"row_sum", "scale", "row_max",
                                      "half_copy", "add"}));
}

TEST(SpirvEntryPoints, EachCutIsAValidModuleOfOneKernel) {
  llvm::Expected<SpirvModule> module = SpirvModule::parse(kernels());
  ASSERT_TRUE(static_cast<bool>(module)) << llvm::toString(module.takeError());
  for (const std::string &name : module->computeEntryPoints()) {
    SCOPED_TRACE(name);
    llvm::Expected<std::vector<uint32_t>> cut =
        module->extractEntryPoint(name);
    ASSERT_TRUE(static_cast<bool>(cut)) << llvm::toString(cut.takeError());
    llvm::Error valid = fmc::metal::validateSpirv(*cut);
    EXPECT_FALSE(static_cast<bool>(valid)) << llvm::toString(std::move(valid));
    std::string text = disassemble(*cut);
    EXPECT_EQ(count(text, "OpEntryPoint"), 1u);
    EXPECT_EQ(count(text, "OpFunction "), 1u);
    EXPECT_EQ(count(text, "OpExecutionMode"), 1u);
    EXPECT_NE(text.find("\"" + name + "\""), std::string::npos);
  }
}

TEST(SpirvEntryPoints, KeepsOnlyTheKernelsOwnWorkgroupMemory) {
  llvm::Expected<SpirvModule> module = SpirvModule::parse(kernels());
  ASSERT_TRUE(static_cast<bool>(module)) << llvm::toString(module.takeError());
  auto workgroupVariables = [&](const std::string &name) {
    llvm::Expected<std::vector<uint32_t>> cut =
        module->extractEntryPoint(name);
    EXPECT_TRUE(static_cast<bool>(cut)) << llvm::toString(cut.takeError());
    return cut ? count(disassemble(*cut), "OpVariable %_ptr_Workgroup") : 99;
  };
  // The whole module has two: row_sum's f32 pair and half_copy's f16 row.
  EXPECT_EQ(count(disassemble(kernels()), "OpVariable %_ptr_Workgroup"), 2u);
  EXPECT_EQ(workgroupVariables("row_sum"), 1u);
  EXPECT_EQ(workgroupVariables("scale"), 0u);
  EXPECT_EQ(workgroupVariables("row_max"), 0u);
  EXPECT_EQ(workgroupVariables("half_copy"), 1u);
  EXPECT_EQ(workgroupVariables("add"), 0u);
}

TEST(SpirvEntryPoints, NamesTheEntryPointsWhenOneIsMissing) {
  llvm::Expected<SpirvModule> module = SpirvModule::parse(kernels());
  ASSERT_TRUE(static_cast<bool>(module)) << llvm::toString(module.takeError());
  llvm::Expected<std::vector<uint32_t>> cut =
      module->extractEntryPoint("nope");
  ASSERT_FALSE(static_cast<bool>(cut));
  EXPECT_EQ(llvm::toString(cut.takeError()),
            "SPIR-V: the module has no compute entry point 'nope' (it has: "
            "row_sum, scale, row_max, half_copy, add)");
}

TEST(SpirvEntryPoints, RejectsWhatIsNotSpirv) {
  std::vector<uint32_t> words = {1, 2, 3, 4, 5, 6};
  llvm::Expected<SpirvModule> module = SpirvModule::parse(words);
  ASSERT_FALSE(static_cast<bool>(module));
  EXPECT_NE(llvm::toString(module.takeError()).find("SPIR-V: "),
            std::string::npos);
}

} // namespace
