//===- ArtifactValidation.cpp - what the runtime relies on, checked -------===//
//
// FlatBuffers verification guarantees that every table, vector and string
// lies inside the header. This checks the meaning: every tensor inside the
// weight segment with the size its shape and type give, every buffer inside
// its program's arena, every kernel's buffers, tensors and caches present
// and of the widths and shapes its family reads. Kernels then index memory
// with these numbers without further checks.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"

#include "runtime/ArtifactFormat.h"
#include "runtime/GgmlBlocks.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>
#include <vector>

namespace fmc {

namespace {

using schema::DType;

constexpr uint64_t kMaxDim = 1ull << 40;
constexpr int64_t kMaxTokens = 1 << 20;

bool mulOk(uint64_t a, uint64_t b, uint64_t &out) {
  return !__builtin_mul_overflow(a, b, &out);
}

bool validDType(DType d) {
  return d == DType::F32 || d == DType::F16 || d == DType::BF16 ||
         d == DType::I8 || d == DType::I32;
}

std::string shapeText(const flatbuffers::Vector<int64_t> *shape) {
  std::vector<int64_t> dims(shape->begin(), shape->end());
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

/// The family's name in messages, from its KernelSpec member: "rms_norm"
/// for RmsNormSpec; empty for NONE and members newer than this runtime.
std::string familyName(schema::KernelSpec spec) {
  std::string member = schema::EnumNameKernelSpec(spec);
  if (spec == schema::KernelSpec::NONE || !absl::EndsWith(member, "Spec"))
    return "";
  member.resize(member.size() - 4);
  std::string name;
  for (char c : member) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (!name.empty())
        name += '_';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    name += c;
  }
  return name;
}

class Validator {
public:
  Validator(const schema::Artifact &a, uint64_t headerBytes, uint64_t fileBytes)
      : a(a), headerBytes(headerBytes), fileBytes(fileBytes) {}

  absl::Status run() {
    if (auto s = segment(); !s.ok())
      return s;
    if (auto s = config(); !s.ok())
      return s;
    if (auto s = tensors(); !s.ok())
      return s;
    if (auto s = loraSlots(); !s.ok())
      return s;
    if (auto s = trackPartition(); !s.ok())
      return s;
    if (auto s = caches(); !s.ok())
      return s;
    if (auto s = tokenizer(); !s.ok())
      return s;
    if (!a.prefill() || !a.decode())
      return bad(absl::StrCat("the artifact has no ",
                              a.prefill() ? "decode" : "prefill", " program"));
    if (auto s = program(*a.prefill(), "prefill"); !s.ok())
      return s;
    if (auto s = program(*a.decode(), "decode"); !s.ok())
      return s;
    if (!a.executables() || a.executables()->size() == 0)
      return bad("the artifact lists no targets");
    for (const schema::Executable *exe : *a.executables()) {
      if (!exe->target())
        return bad("an executable has no target name");
      // Target names reach messages ("compiled for: cpu, vulkan"): a
      // damaged one must not print control bytes.
      std::string_view target = exe->target()->string_view();
      if (target.empty() || target.size() > 32 ||
          !std::all_of(target.begin(), target.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                   c == '-' || c == '.';
          }))
        return bad(absl::StrCat("an executable's target name is not a short "
                                "name of letters, digits, '_', '-' and '.' (",
                                target.size(), " bytes)"));
    }
    for (uint32_t i = 0; i < a.executables()->size(); ++i)
      if (auto s = executable(*a.executables()->Get(i), i); !s.ok())
        return s;
    return absl::OkStatus();
  }

private:
  static absl::Status bad(const std::string &message) {
    return absl::DataLossError(absl::StrCat("corrupt artifact: ", message));
  }

  absl::Status segment() {
    uint64_t offset = a.weights_offset(), bytes = a.weights_bytes();
    if (offset % kWeightSegmentAlignment != 0 || offset < headerBytes)
      return bad(absl::StrCat("weight segment offset ", offset,
                              " is not a page-aligned offset past the header (",
                              headerBytes, " bytes)"));
    if (offset > fileBytes || bytes > fileBytes - offset)
      // offset + bytes may wrap: name both rather than their sum.
      return absl::DataLossError(absl::StrCat(
          "truncated artifact: the weight segment of ", bytes,
          " bytes at byte ", offset, " ends past the file's ", fileBytes));
    return absl::OkStatus();
  }

  absl::Status config() {
    const schema::ModelConfig *c = a.config();
    if (!c)
      return bad("no model config");
    if (c->vocab_size() < 1 || c->vocab_size() > (1 << 30) ||
        c->hidden_size() < 1 || c->max_context() < 1)
      return bad(absl::StrCat("model config has vocab_size ", c->vocab_size(),
                              ", hidden_size ", c->hidden_size(),
                              ", max_context ", c->max_context()));
    vocab = c->vocab_size();
    return absl::OkStatus();
  }

  absl::Status tensors() {
    if (!a.tensors())
      return bad("no tensor table");
    for (uint32_t i = 0; i < a.tensors()->size(); ++i) {
      const schema::Tensor *t = a.tensors()->Get(i);
      std::string what = absl::StrCat("tensor ", i, " ('",
                                      t->name() ? t->name()->str() : "", "')");
      if (!t->shape() || t->shape()->size() == 0 || t->shape()->size() > 4)
        return bad(absl::StrCat(what, " has no shape of rank 1 to 4"));
      if (t->dtype() == DType::Packed) {
        if (absl::Status s = packedTensor(t, what); !s.ok())
          return s;
        continue;
      }
      if (t->dtype() == DType::GgmlBlocks) {
        if (absl::Status s = ggmlTensor(t, what); !s.ok())
          return s;
        continue;
      }
      if (!validDType(t->dtype()) || t->dtype() == DType::I32)
        return bad(absl::StrCat(what, " has unknown element type ",
                                static_cast<int>(t->dtype())));
      uint64_t elements = 1;
      for (int64_t d : *t->shape())
        if (d < 1 || static_cast<uint64_t>(d) > kMaxDim ||
            !mulOk(elements, d, elements))
          return bad(absl::StrCat(what, " has shape ", shapeText(t->shape())));
      uint64_t bytes;
      if (!mulOk(elements, dtypeBytes(t->dtype()), bytes) ||
          bytes != t->bytes())
        return bad(absl::StrCat(what, " of shape ", shapeText(t->shape()),
                                " declares ", t->bytes(), " bytes"));
      if (absl::Status s = segmentRange(t, what); !s.ok())
        return s;
    }
    return absl::OkStatus();
  }

  /// A part of a split model names its rank in a world of at least 2.
  absl::Status trackPartition() {
    const schema::TrackPartition *part = a.track_partition();
    if (!part)
      return absl::OkStatus();
    if (part->ranks() < 2 || part->rank() < 0 || part->rank() >= part->ranks())
      return bad(absl::StrCat("track partition rank ", part->rank(), " of ",
                              part->ranks(),
                              " ranks (needs 0 <= rank < ranks, ranks >= 2)"));
    if (part->kind() != schema::PartitionKind::Tracks &&
        part->kind() != schema::PartitionKind::Tensor)
      return bad(absl::StrCat("track partition kind ",
                              static_cast<int>(part->kind()),
                              " is neither tracks nor tensor"));
    return absl::OkStatus();
  }

