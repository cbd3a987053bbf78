//===- SpirvModule.h - what a SPIR-V module needs of a device -------------===//
//
// A compute pipeline whose module declares a capability the device lacks,
// or names an entry point the module does not have, fails with a bare
// VK_ERROR_* or, worse, is undefined behaviour. So the backend reads the
// module's OpCapability and OpEntryPoint instructions first and names what
// is missing ("shaderFloat16 (for capability Float16)"). Kept free of
// Vulkan calls so it is testable without a device.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_VULKAN_SPIRVMODULE_H
#define FMC_RUNTIME_VULKAN_SPIRVMODULE_H

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fmc::vulkan {

/// The device features and subgroup operations fmc's kernels may use; the
/// backend fills it from vkGetPhysicalDeviceFeatures2 and the subgroup
/// properties.
struct DeviceFeatures {
  bool shaderFloat16 = false;
  bool shaderFloat64 = false;
  bool shaderInt8 = false;
  bool shaderInt16 = false;
  bool shaderInt64 = false;
  bool storageBuffer8BitAccess = false;
  bool uniformAndStorageBuffer8BitAccess = false;
  bool storageBuffer16BitAccess = false;
  bool uniformAndStorageBuffer16BitAccess = false;
  bool variablePointers = false;
  bool variablePointersStorageBuffer = false;
  bool vulkanMemoryModel = false;
  bool vulkanMemoryModelDeviceScope = false;
  /// VkSubgroupFeatureFlags supported in compute shaders.
  uint32_t subgroupOperations = 0;
};

struct SpirvModuleInfo {
  /// OpCapability operands (SPIR-V enumerant values).
  std::vector<uint32_t> capabilities;
  /// Names of the GLCompute entry points.
  std::vector<std::string> computeEntryPoints;
  /// The largest DescriptorSet decoration and one past the largest Binding:
  /// the backend's pipeline layouts have set 0 only, with as many bindings
  /// as an entry point takes, and a shader resource outside them is
  /// undefined behaviour (lavapipe crashes at pipeline creation).
  uint32_t maxDescriptorSet = 0;
  uint32_t bindingCount = 0;
};

/// Runs SPIRV-Tools' validator (Vulkan 1.1 rules, as the compiler does on
/// every module it emits) over `module`: drivers assume valid SPIR-V and
/// crash on a single corrupted word. DataLoss naming the first problem.
absl::Status validateSpirv(absl::Span<const uint32_t> module);

/// Reads `module`'s capabilities and entry points. Fails when the module is
/// not a header and a sequence of well-formed instructions.
absl::StatusOr<SpirvModuleInfo> parseSpirv(absl::Span<const uint32_t> module);

/// OK when `features` covers every capability in `capabilities`; otherwise
/// FailedPrecondition naming `device`, the missing features and the
/// capabilities that need them. Capabilities not listed here are left to
/// the driver (pipeline creation reports them).
absl::Status checkCapabilities(absl::Span<const uint32_t> capabilities,
                               const DeviceFeatures &features,
                               const std::string &device);

} // namespace fmc::vulkan

#endif // FMC_RUNTIME_VULKAN_SPIRVMODULE_H
