//===- MslTranslation.cpp - SPIR-V kernels to one MSL source --------------===//
//
// Per entry point: cut it out of the module (SpirvEntryPoints.h), check its
// interface against the EntryPoint the dispatches rely on, translate it with
// SPIRV-Cross's MSL backend, mark its workgroup size; then merge the units
// into one source (MslMerge.h).
//
//===----------------------------------------------------------------------===//

#include "lowering/metal/MslTranslation.h"
#include "lowering/metal/MslMerge.h"
#include "lowering/metal/SpirvEntryPoints.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"

#include <spirv_cross_c.h>

#include <algorithm>
#include <array>
#include <map>

namespace fmc::metal {

namespace {

/// Metal's limit on threads per threadgroup (every Apple GPU family).
constexpr uint64_t kMaxThreadsPerThreadgroup = 1024;

llvm::Error mslError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "MSL: " + message);
}

/// An spvc_context; the parsed IR and compilers made from it die with it.
class CrossContext {
public:
  CrossContext() {
    if (spvc_context_create(&context) != SPVC_SUCCESS)
      context = nullptr;
  }
  ~CrossContext() {
    if (context)
      spvc_context_destroy(context);
  }
  CrossContext(const CrossContext &) = delete;
  CrossContext &operator=(const CrossContext &) = delete;

  spvc_context get() const { return context; }

  /// `what` failed in SPIRV-Cross, with SPIRV-Cross's own message.
  llvm::Error error(const llvm::Twine &what) const {
    const char *last = context ? spvc_context_get_last_error_string(context)
                               : "cannot create a SPIRV-Cross context";
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "SPIRV-Cross: " + what + ": " +
                                       (last && *last ? last : "(no message)"));
  }

private:
  spvc_context context = nullptr;
};

/// One entry point, cut out of the module, ready for its MSL translation.
struct EntryCompiler {
  spvc_compiler compiler = nullptr;
  std::array<uint32_t, 3> localSize = {0, 0, 0};
  /// Descriptor binding -> the SPIR-V variable bound there.
  std::map<uint32_t, spvc_variable_id> buffers;
};

const char *resourceKind(spvc_resource_type type) {
  switch (type) {
  case SPVC_RESOURCE_TYPE_UNIFORM_BUFFER:
    return "uniform buffer";
  case SPVC_RESOURCE_TYPE_PUSH_CONSTANT:
    return "push constant block";
  case SPVC_RESOURCE_TYPE_STORAGE_IMAGE:
  case SPVC_RESOURCE_TYPE_SAMPLED_IMAGE:
  case SPVC_RESOURCE_TYPE_SEPARATE_IMAGE:
    return "image";
  case SPVC_RESOURCE_TYPE_SEPARATE_SAMPLERS:
    return "sampler";
  case SPVC_RESOURCE_TYPE_ATOMIC_COUNTER:
    return "atomic counter";
  case SPVC_RESOURCE_TYPE_SUBPASS_INPUT:
    return "subpass input";
  case SPVC_RESOURCE_TYPE_ACCELERATION_STRUCTURE:
    return "acceleration structure";
  default:
    return "resource";
  }
}

/// A reflected resource as messages name it.
std::string resourceName(const spvc_reflected_resource &resource) {
  if (resource.name && *resource.name)
    return "'" + std::string(resource.name) + "'";
  return "%" + std::to_string(resource.id);
}

