//===- DecodeAttentionTest.cpp - plan.attention in a program of one row ---===//
//
// Decode plans (one row) of attention kernels go through buildGpuProgram:
// the flash-decoding dispatches (kv_append for writers, the split kernel
// over (KV heads x blocks, splits), the combine over heads), their
// bindings and scratch, the split choice, the messages of
// lowerDecodeAttention, and the kernels' PTX, which ptxas assembles for
// sm_80 and sm_90 without spilling a register (ptxas -v). Their arithmetic
// is tested on a Vulkan device by
// test/Lowering/GPU/Templates/attention-decode-lavapipe.test.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmDialect.h"
#include "dialects/plan/IR/PlanDialect.h"
#include "dialects/plan/IR/PlanOps.h"
#include "lowering/cuda/PtxLowering.h"
#include "dialects/plan/IR/PlanDispatch.h"
#include "lowering/gpu/GpuProgram.h"
#include "lowering/gpu/KernelTemplates.h"
#include "lowering/gpu/LaunchBuilder.h"
#include "lowering/gpu/families/Families.h"
#include "lowering/spirv/SpirvLowering.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace {

using fmc::gpu::Binding;
using fmc::gpu::Dispatch;
using fmc::gpu::GpuProgram;
using fmc::gpu::Memory;

/// One attention layer over each cache `c0`, `c1`, ... of a decode program
/// (one row): `heads` query heads and `kvHeads` KV heads of `dim` features.
struct Layer {
  std::string cache; ///< fm.kv_cache declaration after `@cN `.
  std::string kind = "global";
  std::string attributes; ///< e.g. "{window = 8 : i64}".
  int heads = 16, kvHeads = 2, dim = 128;
  bool writes = true;
};

std::string decodePlan(const std::vector<Layer> &layers, int maxTokens = 1) {
  std::string caches, kernels;
  int64_t offset = 256;
  auto buffer = [&](const std::string &name, int width) {
    std::string text = "    %" + name +
                       " = plan.buffer offset = " + std::to_string(offset) +
                       " : !plan.rows<" + std::to_string(width) + ", f32>\n";
    offset += int64_t(width) * 4 * maxTokens + 256;
    return text;
  };
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer &l = layers[i];
    std::string n = std::to_string(i);
    std::string q = "!plan.rows<" + std::to_string(l.heads * l.dim) + ", f32>";
    std::string kv =
        "!plan.rows<" + std::to_string(l.kvHeads * l.dim) + ", f32>";
    caches += "  fm.kv_cache @c" + n + " " + l.cache + "\n";
    kernels +=
        buffer("q" + n, l.heads * l.dim) + buffer("k" + n, l.kvHeads * l.dim) +
        buffer("v" + n, l.kvHeads * l.dim) + buffer("o" + n, l.heads * l.dim);
    std::string dims = " heads = " + std::to_string(l.heads) +
                       ", kv_heads = " + std::to_string(l.kvHeads) +
                       ", head_dim = " + std::to_string(l.dim) +
                       " scale = 0.125 " + l.attributes + " : ";
    if (l.writes)
      kernels += "    plan.attention " + l.kind + " %q" + n + ", %k" + n +
                 ", %v" + n + " at %p reads @c" + n + " writes @c" + n +
                 " -> %o" + n + dims + q + ", " + kv + ", " + kv +
                 ", !plan.rows<1, i32>, " + q + "\n";
    else
      kernels += "    plan.attention " + l.kind + " %q" + n +
                 " at %p reads @c" + n + " -> %o" + n + dims + q +
                 ", !plan.rows<1, i32>, " + q + "\n";
  }
  std::string last = "!plan.rows<" +
                     std::to_string(layers.back().heads * layers.back().dim) +
                     ", f32>";
  return "module {\n" + caches +
         "  plan.program @decode max_tokens = " + std::to_string(maxTokens) +
         ", arena_bytes = " + std::to_string(offset) +
         " {\n"
         "    %t = plan.buffer offset = 0 : !plan.rows<1, i32>\n"
         "    %p = plan.buffer offset = 64 : !plan.rows<1, i32>\n" +
         kernels + "    plan.io tokens(%t) positions(%p) logits(%o" +
         std::to_string(layers.size() - 1) + ") : !plan.rows<1, i32>, " +
         "!plan.rows<1, i32>, " + last + "\n  }\n}\n";
}