  /// Each LoRA slot names a matrix weight and F16 A [rank, in] and B
  /// [out, rank] tensors that no other slot names: an adapter writes them
  /// whole, so two slots sharing one would write it twice.
  absl::Status loraSlots() {
    if (!a.lora_slots())
      return absl::OkStatus();
    uint32_t count = a.tensors()->size();
    std::vector<bool> claimed(count, false);
    for (uint32_t i = 0; i < a.lora_slots()->size(); ++i) {
      const schema::LoraSlot *slot = a.lora_slots()->Get(i);
      std::string what = absl::StrCat("LoRA slot ", i);
      if (slot->weight() >= count || slot->a() >= count || slot->b() >= count)
        return bad(absl::StrCat(what, " names tensors ", slot->weight(), ", ",
                                slot->a(), ", ", slot->b(), " of ", count));
      const schema::Tensor *w = a.tensors()->Get(slot->weight());
      const schema::Tensor *ta = a.tensors()->Get(slot->a());
      const schema::Tensor *tb = a.tensors()->Get(slot->b());
      for (const schema::Tensor *t : {ta, tb})
        if (t->dtype() != DType::F16 || t->shape()->size() != 2)
          return bad(absl::StrCat(what, ": tensor '",
                                  t->name() ? t->name()->str() : "",
                                  "' is not an F16 matrix"));
      if (w->shape()->size() != 2 ||
          ta->shape()->Get(1) != w->shape()->Get(1) ||
          tb->shape()->Get(0) != w->shape()->Get(0) ||
          tb->shape()->Get(1) != ta->shape()->Get(0))
        return bad(absl::StrCat(what, ": A ", shapeText(ta->shape()), " and B ",
                                shapeText(tb->shape()), " do not fit weight ",
                                shapeText(w->shape())));
      for (uint32_t t : {slot->a(), slot->b()}) {
        if (claimed[t])
          return bad(absl::StrCat(what, ": tensor ", t,
                                  " belongs to another slot"));
        claimed[t] = true;
      }
    }
    return absl::OkStatus();
  }

  /// The tensor's bytes start aligned and lie inside the weight segment.
  absl::Status segmentRange(const schema::Tensor *t, const std::string &what) {
    if (t->offset() % kTensorAlignment != 0)
      return bad(absl::StrCat(what, " starts at offset ", t->offset(),
                              ", not a multiple of ", kTensorAlignment));
    if (t->offset() > a.weights_bytes() ||
        t->bytes() > a.weights_bytes() - t->offset())
      return bad(absl::StrCat(what, " at offset ", t->offset(), " with ",
                              t->bytes(),
                              " bytes lies outside the weight segment of ",
                              a.weights_bytes(), " bytes"));
    return absl::OkStatus();
  }

  /// A Packed tensor: its encoding is one the kernels read, its shape is
  /// bounded, and its bytes are exactly the row_major layout's.
  absl::Status packedTensor(const schema::Tensor *t, const std::string &what) {
    const schema::QuantEncoding *q = t->quant();
    if (!q)
      return bad(absl::StrCat(what, " is packed but has no quant encoding"));
    int64_t g = q->group_size();
    if ((q->bits() != 2 && q->bits() != 4) ||
        (q->grid() != schema::QuantGrid::Balanced &&
         q->grid() != schema::QuantGrid::Affine) ||
        (g != 0 && g != 32 && g != 64 && g != 128) ||
        (q->scale_dtype() != DType::F16 && q->scale_dtype() != DType::BF16) ||
        q->layout() != schema::QuantLayout::RowMajor)
      return bad(absl::StrCat(what, " has an unsupported quant encoding (bits ",
                              q->bits(), ", grid ", static_cast<int>(q->grid()),
                              ", group_size ", g, ", scale type ",
                              static_cast<int>(q->scale_dtype()), ", layout ",
                              static_cast<int>(q->layout()), ")"));
    uint64_t elements = 1;
    for (int64_t d : *t->shape())
      if (d < 1 || static_cast<uint64_t>(d) > kMaxDim ||
          !mulOk(elements, d, elements))
        return bad(absl::StrCat(what, " has shape ", shapeText(t->shape())));
    uint64_t k = t->shape()->Get(t->shape()->size() - 1), rows = elements / k;
    uint64_t groups = g == 0 ? 1 : (k + g - 1) / g;
    uint64_t perGroup = q->grid() == schema::QuantGrid::Affine ? 2 : 1;
    uint64_t expected =
        rows * ((k * q->bits() + 7) / 8) + rows * groups * perGroup * 2;
    if (expected != t->bytes())
      return bad(absl::StrCat(what, " of shape ", shapeText(t->shape()),
                              " packed at ", q->bits(), " bits declares ",
                              t->bytes(), " bytes, expected ", expected));
    return segmentRange(t, what);
  }

  /// A GgmlBlocks tensor: a block format the kernels decode, rows of whole
  /// blocks, and exactly the bytes those blocks take.
  absl::Status ggmlTensor(const schema::Tensor *t, const std::string &what) {
    const ggml::BlockFormat *format = ggml::blockFormat(t->ggml_type());
    if (!format)
      return bad(absl::StrCat(what, " has unknown ggml block type ",
                              t->ggml_type()));
    uint64_t elements = 1;
    for (int64_t d : *t->shape())
      if (d < 1 || static_cast<uint64_t>(d) > kMaxDim ||
          !mulOk(elements, d, elements))
        return bad(absl::StrCat(what, " has shape ", shapeText(t->shape())));
    uint64_t k = t->shape()->Get(t->shape()->size() - 1);
    if (k % format->elements != 0)
      return bad(absl::StrCat(what, " of shape ", shapeText(t->shape()),
                              " is not whole ", std::string(format->name), " blocks of ",
                              format->elements));
    uint64_t expected;
    if (!mulOk(elements / format->elements, format->bytes, expected) ||
        expected != t->bytes())
      return bad(absl::StrCat(what, " of shape ", shapeText(t->shape()),
                              " in ", std::string(format->name), " blocks declares ",
                              t->bytes(), " bytes"));
    return segmentRange(t, what);
  }

  absl::Status caches() {
    if (!a.kv_caches())
      return bad("no KV-cache table");
    for (uint32_t i = 0; i < a.kv_caches()->size(); ++i) {
      const schema::KVCache *c = a.kv_caches()->Get(i);
      std::string what = absl::StrCat("KV cache ", i, " ('",
                                      c->name() ? c->name()->str() : "", "')");
      if (c->capacity() < 1 || c->capacity() >= (1ll << 31) ||
          c->kv_heads() < 1 || c->kv_heads() > (1 << 16) || c->head_dim() < 1 ||
          c->head_dim() > (1 << 16) || !validDType(c->dtype()) ||
          c->dtype() == DType::I32 ||
          (c->kind() != schema::CacheKind::Linear &&
           c->kind() != schema::CacheKind::Ring))
        return bad(absl::StrCat(what, " has capacity ", c->capacity(),
                                ", kv_heads ", c->kv_heads(), ", head_dim ",
                                c->head_dim()));
      uint64_t perPosition =
          2 * c->kv_heads() * c->head_dim() * dtypeBytes(c->dtype());
      if (c->dtype() == DType::I8)
        perPosition += 2 * c->kv_heads() * sizeof(float);
      if (perPosition * static_cast<uint64_t>(c->capacity()) != c->bytes())
        return bad(absl::StrCat(what, " declares ", c->bytes(),
                                " bytes, expected ",
                                perPosition * c->capacity()));
      uint64_t scaleBytes =
          c->dtype() == DType::I8
              ? 2 * c->kv_heads() * sizeof(float) * c->capacity()
              : 0;
      if (c->scale_bytes() != scaleBytes)
        return bad(absl::StrCat(what, " declares ", c->scale_bytes(),
                                " bytes of scales, expected ", scaleBytes));
      // Positions index linear caches directly: the context must fit each.
      // and no more: positions past the context never reach a cache, so a
      // larger one only claims memory.
      if (c->kind() == schema::CacheKind::Linear &&
          c->capacity() != a.config()->max_context())
        return bad(absl::StrCat(what, " holds ", c->capacity(),
                                " positions, not the context of ",
                                a.config()->max_context()));
    }
    return absl::OkStatus();
  }

