//===- KernelInstances.cpp - kernel families bound to memory --------------===//

#include "runtime/cpu/Program.h"
#include "runtime/cpu/GgmlInstances.h"
#include "runtime/cpu/QuantInstances.h"

#include "runtime/cpu/Moe.h"
#include "runtime/cpu/Tracks.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fmc::cpu {

namespace {

/// Rows (or elements) per task below which a kernel runs on the caller
/// alone: handing small work to other threads costs more than it saves.
constexpr int64_t kMinWorkPerTask = 16384;

ElementType elementType(schema::DType dtype) {
  switch (dtype) {
  case schema::DType::F16:
    return ElementType::F16;
  case schema::DType::BF16:
    return ElementType::BF16;
  default:
    return ElementType::F32;
  }
}

/// Splits rows x work-per-row into tasks of whole rows.
template <typename Fn>
void forRows(const RunContext &ctx, int64_t rows, int64_t workPerRow, Fn &&fn) {
  int64_t threads = ctx.pool->size();
  int64_t perTask =
      std::max<int64_t>(1, kMinWorkPerTask / std::max<int64_t>(1, workPerRow));
  int64_t tasks =
      std::min<int64_t>((rows + perTask - 1) / perTask, 4 * threads);
  if (tasks <= 1 || threads == 1) {
    for (int64_t r = 0; r < rows; ++r)
      fn(r);
    return;
  }
  int64_t chunk = (rows + tasks - 1) / tasks;
  ctx.pool->run(tasks, [&](int64_t task, int) {
    for (int64_t r = task * chunk, end = std::min(rows, r + chunk); r < end;
         ++r)
      fn(r);
  });
}

class Embedding final : public KernelInstance {
public:
  Embedding(const void *table, ElementType type, int64_t vocab, int64_t width,
            float scale, const int32_t *tokens, float *out)
      : table(table), type(type), vocab(vocab), width(width), scale(scale),
        tokens(tokens), out(out) {}
  void run(const RunContext &ctx) const override {
    for (int64_t t = 0; t < ctx.rows; ++t) {
      float *row = out + t * width;
      int64_t id = tokens[t];
      if (id < 0 || id >= vocab) { // Ids are checked before a run; stay safe.
        std::fill(row, row + width, 0.0f);
        continue;
      }
      const size_t base = static_cast<size_t>(id) * width;
      if (type == ElementType::F32) {
        const float *src = static_cast<const float *>(table) + base;
        for (int64_t i = 0; i < width; ++i)
          row[i] = src[i] * scale;
      } else {
        for (int64_t i = 0; i < width; ++i)
          row[i] = loadElement(table, type, base + i) * scale;
      }
    }
  }

private:
  const void *table;
  ElementType type;
  int64_t vocab, width;
  float scale;
  const int32_t *tokens;
  float *out;
};

class RmsNorm final : public KernelInstance {
public:
  RmsNorm(const float *in, float *out, int64_t width, int64_t group,
          const void *w, ElementType wType, float eps, float offset)
      : in(in), out(out), width(width), group(group), w(w), wType(wType),
        eps(eps), offset(offset) {}
  void run(const RunContext &ctx) const override {
    forRows(ctx, ctx.rows, width, [&](int64_t t) {
      rmsNorm(in + t * width, out + t * width, width, group, w, wType, eps,
              offset);
    });
  }

private:
  const float *in;
  float *out;
  int64_t width, group;
  const void *w;
  ElementType wType;
  float eps, offset;
};

class LayerNorm final : public KernelInstance {
public:
  LayerNorm(const float *in, float *out, int64_t width, const void *w,
            ElementType wType, const void *b, ElementType bType, float eps)
      : in(in), out(out), width(width), w(w), b(b), wType(wType), bType(bType),
        eps(eps) {}
  void run(const RunContext &ctx) const override {
    forRows(ctx, ctx.rows, width, [&](int64_t t) {
      layerNorm(in + t * width, out + t * width, width, w, b, wType, bType,
                eps);
    });
  }

private:
  const float *in;
  float *out;
  int64_t width;
  const void *w, *b;
  ElementType wType, bType;
  float eps;
};

class Linear final : public KernelInstance {
public:
  Linear(const float *in, float *out, int64_t k, int64_t n, const void *w,
         ElementType type, const float *bias)
      : args{in, k, k, w, bias, out, n}, type(type), n(n) {}
  void run(const RunContext &ctx) const override {
    runLinear(ctx, args, type, n, 0, ctx.rows);
  }

private:
  LinearArgs args;
  ElementType type;
  int64_t n;
};

class Logits final : public KernelInstance {
public:
  Logits(const float *in, float *out, int64_t k, int64_t n, const void *w,
         ElementType type, float scale, float softcap)
      : args{in, k, k, w, nullptr, out, n}, type(type), n(n), scale(scale),
        softcap(softcap) {}
  void run(const RunContext &ctx) const override {
    runLinear(ctx, args, type, n, ctx.logitsFrom, ctx.rows);
    if (scale == 1.0f && softcap == 0.0f)
      return;
    for (int64_t t = ctx.logitsFrom; t < ctx.rows; ++t) {
      float *row = args.y + t * n;
      for (int64_t i = 0; i < n; ++i) {
        float v = row[i] * scale;
        row[i] = softcap > 0.0f ? softcap * std::tanh(v / softcap) : v;
      }
    }
  }

private:
  LinearArgs args;
  ElementType type;
  int64_t n;
  float scale, softcap;
};

class Rope final : public KernelInstance {
public:
  Rope(const float *in, const int32_t *positions, float *out, int64_t width,
       const schema::RopeSpec &spec)
      : in(in), positions(positions), out(out), width(width),
        headDim(spec.head_dim()), rotary(spec.rotary_dim()),
        interleaved(spec.layout() == schema::RopeLayout::Interleaved),
        invFreq(spec.inv_freq()->begin(), spec.inv_freq()->end()),
        attentionFactor(spec.attention_factor()) {}
  void run(const RunContext &ctx) const override {
    forRows(ctx, ctx.rows, width * 8, [&](int64_t t) {
      rope(in + t * width, out + t * width, width, headDim, rotary, interleaved,
           invFreq.data(), attentionFactor, positions[t]);
    });
  }

private:
  const float *in;
  const int32_t *positions;
  float *out;
  int64_t width, headDim, rotary;
  bool interleaved;
  std::vector<double> invFreq;
  float attentionFactor;
};

/// Elementwise kernels over rows * width floats.
class Elementwise final : public KernelInstance {
public:
  enum class Op { Activation, Glu, Add, Mul, MulBroadcast };
  Elementwise(Op op, Activation act, const float *a, const float *b, float *out,
              int64_t width)
      : op(op), act(act), a(a), b(b), out(out), width(width) {}
  void run(const RunContext &ctx) const override {
    forRows(ctx, ctx.rows,
            width * (op == Op::Glu || op == Op::Activation ? 8 : 1),
            [&](int64_t t) { row(t, *ctx.simd); });
  }

private:
  void row(int64_t t, const SimdKernels &simd) const {
    const float *x = a + t * width;
    float *y = out + t * width;
    switch (op) {
    case Op::Activation:
      for (int64_t i = 0; i < width; ++i)
        y[i] = activate(act, x[i]);
      return;
    case Op::Glu: {
      const float *u = b + t * width;
      if (act == Activation::Silu) {
        simd.siluMul(x, u, y, width);
      } else {
        for (int64_t i = 0; i < width; ++i)
          y[i] = activate(act, x[i]) * u[i];
      }
      return;
    }
    case Op::Add: {
      const float *r = b + t * width;
      for (int64_t i = 0; i < width; ++i)
        y[i] = x[i] + r[i];
      return;
    }
    case Op::Mul: {
      const float *r = b + t * width;
      for (int64_t i = 0; i < width; ++i)
        y[i] = x[i] * r[i];
      return;
    }
    case Op::MulBroadcast: {
      float s = b[t];
      for (int64_t i = 0; i < width; ++i)
        y[i] = x[i] * s;
      return;
    }
    }
  }