/// Cuts entry point `name` out of `words` and opens an MSL compiler on it,
/// with its LocalSize and storage buffers read back.
llvm::Expected<EntryCompiler> openEntry(CrossContext &context,
                                        const SpirvModule &spirv,
                                        llvm::StringRef name) {
  llvm::Expected<std::vector<uint32_t>> module =
      spirv.extractEntryPoint(name);
  if (!module)
    return module.takeError();
  spvc_parsed_ir ir = nullptr;
  if (spvc_context_parse_spirv(context.get(), module->data(), module->size(),
                               &ir) != SPVC_SUCCESS)
    return context.error("cannot parse entry point '" + name + "'");
  EntryCompiler entry;
  if (spvc_context_create_compiler(context.get(), SPVC_BACKEND_MSL, ir,
                                   SPVC_CAPTURE_MODE_TAKE_OWNERSHIP,
                                   &entry.compiler) != SPVC_SUCCESS)
    return context.error("cannot create an MSL compiler");
  std::string entryName = name.str();
  if (spvc_compiler_set_entry_point(entry.compiler, entryName.c_str(),
                                    SpvExecutionModelGLCompute) !=
      SPVC_SUCCESS)
    return context.error("cannot select entry point '" + name + "'");

  const SpvExecutionMode *modes = nullptr;
  size_t modeCount = 0;
  if (spvc_compiler_get_execution_modes(entry.compiler, &modes, &modeCount) !=
      SPVC_SUCCESS)
    return context.error("cannot read the execution modes of '" + name + "'");
  if (std::find(modes, modes + modeCount, SpvExecutionModeLocalSize) ==
      modes + modeCount)
    return mslError("entry point '" + name +
                    "' has no LocalSize execution mode (a workgroup size "
                    "given by specialization constants is not supported)");
  for (unsigned i = 0; i < 3; ++i)
    entry.localSize[i] = spvc_compiler_get_execution_mode_argument_by_index(
        entry.compiler, SpvExecutionModeLocalSize, i);

  spvc_resources resources = nullptr;
  if (spvc_compiler_create_shader_resources(entry.compiler, &resources) !=
      SPVC_SUCCESS)
    return context.error("cannot reflect the resources of '" + name + "'");
  for (int t = SPVC_RESOURCE_TYPE_UNIFORM_BUFFER;
       t <= SPVC_RESOURCE_TYPE_ACCELERATION_STRUCTURE; ++t) {
    auto type = static_cast<spvc_resource_type>(t);
    const spvc_reflected_resource *list = nullptr;
    size_t count = 0;
    if (spvc_resources_get_resource_list_for_type(resources, type, &list,
                                                  &count) != SPVC_SUCCESS)
      return context.error("cannot reflect the resources of '" + name + "'");
    if (count == 0)
      continue;
    if (type != SPVC_RESOURCE_TYPE_STORAGE_BUFFER)
      return mslError("entry point '" + name + "' uses a " +
                      resourceKind(type) + " (" + resourceName(list[0]) +
                      "); fmc kernels take storage buffers only");
    for (size_t i = 0; i < count; ++i) {
      unsigned set = spvc_compiler_get_decoration(
          entry.compiler, list[i].id, SpvDecorationDescriptorSet);
      unsigned binding = spvc_compiler_get_decoration(
          entry.compiler, list[i].id, SpvDecorationBinding);
      if (set != 0)
        return mslError("entry point '" + name + "' binds buffer '" +
                        list[i].name + "' in descriptor set " +
                        llvm::Twine(set) + "; fmc kernels use set 0 only");
      if (!entry.buffers.emplace(binding, list[i].id).second)
        return mslError("entry point '" + name +
                        "' binds two buffers at binding " +
                        llvm::Twine(binding) +
                        "; a Metal buffer index holds one argument");
    }
  }
  return entry;
}

/// Marks the kernel function `name` in `source` with its workgroup size.
llvm::Error annotateKernel(std::string &source, const gpu::EntryPoint &ep) {
  std::string signature = "kernel void " + ep.name + "(";
  size_t at = source.find(signature);
  if (at == std::string::npos || (at > 0 && source[at - 1] != '\n') ||
      source.find(signature, at + 1) != std::string::npos)
    return mslError("SPIRV-Cross's translation of '" + ep.name +
                    "' has no single kernel function of that name");
  uint64_t threads = uint64_t(ep.workgroupSize[0]) * ep.workgroupSize[1] *
                     ep.workgroupSize[2];
  source.insert(at, "[[max_total_threads_per_threadgroup(" +
                        std::to_string(threads) + ")]] ");
  return llvm::Error::success();
}

std::string sizeText(const std::array<uint32_t, 3> &size) {
  return std::to_string(size[0]) + "x" + std::to_string(size[1]) + "x" +
         std::to_string(size[2]);
}