  absl::Status tokenizer() {
    const schema::Tokenizer *t = a.tokenizer();
    if (!t)
      return absl::OkStatus();
    if (!t->tokens() || t->tokens()->size() == 0)
      return bad("the tokenizer has no tokens");
    int64_t n = t->tokens()->size();
    if (t->kind() == schema::TokenizerKind::SentencePiece) {
      if (!t->scores() || static_cast<int64_t>(t->scores()->size()) != n)
        return bad("the tokenizer's scores do not match its tokens");
      if (!t->space_marker() || t->space_marker()->size() == 0)
        return bad("the tokenizer has no space marker");
    } else if (t->kind() != schema::TokenizerKind::ByteLevelBPE) {
      return bad(
          absl::StrCat("unknown tokenizer kind ", static_cast<int>(t->kind())));
    }
    if (t->pre_tokenizer() > schema::PreTokenizer::MAX)
      return bad(absl::StrCat("the tokenizer's pre-tokenizer ",
                              static_cast<int>(t->pre_tokenizer()),
                              " is unknown"));
    if (t->token_types() && t->token_types()->size() != 0 &&
        static_cast<int64_t>(t->token_types()->size()) != n)
      return bad("the tokenizer's token types do not match its tokens");
    auto *l = t->merge_left(), *r = t->merge_right(), *m = t->merge_result();
    size_t merges = l ? l->size() : 0;
    if ((r ? r->size() : 0) != merges || (m ? m->size() : 0) != merges)
      return bad("the tokenizer's merge tables differ in length");
    for (size_t i = 0; i < merges; ++i)
      if (l->Get(i) < 0 || l->Get(i) >= n || r->Get(i) < 0 || r->Get(i) >= n ||
          m->Get(i) < 0 || m->Get(i) >= n)
        return bad(absl::StrCat("tokenizer merge ", i,
                                " names a token outside the ", n,
                                "-token vocabulary"));
    for (int32_t id : {t->bos_id(), t->eos_id()})
      if (id < -1 || id >= n || id >= vocab)
        return bad(absl::StrCat("the tokenizer's BOS/EOS id ", id,
                                " is out of range"));
    return absl::OkStatus();
  }

  // --- programs -----------------------------------------------------------

  const schema::Tensor *tensor(int32_t index) const {
    if (index < 0 || static_cast<uint32_t>(index) >= a.tensors()->size())
      return nullptr;
    return a.tensors()->Get(index);
  }

  absl::Status program(const schema::Program &p, const char *name) {
    std::string where = absl::StrCat("program '", name, "'");
    if (p.max_tokens() < 1 || p.max_tokens() > kMaxTokens)
      return bad(absl::StrCat(where, " has max_tokens ", p.max_tokens()));
    if (p.arena_bytes() > (1ull << 40))
      return bad(
          absl::StrCat(where, " has an arena of ", p.arena_bytes(), " bytes"));
    if (!p.buffers() || !p.kernels())
      return bad(absl::StrCat(where, " has no buffer or kernel table"));
    for (uint32_t i = 0; i < p.buffers()->size(); ++i) {
      const schema::Buffer *b = p.buffers()->Get(i);
      if (b->width() < 1 || b->width() >= (1ll << 31) ||
          !validDType(b->dtype()))
        return bad(absl::StrCat(where, " buffer ", i, " has width ", b->width(),
                                " and element type ",
                                static_cast<int>(b->dtype())));
      uint64_t bytes = static_cast<uint64_t>(p.max_tokens()) * b->width() *
                       dtypeBytes(b->dtype());
      if (b->offset() % 64 != 0)
        return bad(absl::StrCat(where, " buffer ", i,
                                " starts at arena offset ", b->offset(),
                                ", not a multiple of 64"));
      if (b->offset() > p.arena_bytes() ||
          bytes > p.arena_bytes() - b->offset())
        return bad(absl::StrCat(
            where, " buffer ", i, " at offset ", b->offset(), " with ", bytes,
            " bytes lies outside the arena of ", p.arena_bytes(), " bytes"));
    }
    // Buffers share the arena by liveness: it is never larger than all of
    // them side by side.
    uint64_t allBuffers = 0;
    for (const schema::Buffer *b : *p.buffers())
      allBuffers += (static_cast<uint64_t>(p.max_tokens()) * b->width() *
                         dtypeBytes(b->dtype()) +
                     63) /
                    64 * 64;
    if (p.arena_bytes() > allBuffers)
      return bad(absl::StrCat(where, " has an arena of ", p.arena_bytes(),
                              " bytes, more than its buffers' ", allBuffers));
    uint32_t n = p.buffers()->size();
    if (p.tokens() >= n || p.positions() >= n || p.logits() >= n)
      return bad(absl::StrCat(where,
                              " names an input or output buffer beyond its ", n,
                              " buffers"));
    if (!isIds(p.buffers()->Get(p.tokens())) ||
        !isIds(p.buffers()->Get(p.positions())))
      return bad(absl::StrCat(
          where,
          " has token or position buffers that are not i32 rows of width 1"));
    const schema::Buffer *logits = p.buffers()->Get(p.logits());
    if (logits->dtype() != DType::F32 || logits->width() != vocab)
      return bad(absl::StrCat(where, " has a logits buffer of width ",
                              logits->width(), ", not the vocabulary size ",
                              vocab));
    for (uint32_t k = 0; k < p.kernels()->size(); ++k)
      if (auto s = kernel(p, k, where); !s.ok())
        return s;
    if (auto s = positionsFlow(p, where); !s.ok())
      return s;
    return buffersKeptApart(p, where);
  }

  /// The input of kernel `k` that holds positions (-1: none). Attention,
  /// RoPE, cache appends and LastRow read them; kernel() checked arities.
  static int positionsInput(const schema::Kernel &k) {
    switch (k.spec_type()) {
    case schema::KernelSpec::RopeSpec:
    case schema::KernelSpec::LastRowSpec:
      return 1;
    case schema::KernelSpec::KvAppendSpec:
      return 2;
    case schema::KernelSpec::AttentionSpec:
      return static_cast<int>(k.inputs()->size()) - 1;
    default:
      return -1;
    }
  }