  Op op;
  Activation act;
  const float *a, *b;
  float *out;
  int64_t width;
};

class MoeRoute final : public KernelInstance {
public:
  MoeRoute(const float *logits, float *weights, int32_t *indices,
           int64_t experts, const schema::MoeRouteSpec &spec)
      : logits(logits), weights(weights), indices(indices), experts(experts),
        topK(spec.top_k()),
        softmax(spec.scoring() == schema::RouterScoring::Softmax),
        normalize(spec.norm_topk_prob()) {}
  void run(const RunContext &ctx) const override {
    // Scores live in the caller's scratch: experts floats (>= 1 thread).
    for (int64_t t = 0; t < ctx.rows; ++t) {
      const float *l = logits + t * experts;
      float *score = ctx.scratch;
      if (softmax) {
        float max = *std::max_element(l, l + experts), sum = 0.0f;
        for (int64_t e = 0; e < experts; ++e)
          sum += score[e] = std::exp(l[e] - max);
        for (int64_t e = 0; e < experts; ++e)
          score[e] /= sum;
      } else {
        for (int64_t e = 0; e < experts; ++e)
          score[e] = 1.0f / (1.0f + std::exp(-l[e]));
      }
      float *w = weights + t * topK;
      int32_t *idx = indices + t * topK;
      float total = 0.0f;
      for (int64_t j = 0; j < topK; ++j) {
        int64_t best = -1;
        for (int64_t e = 0; e < experts; ++e) {
          bool taken = false;
          for (int64_t i = 0; i < j; ++i)
            taken |= idx[i] == e;
          if (!taken && (best < 0 || score[e] > score[best]))
            best = e;
        }
        idx[j] = static_cast<int32_t>(best);
        w[j] = score[best];
        total += w[j];
      }
      if (normalize && total > 0.0f)
        for (int64_t j = 0; j < topK; ++j)
          w[j] /= total;
    }
  }

private:
  const float *logits;
  float *weights;
  int32_t *indices;
  int64_t experts, topK;
  bool softmax, normalize;
};

class MoeCombine final : public KernelInstance {
public:
  MoeCombine(const float *weights, const int32_t *indices,
             std::vector<const float *> experts, float *out, int64_t topK,
             int64_t width)
      : weights(weights), indices(indices), experts(std::move(experts)),
        out(out), topK(topK), width(width) {}
  void run(const RunContext &ctx) const override {
    forRows(ctx, ctx.rows, width * topK, [&](int64_t t) {
      float *y = out + t * width;
      std::fill(y, y + width, 0.0f);
      for (int64_t j = 0; j < topK; ++j) {
        int64_t e = indices[t * topK + j];
        if (e < 0 || e >= static_cast<int64_t>(experts.size()))
          continue;
        float w = weights[t * topK + j];
        const float *x = experts[e] + t * width;
        for (int64_t i = 0; i < width; ++i)
          y[i] += w * x[i];
      }
    });
  }

private:
  const float *weights;
  const int32_t *indices;
  std::vector<const float *> experts;
  float *out;
  int64_t topK, width;
};

/// Row 0 of out and outPositions = the run's last row of in and positions.
class LastRow final : public KernelInstance {
public:
  LastRow(const float *in, const int32_t *positions, float *out,
          int32_t *outPositions, int64_t width)
      : in(in), positions(positions), out(out), outPositions(outPositions),
        width(width) {}

