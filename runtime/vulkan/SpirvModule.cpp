//===- SpirvModule.cpp - SPIR-V capabilities and entry points -------------===//

#include "runtime/vulkan/SpirvModule.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "spirv-tools/libspirv.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace fmc::vulkan {

absl::Status validateSpirv(absl::Span<const uint32_t> module) {
  spvtools::SpirvTools tools(SPV_ENV_VULKAN_1_1);
  std::string first;
  tools.SetMessageConsumer([&](spv_message_level_t, const char *,
                               const spv_position_t &position,
                               const char *message) {
    // SPIRV-Tools appends the offending instruction on further lines; a
    // diagnostic is one line.
    if (first.empty())
      first = absl::StrCat(
          "word ", position.index, ": ",
          std::string(message, std::strcspn(message, "\n")));
  });
  if (!tools.Validate(module.data(), module.size()))
    return absl::DataLossError(absl::StrCat(
        "corrupt artifact: the vulkan executable's SPIR-V fails validation (",
        first.empty() ? "no message" : first, ")"));
  return absl::OkStatus();
}

namespace {

constexpr uint32_t kMagic = 0x07230203u;
constexpr uint32_t kHeaderWords = 5;
constexpr uint32_t kOpEntryPoint = 15, kOpCapability = 17, kOpDecorate = 71;
constexpr uint32_t kDecorationBinding = 33, kDecorationDescriptorSet = 34;
constexpr uint32_t kGLCompute = 5;

// VkSubgroupFeatureFlagBits, spelled out so this file needs no Vulkan
// header.
constexpr uint32_t kSubgroupBasic = 0x1, kSubgroupVote = 0x2,
                   kSubgroupArithmetic = 0x4, kSubgroupBallot = 0x8,
                   kSubgroupShuffle = 0x10, kSubgroupShuffleRelative = 0x20,
                   kSubgroupClustered = 0x40, kSubgroupQuad = 0x80;

struct Requirement {
  uint32_t capability;
  const char *capabilityName;
  const char *featureName;
  bool DeviceFeatures::*feature; // Or null: a subgroup operation.
  uint32_t subgroupOperation;
};

const Requirement kRequirements[] = {
    {9, "Float16", "shaderFloat16", &DeviceFeatures::shaderFloat16, 0},
    {10, "Float64", "shaderFloat64", &DeviceFeatures::shaderFloat64, 0},
    {11, "Int64", "shaderInt64", &DeviceFeatures::shaderInt64, 0},
    {22, "Int16", "shaderInt16", &DeviceFeatures::shaderInt16, 0},
    {39, "Int8", "shaderInt8", &DeviceFeatures::shaderInt8, 0},
    {4433, "StorageBuffer16BitAccess", "storageBuffer16BitAccess",
     &DeviceFeatures::storageBuffer16BitAccess, 0},
    {4434, "UniformAndStorageBuffer16BitAccess",
     "uniformAndStorageBuffer16BitAccess",
     &DeviceFeatures::uniformAndStorageBuffer16BitAccess, 0},
    {4441, "VariablePointersStorageBuffer", "variablePointersStorageBuffer",
     &DeviceFeatures::variablePointersStorageBuffer, 0},
    {4442, "VariablePointers", "variablePointers",
     &DeviceFeatures::variablePointers, 0},
    {4448, "StorageBuffer8BitAccess", "storageBuffer8BitAccess",
     &DeviceFeatures::storageBuffer8BitAccess, 0},
    {4449, "UniformAndStorageBuffer8BitAccess",
     "uniformAndStorageBuffer8BitAccess",
     &DeviceFeatures::uniformAndStorageBuffer8BitAccess, 0},
    {5345, "VulkanMemoryModel", "vulkanMemoryModel",
     &DeviceFeatures::vulkanMemoryModel, 0},
    {5346, "VulkanMemoryModelDeviceScope", "vulkanMemoryModelDeviceScope",
     &DeviceFeatures::vulkanMemoryModelDeviceScope, 0},
    {61, "GroupNonUniform", "subgroup basic operations", nullptr,
     kSubgroupBasic},
    {62, "GroupNonUniformVote", "subgroup vote operations", nullptr,
     kSubgroupVote},
    {63, "GroupNonUniformArithmetic", "subgroup arithmetic operations", nullptr,
     kSubgroupArithmetic},
    {64, "GroupNonUniformBallot", "subgroup ballot operations", nullptr,
     kSubgroupBallot},
    {65, "GroupNonUniformShuffle", "subgroup shuffle operations", nullptr,
     kSubgroupShuffle},
    {66, "GroupNonUniformShuffleRelative",
     "subgroup relative shuffle operations", nullptr, kSubgroupShuffleRelative},
    {67, "GroupNonUniformClustered", "subgroup clustered operations", nullptr,
     kSubgroupClustered},
    {68, "GroupNonUniformQuad", "subgroup quad operations", nullptr,
     kSubgroupQuad},
};

} // namespace

absl::StatusOr<SpirvModuleInfo> parseSpirv(absl::Span<const uint32_t> module) {
  if (module.size() < kHeaderWords || module[0] != kMagic)
    return absl::InvalidArgumentError(
        "the vulkan executable is not a SPIR-V module");
  SpirvModuleInfo info;
  for (size_t at = kHeaderWords; at < module.size();) {
    uint32_t words = module[at] >> 16, opcode = module[at] & 0xffff;
    if (words == 0 || words > module.size() - at)
      return absl::InvalidArgumentError(absl::StrCat(
          "the vulkan executable's SPIR-V instruction at word ", at, " has ",
          words, " words, past the module's end (", module.size(), " words)"));
    if (opcode == kOpCapability && words == 2)
      info.capabilities.push_back(module[at + 1]);
    if (opcode == kOpEntryPoint && words >= 4 && module[at + 1] == kGLCompute) {
      // A nul-terminated UTF-8 literal packed little-endian into words.
      std::string name;
      for (size_t w = at + 3; w < at + words; ++w) {
        bool ended = false;
        for (int byte = 0; byte < 4 && !ended; ++byte) {
          char ch = static_cast<char>((module[w] >> (8 * byte)) & 0xff);
          ended = ch == 0;
          if (!ended)
            name += ch;
        }
        if (ended)
          break;
      }
      info.computeEntryPoints.push_back(name);
    }
    if (opcode == kOpDecorate && words == 4) {
      if (module[at + 2] == kDecorationDescriptorSet)
        info.maxDescriptorSet = std::max(info.maxDescriptorSet, module[at + 3]);
      if (module[at + 2] == kDecorationBinding)
        info.bindingCount = std::max(info.bindingCount, module[at + 3] + 1);
    }
    at += words;
  }
  return info;
}

absl::Status checkCapabilities(absl::Span<const uint32_t> capabilities,
                               const DeviceFeatures &features,
                               const std::string &device) {
  std::vector<std::string> missing;
  for (uint32_t capability : capabilities)
    for (const Requirement &r : kRequirements) {
      if (r.capability != capability)
        continue;
      bool supported =
          r.feature ? features.*(r.feature)
                    : (features.subgroupOperations & r.subgroupOperation) != 0;
      if (!supported)
        missing.push_back(absl::StrCat(r.featureName, " (for capability ",
                                       r.capabilityName, ")"));
    }
  if (missing.empty())
    return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the Vulkan device '", device, "' lacks ", absl::StrJoin(missing, ", "),
      ", which the vulkan executable's kernels need"));
}

} // namespace fmc::vulkan