  /// Positions index the KV caches, which are sized for the context the
  /// runtime bounds them by: every kernel that reads positions reads the
  /// program's (or LastRow's one-row copy of them), never token ids or any
  /// other i32 rows.
  static absl::Status positionsFlow(const schema::Program &p,
                                    const std::string &where) {
    std::vector<bool> holdsPositions(p.buffers()->size(), false);
    holdsPositions[p.positions()] = true;
    for (uint32_t index = 0; index < p.kernels()->size(); ++index) {
      const schema::Kernel *k = p.kernels()->Get(index);
      int input = positionsInput(*k);
      if (input < 0)
        continue;
      uint32_t buffer = k->inputs()->Get(input);
      if (!holdsPositions[buffer])
        return bad(absl::StrCat(
            where, ", kernel ", index, " (", familyName(k->spec_type()),
            ") reads positions from buffer ", buffer,
            ", which holds neither the program's positions (buffer ",
            p.positions(), ") nor a copy of them"));
      if (k->spec_type() == schema::KernelSpec::LastRowSpec)
        holdsPositions[k->outputs()->Get(1)] = true;
    }
    return absl::OkStatus();
  }

  /// Buffers share arena bytes only when their lifetimes are disjoint (as
  /// the compiler's buffer assignment places them): otherwise a kernel's
  /// output overwrites rows another kernel, or the same one, still reads.
  /// Tokens and positions live from before the first kernel, the logits
  /// until after the last.
  static absl::Status buffersKeptApart(const schema::Program &p,
                                       const std::string &where) {
    uint32_t n = p.buffers()->size();
    int64_t kernels = p.kernels()->size();
    std::vector<int64_t> first(n, kernels + 1), last(n, -2);
    auto use = [&](uint32_t b, int64_t k) {
      first[b] = std::min(first[b], k);
      last[b] = std::max(last[b], k);
    };
    use(p.tokens(), -1);
    use(p.positions(), -1);
    use(p.logits(), kernels);
    for (int64_t k = 0; k < kernels; ++k) {
      const schema::Kernel *kernel = p.kernels()->Get(k);
      for (uint32_t b : *kernel->inputs())
        use(b, k);
      for (uint32_t b : *kernel->outputs()) {
        use(b, k);
        for (uint32_t read : *kernel->inputs())
          if (read == b)
            return bad(absl::StrCat(where, ", kernel ", k, " (",
                                    familyName(kernel->spec_type()),
                                    ") writes buffer ", b,
                                    ", which it also reads"));
      }
    }
    struct Extent {
      uint64_t begin, end;
      uint32_t buffer;
    };
    std::vector<Extent> used;
    for (uint32_t b = 0; b < n; ++b) {
      const schema::Buffer *buffer = p.buffers()->Get(b);
      uint64_t bytes = static_cast<uint64_t>(p.max_tokens()) *
                       buffer->width() * dtypeBytes(buffer->dtype());
      if (last[b] >= first[b] && bytes > 0)
        used.push_back({buffer->offset(), buffer->offset() + bytes, b});
    }
    std::sort(used.begin(), used.end(), [](const Extent &x, const Extent &y) {
      return x.begin < y.begin;
    });
    for (size_t i = 0; i < used.size(); ++i)
      for (size_t j = i + 1; j < used.size() && used[j].begin < used[i].end;
           ++j) {
        uint32_t a = used[i].buffer, b = used[j].buffer;
        if (first[a] <= last[b] && first[b] <= last[a])
          return bad(absl::StrCat(
              where, " buffers ", a, " and ", b, " share arena bytes from ",
              used[j].begin, " while both are live (kernels ",
              std::max(first[a], first[b]), " to ",
              std::min(last[a], last[b]), ")"));
      }
    return absl::OkStatus();
  }

  static bool isIds(const schema::Buffer *b) {
    return b->dtype() == DType::I32 && b->width() == 1;
  }

  absl::Status kernel(const schema::Program &p, uint32_t index,
                      const std::string &program) {
    const schema::Kernel *k = p.kernels()->Get(index);
    std::string family = familyName(k->spec_type());
    std::string where = absl::StrCat(program, ", kernel ", index);
    if (family.empty() || !k->spec())
      return bad(absl::StrCat(where, " has unknown kernel family ",
                              static_cast<int>(k->spec_type()),
                              " (an artifact from a newer compiler?)"));
    absl::StrAppend(&where, " (", family, ")");
    if (!k->inputs() || !k->outputs())
      return bad(absl::StrCat(where, " has no buffer lists"));
    std::vector<const schema::Buffer *> in, out;
    for (uint32_t i : *k->inputs()) {
      if (i >= p.buffers()->size())
        return bad(absl::StrCat(where, " reads buffer ", i, " of ",
                                p.buffers()->size()));
      in.push_back(p.buffers()->Get(i));
    }
    for (uint32_t i : *k->outputs()) {
      if (i >= p.buffers()->size())
        return bad(absl::StrCat(where, " writes buffer ", i, " of ",
                                p.buffers()->size()));
      out.push_back(p.buffers()->Get(i));
    }
    KernelCheck check{where, in, out, p.max_tokens()};
    switch (k->spec_type()) {
    case schema::KernelSpec::EmbeddingSpec:
      return embedding(check, *k->spec_as_EmbeddingSpec());
    case schema::KernelSpec::RmsNormSpec:
      return rmsNorm(check, *k->spec_as_RmsNormSpec());
    case schema::KernelSpec::LayerNormSpec:
      return layerNorm(check, *k->spec_as_LayerNormSpec());
    case schema::KernelSpec::LinearSpec:
      return linear(check, *k->spec_as_LinearSpec());
    case schema::KernelSpec::RopeSpec:
      return rope(check, *k->spec_as_RopeSpec());
    case schema::KernelSpec::AttentionSpec:
      return attention(check, *k->spec_as_AttentionSpec());
    case schema::KernelSpec::ActivationSpec:
      return unary(check,
                   static_cast<int>(k->spec_as_ActivationSpec()->kind()));
    case schema::KernelSpec::GluSpec:
      return glu(check, *k->spec_as_GluSpec());
    case schema::KernelSpec::AddSpec:
      return binary(check, /*broadcast=*/false);
    case schema::KernelSpec::MulSpec:
      return binary(check, /*broadcast=*/true);
    case schema::KernelSpec::MoeRouteSpec:
      return moeRoute(check, *k->spec_as_MoeRouteSpec());
    case schema::KernelSpec::MoeCombineSpec:
      return moeCombine(check);
    case schema::KernelSpec::LogitsSpec:
      return logits(check, *k->spec_as_LogitsSpec());
    case schema::KernelSpec::MoeSpec:
      return moe(check, *k->spec_as_MoeSpec());
    case schema::KernelSpec::TrackCombineSpec:
      return trackCombine(check, *k->spec_as_TrackCombineSpec());
    case schema::KernelSpec::GroupedLinearSpec:
      return groupedLinear(check, *k->spec_as_GroupedLinearSpec());
    case schema::KernelSpec::LastRowSpec:
      return lastRow(check);
    case schema::KernelSpec::KvAppendSpec:
      return kvAppend(check, *k->spec_as_KvAppendSpec());
    case schema::KernelSpec::AllReduceSpec:
      return allReduce(check, *k->spec_as_AllReduceSpec());
    default:
      return bad(where);
    }
  }

  struct KernelCheck {
    std::string where;
    std::vector<const schema::Buffer *> in, out;
    int64_t maxTokens;
  };