/// The AFM on-device attention: 16 query heads over 2 KV heads of 128
/// features, an int8 cache of 4096 positions.
Layer afmLayer() {
  return {"linear capacity = 4096, kv_heads = 2, head_dim = 128 : i8"};
}

class DecodeAttentionTest : public ::testing::Test {
protected:
  DecodeAttentionTest() {
    context.loadDialect<mlir::fm::FmDialect, mlir::plan::PlanDialect>();
    fmc::gpu::loadKernelDialects(context);
  }

  mlir::ModuleOp parse(const std::string &plan) {
    mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
    module = mlir::parseSourceString<mlir::ModuleOp>(plan, config);
    return *module;
  }

  llvm::Expected<GpuProgram> build(const std::string &plan) {
    if (!parse(plan))
      return llvm::createStringError("test plan does not parse");
    return fmc::gpu::buildGpuProgram(*module);
  }

  /// lowerDecodeAttention's message for the first attention of `plan` with
  /// `splits`, or "no error".
  std::string decodeError(const std::string &plan, int64_t splits) {
    if (!parse(plan))
      return "test plan does not parse";
    auto program = *module->getOps<mlir::plan::ProgramOp>().begin();
    auto attention = *program.getOps<mlir::plan::AttentionOp>().begin();
    auto templates = fmc::gpu::KernelTemplates::load(context);
    if (!templates)
      return llvm::toString(templates.takeError());
    GpuProgram output;
    output.kernels = fmc::gpu::createKernelsModule(context);
    fmc::gpu::LaunchBuilder builder(*module, program, **templates, output);
    llvm::Error error =
        fmc::gpu::lowerDecodeAttention(attention, builder, splits);
    return error ? llvm::toString(std::move(error)) : "no error";
  }

  /// Entry names of the decode dispatches without the specialization
  /// suffix (`attention_decode_split_3` -> `attention_decode_split`).
  static std::vector<std::string> entries(const GpuProgram &program) {
    std::vector<std::string> names;
    for (const Dispatch &d : program.decode.dispatches) {
      std::string name = program.entryPoints[d.entry].name;
      names.push_back(name.substr(0, name.rfind('_')));
    }
    return names;
  }

