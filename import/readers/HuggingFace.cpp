//===- HuggingFace.cpp - a Hugging Face model directory -------------------===//
//
// config.json is the config as is; the tensors come from the safetensors
// files: the shards that model.safetensors.index.json's weight_map names when
// the index exists, else every *.safetensors file in the directory.
//
//===----------------------------------------------------------------------===//

#include "import/ModelSource.h"

#include "import/readers/ByteReader.h"
#include "import/readers/Json.h"
#include "import/readers/SafeTensors.h"
#include "import/readers/TensorOrder.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <map>
#include <set>

using namespace llvm;

namespace fmc::import {

static std::string joinPath(StringRef directory, StringRef name) {
  SmallString<256> path(directory);
  sys::path::append(path, name);
  return std::string(path);
}

/// The shard files named by the index, and which tensor each holds.
struct ShardIndex {
  std::set<std::string> shards;
  std::map<std::string, std::string> shardOfTensor;
};

static Expected<ShardIndex> readShardIndex(StringRef indexPath) {
  Expected<json::Value> index = readJsonFile(indexPath);
  if (!index)
    return index.takeError();
  const json::Object *root = index->getAsObject();
  const json::Object *weightMap = root ? root->getObject("weight_map") : nullptr;
  if (!weightMap)
    return fileError(indexPath, "missing object 'weight_map'");
  ShardIndex result;
  for (const auto &[tensor, shard] : *weightMap) {
    std::optional<StringRef> shardName = shard.getAsString();
    if (!shardName)
      return fileError(indexPath, "weight_map: tensor '" + tensor.str() +
                                      "' maps to " + describeJsonKind(shard) +
                                      ", expected a file name");
    // Shards live in the model directory: a path would let an index point
    // anywhere on the machine.
    if (shardName->empty() || sys::path::filename(*shardName) != *shardName ||
        *shardName == "." || *shardName == "..")
      return fileError(indexPath, "weight_map: tensor '" + tensor.str() +
                                      "' maps to '" + *shardName +
                                      "', which is not a file name");
    result.shards.insert(shardName->str());
    result.shardOfTensor[tensor.str()] = shardName->str();
  }
  if (result.shards.empty())
    return fileError(indexPath, "weight_map is empty");
  return result;
}

Expected<ModelSource> readHuggingFace(StringRef directory) {
  if (!sys::fs::is_directory(directory))
    return fileError(directory, sys::fs::exists(directory)
                                    ? "is not a directory"
                                    : "no such file or directory");
  ModelSource source;
  source.origin = directory.str();

  std::string configPath = joinPath(directory, "config.json");
  if (!sys::fs::exists(configPath))
    return fileError(configPath, "no such file: a Hugging Face model directory "
                                 "needs config.json");
  Expected<json::Value> config = readJsonFile(configPath);
  if (!config)
    return config.takeError();
  json::Object *configObject = config->getAsObject();
  if (!configObject)
    return fileError(configPath, "is " + describeJsonKind(*config) +
                                     ", expected an object");
  source.config = std::move(*configObject);

  // The shard files, in a deterministic order.
  std::vector<std::string> shardFiles;
  std::optional<ShardIndex> index;
  std::string indexPath = joinPath(directory, "model.safetensors.index.json");
  if (sys::fs::exists(indexPath)) {
    Expected<ShardIndex> parsed = readShardIndex(indexPath);
    if (!parsed)
      return parsed.takeError();
    index = std::move(*parsed);
    for (const std::string &shard : index->shards) {
      std::string path = joinPath(directory, shard);
      if (!sys::fs::exists(path)) {
        auto it = llvm::find_if(index->shardOfTensor, [&](const auto &entry) {
          return entry.second == shard;
        });
        return fileError(indexPath, "weight_map names shard '" + shard +
                                        "' (for tensor '" + it->first +
                                        "'), which does not exist");
      }
      shardFiles.push_back(path);
    }
  } else {
    std::error_code ec;
    for (sys::fs::directory_iterator it(directory, ec), end; it != end && !ec;
         it.increment(ec))
      if (StringRef(it->path()).ends_with(".safetensors"))
        shardFiles.push_back(it->path());
    if (ec)
      return fileError(directory, "cannot list: " + ec.message());
    if (shardFiles.empty())
      return fileError(directory, "no *.safetensors files and no "
                                  "model.safetensors.index.json");
    llvm::sort(shardFiles);
  }

  StringMap<std::string> fileOfTensor;
  for (const std::string &shard : shardFiles) {
    Expected<std::vector<TensorRef>> tensors = readSafeTensors(shard);
    if (!tensors)
      return tensors.takeError();
    for (TensorRef &tensor : *tensors) {
      auto [it, inserted] = fileOfTensor.try_emplace(tensor.name, shard);
      if (!inserted)
        return fileError(shard, "tensor '" + tensor.name +
                                    "' is also in " + it->second);
      source.tensors.push_back(std::move(tensor));
    }
  }

  if (index) {
    for (const auto &[tensor, shard] : index->shardOfTensor) {
      auto it = fileOfTensor.find(tensor);
      if (it == fileOfTensor.end() ||
          sys::path::filename(it->second) != shard)
        return fileError(indexPath, "weight_map puts tensor '" + tensor +
                                        "' in '" + shard +
                                        "', which does not hold it");
    }
  }

  sortTensorsCanonically(source.tensors);

  std::string tokenizerPath = joinPath(directory, "tokenizer.json");
  if (sys::fs::exists(tokenizerPath))
    source.tokenizer = TokenizerRef{TokenizerRef::Format::HFJson, tokenizerPath};
  return source;
}

} // namespace fmc::import
