//===- LaunchPlan.cpp - dispatch lists checked and flattened --------------===//

#include "runtime/cuda/LaunchPlan.h"

#include "runtime/GpuDispatchPlan.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>

namespace fmc::cuda {

namespace {

absl::Status corrupt(const std::string &message) {
  return absl::DataLossError(
      absl::StrCat("corrupt artifact: cuda executable: ", message));
}

} // namespace

absl::StatusOr<LaunchPlan> planLaunches(const schema::Artifact &artifact,
                                        const schema::Executable &exe,
                                        const schema::Program &program,
                                        const schema::DispatchList *list,
                                        const std::string &programName,
                                        int64_t context) {
  // Limits every CUDA device since compute capability 3.0 has.
  GpuLimits limits;
  limits.api = "CUDA";
  limits.collectives = true;
  absl::StatusOr<GpuDispatchPlan> flat =
      planGpuDispatches(artifact, exe, list, programName, limits, context);
  if (!flat.ok())
    return flat.status();
  LaunchPlan plan;
  plan.scratchBytes = flat->scratchBytes;
  for (const GpuDispatch &dispatch : flat->dispatches) {
    Launch launch;
    launch.collective = dispatch.collective;
    launch.scale = dispatch.scale;
    launch.entry = dispatch.entry;
    launch.kernel = dispatch.kernel;
    launch.grid = dispatch.grid;
    launch.block = dispatch.workgroup;
    launch.firstParam = dispatch.firstBinding;
    launch.params = dispatch.bindings;
    plan.launches.push_back(launch);
  }
  for (const GpuBindingRef &binding : flat->bindings)
    plan.params.push_back(
        {binding.memory, binding.index, binding.offset, binding.bytes});
  return plan;
}

namespace {

/// What the PTX says about one .entry.
struct PtxEntry {
  int params = 0;
  int pointerParams = 0;
  std::array<uint64_t, 3> reqntid = {0, 0, 0}, maxntid = {0, 0, 0};
};

/// `text` without // and /* */ comments.
std::string stripComments(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "//") == 0) {
      i = text.find('\n', i);
      if (i == std::string::npos)
        break;
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 2;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

bool isIdentifier(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         c == '.';
}

/// Reads "a, b, c" after a .reqntid / .maxntid directive.
std::array<uint64_t, 3> readDims(const std::string &text, size_t at) {
  std::array<uint64_t, 3> dims = {1, 1, 1};
  for (int i = 0; i < 3; ++i) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t'))
      ++at;
    if (at >= text.size() ||
        !std::isdigit(static_cast<unsigned char>(text[at])))
      break;
    dims[i] = std::strtoull(text.c_str() + at, nullptr, 10);
    while (at < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[at])))
      ++at;
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t'))
      ++at;
    if (at >= text.size() || text[at] != ',')
      break;
    ++at;
  }
  return dims;
}

std::map<std::string, PtxEntry> ptxEntries(const std::string &ptx) {
  std::map<std::string, PtxEntry> entries;
  std::string text = stripComments(ptx);
  for (size_t at = text.find(".entry"); at != std::string::npos;
       at = text.find(".entry", at + 6)) {
    size_t name = at + 6;
    if (name >= text.size() ||
        !std::isspace(static_cast<unsigned char>(text[name])))
      continue;
    while (name < text.size() &&
           std::isspace(static_cast<unsigned char>(text[name])))
      ++name;
    size_t end = name;
    while (end < text.size() && isIdentifier(text[end]))
      ++end;
    size_t open = text.find_first_not_of(" \t\r\n", end);
    PtxEntry entry;
    size_t body = text.find('{', end);
    if (open != std::string::npos && text[open] == '(') {
      size_t close = text.find(')', open);
      if (close == std::string::npos)
        break;
      std::string params = text.substr(open + 1, close - open - 1);
      size_t start = 0;
      while (start < params.size()) {
        size_t comma = params.find(',', start);
        std::string param =
            params.substr(start, comma == std::string::npos ? std::string::npos
                                                            : comma - start);
        if (param.find(".param") != std::string::npos) {
          ++entry.params;
          if (param.find(".u64") != std::string::npos ||
              param.find(".b64") != std::string::npos)
            ++entry.pointerParams;
        }
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
      body = text.find('{', close);
      std::string directives = text.substr(
          close, body == std::string::npos ? std::string::npos : body - close);
      if (size_t r = directives.find(".reqntid"); r != std::string::npos)
        entry.reqntid = readDims(directives, r + 8);
      if (size_t m = directives.find(".maxntid"); m != std::string::npos)
        entry.maxntid = readDims(directives, m + 8);
    }
    entries[text.substr(name, end - name)] = entry;
  }
  return entries;
}

/// The first function the PTX declares `.extern` (calls but does not
/// define), or "".
std::string externFunction(const std::string &ptx) {
  std::string text = stripComments(ptx);
  for (size_t at = text.find(".extern"); at != std::string::npos;
       at = text.find(".extern", at + 7)) {
    size_t func = text.find_first_not_of(" \t", at + 7);
    if (func == std::string::npos || text.compare(func, 5, ".func") != 0)
      continue;
    // .extern .func (.param .b32 r) name(...): the name precedes '('
    // after an optional return parameter list.
    size_t cursor = text.find_first_not_of(" \t", func + 5);
    if (cursor != std::string::npos && text[cursor] == '(')
      cursor = text.find_first_not_of(" \t\r\n", text.find(')', cursor) + 1);
    size_t end = cursor;
    while (end < text.size() && isIdentifier(text[end]))
      ++end;
    return text.substr(cursor, end - cursor);
  }
  return "";
}

} // namespace