  static absl::Status arity(const KernelCheck &c, size_t ins, size_t outs) {
    if (c.in.size() != ins || c.out.size() != outs)
      return bad(absl::StrCat(c.where, " has ", c.in.size(), " inputs and ",
                              c.out.size(), " outputs, expected ", ins, " and ",
                              outs));
    return absl::OkStatus();
  }

  static absl::Status floats(const KernelCheck &c, const schema::Buffer *b,
                             int64_t width, const char *role) {
    if (b->dtype() != DType::F32 || (width >= 0 && b->width() != width))
      return bad(absl::StrCat(
          c.where, ": ", role, " buffer has width ", b->width(),
          " and element type ", static_cast<int>(b->dtype()),
          (width >= 0 ? absl::StrCat(", expected f32 of width ", width)
                      : std::string(", expected f32"))));
    return absl::OkStatus();
  }

  static absl::Status ids(const KernelCheck &c, const schema::Buffer *b,
                          int64_t width, const char *role) {
    if (b->dtype() != DType::I32 || b->width() != width)
      return bad(absl::StrCat(c.where, ": ", role,
                              " buffer must be i32 of width ", width));
    return absl::OkStatus();
  }

  absl::Status param(const KernelCheck &c, int32_t index,
                     std::vector<int64_t> shape, const char *role,
                     bool optional, bool packedOk = false,
                     bool ggmlOk = false) {
    if (index == -1 && optional)
      return absl::OkStatus();
    const schema::Tensor *t = tensor(index);
    if (!t)
      return bad(absl::StrCat(c.where, ": ", role, " names tensor ", index,
                              " of ", a.tensors()->size()));
    std::vector<int64_t> actual(t->shape()->begin(), t->shape()->end());
    bool matches = actual.size() == shape.size();
    for (size_t i = 0; matches && i < shape.size(); ++i)
      matches = shape[i] < 0 || actual[i] == shape[i];
    if (!matches)
      return bad(absl::StrCat(c.where, ": ", role, " tensor '",
                              t->name() ? t->name()->str() : "", "' has shape ",
                              shapeText(t->shape()), ", expected [",
                              absl::StrJoin(shape, ", "), "]"));
    if (t->dtype() != DType::F32 && t->dtype() != DType::F16 &&
        t->dtype() != DType::BF16 &&
        !(packedOk && t->dtype() == DType::Packed) &&
        !(ggmlOk && t->dtype() == DType::GgmlBlocks))
      return bad(absl::StrCat(c.where, ": ", role, " tensor '",
                              t->name() ? t->name()->str() : "",
                              "' is not f32, f16 or bf16"));
    return absl::OkStatus();
  }

  static absl::Status positive(const KernelCheck &c, double value,
                               const char *name, bool zeroOk = false) {
    if (!std::isfinite(value) || value < 0.0 || (!zeroOk && value == 0.0))
      return bad(absl::StrCat(c.where, ": ", name, " is ", value));
    return absl::OkStatus();
  }

#define FMC_CHECK(expr)                                                        \
  if (absl::Status s_ = (expr); !s_.ok())                                      \
  return s_

  absl::Status embedding(const KernelCheck &c, const schema::EmbeddingSpec &s) {
    FMC_CHECK(arity(c, 1, 1));
    FMC_CHECK(ids(c, c.in[0], 1, "tokens"));
    FMC_CHECK(floats(c, c.out[0], -1, "output"));
    FMC_CHECK(param(c, s.table(), {-1, c.out[0]->width()}, "table", false,
                    /*packedOk=*/true, /*ggmlOk=*/true));
    if (tensor(s.table())->shape()->Get(0) < vocab)
      return bad(absl::StrCat(
          c.where, ": the table has fewer rows than the vocabulary"));
    return positive(c, s.scale(), "scale");
  }

