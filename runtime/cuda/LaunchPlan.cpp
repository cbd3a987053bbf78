//===- LaunchPlan.cpp - dispatch lists checked and flattened --------------===//

#include "runtime/cuda/LaunchPlan.h"

#include "absl/strings/str_cat.h"

#include <cstring>

namespace fmc::cuda {

namespace {

absl::Status corrupt(const std::string &message) {
  return absl::DataLossError(
      absl::StrCat("corrupt artifact: cuda executable: ", message));
}

/// A 1- to 3-entry vector padded with ones; false when empty, longer or
/// holding a zero.
bool dims(const flatbuffers::Vector<uint32_t> *v,
          std::array<uint32_t, 3> &out) {
  if (!v || v->size() == 0 || v->size() > 3)
    return false;
  out = {1, 1, 1};
  for (uint32_t i = 0; i < v->size(); ++i) {
    if (v->Get(i) == 0)
      return false;
    out[i] = v->Get(i);
  }
  return true;
}

std::string dimsText(const std::array<uint32_t, 3> &d) {
  return absl::StrCat(d[0], "x", d[1], "x", d[2]);
}

} // namespace

absl::StatusOr<LaunchPlan> planLaunches(const schema::Artifact &artifact,
                                        const schema::Executable &exe,
                                        const schema::Program &program,
                                        const schema::DispatchList *list,
                                        const std::string &programName) {
  if (!list || !list->dispatches())
    return corrupt(absl::StrCat("no ", programName, " dispatch list"));
  const auto *entries = exe.entry_points();
  uint32_t entryCount = entries ? entries->size() : 0;
  // Limits every CUDA device since compute capability 3.0 has.
  constexpr uint64_t kMaxThreads = 1024;
  const std::array<uint32_t, 3> kMaxBlock = {1024, 1024, 64};
  const std::array<uint32_t, 3> kMaxGrid = {2147483647u, 65535, 65535};
  for (uint32_t e = 0; e < entryCount; ++e) {
    const schema::EntryPoint *entry = entries->Get(e);
    std::array<uint32_t, 3> block;
    if (!entry->name() || entry->name()->size() == 0)
      return corrupt(absl::StrCat("entry point ", e, " has no name"));
    if (!dims(entry->workgroup_size(), block))
      return corrupt(absl::StrCat("entry point '", entry->name()->str(),
                                  "' has no valid workgroup size"));
    uint64_t threads = uint64_t{block[0]} * block[1] * block[2];
    if (threads > kMaxThreads || block[0] > kMaxBlock[0] ||
        block[1] > kMaxBlock[1] || block[2] > kMaxBlock[2])
      return corrupt(absl::StrCat("entry point '", entry->name()->str(),
                                  "' has workgroup size ", dimsText(block),
                                  ", more than a CUDA block holds"));
  }

  const auto *tensors = artifact.tensors();
  const auto *caches = artifact.kv_caches();
  LaunchPlan plan;
  plan.scratchBytes = list->scratch_bytes();
  for (uint32_t d = 0; d < list->dispatches()->size(); ++d) {
    const schema::Dispatch *dispatch = list->dispatches()->Get(d);
    std::string where = absl::StrCat(programName, " dispatch ", d);
    if (dispatch->entry() >= entryCount)
      return corrupt(absl::StrCat(where, " names entry point ",
                                  dispatch->entry(), " of ", entryCount));
    const schema::EntryPoint *entry = entries->Get(dispatch->entry());
    absl::StrAppend(&where, " ('", entry->name()->str(), "')");
    Launch launch;
    launch.entry = dispatch->entry();
    launch.kernel = dispatch->kernel();
    dims(entry->workgroup_size(), launch.block);
    if (!dims(dispatch->grid(), launch.grid))
      return corrupt(absl::StrCat(where, " has no valid grid"));
    for (int i = 0; i < 3; ++i)
      if (launch.grid[i] > kMaxGrid[i])
        return corrupt(absl::StrCat(where, " has grid ",
                                    dimsText(launch.grid),
                                    ", more than a CUDA launch allows"));
    if (program.kernels() && dispatch->kernel() >= program.kernels()->size())
      return corrupt(absl::StrCat(where, " names kernel ", dispatch->kernel(),
                                  " of ", program.kernels()->size()));
    uint32_t count = dispatch->bindings() ? dispatch->bindings()->size() : 0;
    if (count != entry->bindings())
      return corrupt(absl::StrCat(where, " has ", count,
                                  " bindings, its entry point takes ",
                                  entry->bindings()));
    launch.firstParam = static_cast<uint32_t>(plan.params.size());
    launch.params = count;
    for (uint32_t b = 0; b < count; ++b) {
      const schema::Binding *binding = dispatch->bindings()->Get(b);
      std::string at = absl::StrCat(where, " binding ", b);
      uint64_t offset = binding->offset(), bytes = binding->bytes();
      if (offset % 16 != 0)
        return corrupt(absl::StrCat(at, " has offset ", offset,
                                    ", not a multiple of 16"));
      ParamRef ref;
      ref.memory = binding->memory();
      uint64_t size = 0;
      std::string memory;
      switch (binding->memory()) {
      case schema::BindingMemory::Arena:
        size = program.arena_bytes();
        memory = absl::StrCat("the ", programName, " arena");
        break;
      case schema::BindingMemory::Weights: {
        if (!tensors || binding->index() >= tensors->size())
          return corrupt(absl::StrCat(at, " names tensor ", binding->index(),
                                      " of ",
                                      tensors ? tensors->size() : 0));
        const schema::Tensor *t = tensors->Get(binding->index());
        size = t->bytes();
        memory = absl::StrCat("tensor '", t->name() ? t->name()->str() : "",
                              "'");
        offset += t->offset();
        ref.index = binding->index();
        break;
      }
      case schema::BindingMemory::Caches: {
        if (!caches || binding->index() >= caches->size())
          return corrupt(absl::StrCat(at, " names KV cache ",
                                      binding->index(), " of ",
                                      caches ? caches->size() : 0));
        const schema::KVCache *c = caches->Get(binding->index());
        size = c->bytes();
        memory = absl::StrCat("KV cache '", c->name() ? c->name()->str() : "",
                              "'");
        ref.index = binding->index();
        break;
      }
      case schema::BindingMemory::Scratch:
        size = list->scratch_bytes();
        memory = absl::StrCat("the ", programName, " scratch");
        break;
      case schema::BindingMemory::Run:
        size = 16;
        memory = "the run record";
        break;
      default:
        return corrupt(absl::StrCat(at, " has unknown memory ",
                                    static_cast<int>(binding->memory())));
      }
      if (binding->offset() > size || bytes > size - binding->offset())
        return corrupt(absl::StrCat(at, " (", bytes, " bytes at ",
                                    binding->offset(), ") lies outside ",
                                    memory, " of ", size, " bytes"));
      ref.offset = offset;
      plan.params.push_back(ref);
    }
    plan.launches.push_back(launch);
  }
  return plan;
}

std::vector<uint64_t> resolveParams(const LaunchPlan &plan,
                                    const DeviceBases &bases) {
  std::vector<uint64_t> values;
  values.reserve(plan.params.size());
  for (const ParamRef &p : plan.params) {
    uint64_t base = 0;
    switch (p.memory) {
    case schema::BindingMemory::Arena:
      base = bases.arena;
      break;
    case schema::BindingMemory::Weights:
      base = bases.weights;
      break;
    case schema::BindingMemory::Caches:
      base = bases.caches.at(p.index);
      break;
    case schema::BindingMemory::Scratch:
      base = bases.scratch;
      break;
    case schema::BindingMemory::Run:
      base = bases.run;
      break;
    }
    values.push_back(base + p.offset);
  }
  return values;
}

bool useGraph(const LaunchPlan &plan, bool profiling, const char *graphsEnv) {
  if (profiling || plan.launches.empty())
    return false;
  return !(graphsEnv && std::strcmp(graphsEnv, "0") == 0);
}

bool hasLastRow(const schema::Program &program) {
  if (!program.kernels())
    return false;
  for (const schema::Kernel *k : *program.kernels())
    if (k->spec_type() == schema::KernelSpec::LastRowSpec)
      return true;
  return false;
}

} // namespace fmc::cuda
