//===- Summary.cpp - what an .fmc artifact holds, for people --------------===//

#include "tools/fmc-inspect/Summary.h"

#include "runtime/ChatTemplate.h"

#include "runtime/GgmlBlocks.h"
#include "runtime/Session.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace fmc::inspect {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

/// How one tensor stores its elements.
std::string formatOf(const schema::Tensor &tensor) {
  switch (tensor.dtype()) {
  case schema::DType::Packed: {
    const schema::QuantEncoding *q = tensor.quant();
    if (!q)
      return "packed";
    return absl::StrCat(
        q->bits(), "-bit ", lower(schema::EnumNameQuantGrid(q->grid())),
        q->group_size() ? absl::StrCat(" g", q->group_size()) : " per row",
        " ", lower(schema::EnumNameDType(q->scale_dtype())), " scales");
  }
  case schema::DType::GgmlBlocks:
    if (const ggml::BlockFormat *format = ggml::blockFormat(tensor.ggml_type()))
      return std::string(format->name);
    return absl::StrCat("ggml type ", tensor.ggml_type());
  default:
    return lower(schema::EnumNameDType(tensor.dtype()));
  }
}

int64_t elementsOf(const schema::Tensor &tensor) {
  int64_t elements = 1;
  if (tensor.shape())
    for (int64_t d : *tensor.shape())
      elements *= d;
  return elements;
}

/// The class --quantize would name each tensor by, from the kernels that
/// read it; the first kernel to read a tensor decides.
std::vector<std::string> classifyTensors(const schema::Artifact &root) {
  std::vector<std::string> classes(root.tensors()->size());
  auto assign = [&](int32_t tensor, const char *name) {
    if (tensor >= 0 && static_cast<size_t>(tensor) < classes.size() &&
        classes[tensor].empty())
      classes[tensor] = name;
  };
  for (const schema::Kernel *k : *root.decode()->kernels()) {
    switch (k->spec_type()) {
    case schema::KernelSpec::EmbeddingSpec:
      assign(k->spec_as_EmbeddingSpec()->table(), "embedding");
      break;
    case schema::KernelSpec::LogitsSpec:
      assign(k->spec_as_LogitsSpec()->weight(), "output");
      break;
    case schema::KernelSpec::LinearSpec:
      assign(k->spec_as_LinearSpec()->weight(), "linear");
      assign(k->spec_as_LinearSpec()->bias(), "bias");
      break;
    case schema::KernelSpec::GroupedLinearSpec:
      assign(k->spec_as_GroupedLinearSpec()->weight(), "linear");
      break;
    case schema::KernelSpec::MoeSpec: {
      const schema::MoeSpec *moe = k->spec_as_MoeSpec();
      assign(moe->router(), "router");
      for (int32_t t : {moe->gate_up(), moe->down(), moe->shared_gate_up(),
                        moe->shared_down(), moe->shared_gate()})
        assign(t, "experts");
      break;
    }
    case schema::KernelSpec::RmsNormSpec:
      assign(k->spec_as_RmsNormSpec()->weight(), "norm");
      break;
    case schema::KernelSpec::LayerNormSpec:
      assign(k->spec_as_LayerNormSpec()->weight(), "norm");
      assign(k->spec_as_LayerNormSpec()->bias(), "norm");
      break;
    default:
      break;
    }
  }
  for (std::string &name : classes)
    if (name.empty())
      name = "other";
  return classes;
}

bool tiedOutput(const schema::Artifact &root) {
  int32_t table = -1, output = -2;
  for (const schema::Kernel *k : *root.decode()->kernels()) {
    if (k->spec_type() == schema::KernelSpec::EmbeddingSpec)
      table = k->spec_as_EmbeddingSpec()->table();
    if (k->spec_type() == schema::KernelSpec::LogitsSpec)
      output = k->spec_as_LogitsSpec()->weight();
  }
  return table == output;
}

const char *const kClassOrder[] = {"embedding", "linear", "bias",   "experts",
                                   "router",    "norm",   "output", "other"};

} // namespace

