//===- TensorTable.cpp - the tensors a model uses, checked against it -----===//

#include "import/builder/TensorTable.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace fmc::import {

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text;
  raw_string_ostream os(text);
  os << "[";
  interleaveComma(shape, os);
  os << "]";
  return text;
}

TensorTable::TensorTable(const ModelSource &source, StringRef configFile,
                         FirstError &errors)
    : source(source), configFile(configFile.str()), errors(errors) {
  for (const TensorRef &tensor : source.tensors)
    byName.try_emplace(tensor.name, &tensor);
}

const TensorRef *TensorTable::lookup(StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : it->second;
}

const TensorRef *TensorTable::peek(StringRef name) const {
  if (const TensorRef *tensor = lookup(name))
    return tensor;
  auto it = sliceByName.find(name);
  return it == sliceByName.end() ? nullptr : it->second;
}

namespace {
/// "<prefix>.experts.<index>.<proj>.weight", split into its parts.
struct ExpertName {
  StringRef prefix; ///< Up to and including ".experts".
  unsigned index = 0;
  StringRef proj; ///< gate_proj, up_proj or down_proj.
};
} // namespace

static std::optional<ExpertName> parseExpertName(StringRef name) {
  size_t at = name.rfind(".experts.");
  if (at == StringRef::npos || !name.ends_with(".weight"))
    return std::nullopt;
  ExpertName parts;
  parts.prefix = name.take_front(at + strlen(".experts"));
  StringRef rest = name.drop_front(at + strlen(".experts."))
                       .drop_back(strlen(".weight"));
  auto [index, proj] = rest.split('.');
  if (index.getAsInteger(10, parts.index))
    return std::nullopt;
  if (proj != "gate_proj" && proj != "up_proj" && proj != "down_proj")
    return std::nullopt;
  parts.proj = proj;
  return parts;
}

bool TensorTable::has(StringRef name) const {
  if (lookup(name))
    return true;
  std::optional<ExpertName> expert = parseExpertName(name);
  if (!expert)
    return false;
  for (StringRef stacked : {expert->proj, StringRef("gate_up_proj")})
    for (StringRef suffix : {"", ".weight"})
      if (lookup((expert->prefix + "." + stacked + suffix).str()))
        return true;
  return false;
}

const TensorRef *TensorTable::expertSlice(StringRef name) {
  if (const TensorRef *slice = sliceByName.lookup(name))
    return slice;
  std::optional<ExpertName> expert = parseExpertName(name);
  if (!expert)
    return nullptr;

  // [experts, rows, cols] with one expert per outer index; gate_up_proj
  // holds the gate rows, then the up rows, of each expert.
  const TensorRef *stacked = nullptr;
  bool gateUp = false;
  for (StringRef suffix : {"", ".weight"}) {
    if (!stacked)
      stacked = lookup((expert->prefix + "." + expert->proj + suffix).str());
    if (!stacked && expert->proj != "down_proj") {
      stacked = lookup((expert->prefix + ".gate_up_proj" + suffix).str());
      gateUp = stacked != nullptr;
    }
  }
  if (!stacked)
    return nullptr;

  const std::vector<int64_t> &shape = stacked->shape;
  if (shape.size() != 3 || (gateUp && shape[1] % 2 != 0) ||
      stacked->bytes % shape[0] != 0) {
    errors.report(stacked->file,
                  "tensor '" + stacked->name + "' has shape " +
                      shapeString(shape) + ", expected stacked experts [" +
                      "experts, " + (gateUp ? "2 * intermediate" : "rows") +
                      ", cols]");
    return nullptr;
  }
  if (expert->index >= static_cast<uint64_t>(shape[0])) {
    errors.report(stacked->file,
                  "tensor '" + stacked->name + "' stacks " + Twine(shape[0]) +
                      " experts, but " + configFile + " implies expert " +
                      Twine(expert->index) + " exists");
    return nullptr;
  }

  uint64_t perExpert = stacked->bytes / shape[0];
  TensorRef slice = *stacked;
  slice.name = name.str();
  slice.shape = {shape[1], shape[2]};
  slice.offset = stacked->offset + expert->index * perExpert;
  slice.bytes = perExpert;
  if (gateUp) {
    slice.shape[0] /= 2;
    slice.bytes /= 2;
    if (expert->proj == "up_proj")
      slice.offset += slice.bytes;
  }
  used.insert(stacked->name);
  slices.push_back(std::move(slice));
  sliceByName[name] = &slices.back();
  return &slices.back();
}

const TensorRef *TensorTable::use(StringRef name, ArrayRef<Dim> expected) {
  const TensorRef *tensor = lookup(name);
  if (!tensor)
    tensor = expertSlice(name);
  if (!tensor) {
    if (!errors.failed())
      errors.report(source.origin, "missing tensor '" + name + "'");
    return nullptr;
  }
  used.insert(name);

  bool matches = tensor->shape.size() == expected.size();
  for (size_t i = 0; matches && i < expected.size(); ++i)
    matches = tensor->shape[i] == expected[i].size;
  if (matches)
    return tensor;

  std::string want, why;
  raw_string_ostream wantOs(want), whyOs(why);
  wantOs << "[";
  interleaveComma(expected, wantOs, [&](const Dim &dim) { wantOs << dim.size; });
  wantOs << "]";
  interleaveComma(expected, whyOs, [&](const Dim &dim) {
    whyOs << dim.field << " = " << dim.size;
  });
  errors.report(tensor->file, "tensor '" + name + "' has shape " +
                                  shapeString(tensor->shape) + ", but " +
                                  configFile + " implies " + want + " (" +
                                  why + ")");
  return nullptr;
}

void TensorTable::reportUnused(StringRef modelType,
                               ArrayRef<std::string> ignored) {
  for (const TensorRef &tensor : source.tensors) {
    StringRef name = tensor.name;
    if (used.contains(name) || is_contained(ignored, tensor.name) ||
        name.ends_with("rotary_emb.inv_freq"))
      continue;
    errors.report(tensor.file, "tensor '" + name + "' is not used by the " +
                                   modelType + " model that " + configFile +
                                   " describes");
    return;
  }
  // A stacked expert tensor must hold exactly the experts the config names.
  StringMap<unsigned> expertsUsed;
  for (const TensorRef &slice : slices)
    if (std::optional<ExpertName> expert = parseExpertName(slice.name)) {
      unsigned &count = expertsUsed[expert->prefix];
      count = std::max(count, expert->index + 1);
    }
  for (const TensorRef &tensor : source.tensors) {
    if (tensor.shape.size() != 3 || !used.contains(tensor.name))
      continue;
    size_t at = tensor.name.rfind(".experts.");
    if (at == std::string::npos)
      continue;
    unsigned count =
        expertsUsed.lookup(StringRef(tensor.name).take_front(at + 8));
    if (count && count != static_cast<uint64_t>(tensor.shape[0])) {
      errors.report(tensor.file, "tensor '" + tensor.name + "' stacks " +
                                     Twine(tensor.shape[0]) + " experts, but " +
                                     configFile + " implies " + Twine(count));
      return;
    }
  }
}

} // namespace fmc::import
