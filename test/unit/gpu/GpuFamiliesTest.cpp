//===- GpuFamiliesTest.cpp - attention and MoE lowerings to dispatches ----===//
//
// Plans holding only attention or MoE kernels (parsed without the plan
// verifier, which would want an embedding to write q first) go through
// buildGpuProgram: the dispatch sequence, grids and bindings each family
// emits, the specialized kernels lowering to valid SPIR-V and to PTX that
// ptxas assembles, and the messages for configurations the kernels do not
// support. The kernels' arithmetic is tested on a Vulkan device by
// test/Lowering/GPU/Templates.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmDialect.h"
#include "dialects/plan/IR/PlanDialect.h"
#include "lowering/cuda/PtxLowering.h"
#include "lowering/gpu/GpuProgram.h"
#include "lowering/gpu/KernelTemplates.h"
#include "lowering/spirv/SpirvLowering.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

namespace {

using fmc::gpu::Binding;
using fmc::gpu::GpuProgram;
using fmc::gpu::Memory;

class GpuFamiliesTest : public ::testing::Test {
protected:
  GpuFamiliesTest() {
    context.loadDialect<mlir::fm::FmDialect, mlir::plan::PlanDialect>();
    fmc::gpu::loadKernelDialects(context);
  }

  /// The GPU program of a plan, or the lowering's error message.
  llvm::Expected<GpuProgram> build(const std::string &plan) {
    mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
    module = mlir::parseSourceString<mlir::ModuleOp>(plan, config);
    if (!module)
      return llvm::createStringError("test plan does not parse");
    return fmc::gpu::buildGpuProgram(*module);
  }

  std::string error(const std::string &plan) {
    llvm::Expected<GpuProgram> program = build(plan);
    if (program)
      return "no error";
    return llvm::toString(program.takeError());
  }

  /// Entry names of a program's dispatches, without the specialization
  /// suffix (`attention_3` -> `attention`).
  static std::vector<std::string> entries(const GpuProgram &program) {
    std::vector<std::string> names;
    for (const fmc::gpu::Dispatch &d : program.prefill.dispatches) {
      std::string name = program.entryPoints[d.entry].name;
      names.push_back(name.substr(0, name.rfind('_')));
    }
    return names;
  }