absl::Status checkPtxEntryPoints(const std::string &ptx,
                                 const schema::Executable &exe) {
  // The driver's JIT links nothing: a called function the PTX does not
  // define (a libdevice __nv_* left by the lowering) fails every load.
  if (std::string missing = externFunction(ptx); !missing.empty())
    return corrupt(absl::StrCat("its PTX calls '", missing,
                                "', a function it does not define"));
  std::map<std::string, PtxEntry> entries = ptxEntries(ptx);
  if (!exe.entry_points())
    return absl::OkStatus();
  for (const schema::EntryPoint *e : *exe.entry_points()) {
    std::string name = e->name() ? e->name()->str() : "";
    auto it = entries.find(name);
    if (it == entries.end())
      return corrupt(absl::StrCat("entry point '", name,
                                  "' is not a kernel (.entry) of its PTX"));
    const PtxEntry &p = it->second;
    if (p.params != static_cast<int>(e->bindings()) ||
        p.pointerParams != p.params)
      return corrupt(absl::StrCat(
          "kernel '", name, "' of the PTX takes ", p.params, " parameters (",
          p.pointerParams, " of 64 bits), its entry point ", e->bindings(),
          " bindings (one pointer each)"));
    std::array<uint32_t, 3> block;
    if (!gpuDims(e->workgroup_size(), block))
      continue; // planLaunches reports it.
    if (p.reqntid[0] && (p.reqntid[0] != block[0] || p.reqntid[1] != block[1] ||
                         p.reqntid[2] != block[2]))
      return corrupt(absl::StrCat("kernel '", name, "' of the PTX requires ",
                                  p.reqntid[0], "x", p.reqntid[1], "x",
                                  p.reqntid[2],
                                  " threads, its entry point's "
                                  "workgroup is ",
                                  gpuDimsText(block)));
    if (p.maxntid[0] && uint64_t{block[0]} * block[1] * block[2] >
                            p.maxntid[0] * p.maxntid[1] * p.maxntid[2])
      return corrupt(absl::StrCat("kernel '", name,
                                  "' of the PTX allows at "
                                  "most ",
                                  p.maxntid[0], "x", p.maxntid[1], "x",
                                  p.maxntid[2],
                                  " threads, its entry "
                                  "point's workgroup is ",
                                  gpuDimsText(block)));
  }
  return absl::OkStatus();
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

bool LaunchPlan::hasCollectives() const {
  return std::any_of(launches.begin(), launches.end(),
                     [](const Launch &l) { return l.collective; });
}

bool useGraph(const LaunchPlan &plan, bool profiling, const char *graphsEnv) {
  if (profiling || plan.launches.empty() || plan.hasCollectives())
    return false;
  return !(graphsEnv && std::strcmp(graphsEnv, "0") == 0);
}

namespace {

/// "sm_90" / "sm_90a" -> 90; -1 when not of that form.
int archNumber(const std::string &arch) {
  if (arch.size() < 5 || arch.compare(0, 3, "sm_") != 0)
    return -1;
  int value = 0;
  size_t i = 3;
  for (; i < arch.size() && std::isdigit(static_cast<unsigned char>(arch[i]));
       ++i)
    value = value * 10 + (arch[i] - '0');
  return i > 3 ? value : -1;
}

} // namespace

std::vector<size_t> loadOrder(const std::vector<CodeImage> &images, int major,
                              int minor) {
  int device = major * 10 + minor;
  // Rank: 0 exact cubin, 1 same-major earlier cubin, 2 PTX (newest first),
  // 3 the rest.
  std::vector<std::pair<std::pair<int, int>, size_t>> ranked;
  for (size_t i = 0; i < images.size(); ++i) {
    const CodeImage &image = images[i];
    int arch = archNumber(image.arch);
    std::pair<int, int> rank = {3, 0};
    if (image.format == "cubin" && arch == device)
      rank = {0, 0};
    else if (image.format == "cubin" && arch > 0 && arch / 10 == major &&
             arch < device)
      rank = {1, -arch};
    else if (image.format == "ptx" &&
             (image.arch.empty() || (arch > 0 && arch <= device)))
      rank = {2, -std::max(arch, 0)};
    ranked.push_back({rank, i});
  }
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const auto &a, const auto &b) { return a.first < b.first; });
  std::vector<size_t> order;
  for (const auto &r : ranked)
    order.push_back(r.second);
  return order;
}

bool useProgrammaticLaunch(bool executableWaits, int deviceMajor,
                           bool driverHasLaunchKernelEx) {
  return executableWaits && deviceMajor >= 9 && driverHasLaunchKernelEx;
}

} // namespace fmc::cuda