  /// The printed specialized kernel `name`.
  static std::string kernelText(const GpuProgram &program,
                                llvm::StringRef name) {
    std::string text;
    llvm::raw_string_ostream os(text);
    fmc::gpu::kernelsOf(*program.kernels).lookupSymbol(name)->print(os);
    return text;
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

TEST_F(DecodeAttentionTest, SplitsTheCacheOverKvHeadsAndCombines) {
  llvm::Expected<GpuProgram> program = build(decodePlan({afmLayer()}));
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  // The writer appends its row first, then attends over 64 splits of 64
  // slots: one workgroup per (KV head, split) serves all 8 query heads of
  // the KV head; the combine runs per query head.
  ASSERT_EQ(entries(*program),
            (std::vector<std::string>{"kv_append", "kv_append",
                                      "attention_decode_split",
                                      "attention_decode_combine"}));
  const auto &d = program->decode.dispatches;
  EXPECT_EQ(d[0].grid, (std::array<uint32_t, 3>{1, 2, 1}));
  EXPECT_EQ(d[2].grid, (std::array<uint32_t, 3>{2, 64, 1}));
  EXPECT_EQ(d[3].grid, (std::array<uint32_t, 3>{16, 1, 1}));
  EXPECT_EQ(program->entryPoints[d[2].entry].workgroupSize,
            (std::array<uint32_t, 3>{256, 1, 1}));
  EXPECT_EQ(program->entryPoints[d[3].entry].workgroupSize,
            (std::array<uint32_t, 3>{128, 1, 1}));
  // Split: q, k, v, positions, cache, output, partials, run. The partials
  // (16 heads x 64 splits x (128 + 2) floats) are scratch, which the
  // combine reads back into the output.
  ASSERT_EQ(d[2].bindings.size(), 8u);
  EXPECT_EQ(d[2].bindings[4].memory, Memory::Caches);
  EXPECT_EQ(d[2].bindings[4].symbol, "c0");
  const Binding &partials = d[2].bindings[6];
  EXPECT_EQ(partials.memory, Memory::Scratch);
  EXPECT_EQ(partials.bytes, 16u * 64 * 130 * 4);
  EXPECT_GE(program->decode.scratchBytes, partials.bytes);
  ASSERT_EQ(d[3].bindings.size(), 3u);
  EXPECT_EQ(d[3].bindings[0].memory, Memory::Scratch);
  EXPECT_EQ(d[3].bindings[0].offset, partials.offset);
  EXPECT_EQ(d[3].bindings[1].offset, d[2].bindings[5].offset);
  EXPECT_EQ(d[3].bindings[2].memory, Memory::Run);
}

TEST_F(DecodeAttentionTest, OneSplitWritesTheOutputWithoutACombine) {
  // 24 positions: one split, whose kernel writes the rows itself; the
  // output stands in for the partials. A reader has no k and v: q stands
  // in for them (never read) and nothing is appended.
  Layer reader{"ring capacity = 24, kv_heads = 2, head_dim = 64 : bf16",
               "local",
               "{window = 16 : i64}",
               4,
               2,
               64,
               false};
  llvm::Expected<GpuProgram> program = build(decodePlan({reader}));
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  ASSERT_EQ(entries(*program),
            (std::vector<std::string>{"attention_decode_split"}));
  const Dispatch &d = program->decode.dispatches[0];
  EXPECT_EQ(d.grid, (std::array<uint32_t, 3>{2, 1, 1}));
  EXPECT_EQ(d.bindings[6].offset, d.bindings[5].offset);
  EXPECT_EQ(d.bindings[6].memory, Memory::Arena);
  EXPECT_EQ(d.bindings[1].offset, d.bindings[0].offset);
  EXPECT_EQ(d.bindings[2].offset, d.bindings[0].offset);
  EXPECT_EQ(program->decode.scratchBytes, 0u);
}

TEST_F(DecodeAttentionTest, RingWritersOf16BitCachesReadTheirOwnRowFromKAndV) {
  // The CPU attends to a ring writer's own row unrounded (in flight): the
  // f16 writer's split kernel reads k and v (bindings 1 and 2); the int8
  // one reads its row back from the cache (rounded as in flight).
  Layer f16{"ring capacity = 64, kv_heads = 2, head_dim = 64 : f16",
            "local",
            "{window = 64 : i64}",
            4,
            2,
            64};
  Layer i8{"ring capacity = 64, kv_heads = 2, head_dim = 32 : i8",
           "local",
           "{window = 64 : i64}",
           4,
           2,
           32};
  llvm::Expected<GpuProgram> program = build(decodePlan({f16, i8}));
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  std::string withRow = kernelText(*program, "attention_decode_split_0");
  std::string withoutRow = kernelText(*program, "attention_decode_split_1");
  EXPECT_NE(withRow.find("memref.load %arg1["), std::string::npos);
  EXPECT_NE(withRow.find("memref.load %arg2["), std::string::npos);
  EXPECT_EQ(withoutRow.find("memref.load %arg1["), std::string::npos);
  EXPECT_EQ(withoutRow.find("memref.load %arg2["), std::string::npos);
}

TEST_F(DecodeAttentionTest, WideGroupsThatDoNotFitAreServedInBlocks) {
  // 16 query heads of 256 features per KV head: their queries and outputs
  // alone fill the 32 KB pool, so two workgroups of 8 heads serve a group.
  Layer wide{"linear capacity = 256, kv_heads = 1, head_dim = 256 : f16",
             "global",
             "",
             16,
             1,
             256};
  llvm::Expected<GpuProgram> program = build(decodePlan({wide}));
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  // 256 positions: 8 splits of 32.
  EXPECT_EQ(program->decode.dispatches[2].grid,
            (std::array<uint32_t, 3>{2, 8, 1}));
}

TEST_F(DecodeAttentionTest, DefaultSplitsFollowCapacityAndKvHeads) {
  auto splits = [&](const std::string &cache) {
    parse("module {\n  fm.kv_cache @c " + cache + "\n}\n");
    auto op = mlir::SymbolTable::lookupNearestSymbolFrom<mlir::fm::KVCacheOp>(
        *module, mlir::StringAttr::get(&context, "c"));
    return mlir::plan::defaultDecodeAttentionSplits(op);
  };
  // AFM on-device: 4096 positions, 2 KV heads: 64 splits of 64 (128
  // workgroups); at most 64 splits.
  EXPECT_EQ(splits("linear capacity = 4096, kv_heads = 2, head_dim = 128 : "
                   "i8"),
            64);
  // Splits of at least 32 positions; one for a small ring.
  EXPECT_EQ(splits("linear capacity = 512, kv_heads = 4, head_dim = 8 : f32"),
            16);
  EXPECT_EQ(splits("ring capacity = 16, kv_heads = 2, head_dim = 8 : f32"), 1);
  EXPECT_EQ(splits("ring capacity = 33, kv_heads = 2, head_dim = 8 : f32"), 2);
  // Many KV heads: about 512 workgroups in all (32 x 16).
  EXPECT_EQ(splits("linear capacity = 4096, kv_heads = 32, head_dim = 128 : "
                   "f16"),
            16);
}

TEST_F(DecodeAttentionTest, UnsupportedSplitsAndProgramsAreNamed) {
  std::string plan = decodePlan({afmLayer()});
  EXPECT_EQ(decodeError(plan, 0),
            "decode attention over KV cache 'c0' of 4096 positions cannot be "
            "split 0 ways: from 1 to one split per position (65535 at most)");
  EXPECT_EQ(decodeError(plan, 4097),
            "decode attention over KV cache 'c0' of 4096 positions cannot be "
            "split 4097 ways: from 1 to one split per position (65535 at "
            "most)");
  EXPECT_EQ(decodeError(plan, 4096), "no error");
  EXPECT_EQ(decodeError(decodePlan({afmLayer()}, 8), 4),
            "decode attention over KV cache 'c0' in a program of 8 rows: its "
            "kernels attend for one row");
  // The checks both attention lowerings make.
  std::string unknown = plan;
  unknown.replace(unknown.find("reads @c0"), 9, "reads @nope");
  llvm::Expected<GpuProgram> program = build(unknown);
  ASSERT_FALSE(static_cast<bool>(program));
  EXPECT_EQ(llvm::toString(program.takeError()),
            "GPU lowering of kernel 0 (plan.attention) of @decode: attention "
            "reads 'nope', which is not a KV cache");
  Layer local = afmLayer();
  local.kind = "local";
  program = build(decodePlan({local}));
  ASSERT_FALSE(static_cast<bool>(program));
  EXPECT_EQ(llvm::toString(program.takeError()),
            "GPU lowering of kernel 0 (plan.attention) of @decode: windowed "
            "attention over KV cache 'c0' has no positive window");
}

/// ptxas -v's report for `ptx` on `chip`, or the reason there is none.
std::string ptxasReport(const std::string &ptx, llvm::StringRef chip,
                        llvm::StringRef ptxas) {
  llvm::SmallString<128> ptxPath, logPath;
  llvm::sys::fs::createTemporaryFile("fmc-decode", "ptx", ptxPath);
  llvm::FileRemover removePtx(ptxPath);
  llvm::sys::fs::createTemporaryFile("fmc-decode", "log", logPath);
  llvm::FileRemover removeLog(logPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(ptxPath, ec);
    out << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  llvm::StringRef args[] = {ptxas, "-v", arch, ptxPath, "-o", "/dev/null"};
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(logPath), llvm::StringRef(logPath)};
  std::string message;
  if (llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0, 0,
                                &message) != 0)
    return "ptxas failed: " + message;
  auto log = llvm::MemoryBuffer::getFile(logPath);
  return log ? (*log)->getBuffer().str() : "no ptxas log";
}

TEST_F(DecodeAttentionTest, KernelsAssembleForSm80AndSm90WithoutSpills) {
  // The AFM shape (GQA 8, head_dim 128, int8), head_dim 256 with GQA 8 and
  // an f16 ring writer, GQA 1 over bf16, head_dim 8 over f32: each split
  // kernel and the combine.
  Layer wide{"ring capacity = 1024, kv_heads = 1, head_dim = 256 : f16",
             "local",
             "{window = 1024 : i64, softcap = 30.0 : f64}",
             8,
             1,
             256};
  Layer mha{"linear capacity = 2048, kv_heads = 8, head_dim = 64 : bf16",
            "global",
            "",
            8,
            8,
            64};
  Layer small{"linear capacity = 512, kv_heads = 4, head_dim = 8 : f32",
              "chunked",
              "{window = 64 : i64}",
              8,
              4,
              8,
              false};
  llvm::Expected<GpuProgram> program =
      build(decodePlan({afmLayer(), wide, mha, small}));
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  llvm::Expected<std::vector<uint32_t>> words =
      fmc::spirv::lowerToSpirv(*program->kernels, fmc::spirv::SpirvOptions());
  ASSERT_TRUE(static_cast<bool>(words)) << llvm::toString(words.takeError());
  std::string ptxas = FMC_PTXAS_PATH;
  for (const char *chip : {"sm_80", "sm_90"}) {
    fmc::cuda::PtxOptions options;
    options.chip = chip;
    llvm::Expected<std::string> ptx =
        fmc::cuda::lowerToPtx(*program->kernels, options);
    ASSERT_TRUE(static_cast<bool>(ptx)) << llvm::toString(ptx.takeError());
    // Lanes are picked without dynamic vector indices, which would need a
    // stack slot.
    EXPECT_EQ(ptx->find(".local"), std::string::npos) << chip;
    if (ptxas.empty())
      GTEST_SKIP() << "no ptxas (CUDA toolkit) on this machine";
    std::string report = ptxasReport(*ptx, chip, ptxas);
    // Per entry: "Compiling entry function 'NAME' for 'sm_90'", then its
    // properties, "N bytes stack frame, N bytes spill stores, N bytes
    // spill loads".
    std::regex entry("Compiling entry function '(attention_decode_\\w+)'[^\\n]*"
                     "\\n[^\\n]*\\n\\s*(\\d+) bytes stack frame, (\\d+) bytes "
                     "spill stores, (\\d+) bytes spill loads");
    int kernels = 0;
    for (std::sregex_iterator it(report.begin(), report.end(), entry), end;
         it != end; ++it, ++kernels) {
      EXPECT_EQ((*it)[2], "0") << (*it)[1] << " on " << chip;
      EXPECT_EQ((*it)[3], "0") << (*it)[1] << " on " << chip;
      EXPECT_EQ((*it)[4], "0") << (*it)[1] << " on " << chip;
    }
    // Four split kernels and four combines (every layer has several splits).
    EXPECT_EQ(kernels, 8) << report;
  }
}

} // namespace

namespace {

TEST_F(DecodeAttentionTest, LayersReuseOneScratch) {
  // Two layers' partials live only between their own split and combine: the
  // second layer's start where the first's did, and the program's scratch
  // is one layer's.
  llvm::Expected<GpuProgram> program =
      build(decodePlan({afmLayer(), afmLayer()}));
  ASSERT_TRUE(static_cast<bool>(program))
      << llvm::toString(program.takeError());
  std::vector<const Binding *> partials;
  for (const Dispatch &d : program->decode.dispatches)
    for (const Binding &b : d.bindings)
      if (b.memory == Memory::Scratch)
        partials.push_back(&b);
  ASSERT_EQ(partials.size(), 4u); // Split and combine of each layer.
  EXPECT_EQ(partials[0]->offset, 0u);
  EXPECT_EQ(partials[2]->offset, 0u);
  EXPECT_EQ(program->decode.scratchBytes,
            (partials[0]->bytes + 255) / 256 * 256);
}

} // namespace