  static void lowersForBothTargets(const GpuProgram &program) {
    llvm::Expected<std::vector<uint32_t>> words = fmc::spirv::lowerToSpirv(
        *program.kernels, fmc::spirv::SpirvOptions());
    ASSERT_TRUE(static_cast<bool>(words)) << llvm::toString(words.takeError());
    fmc::cuda::PtxOptions options;
    options.chip = "sm_80";
    llvm::Expected<std::string> ptx =
        fmc::cuda::lowerToPtx(*program.kernels, options);
    ASSERT_TRUE(static_cast<bool>(ptx)) << llvm::toString(ptx.takeError());
    EXPECT_NE(ptx->find("shfl.sync.bfly"), std::string::npos);
    std::string ptxas = FMC_PTXAS_PATH;
    if (ptxas.empty())
      GTEST_SKIP() << "no ptxas (CUDA toolkit) on this machine";
    llvm::Expected<std::string> cubin =
        fmc::cuda::assembleCubin(*ptx, "sm_80", ptxas);
    ASSERT_TRUE(static_cast<bool>(cubin)) << llvm::toString(cubin.takeError());
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

/// Attention kernels over `caches`, on q (4 heads of `dim`), k and v (2 KV
/// heads), positions and outputs of a prefill of up to 8 rows.
std::string attentionPlan(const std::string &caches,
                          const std::string &kernels, int dim = 16) {
  std::string q = "!plan.rows<" + std::to_string(4 * dim) + ", f32>";
  std::string kv = "!plan.rows<" + std::to_string(2 * dim) + ", f32>";
  return "module {\n" + caches +
         "  plan.program @prefill max_tokens = 8, arena_bytes = 1048576 {\n"
         "    %t = plan.buffer offset = 0 : !plan.rows<1, i32>\n"
         "    %p = plan.buffer offset = 64 : !plan.rows<1, i32>\n"
         "    %q = plan.buffer offset = 128 : " + q + "\n"
         "    %k = plan.buffer offset = 65536 : " + kv + "\n"
         "    %v = plan.buffer offset = 131072 : " + kv + "\n"
         "    %a = plan.buffer offset = 196608 : " + q + "\n"
         "    %b = plan.buffer offset = 262144 : " + q + "\n"
         "    %c = plan.buffer offset = 327680 : " + q + "\n" +
         kernels +
         "    plan.io tokens(%t) positions(%p) logits(%c) : "
         "!plan.rows<1, i32>, !plan.rows<1, i32>, " + q + "\n"
         "  }\n}\n";
}

const char *kWriterTypes =
    ": !plan.rows<64, f32>, !plan.rows<32, f32>, !plan.rows<32, f32>, "
    "!plan.rows<1, i32>, !plan.rows<64, f32>\n";

TEST_F(GpuFamiliesTest, AttentionWritersAppendBeforeOrAfterAndReadersOnlyRead) {
  std::string plan = attentionPlan(
      "  fm.kv_cache @lin linear capacity = 64, kv_heads = 2, head_dim = 16 : "
      "f32\n"
      "  fm.kv_cache @ring ring capacity = 12, kv_heads = 2, head_dim = 16 : "
      "i8\n",
      std::string("    plan.attention global %q, %k, %v at %p reads @lin "
                  "writes @lin -> %a heads = 4, kv_heads = 2, head_dim = 16 "
                  "scale = 0.25 ") +
          kWriterTypes +
          "    plan.attention local %a, %k, %v at %p reads @ring writes @ring "
          "-> %b heads = 4, kv_heads = 2, head_dim = 16 scale = 0.25 "
          "{window = 8 : i64, softcap = 50.0 : f64} " +
          kWriterTypes +
          "    plan.attention local %b at %p reads @ring -> %c heads = 4, "
          "kv_heads = 2, head_dim = 16 scale = 0.25 {window = 8 : i64} : "
          "!plan.rows<64, f32>, !plan.rows<1, i32>, !plan.rows<64, f32>\n");
  llvm::Expected<GpuProgram> program = build(plan);
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  // Linear writer: append keys and values, attend. Int8 ring writer: round
  // its in-flight rows, attend, append. Reader: attend.
  EXPECT_EQ(entries(*program),
            (std::vector<std::string>{"kv_append", "kv_append", "attention",
                                      "kv_round_trip", "kv_round_trip",
                                      "attention", "kv_append", "kv_append",
                                      "attention"}));
  const auto &d = program->prefill.dispatches;
  // Appends run per (row, KV head); attention per (tile of rows, KV head):
  // here one tile of the program's 8 rows times the group's 2 query heads,
  // a thread per 4 features of each of the 16 queries.
  EXPECT_EQ(d[0].grid, (std::array<uint32_t, 3>{8, 2, 1}));
  EXPECT_EQ(d[2].grid, (std::array<uint32_t, 3>{1, 2, 1}));
  // The whole cache is one binding: f32 keys and values of 64 positions;
  // int8 ones of 12 positions plus an f32 scale per position, head, K/V.
  ASSERT_EQ(d[2].bindings.size(), 7u);
  const Binding &lin = d[2].bindings[4];
  EXPECT_EQ(lin.memory, Memory::Caches);
  EXPECT_EQ(lin.symbol, "lin");
  EXPECT_EQ(lin.bytes, 2u * 64 * 2 * 16 * 4);
  const Binding &ring = d[5].bindings[4];
  EXPECT_EQ(ring.symbol, "ring");
  EXPECT_EQ(ring.bytes, 2u * 12 * 2 * 16 + 2u * 12 * 2 * 4);
  // A reader has no k or v: q stands in for them.
  EXPECT_EQ(d[8].bindings[1].offset, d[8].bindings[0].offset);
  EXPECT_EQ(d[8].bindings[6].memory, Memory::Run);
  for (const fmc::gpu::Dispatch &dispatch : d)
    EXPECT_EQ(program->entryPoints[dispatch.entry].workgroupSize,
              (std::array<uint32_t, 3>{64, 1, 1}));
  lowersForBothTargets(*program);
}

TEST_F(GpuFamiliesTest, WideHeadsGetWiderWorkgroups) {
  std::string plan = attentionPlan(
      "  fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 128 : "
      "f16\n",
      "    plan.attention global %q, %k, %v at %p reads @c writes @c -> %a "
      "heads = 4, kv_heads = 2, head_dim = 128 scale = 0.1 : "
      "!plan.rows<512, f32>, !plan.rows<256, f32>, !plan.rows<256, f32>, "
      "!plan.rows<1, i32>, !plan.rows<512, f32>\n",
      128);
  llvm::Expected<GpuProgram> program = build(plan);
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  // The appends take a thread per feature; attention a thread per 4
  // features of each query it serves: 8 rows x 2 heads x 32.
  for (const fmc::gpu::Dispatch &dispatch : program->prefill.dispatches)
    EXPECT_EQ(program->entryPoints[dispatch.entry].workgroupSize,
              (std::array<uint32_t, 3>{
                  dispatch.entry == program->prefill.dispatches.back().entry
                      ? 512u
                      : 128u,
                  1, 1}));
}

TEST_F(GpuFamiliesTest, UnsupportedAttentionShapesAreNamed) {
  auto writer = [](const std::string &cache, int dim) {
    std::string q = "!plan.rows<" + std::to_string(4 * dim) + ", f32>";
    std::string kv = "!plan.rows<" + std::to_string(2 * dim) + ", f32>";
    return "    plan.attention global %q, %k, %v at %p reads @" + cache +
           " writes @" + cache + " -> %a heads = 4, kv_heads = 2, head_dim = " +
           std::to_string(dim) + " scale = 0.1 : " + q + ", " + kv + ", " +
           kv + ", !plan.rows<1, i32>, " + q + "\n";
  };
  EXPECT_EQ(error(attentionPlan("  fm.kv_cache @big linear capacity = 4, "
                                "kv_heads = 2, head_dim = 320 : f32\n",
                                writer("big", 320), 320)),
            "GPU lowering of kernel 0 (plan.attention) of @prefill: attention "
            "over KV cache 'big' has head_dim 320: the GPU kernels support "
            "head_dim up to 256");
  EXPECT_EQ(error(attentionPlan("  fm.kv_cache @odd linear capacity = 4, "
                                "kv_heads = 2, head_dim = 6 : i8\n",
                                writer("odd", 6), 6)),
            "GPU lowering of kernel 0 (plan.attention) of @prefill: KV cache "
            "'odd' has head_dim 6: the GPU kernels need each head's row of "
            "cached elements to be whole 32-bit words (head_dim even for "
            "f16/bf16, a multiple of 4 for i8)");
  EXPECT_EQ(
      error(attentionPlan(
          "  fm.kv_cache @a linear capacity = 4, kv_heads = 2, head_dim = 16 "
          ": f32\n  fm.kv_cache @b linear capacity = 4, kv_heads = 2, "
          "head_dim = 16 : f32\n",
          std::string("    plan.attention global %q, %k, %v at %p reads @a "
                      "writes @b -> %a heads = 4, kv_heads = 2, head_dim = 16 "
                      "scale = 0.25 ") +
              kWriterTypes)),
      "GPU lowering of kernel 0 (plan.attention) of @prefill: attention "
      "writes KV cache 'b' but reads 'a': the GPU kernels attend over the "
      "cache they write");
}

/// A prefill plan (4 rows) of one fused MoE layer (width 128, 4 experts of
/// 64, top 2) with a gated shared expert, expert stacks stored as `stack`.
std::string moePlan(const std::string &stack) {
  return "module {\n"
         "  fm.param @router : tensor<4x128xf32> from #fm.external<\"w\", "
         "offset = 0, dtype = f32>\n"
         "  fm.param @gate_up : tensor<4x128x128x" + stack + "\n"
         "  fm.param @down : tensor<4x128x64x" + stack + "\n"
         "  fm.param @sgu : tensor<64x128xf32> from #fm.external<\"w\", "
         "offset = 0, dtype = f16>\n"
         "  fm.param @sd : tensor<128x32xf32> from #fm.external<\"w\", "
         "offset = 0, dtype = bf16>\n"
         "  fm.param @sg : tensor<1x128xf32> from #fm.external<\"w\", "
         "offset = 0, dtype = f32>\n"
         "  plan.program @prefill max_tokens = 4, arena_bytes = 8192 {\n"
         "    %t = plan.buffer offset = 0 : !plan.rows<1, i32>\n"
         "    %p = plan.buffer offset = 64 : !plan.rows<1, i32>\n"
         "    %x = plan.buffer offset = 128 : !plan.rows<128, f32>\n"
         "    %y = plan.buffer offset = 4096 : !plan.rows<128, f32>\n"
         "    plan.moe softmax %x -> %y router @router gate_up @gate_up down "
         "@down top_k = 2 activation = silu shared(@sgu, @sd) shared_gate @sg "
         "{norm_topk_prob = true} : !plan.rows<128, f32>, !plan.rows<128, f32>\n"
         "    plan.io tokens(%t) positions(%p) logits(%y) : "
         "!plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<128, f32>\n"
         "  }\n}\n";
}

TEST_F(GpuFamiliesTest, FusedMoeRunsOnlyTheSelectedExpertsFromPackedStacks) {
  llvm::Expected<GpuProgram> program =
      build(moePlan("f32, #fm.quant<bits = 2, grid = balanced, group_size = "
                    "64, scale_type = f16, layout = row_major>> from "
                    "#fm.external<\"w\", offset = 0, dtype = f32>"));
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  // gate_up (K 128, whole int8 blocks) runs as a grouped GEMM on matrix
  // units with its GLU fused; down (K 64) on the grouped matvec template.
  // The shared expert's f16 gate_up (K 128, whole tiles of 64) is a GEMM of
  // one expert over the rows; its bf16 down (K 32) stays a matvec.
  EXPECT_EQ(entries(*program),
            (std::vector<std::string>{
                "moe_matvec", "moe_route", "moe_group", "moe_gemm_q2_mma",
                "moe_matvec", "moe_weighted_sum", "moe_gemm_f16_mma",
                "moe_matvec", "moe_matvec", "moe_add_shared"}));
  const auto &d = program->prefill.dispatches;
  // Router: (rows, experts); the slots grouped by expert, a workgroup each;
  // gate_up: (row tiles of 32 gate rows, experts, token splits); down:
  // (experts, width). The shared gate_up: one row tile of its 32 gate
  // rows; its down (rows, width).
  EXPECT_EQ(d[0].grid, (std::array<uint32_t, 3>{4, 4, 1}));
  EXPECT_EQ(d[2].grid, (std::array<uint32_t, 3>{4, 1, 1}));
  EXPECT_EQ(d[3].grid, (std::array<uint32_t, 3>{2, 4, 1}));
  EXPECT_EQ(d[4].grid, (std::array<uint32_t, 3>{4, 128, 1}));
  EXPECT_EQ(d[6].grid, (std::array<uint32_t, 3>{1, 1, 1}));
  EXPECT_EQ(d[7].grid, (std::array<uint32_t, 3>{4, 128, 1}));
  // Without lists the shared GEMM binds input, run, weights, output.
  EXPECT_EQ(d[6].bindings.size(), 4u);
  EXPECT_EQ(d[6].bindings[2].symbol, "sgu");
  EXPECT_EQ(d[7].bindings[0].offset, d[6].bindings[3].offset);
  // The expert stack is bound whole (2-bit codes and f16 scales of all 512
  // rows); the selected rows are found through the expert lists that
  // moe_group writes to scratch (starts of 4 experts, then 8 slots). The
  // GEMM binds the input, the run, the lists, the stack and the GLU's
  // output, which is down's input.
  const Binding &gateUp = d[3].bindings[3];
  EXPECT_EQ(gateUp.memory, Memory::Weights);
  EXPECT_EQ(gateUp.symbol, "gate_up");
  EXPECT_EQ(gateUp.bytes, 512u * 32 + 512u * 2 * 2);
  const Binding &lists = d[3].bindings[2];
  EXPECT_EQ(lists.memory, Memory::Scratch);
  EXPECT_EQ(lists.bytes, (4u + 1 + 8) * 4);
  EXPECT_EQ(d[2].bindings[1].offset, lists.offset);
  EXPECT_EQ(d[4].bindings[3].offset, lists.offset);
  const Binding &hidden = d[3].bindings[4];
  EXPECT_EQ(hidden.bytes, 8u * 64 * 4);
  EXPECT_EQ(d[4].bindings[0].offset, hidden.offset);
  EXPECT_GT(program->prefill.scratchBytes, 0u);
  lowersForBothTargets(*program);

  // A program of one row (decode) keeps one workgroup per (slot, output):
  // top_k slots fill its grid, where every expert would mostly idle.
  std::string oneRow = moePlan("f32> from #fm.external<\"w\", offset = 0, "
                               "dtype = f32>");
  oneRow.replace(oneRow.find("max_tokens = 4"), 14, "max_tokens = 1");
  llvm::Expected<GpuProgram> decode = build(oneRow);
  ASSERT_TRUE(static_cast<bool>(decode)) << llvm::toString(decode.takeError());
  EXPECT_EQ(entries(*decode),
            (std::vector<std::string>{
                "moe_matvec", "moe_route", "moe_matvec", "moe_glu",
                "moe_matvec", "moe_weighted_sum", "moe_matvec", "moe_glu",
                "moe_matvec", "moe_matvec", "moe_add_shared"}));
  EXPECT_EQ(decode->prefill.dispatches[2].grid,
            (std::array<uint32_t, 3>{2, 128, 1}));
}

TEST_F(GpuFamiliesTest, MoeRouteAndCombineLowerPerRowAndPerExpert) {
  std::string plan =
      "module {\n"
      "  plan.program @prefill max_tokens = 4, arena_bytes = 8192 {\n"
      "    %t = plan.buffer offset = 0 : !plan.rows<1, i32>\n"
      "    %p = plan.buffer offset = 64 : !plan.rows<1, i32>\n"
      "    %l = plan.buffer offset = 128 : !plan.rows<3, f32>\n"
      "    %w = plan.buffer offset = 256 : !plan.rows<2, f32>\n"
      "    %i = plan.buffer offset = 384 : !plan.rows<2, i32>\n"
      "    %e0 = plan.buffer offset = 512 : !plan.rows<16, f32>\n"
      "    %e1 = plan.buffer offset = 1024 : !plan.rows<16, f32>\n"
      "    %e2 = plan.buffer offset = 1536 : !plan.rows<16, f32>\n"
      "    %y = plan.buffer offset = 2048 : !plan.rows<16, f32>\n"
      "    plan.moe_route sigmoid %l -> %w, %i top_k = 2 : !plan.rows<3, "
      "f32>, !plan.rows<2, f32>, !plan.rows<2, i32>\n"
      "    plan.moe_combine %w, %i [%e0, %e1, %e2] -> %y : !plan.rows<2, "
      "f32>, !plan.rows<2, i32>, !plan.rows<16, f32>, !plan.rows<16, f32>, "
      "!plan.rows<16, f32>, !plan.rows<16, f32>\n"
      "    plan.io tokens(%t) positions(%p) logits(%y) : !plan.rows<1, i32>, "
      "!plan.rows<1, i32>, !plan.rows<16, f32>\n"
      "  }\n}\n";
  llvm::Expected<GpuProgram> program = build(plan);
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  EXPECT_EQ(entries(*program),
            (std::vector<std::string>{"moe_route", "moe_combine_expert",
                                      "moe_combine_expert",
                                      "moe_combine_expert"}));
  // Expert e's dispatch binds expert e's rows.
  const auto &d = program->prefill.dispatches;
  EXPECT_EQ(d[1].bindings[2].offset, 512u);
  EXPECT_EQ(d[3].bindings[2].offset, 1536u);
  // Three distinct specializations: the first starts from zero.
  EXPECT_NE(d[1].entry, d[2].entry);
  EXPECT_NE(d[2].entry, d[3].entry);
}

TEST_F(GpuFamiliesTest, UnsupportedExpertWeightFormatsAreNamed) {
  EXPECT_EQ(error(moePlan("f32> from #fm.external<\"w\", offset = 0, dtype = "
                          "q8_0>")),
            "GPU lowering of kernel 0 (plan.moe) of @prefill: parameter "
            "'gate_up' is a stack of experts in ggml blocks ('q8_0'); the "
            "fused GPU mixture-of-experts kernels read f32, f16, bf16 and "
            "packed 2-/4-bit stacks (ggml experts run expert by expert: "
            "fm-fuse-moe leaves them unstacked)");
}

TEST_F(GpuFamiliesTest, ExpertGemmGridsPastTheLimitAreNamed) {
  // Experts of 2,097,152 features: 65,536 row tiles of 32 gate rows, one
  // more than a grid dimension may have.
  std::string plan = moePlan("f32> from #fm.external<\"w\", offset = 0, "
                             "dtype = f16>");
  plan.replace(plan.find("tensor<4x128x128x"), 17, "tensor<4x4194304x128x");
  EXPECT_EQ(error(plan),
            "GPU lowering of kernel 0 (plan.moe) of @prefill: the expert GEMM "
            "of 'gate_up' needs a 65536 x 4 grid; each dimension is limited "
            "to 65535");
}

} // namespace
