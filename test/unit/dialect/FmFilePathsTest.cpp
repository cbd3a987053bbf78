//===- FmFilePathsTest.cpp - IR file paths rebased between directories ---===//
//
// rebasePath on directories that need not exist (made absolute lexically
// from the current directory), and rebaseFilePaths on a module.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmFilePaths.h"
#include "dialects/fm/IR/FmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::fm;

namespace {

TEST(FmFilePaths, IrFileDirectory) {
  EXPECT_EQ(irFileDirectory("-"), "");
  EXPECT_EQ(irFileDirectory("model.mlir"), "");
  EXPECT_EQ(irFileDirectory("a/b/model.mlir"), "a/b");
  EXPECT_EQ(irFileDirectory("/x/model.mlir"), "/x");
}

TEST(FmFilePaths, RebasePath) {
  // Absolute paths and same-directory rebases come back as they are.
  EXPECT_EQ(rebasePath("/w/m.bin", "/no/such/a", "/no/such/b"), "/w/m.bin");
  EXPECT_EQ(rebasePath("./m.bin", "/no/such/a", "/no/such/a"), "./m.bin");
  // From one directory to another: up to the common part, then down.
  EXPECT_EQ(rebasePath("m.bin", "/no/such/a", "/no/such/b"), "../a/m.bin");
  EXPECT_EQ(rebasePath("../../../shared/m.bin", "/no/such/repo/test/Models",
                       "/no/such/repo"),
            "../shared/m.bin");
  EXPECT_EQ(rebasePath("../shared/m.bin", "/no/such/repo",
                       "/no/such/repo/test/Models"),
            "../../../shared/m.bin");
  EXPECT_EQ(rebasePath("x/../m.bin", "/no/such/a", "/no/such/b"),
            "../a/m.bin");
  EXPECT_EQ(rebasePath("m.bin", "/no/such/a", "/no/such/a/m.bin"), ".");
  // Nothing in common but the root.
  EXPECT_EQ(rebasePath("m.bin", "/no/such/a", "/other"), "../no/such/a/m.bin");
}

TEST(FmFilePaths, RebaseModule) {
  MLIRContext context;
  context.loadDialect<FmDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(
      R"mlir(
        fm.tokenizer llama2c "tok.bin" bos = 1, eos = 2
        fm.param @a : tensor<2x4xf32> from #fm.external<"w.bin", offset = 8, dtype = f32>
        fm.param @b : tensor<2x4xf32> from #fm.external<"/abs/w.bin", offset = 0, dtype = f16>
        fm.param @s : tensor<4x4xf32> stacks [@a, @a]
      )mlir",
      &context);
  ASSERT_TRUE(module);
  rebaseFilePaths(*module, "/no/such/ir", "/no/such/out/deep");
  auto params = llvm::to_vector(module->getOps<ParamOp>());
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].getSourceAttr().getFile(), "../../ir/w.bin");
  EXPECT_EQ(params[0].getSourceAttr().getOffset(), 8u);
  EXPECT_EQ(params[1].getSourceAttr().getFile(), "/abs/w.bin");
  EXPECT_EQ(params[1].getSourceAttr().getDtype(), StorageType::f16);
  EXPECT_FALSE(params[2].getSourceAttr());
  EXPECT_EQ((*module->getOps<TokenizerOp>().begin()).getFile(),
            "../../ir/tok.bin");
}

} // namespace