  void run(const RunContext &ctx) const override {
    std::memmove(out, in + (ctx.rows - 1) * width, width * sizeof(float));
    outPositions[0] = positions[ctx.rows - 1];
  }

private:
  const float *in;
  const int32_t *positions;
  float *out;
  int32_t *outPositions;
  int64_t width;
};

} // namespace

void runLinear(const RunContext &ctx, const LinearArgs &args, ElementType type,
               int64_t n, int64_t t0, int64_t t1) {
  LinearFn fn = ctx.simd->linear[static_cast<int>(type)];
  int64_t rows = t1 - t0;
  int64_t threads = ctx.pool->size();
  int64_t work = rows * n * args.k;
  if (rows <= 0)
    return;
  if (threads == 1 || work < 4 * kMinWorkPerTask) {
    fn(args, 0, n, t0, t1);
    return;
  }
  // With rows enough for every thread, each task takes every token: the
  // weights stream from memory once per product (in token blocks of 32, a
  // 512-token prefill of f16 weights read them 16 times, ~27 GB for the
  // 853M Llama). The kernel keeps a chunk of rows in L2 while the tokens'
  // tiles pass. Otherwise token blocks make the tasks (of 32 tokens or
  // more when the product has 32: none straddles kFloatPanelMinTokens).
  int64_t wantTasks = 4 * threads;
  const TokenBlocks blocks(
      rows, rows <= 16 || n >= wantTasks * 64 ? rows : 32);
  int64_t nChunks =
      std::max<int64_t>(1, (wantTasks + blocks.count - 1) / blocks.count);
  // Whole panels of 32 rows where the product runs as a GEMM
  // (FloatPanels.inc), groups of 4 rows (microTile) otherwise.
  const int64_t rowGroup = rows >= kFloatPanelMinTokens ? 32 : 4;
  int64_t nChunk = std::max<int64_t>(rowGroup, (n + nChunks - 1) / nChunks);
  nChunk = (nChunk + rowGroup - 1) / rowGroup * rowGroup;
  nChunks = (n + nChunk - 1) / nChunk;
  ctx.pool->run(blocks.count * nChunks, [&](int64_t task, int) {
    int64_t tb = task / nChunks, nc = task % nChunks;
    int64_t n0 = nc * nChunk, n1 = std::min(n, n0 + nChunk);
    fn(args, n0, n1, t0 + blocks.begin(tb), t0 + blocks.end(tb));
  });
}