Summary summarize(const Artifact &artifact) {
  const schema::Artifact &root = artifact.root();
  Summary s;
  s.formatVersion = root.format_version();
  s.producer = root.producer() ? root.producer()->str() : "";
  if (const schema::TrackPartition *part = root.track_partition()) {
    CollectiveStats collective = collectiveStatsOf(artifact);
    s.part = RankPart{part->rank(), part->ranks(), collective.split,
                      collective.allReducesPerToken,
                      collective.bytesPerToken};
  }
  const schema::ModelConfig &config = *root.config();
  s.model = config.name() ? config.name()->str() : "";
  s.sourceConfigJson =
      config.source_config_json() ? config.source_config_json()->str() : "";
  s.vocab = config.vocab_size();
  s.hidden = config.hidden_size();
  s.context = config.max_context();
  s.prefillTokens = root.prefill()->max_tokens();
  s.prefillKernels = root.prefill()->kernels()->size();
  s.decodeKernels = root.decode()->kernels()->size();
  s.prefillLastPositionOnly = hasLastRow(*root.prefill());
  s.weightsBytes = root.weights_bytes();
  s.headerChecksum = root.checksums()->header();
  s.weightsChecksum = root.checksums()->weights();

  if (root.executables())
    for (const schema::Executable *e : *root.executables()) {
      TargetSummary t;
      t.target = e->target()->str();
      t.format = e->format() ? e->format()->str() : "";
      t.arch = e->arch() ? e->arch()->str() : "";
      t.codeBytes = e->data() ? e->data()->size() : 0;
      t.entryPoints = e->entry_points() ? e->entry_points()->size() : 0;
      auto count = [](const schema::DispatchList *list) -> int64_t {
        return list && list->dispatches() ? list->dispatches()->size() : 0;
      };
      if (t.target == "cpu") {
        t.prefillDispatches = s.prefillKernels;
        t.decodeDispatches = s.decodeKernels;
      } else {
        t.prefillDispatches = count(e->prefill());
        t.decodeDispatches = count(e->decode());
      }
      s.targets.push_back(std::move(t));
    }

  for (const schema::KVCache *c : *root.kv_caches()) {
    CacheSummary cache;
    cache.name = c->name() ? c->name()->str() : "";
    cache.kind = lower(schema::EnumNameCacheKind(c->kind()));
    cache.dtype = lower(schema::EnumNameDType(c->dtype()));
    cache.capacity = c->capacity();
    cache.kvHeads = c->kv_heads();
    cache.headDim = c->head_dim();
    cache.bytes = c->bytes();
    cache.scaleBytes = c->scale_bytes();
    s.caches.push_back(std::move(cache));
  }
  for (const schema::Kernel *k : *root.decode()->kernels()) {
    if (k->spec_type() != schema::KernelSpec::AttentionSpec)
      continue;
    int32_t reads = k->spec_as_AttentionSpec()->reads();
    if (reads >= 0 && static_cast<size_t>(reads) < s.caches.size())
      s.caches[reads].readers.push_back(s.attentionLayers);
    ++s.attentionLayers;
  }

  std::vector<std::string> classes = classifyTensors(root);
  std::map<std::string, WeightClass> byName;
  for (size_t i = 0; i < classes.size(); ++i) {
    const schema::Tensor &tensor = *root.tensors()->Get(i);
    WeightClass &c = byName[classes[i]];
    c.name = classes[i];
    ++c.tensors;
    c.elements += elementsOf(tensor);
    c.bytes += tensor.bytes();
    ++c.formats[formatOf(tensor)];
  }
  for (const char *name : kClassOrder)
    if (auto it = byName.find(name); it != byName.end())
      s.classes.push_back(it->second);
  s.tiedOutput = tiedOutput(root);

  if (const schema::Tokenizer *t = root.tokenizer()) {
    TokenizerSummary tokenizer;
    tokenizer.kind = schema::EnumNameTokenizerKind(t->kind());
    if (t->kind() == schema::TokenizerKind::ByteLevelBPE)
      tokenizer.preTokenizer = schema::EnumNamePreTokenizer(t->pre_tokenizer());
    tokenizer.vocab = t->tokens() ? t->tokens()->size() : 0;
    tokenizer.bos = t->bos_id();
    tokenizer.eos = t->eos_id();
    tokenizer.addBos = t->add_bos();
    tokenizer.addEos = t->add_eos();
    if (t->chat_template())
      tokenizer.chatFamily =
          std::string(ChatTemplate::familyName(t->chat_family()));
    s.tokenizer = tokenizer;
  }

  if (root.compile_command()) {
    s.command.emplace();
    for (const flatbuffers::String *arg : *root.compile_command())
      s.command->push_back(arg->str());
  }
  if (root.compile_options()) {
    s.options.emplace();
    for (const schema::CompileOption *o : *root.compile_options())
      s.options->emplace_back(o->name() ? o->name()->str() : "",
                              o->value() ? o->value()->str() : "");
  }
  if (root.source_files()) {
    s.sourceFiles.emplace();
    for (const schema::SourceFile *f : *root.source_files())
      s.sourceFiles->push_back({f->path() ? f->path()->str() : "",
                                f->sha256() ? f->sha256()->str() : "",
                                f->bytes()});
  }
  return s;
}

} // namespace fmc::inspect