  absl::Status rmsNorm(const KernelCheck &c, const schema::RmsNormSpec &s) {
    FMC_CHECK(arity(c, 1, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    FMC_CHECK(floats(c, c.out[0], c.in[0]->width(), "output"));
    if (s.group_size() < 1 || c.in[0]->width() % s.group_size() != 0)
      return bad(absl::StrCat(c.where, ": group_size ", s.group_size(),
                              " does not divide the width ", c.in[0]->width()));
    FMC_CHECK(param(c, s.weight(), {s.group_size()}, "weight", true));
    if (!std::isfinite(s.weight_offset()))
      return bad(absl::StrCat(c.where, ": weight_offset is ",
                              s.weight_offset()));
    return positive(c, s.eps(), "eps", true);
  }

  absl::Status layerNorm(const KernelCheck &c, const schema::LayerNormSpec &s) {
    FMC_CHECK(arity(c, 1, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    FMC_CHECK(floats(c, c.out[0], c.in[0]->width(), "output"));
    FMC_CHECK(param(c, s.weight(), {c.in[0]->width()}, "weight", true));
    FMC_CHECK(param(c, s.bias(), {c.in[0]->width()}, "bias", true));
    return positive(c, s.eps(), "eps", true);
  }

  absl::Status linear(const KernelCheck &c, const schema::LinearSpec &s) {
    FMC_CHECK(arity(c, 1, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    FMC_CHECK(floats(c, c.out[0], -1, "output"));
    FMC_CHECK(param(c, s.weight(), {c.out[0]->width(), c.in[0]->width()},
                    "weight", false, /*packedOk=*/true, /*ggmlOk=*/true));
    return param(c, s.bias(), {c.out[0]->width()}, "bias", true);
  }

  absl::Status rope(const KernelCheck &c, const schema::RopeSpec &s) {
    FMC_CHECK(arity(c, 2, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    FMC_CHECK(ids(c, c.in[1], 1, "positions"));
    FMC_CHECK(floats(c, c.out[0], c.in[0]->width(), "output"));
    int64_t width = c.in[0]->width();
    if (s.head_dim() < 2 || s.head_dim() % 2 || width % s.head_dim() ||
        s.rotary_dim() < 2 || s.rotary_dim() % 2 ||
        s.rotary_dim() > s.head_dim() ||
        (s.layout() != schema::RopeLayout::Interleaved &&
         s.layout() != schema::RopeLayout::RotateHalf))
      return bad(absl::StrCat(c.where, ": head_dim ", s.head_dim(),
                              ", rotary_dim ", s.rotary_dim(),
                              " do not fit width ", width));
    const flatbuffers::Vector<double> *invFreq = s.inv_freq();
    if (!invFreq ||
        static_cast<int64_t>(invFreq->size()) != s.rotary_dim() / 2)
      return bad(absl::StrCat(c.where, ": inv_freq has ",
                              invFreq ? invFreq->size() : 0,
                              " entries, not rotary_dim / 2 = ",
                              s.rotary_dim() / 2));
    for (uint32_t i = 0; i < invFreq->size(); ++i)
      if (!(invFreq->Get(i) > 0.0) || std::isinf(invFreq->Get(i)))
        return bad(absl::StrCat(c.where, ": inv_freq[", i, "] is ",
                                invFreq->Get(i),
                                ", not a positive finite frequency"));
    FMC_CHECK(positive(c, s.attention_factor(), "attention_factor"));
    return positive(c, s.theta(), "theta");
  }

  absl::Status attention(const KernelCheck &c, const schema::AttentionSpec &s) {
    bool writes = s.writes() != -1;
    FMC_CHECK(arity(c, writes ? 4 : 2, 1));
    if (s.heads() < 1 || s.kv_heads() < 1 || s.head_dim() < 1 ||
        s.heads() > (1 << 16) || s.head_dim() > (1 << 16) ||
        s.heads() % s.kv_heads())
      return bad(absl::StrCat(c.where, ": heads ", s.heads(), ", kv_heads ",
                              s.kv_heads(), ", head_dim ", s.head_dim()));
    FMC_CHECK(floats(c, c.in[0], s.heads() * s.head_dim(), "q"));
    if (writes) {
      FMC_CHECK(floats(c, c.in[1], s.kv_heads() * s.head_dim(), "k"));
      FMC_CHECK(floats(c, c.in[2], s.kv_heads() * s.head_dim(), "v"));
    }
    FMC_CHECK(ids(c, c.in.back(), 1, "positions"));
    FMC_CHECK(floats(c, c.out[0], s.heads() * s.head_dim(), "output"));
    if (s.reads() < 0 ||
        static_cast<uint32_t>(s.reads()) >= a.kv_caches()->size() ||
        (writes && s.writes() != s.reads()))
      return bad(absl::StrCat(c.where, ": reads cache ", s.reads(),
                              " and writes cache ", s.writes(), " of ",
                              a.kv_caches()->size()));
    const schema::KVCache *cache = a.kv_caches()->Get(s.reads());
    if (cache->kv_heads() != s.kv_heads() || cache->head_dim() != s.head_dim())
      return bad(absl::StrCat(
          c.where, ": cache '", cache->name() ? cache->name()->str() : "",
          "' holds ", cache->kv_heads(), " heads of ", cache->head_dim()));
    bool windowed = s.kind() == schema::AttentionKind::Local ||
                    s.kind() == schema::AttentionKind::Chunked;
    if ((!windowed && s.kind() != schema::AttentionKind::Global) ||
        (windowed && s.window() < 1) || (!windowed && s.window() != 0))
      return bad(absl::StrCat(c.where, ": kind ", static_cast<int>(s.kind()),
                              " with window ", s.window()));
    // A ring's writer attends to the run's own keys from k and v, so the
    // cache needs the window only; a reader sees the cache after the writer
    // appended a whole run.
    if (cache->kind() == schema::CacheKind::Ring &&
        (!windowed ||
         cache->capacity() < s.window() + (writes ? 0 : c.maxTokens - 1)))
      return bad(absl::StrCat(c.where, ": ring cache of ", cache->capacity(),
                              " positions cannot serve window ", s.window(),
                              " and ", c.maxTokens, " tokens per run"));
    FMC_CHECK(positive(c, s.scale(), "scale"));
    return positive(c, s.softcap(), "softcap", true);
  }

  absl::Status kvAppend(const KernelCheck &c, const schema::KvAppendSpec &s) {
    FMC_CHECK(arity(c, 3, 0));
    if (s.cache() < 0 ||
        static_cast<uint32_t>(s.cache()) >= a.kv_caches()->size())
      return bad(absl::StrCat(c.where, ": writes cache ", s.cache(), " of ",
                              a.kv_caches()->size()));
    const schema::KVCache *cache = a.kv_caches()->Get(s.cache());
    FMC_CHECK(floats(c, c.in[0], cache->kv_heads() * cache->head_dim(), "k"));
    FMC_CHECK(floats(c, c.in[1], cache->kv_heads() * cache->head_dim(), "v"));
    return ids(c, c.in[2], 1, "positions");
  }

  absl::Status lastRow(const KernelCheck &c) {
    FMC_CHECK(arity(c, 2, 2));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    FMC_CHECK(floats(c, c.out[0], c.in[0]->width(), "output"));
    FMC_CHECK(ids(c, c.in[1], 1, "positions"));
    return ids(c, c.out[1], 1, "output positions");
  }

  absl::Status unary(const KernelCheck &c, int kind) {
    FMC_CHECK(arity(c, 1, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    FMC_CHECK(floats(c, c.out[0], c.in[0]->width(), "output"));
    return validActivation(c, kind);
  }

  static absl::Status validActivation(const KernelCheck &c, int kind) {
    if (kind < 0 || kind > static_cast<int>(schema::Activation::MAX))
      return bad(absl::StrCat(c.where, ": unknown activation ", kind));
    return absl::OkStatus();
  }

  absl::Status glu(const KernelCheck &c, const schema::GluSpec &s) {
    FMC_CHECK(arity(c, 2, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "gate"));
    FMC_CHECK(floats(c, c.in[1], c.in[0]->width(), "up"));
    FMC_CHECK(floats(c, c.out[0], c.in[0]->width(), "output"));
    return validActivation(c, static_cast<int>(s.kind()));
  }

  absl::Status binary(const KernelCheck &c, bool broadcast) {
    FMC_CHECK(arity(c, 2, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "lhs"));
    FMC_CHECK(floats(c, c.out[0], c.in[0]->width(), "output"));
    if (broadcast && c.in[1]->width() == 1)
      return floats(c, c.in[1], 1, "rhs");
    return floats(c, c.in[1], c.in[0]->width(), "rhs");
  }

  absl::Status moeRoute(const KernelCheck &c, const schema::MoeRouteSpec &s) {
    FMC_CHECK(arity(c, 1, 2));
    FMC_CHECK(floats(c, c.in[0], -1, "logits"));
    if (s.top_k() < 1 || s.top_k() > c.in[0]->width() ||
        static_cast<int>(s.scoring()) >
            static_cast<int>(schema::RouterScoring::MAX))
      return bad(absl::StrCat(c.where, ": top_k ", s.top_k(), " of ",
                              c.in[0]->width(), " experts"));
    FMC_CHECK(floats(c, c.out[0], s.top_k(), "weights"));
    return ids(c, c.out[1], s.top_k(), "indices");
  }

  absl::Status moeCombine(const KernelCheck &c) {
    if (c.in.size() < 3 || c.out.size() != 1)
      return bad(absl::StrCat(
          c.where, " needs weights, indices, experts and one output"));
    FMC_CHECK(floats(c, c.in[0], -1, "weights"));
    FMC_CHECK(ids(c, c.in[1], c.in[0]->width(), "indices"));
    FMC_CHECK(floats(c, c.out[0], -1, "output"));
    for (size_t i = 2; i < c.in.size(); ++i)
      FMC_CHECK(floats(c, c.in[i], c.out[0]->width(), "expert"));
    return absl::OkStatus();
  }

  absl::Status logits(const KernelCheck &c, const schema::LogitsSpec &s) {
    FMC_CHECK(arity(c, 1, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    FMC_CHECK(floats(c, c.out[0], -1, "output"));
    FMC_CHECK(param(c, s.weight(), {c.out[0]->width(), c.in[0]->width()},
                    "weight", false, /*packedOk=*/true, /*ggmlOk=*/true));
    FMC_CHECK(positive(c, s.scale(), "scale"));
    return positive(c, s.softcap(), "softcap", true);
  }

  absl::Status moe(const KernelCheck &c, const schema::MoeSpec &s) {
    FMC_CHECK(arity(c, 1, 1));
    FMC_CHECK(floats(c, c.in[0], -1, "input"));
    int64_t width = c.in[0]->width();
    FMC_CHECK(floats(c, c.out[0], width, "output"));
    FMC_CHECK(validActivation(c, static_cast<int>(s.activation())));
    FMC_CHECK(param(c, s.router(), {-1, width}, "router", false));
    int64_t experts = tensor(s.router())->shape()->Get(0);
    if (s.top_k() < 1 || s.top_k() > experts ||
        static_cast<int>(s.scoring()) >
            static_cast<int>(schema::RouterScoring::MAX))
      return bad(absl::StrCat(c.where, ": top_k ", s.top_k(), " of ", experts,
                              " experts"));
    FMC_CHECK(param(c, s.gate_up(), {experts, -1, width}, "gate_up", false,
                    /*packedOk=*/true));
    int64_t rows = tensor(s.gate_up())->shape()->Get(1);
    if (rows % 2 != 0)
      return bad(absl::StrCat(c.where, ": gate_up has ", rows,
                              " rows per expert, not gate and up rows"));
    FMC_CHECK(param(c, s.down(), {experts, width, rows / 2}, "down", false,
                    /*packedOk=*/true));
    if ((s.shared_gate_up() == -1) != (s.shared_down() == -1) ||
        (s.shared_gate() != -1 && s.shared_gate_up() == -1))
      return bad(absl::StrCat(c.where, ": an incomplete shared expert"));
    if (s.shared_gate_up() == -1)
      return absl::OkStatus();
    FMC_CHECK(param(c, s.shared_gate_up(), {-1, width}, "shared_gate_up", false,
                    /*packedOk=*/true));
    int64_t sharedRows = tensor(s.shared_gate_up())->shape()->Get(0);
    if (sharedRows % 2 != 0)
      return bad(absl::StrCat(c.where, ": shared_gate_up has ", sharedRows,
                              " rows, not gate and up rows"));
    FMC_CHECK(param(c, s.shared_down(), {width, sharedRows / 2}, "shared_down",
                    false, /*packedOk=*/true));
    return param(c, s.shared_gate(), {1, width}, "shared_gate", true);
  }

  absl::Status trackCombine(const KernelCheck &c,
                            const schema::TrackCombineSpec &s) {
    if (c.in.empty() || c.out.size() != 1)
      return bad(absl::StrCat(c.where, " needs tracks and one output"));
    if (static_cast<int>(s.combine()) >
        static_cast<int>(schema::TrackCombine::MAX))
      return bad(absl::StrCat(c.where, ": unknown track combine ",
                              static_cast<int>(s.combine())));
    FMC_CHECK(floats(c, c.out[0], -1, "output"));
    for (const schema::Buffer *track : c.in)
      FMC_CHECK(floats(c, track, c.out[0]->width(), "track"));
    return absl::OkStatus();
  }

  /// Sums across the ranks of the artifact's track partition, which it must
  /// have: a whole model has nothing to reduce with.
  absl::Status allReduce(const KernelCheck &c, const schema::AllReduceSpec &s) {
    if (c.in.empty() || c.in.size() != c.out.size())
      return bad(absl::StrCat(c.where, " needs one output per input, has ",
                              c.in.size(), " and ", c.out.size()));
    const schema::TrackPartition *part = a.track_partition();
    if (!part || s.ranks() != part->ranks())
      return bad(absl::StrCat(c.where, " sums over ", s.ranks(),
                              " ranks, but the artifact is ",
                              part ? absl::StrCat("a part of ", part->ranks(),
                                                  " ranks")
                                   : std::string("not a part of a split model")));
    if (!(s.scale() > 0.0f) || !std::isfinite(s.scale()))
      return bad(absl::StrCat(c.where, ": scale ", s.scale(),
                              " is not a positive number"));
    for (size_t i = 0; i < c.out.size(); ++i) {
      FMC_CHECK(floats(c, c.out[i], -1, "output"));
      FMC_CHECK(floats(c, c.in[i], c.out[i]->width(), "input"));
    }
    return absl::OkStatus();
  }

  absl::Status groupedLinear(const KernelCheck &c,
                             const schema::GroupedLinearSpec &s) {
    if (c.in.empty() || c.in.size() != c.out.size())
      return bad(absl::StrCat(c.where, " needs one output per input, has ",
                              c.in.size(), " and ", c.out.size()));
    for (const schema::Buffer *x : c.in)
      FMC_CHECK(floats(c, x, c.in[0]->width(), "input"));
    for (const schema::Buffer *y : c.out)
      FMC_CHECK(floats(c, y, c.out[0]->width(), "output"));
    return param(c, s.weight(),
                 {static_cast<int64_t>(c.in.size()), c.out[0]->width(),
                  c.in[0]->width()},
                 "weight", false);
  }

#undef FMC_CHECK

  // --- GPU executables ----------------------------------------------------
  // A GPU backend binds every dispatch's buffers as the artifact says and
  // launches it without further checks: entry points, grids and every
  // binding's range are checked here, once.

  absl::Status executable(const schema::Executable &exe, uint32_t index) {
    std::string where =
        absl::StrCat("executable ", index, " ('", exe.target()->str(), "')");
    std::string format = exe.format() ? exe.format()->str() : "";
    size_t dataBytes = exe.data() ? exe.data()->size() : 0;
    auto some = [](const auto *list) {
      return list && list->dispatches() && list->dispatches()->size() > 0;
    };
    bool hasCode = dataBytes ||
                   (exe.entry_points() && exe.entry_points()->size() > 0) ||
                   some(exe.prefill()) || some(exe.decode());
    // The cpu target carries no code ("none").
    if ((format == "none" || format.empty()) && !hasCode)
      return absl::OkStatus();
    if (format != "ptx" && format != "cubin" && format != "spirv" &&
        format != "msl" && format != "metallib")
      return bad(absl::StrCat(where, " has format '", format,
                              "', expected ptx, cubin, spirv, msl or "
                              "metallib"));
    if (dataBytes == 0)
      return bad(absl::StrCat(where, " has no code"));
    if (format == "spirv") {
      const uint8_t *d = exe.data()->data();
      // A module starts with a five-word header.
      if (dataBytes % 4 != 0 || dataBytes < 20 ||
          (d[0] | d[1] << 8 | d[2] << 16 | uint32_t(d[3]) << 24) != 0x07230203u)
        return bad(absl::StrCat(
            where, " holds ", dataBytes,
            " bytes that are not a SPIR-V module (little-endian 32-bit words "
            "starting with the magic number 0x07230203)"));
    }
    if (!exe.entry_points() || exe.entry_points()->size() == 0)
      return bad(absl::StrCat(where, " has no entry points"));
    for (uint32_t e = 0; e < exe.entry_points()->size(); ++e) {
      const schema::EntryPoint *ep = exe.entry_points()->Get(e);
      if (!ep->name() || ep->name()->size() == 0)
        return bad(absl::StrCat(where, ", entry point ", e, " has no name"));
      const auto *wg = ep->workgroup_size();
      if (!wg || wg->size() != 3 || wg->Get(0) == 0 || wg->Get(1) == 0 ||
          wg->Get(2) == 0)
        return bad(absl::StrCat(where, ", entry point '", ep->name()->str(),
                                "' has no workgroup size of 3 nonzero sizes"));
    }
    if (!exe.prefill() || !exe.decode())
      return bad(absl::StrCat(where, " has no ",
                              exe.prefill() ? "decode" : "prefill",
                              " dispatch list"));
    if (auto s = dispatchList(exe, *exe.prefill(), *a.prefill(),
                              absl::StrCat(where, ", program 'prefill'"));
        !s.ok())
      return s;
    return dispatchList(exe, *exe.decode(), *a.decode(),
                        absl::StrCat(where, ", program 'decode'"));
  }

  absl::Status dispatchList(const schema::Executable &exe,
                            const schema::DispatchList &list,
                            const schema::Program &program,
                            const std::string &where) {
    if (list.scratch_bytes() > (1ull << 40))
      return bad(absl::StrCat(where, " has a scratch of ", list.scratch_bytes(),
                              " bytes"));
    if (!list.dispatches() || list.dispatches()->size() == 0)
      return bad(absl::StrCat(where, " has no dispatches"));
    for (uint32_t i = 0; i < list.dispatches()->size(); ++i) {
      const schema::Dispatch *d = list.dispatches()->Get(i);
      std::string at = absl::StrCat(where, ", dispatch ", i);
      if (d->collective()) {
        if (auto s = collectiveDispatch(*d, program, list, at); !s.ok())
          return s;
        continue;
      }
      if (d->entry() >= exe.entry_points()->size())
        return bad(absl::StrCat(at, " names entry point ", d->entry(), " of ",
                                exe.entry_points()->size()));
      const schema::EntryPoint *ep = exe.entry_points()->Get(d->entry());
      absl::StrAppend(&at, " ('", ep->name()->str(), "')");
      const auto *grid = d->grid();
      if (!grid || grid->size() != 3 || grid->Get(0) == 0 ||
          grid->Get(1) == 0 || grid->Get(2) == 0)
        return bad(absl::StrCat(at, " has no grid of 3 nonzero sizes"));
      if (d->kernel() >= program.kernels()->size())
        return bad(absl::StrCat(at, " implements kernel ", d->kernel(), " of ",
                                program.kernels()->size()));
      uint32_t bindings = d->bindings() ? d->bindings()->size() : 0;
      if (bindings != ep->bindings())
        return bad(absl::StrCat(at, " has ", bindings,
                                " bindings, its entry point takes ",
                                ep->bindings()));
      for (uint32_t b = 0; b < bindings; ++b)
        if (auto s = binding(*d->bindings()->Get(b), program, list,
                             absl::StrCat(at, ", binding ", b));
            !s.ok())
          return s;
    }
    return absl::OkStatus();
  }

  /// A collective dispatch runs all-reduce kernel `kernel` of the program
  /// over its inputs, then its outputs: one arena binding each, an output
  /// as large as its input.
  absl::Status collectiveDispatch(const schema::Dispatch &d,
                                  const schema::Program &program,
                                  const schema::DispatchList &list,
                                  std::string at) {
    absl::StrAppend(&at, " (collective)");
    if (d.kernel() >= program.kernels()->size())
      return bad(absl::StrCat(at, " implements kernel ", d.kernel(), " of ",
                              program.kernels()->size()));
    const schema::Kernel *k = program.kernels()->Get(d.kernel());
    if (k->spec_type() != schema::KernelSpec::AllReduceSpec)
      return bad(absl::StrCat(at, " implements kernel ", d.kernel(),
                              ", which is no all-reduce"));
    uint32_t inputs = k->inputs() ? k->inputs()->size() : 0;
    uint32_t bindings = d.bindings() ? d.bindings()->size() : 0;
    if (bindings != 2 * inputs)
      return bad(absl::StrCat(at, " has ", bindings, " bindings; its "
                              "all-reduce has ", inputs, " inputs and as "
                              "many outputs"));
    for (uint32_t b = 0; b < bindings; ++b) {
      const schema::Binding *binding = d.bindings()->Get(b);
      std::string which = absl::StrCat(at, ", binding ", b);
      if (binding->memory() != schema::BindingMemory::Arena)
        return bad(absl::StrCat(which, " is not in the arena"));
      if (auto s = this->binding(*binding, program, list, which); !s.ok())
        return s;
      if (binding->bytes() % sizeof(float) != 0 ||
          (b >= inputs &&
           binding->bytes() != d.bindings()->Get(b - inputs)->bytes()))
        return bad(absl::StrCat(which, " holds ", binding->bytes(),
                                " bytes, not its input's whole f32 values"));
    }
    return absl::OkStatus();
  }

  /// Run records are four i32: [rows, rows after a last_row kernel, 0, 0].
  static constexpr uint64_t kRunRecordBytes = 16;

  absl::Status binding(const schema::Binding &b, const schema::Program &program,
                       const schema::DispatchList &list,
                       const std::string &at) {
    uint64_t limit = 0;
    std::string memory;
    bool aligned = true;
    switch (b.memory()) {
    case schema::BindingMemory::Arena:
      limit = program.arena_bytes();
      memory = absl::StrCat("the arena of ", limit, " bytes");
      break;
    case schema::BindingMemory::Weights: {
      if (b.index() >= a.tensors()->size())
        return bad(absl::StrCat(at, " names tensor ", b.index(), " of ",
                                a.tensors()->size()));
      const schema::Tensor *t = a.tensors()->Get(b.index());
      // Kernels read tensors in whole 32-bit words: a binding may cover the
      // tensor's padding up to the next tensor boundary (the segment ends
      // on one too).
      limit = std::min<uint64_t>(
          (t->bytes() + kTensorAlignment - 1) / kTensorAlignment *
              kTensorAlignment,
          a.weights_bytes() - std::min(t->offset(), a.weights_bytes()));
      memory = absl::StrCat("tensor '", t->name() ? t->name()->str() : "",
                            "' of ", t->bytes(), " bytes");
      break;
    }
    case schema::BindingMemory::Caches: {
      if (b.index() >= a.kv_caches()->size())
        return bad(absl::StrCat(at, " names KV cache ", b.index(), " of ",
                                a.kv_caches()->size()));
      const schema::KVCache *c = a.kv_caches()->Get(b.index());
      limit = c->bytes();
      memory = absl::StrCat("KV cache '", c->name() ? c->name()->str() : "",
                            "' of ", limit, " bytes");
      aligned = false;
      break;
    }
    case schema::BindingMemory::Scratch:
      limit = list.scratch_bytes();
      memory = absl::StrCat("the scratch of ", limit, " bytes");
      break;
    case schema::BindingMemory::Run:
      limit = kRunRecordBytes;
      memory = absl::StrCat("the run record of ", limit, " bytes");
      aligned = false;
      break;
    default:
      return bad(absl::StrCat(at, " has unknown memory ",
                              static_cast<int>(b.memory())));
    }
    if (b.bytes() == 0)
      return bad(absl::StrCat(at, " has no bytes"));
    if (b.offset() > limit || b.bytes() > limit - b.offset())
      return bad(absl::StrCat(at, " at offset ", b.offset(), " with ",
                              b.bytes(), " bytes lies outside ", memory));
    if (aligned && b.offset() % 16 != 0)
      return bad(absl::StrCat(at, " starts at offset ", b.offset(),
                              ", not a multiple of 16"));
    return absl::OkStatus();
  }

  const schema::Artifact &a;
  uint64_t headerBytes, fileBytes;
  int64_t vocab = 0;
};

} // namespace

absl::Status validateArtifact(const schema::Artifact &artifact,
                              uint64_t headerBytes, uint64_t fileBytes) {
  return Validator(artifact, headerBytes, fileBytes).run();
}

} // namespace fmc