absl::StatusOr<Program> bindProgram(const schema::Program &program,
                                    Memory &memory) {
  const schema::Artifact &artifact = memory.artifact->root();
  Program bound;
  bound.maxTokens = program.max_tokens();
  auto buffer = [&](uint32_t index) -> uint8_t * {
    return memory.arena + program.buffers()->Get(index)->offset();
  };
  auto f32 = [&](uint32_t index) {
    return reinterpret_cast<float *>(buffer(index));
  };
  auto i32 = [&](uint32_t index) {
    return reinterpret_cast<int32_t *>(buffer(index));
  };
  auto width = [&](uint32_t index) {
    return program.buffers()->Get(index)->width();
  };
  auto tensorData = [&](int32_t index) -> const void * {
    return index < 0 ? nullptr : memory.artifact->tensorData(index);
  };
  auto tensorType = [&](int32_t index) {
    return index < 0 ? ElementType::F32
                     : elementType(artifact.tensors()->Get(index)->dtype());
  };
  auto bias = [&](int32_t index) -> const float * {
    if (index < 0)
      return nullptr;
    const schema::Tensor *t = artifact.tensors()->Get(index);
    std::vector<float> values(t->shape()->Get(0));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = loadElement(tensorData(index), tensorType(index), i);
    memory.biases.push_back(std::move(values));
    return memory.biases.back().data();
  };

  // The fused MoE kernels of this program share one workspace.
  auto moeWorkspace = std::make_shared<std::vector<float>>();
  // Quantized activations for the packed-weight kernels, one per program.
  auto quantScratch = std::make_shared<QuantActivations>();
  // Quantized activations for the ggml block kernels' integer products.
  auto ggmlScratch = std::make_shared<GgmlActivations>();
  absl::StatusOr<GgmlProduct> ggmlProduct = ggmlProductFromEnvironment();
  if (!ggmlProduct.ok())
    return ggmlProduct.status();

  bound.tokens = i32(program.tokens());
  bound.positions = i32(program.positions());
  bound.logits = f32(program.logits());
  for (const schema::Kernel *k : *program.kernels()) {
    const auto &in = *k->inputs();
    const auto &out = *k->outputs();
    std::unique_ptr<KernelInstance> instance;
    switch (k->spec_type()) {
    case schema::KernelSpec::EmbeddingSpec: {
      const auto *s = k->spec_as_EmbeddingSpec();
      if (isGgmlTensor(artifact, s->table())) {
        instance = makeGgmlEmbedding(
            ggmlWeights(*artifact.tensors()->Get(s->table()),
                        tensorData(s->table())),
            i32(in[0]), f32(out[0]), s->scale());
        break;
      }
      if (isPackedTensor(artifact, s->table())) {
        instance = makeQuantEmbedding(
            packedWeights(*artifact.tensors()->Get(s->table()),
                          tensorData(s->table())),
            i32(in[0]), f32(out[0]), s->scale());
        break;
      }
      instance = std::make_unique<Embedding>(
          tensorData(s->table()), tensorType(s->table()),
          artifact.tensors()->Get(s->table())->shape()->Get(0), width(out[0]),
          s->scale(), i32(in[0]), f32(out[0]));
      break;
    }
    case schema::KernelSpec::RmsNormSpec: {
      const auto *s = k->spec_as_RmsNormSpec();
      instance = std::make_unique<RmsNorm>(
          f32(in[0]), f32(out[0]), width(in[0]), s->group_size(),
          tensorData(s->weight()), tensorType(s->weight()), s->eps(),
          s->weight_offset());
      break;
    }
    case schema::KernelSpec::LayerNormSpec: {
      const auto *s = k->spec_as_LayerNormSpec();
      instance = std::make_unique<LayerNorm>(
          f32(in[0]), f32(out[0]), width(in[0]), tensorData(s->weight()),
          tensorType(s->weight()), tensorData(s->bias()), tensorType(s->bias()),
          s->eps());
      break;
    }
    case schema::KernelSpec::LinearSpec: {
      const auto *s = k->spec_as_LinearSpec();
      if (isGgmlTensor(artifact, s->weight())) {
        instance = makeGgmlLinear(
            ggmlWeights(*artifact.tensors()->Get(s->weight()),
                        tensorData(s->weight())),
            f32(in[0]), f32(out[0]), bias(s->bias()), /*logits=*/false, 1.0f,
            0.0f, *ggmlProduct, ggmlScratch);
        break;
      }
      if (isPackedTensor(artifact, s->weight())) {
        instance = makeQuantLinear(
            packedWeights(*artifact.tensors()->Get(s->weight()),
                          tensorData(s->weight())),
            f32(in[0]), f32(out[0]), bias(s->bias()), bound.maxTokens,
            /*logits=*/false, 1.0f, 0.0f, quantScratch);
        break;
      }
      instance = std::make_unique<Linear>(
          f32(in[0]), f32(out[0]), width(in[0]), width(out[0]),
          tensorData(s->weight()), tensorType(s->weight()), bias(s->bias()));
      break;
    }
    case schema::KernelSpec::LogitsSpec: {
      const auto *s = k->spec_as_LogitsSpec();
      if (isGgmlTensor(artifact, s->weight())) {
        instance = makeGgmlLinear(
            ggmlWeights(*artifact.tensors()->Get(s->weight()),
                        tensorData(s->weight())),
            f32(in[0]), f32(out[0]), nullptr, /*logits=*/true, s->scale(),
            s->softcap(), *ggmlProduct, ggmlScratch);
        break;
      }
      if (isPackedTensor(artifact, s->weight())) {
        instance = makeQuantLinear(
            packedWeights(*artifact.tensors()->Get(s->weight()),
                          tensorData(s->weight())),
            f32(in[0]), f32(out[0]), nullptr, bound.maxTokens,
            /*logits=*/true, s->scale(), s->softcap(), quantScratch);
        break;
      }
      instance = std::make_unique<Logits>(
          f32(in[0]), f32(out[0]), width(in[0]), width(out[0]),
          tensorData(s->weight()), tensorType(s->weight()), s->scale(),
          s->softcap());
      break;
    }
    case schema::KernelSpec::LastRowSpec:
      if (bound.lastRowFrom >= 0)
        return absl::InvalidArgumentError(
            "a program keeps its last row (last_row) more than once");
      instance = std::make_unique<LastRow>(f32(in[0]), i32(in[1]), f32(out[0]),
                                           i32(out[1]), width(in[0]));
      bound.lastRowFrom = static_cast<int64_t>(bound.kernels.size()) + 1;
      break;
    case schema::KernelSpec::RopeSpec:
      instance = std::make_unique<Rope>(f32(in[0]), i32(in[1]), f32(out[0]),
                                        width(in[0]), *k->spec_as_RopeSpec());
      break;
    case schema::KernelSpec::AttentionSpec: {
      const auto *s = k->spec_as_AttentionSpec();
      bool writes = s->writes() >= 0;
      instance = makeAttention(
          *s, f32(in[0]), writes ? f32(in[1]) : nullptr,
          writes ? f32(in[2]) : nullptr, i32(in[in.size() - 1]), f32(out[0]),
          memory.caches[s->reads()], writes, &bound.scratchFloats);
      break;
    }
    case schema::KernelSpec::KvAppendSpec:
      instance = makeKvAppend(f32(in[0]), f32(in[1]), i32(in[2]),
                              memory.caches[k->spec_as_KvAppendSpec()->cache()]);
      break;
    case schema::KernelSpec::ActivationSpec:
      instance = std::make_unique<Elementwise>(
          Elementwise::Op::Activation,
          static_cast<Activation>(k->spec_as_ActivationSpec()->kind()),
          f32(in[0]), nullptr, f32(out[0]), width(in[0]));
      break;
    case schema::KernelSpec::GluSpec:
      instance = std::make_unique<Elementwise>(
          Elementwise::Op::Glu,
          static_cast<Activation>(k->spec_as_GluSpec()->kind()), f32(in[0]),
          f32(in[1]), f32(out[0]), width(in[0]));
      break;
    case schema::KernelSpec::AddSpec:
      instance = std::make_unique<Elementwise>(
          Elementwise::Op::Add, Activation::Relu, f32(in[0]), f32(in[1]),
          f32(out[0]), width(in[0]));
      break;
    case schema::KernelSpec::MulSpec:
      instance = std::make_unique<Elementwise>(
          width(in[1]) == 1 && width(in[0]) != 1 ? Elementwise::Op::MulBroadcast
                                                 : Elementwise::Op::Mul,
          Activation::Relu, f32(in[0]), f32(in[1]), f32(out[0]), width(in[0]));
      break;
    case schema::KernelSpec::MoeRouteSpec: {
      const auto *s = k->spec_as_MoeRouteSpec();
      bound.scratchFloats =
          std::max<int64_t>(bound.scratchFloats, width(in[0]));
      instance = std::make_unique<MoeRoute>(f32(in[0]), f32(out[0]),
                                            i32(out[1]), width(in[0]), *s);
      break;
    }
    case schema::KernelSpec::MoeCombineSpec: {
      std::vector<const float *> experts;
      for (size_t i = 2; i < in.size(); ++i)
        experts.push_back(f32(in[i]));
      instance = std::make_unique<MoeCombine>(f32(in[0]), i32(in[1]),
                                              std::move(experts), f32(out[0]),
                                              width(in[0]), width(out[0]));
      break;
    }
    case schema::KernelSpec::MoeSpec: {
      const auto *s = k->spec_as_MoeSpec();
      auto dims = [&](int32_t index) {
        return artifact.tensors()->Get(index)->shape();
      };
      auto weight = [&](int32_t index) {
        WeightRef ref{tensorData(index), tensorType(index)};
        if (isPackedTensor(artifact, index))
          ref.packed =
              packedWeights(*artifact.tensors()->Get(index), tensorData(index));
        return ref;
      };
      MoeShape shape;
      shape.width = width(in[0]);
      shape.experts = dims(s->router())->Get(0);
      shape.inter = dims(s->gate_up())->Get(1) / 2;
      shape.sharedInter =
          s->shared_gate_up() < 0 ? 0 : dims(s->shared_gate_up())->Get(0) / 2;
      shape.topK = s->top_k();
      shape.maxTokens = program.max_tokens();
      MoeWeights weights{weight(s->router()),
                         weight(s->gate_up()),
                         weight(s->down()),
                         weight(s->shared_gate_up()),
                         weight(s->shared_down()),
                         weight(s->shared_gate())};
      instance = makeMoe(
          shape, weights, static_cast<Activation>(s->activation()),
          s->scoring() == schema::RouterScoring::Softmax, s->norm_topk_prob(),
          f32(in[0]), f32(out[0]), moeWorkspace, quantScratch);
      break;
    }
    case schema::KernelSpec::TrackCombineSpec: {
      std::vector<const float *> tracks;
      for (uint32_t index : in)
        tracks.push_back(f32(index));
      bool mean = k->spec_as_TrackCombineSpec()->combine() ==
                  schema::TrackCombine::Mean;
      instance = makeTrackCombine(std::move(tracks), f32(out[0]),
                                  width(out[0]), mean);
      break;
    }
    case schema::KernelSpec::AllReduceSpec: {
      // createDevice's checkTrackPartition turned a part without its
      // collective away already.
      if (!memory.collective)
        return absl::FailedPreconditionError(
            "an all-reduce kernel without the processes of a track-parallel "
            "run");
      std::vector<const float *> partials;
      std::vector<float *> outs;
      for (size_t i = 0; i < out.size(); ++i) {
        partials.push_back(f32(in[i]));
        outs.push_back(f32(out[i]));
      }
      instance = makeAllReduce(std::move(partials), std::move(outs),
                               width(out[0]),
                               k->spec_as_AllReduceSpec()->scale(), memory);
      break;
    }
    case schema::KernelSpec::GroupedLinearSpec: {
      const auto *s = k->spec_as_GroupedLinearSpec();
      std::vector<const float *> inputs;
      std::vector<float *> outputs;
      for (uint32_t index : in)
        inputs.push_back(f32(index));
      for (uint32_t index : out)
        outputs.push_back(f32(index));
      instance = makeGroupedLinear(std::move(inputs), std::move(outputs),
                                   tensorData(s->weight()),
                                   tensorType(s->weight()), width(in[0]),
                                   width(out[0]));
      break;
    }
    default:
      return absl::UnimplementedError(
          absl::StrCat("the cpu backend has no kernel for family ",
                       static_cast<int>(k->spec_type())));
    }
    bound.kernels.push_back(std::move(instance));
  }
  return bound;
}

} // namespace fmc::cpu