/// The MSL translation unit of one entry point.
llvm::Expected<std::string> translateEntry(CrossContext &context,
                                           const SpirvModule &spirv,
                                           const gpu::EntryPoint &ep,
                                           const MslOptions &options) {
  llvm::Expected<EntryCompiler> entry = openEntry(context, spirv, ep.name);
  if (!entry)
    return entry.takeError();
  if (entry->localSize != ep.workgroupSize)
    return mslError("entry point '" + ep.name + "' has LocalSize " +
                    sizeText(entry->localSize) +
                    " in SPIR-V but its dispatches use workgroups of " +
                    sizeText(ep.workgroupSize));
  for (const auto &[binding, variable] : entry->buffers) {
    (void)variable;
    if (binding >= ep.bindings)
      return mslError("entry point '" + ep.name + "' uses binding " +
                      llvm::Twine(binding) + " but its dispatches bind " +
                      llvm::Twine(ep.bindings) + " buffers");
    // Binding i is [[buffer(i)]]: the index the runtime's setBuffer uses.
    spvc_msl_resource_binding msl;
    spvc_msl_resource_binding_init(&msl);
    msl.stage = SpvExecutionModelGLCompute;
    msl.desc_set = 0;
    msl.binding = binding;
    msl.msl_buffer = binding;
    if (spvc_compiler_msl_add_resource_binding(entry->compiler, &msl) !=
        SPVC_SUCCESS)
      return context.error("cannot map binding " + llvm::Twine(binding) +
                           " of '" + ep.name + "'");
  }

  spvc_compiler_options cross = nullptr;
  if (spvc_compiler_create_compiler_options(entry->compiler, &cross) !=
      SPVC_SUCCESS)
    return context.error("cannot create MSL options");
  spvc_compiler_options_set_uint(
      cross, SPVC_COMPILER_OPTION_MSL_VERSION,
      SPVC_MAKE_MSL_VERSION(options.major, options.minor, 0));
  spvc_compiler_options_set_uint(cross, SPVC_COMPILER_OPTION_MSL_PLATFORM,
                                 options.platform == MslPlatform::IOS
                                     ? SPVC_MSL_PLATFORM_IOS
                                     : SPVC_MSL_PLATFORM_MACOS);
  if (options.platform == MslPlatform::IOS)
    spvc_compiler_options_set_bool(
        cross, SPVC_COMPILER_OPTION_MSL_IOS_USE_SIMDGROUP_FUNCTIONS,
        SPVC_TRUE);
  if (spvc_compiler_install_compiler_options(entry->compiler, cross) !=
      SPVC_SUCCESS)
    return context.error("cannot set MSL options");

  const char *source = nullptr;
  if (spvc_compiler_compile(entry->compiler, &source) != SPVC_SUCCESS)
    return context.error("cannot translate entry point '" + ep.name +
                         "' to MSL");
  // SPIRV-Cross renames entry points MSL reserves ("main", "kernel", ...);
  // the runtime looks kernels up by their EntryPoint name.
  const char *mslName = spvc_compiler_get_cleansed_entry_point_name(
      entry->compiler, ep.name.c_str(), SpvExecutionModelGLCompute);
  if (!mslName || ep.name != mslName)
    return mslError("entry point '" + ep.name + "' is called '" +
                    (mslName ? mslName : "?") +
                    "' in MSL (a reserved name); rename the kernel");
  std::string text = source;
  if (llvm::Error e = annotateKernel(text, ep))
    return std::move(e);
  return text;
}

} // namespace

llvm::Expected<std::string>
translateSpirvToMsl(llvm::ArrayRef<uint32_t> spirvWords,
                    llvm::ArrayRef<gpu::EntryPoint> entryPoints,
                    const MslOptions &options) {
  if (entryPoints.empty())
    return mslError("no entry points to translate");
  llvm::StringSet<> names;
  for (const gpu::EntryPoint &ep : entryPoints) {
    if (!names.insert(ep.name).second)
      return mslError("entry point '" + ep.name + "' is listed twice");
    uint64_t threads = uint64_t(ep.workgroupSize[0]) * ep.workgroupSize[1] *
                       ep.workgroupSize[2];
    if (threads == 0 || threads > kMaxThreadsPerThreadgroup)
      return mslError("entry point '" + ep.name + "' has workgroups of " +
                      sizeText(ep.workgroupSize) + " = " +
                      llvm::Twine(threads) +
                      " threads; Metal runs 1 to 1024 per threadgroup");
  }
  if (llvm::Error e = validateSpirv(spirvWords))
    return std::move(e);
  llvm::Expected<SpirvModule> spirv = SpirvModule::parse(spirvWords);
  if (!spirv)
    return spirv.takeError();

  CrossContext context;
  if (!context.get())
    return context.error("setup");
  std::vector<MslUnit> units;
  for (const gpu::EntryPoint &ep : entryPoints) {
    llvm::Expected<std::string> unit =
        translateEntry(context, *spirv, ep, options);
    if (!unit)
      return unit.takeError();
    units.push_back({ep.name, std::move(*unit)});
    // The unit's IR and compiler are no longer needed.
    spvc_context_release_allocations(context.get());
  }
  return mergeMslUnits(units);
}

llvm::Expected<std::vector<gpu::EntryPoint>>
readSpirvEntryPoints(llvm::ArrayRef<uint32_t> spirvWords) {
  if (llvm::Error e = validateSpirv(spirvWords))
    return std::move(e);
  llvm::Expected<SpirvModule> spirv = SpirvModule::parse(spirvWords);
  if (!spirv)
    return spirv.takeError();
  CrossContext context;
  if (!context.get())
    return context.error("setup");
  std::vector<gpu::EntryPoint> result;
  for (const std::string &name : spirv->computeEntryPoints()) {
    llvm::Expected<EntryCompiler> entry = openEntry(context, *spirv, name);
    if (!entry)
      return entry.takeError();
    gpu::EntryPoint ep;
    ep.name = name;
    ep.workgroupSize = entry->localSize;
    ep.bindings = entry->buffers.empty() ? 0 : entry->buffers.rbegin()->first + 1;
    result.push_back(std::move(ep));
    spvc_context_release_allocations(context.get());
  }
  return result;
}

} // namespace fmc::metal
