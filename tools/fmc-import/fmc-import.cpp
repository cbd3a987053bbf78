//===- fmc-import.cpp - a model file as an fm module ----------------------===//
//
// Reads a llama2.c checkpoint, a Hugging Face directory or a GGUF file
// (import/readers), builds its fm module (import/builder), verifies it and
// writes it as MLIR text. Weights stay where they are: the module references
// them by file and offset. Any error is one line,
//   fmc-import: error: <file>: <what>
// with exit status 1 and no output file (the module is written to a
// temporary file and renamed into place only once complete).
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmFilePaths.h"
#include "dialects/fm/IR/FmOps.h"
#include "import/ModelSource.h"
#include "import/builder/Builder.h"
#include "import/readers/GGUFArchitectures.h"
#include "support/Version.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;

namespace {

cl::OptionCategory importCategory("fmc-import options");

cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                               cl::desc("<model: directory, .gguf or .bin>"),
                               cl::cat(importCategory));
cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("Tokenizer file to store with the model (llama2.c "
                           "tok*.bin, a .gguf, or tokenizer.json); overrides "
                           "the one the model carries"),
                  cl::value_desc("file"), cl::cat(importCategory));
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("model.mlir"), cl::init("-"),
                                cl::cat(importCategory));
cl::opt<std::string> configOutPath(
    "config-out",
    cl::desc("Also write the Hugging Face-style config the reader produced "
             "(for a GGUF or llama2.c file, its metadata translated) as JSON"),
    cl::value_desc("config.json"), cl::cat(importCategory));
cl::opt<bool> showTime("time",
                       cl::desc("Print the time each step took to stderr"),
                       cl::cat(importCategory));

int fail(const Twine &message) {
  WithColor::error(errs(), "fmc-import") << message << "\n";
  return 1;
}

int fail(Error error) { return fail(toString(std::move(error))); }

/// Milliseconds since `start`, and restarts it.
double lap(std::chrono::steady_clock::time_point &start) {
  auto now = std::chrono::steady_clock::now();
  double ms = std::chrono::duration<double, std::milli>(now - start).count();
  start = now;
  return ms;
}

std::string overview() {
  std::string text =
      "fmc-import: a model file as an fm module\n\n"
      "Reads <model> and writes its fm IR (MLIR text). <model> is\n"
      "  - a Hugging Face directory: config.json and *.safetensors (sharded\n"
      "    through model.safetensors.index.json), with its tokenizer.json;\n"
      "  - a GGUF v2/v3 file (F32, F16, BF16, Q8_0, Q4_0 tensors), with its\n"
      "    embedded vocabulary;\n"
      "  - a llama2.c checkpoint (give its tok*.bin with --tokenizer).\n"
      "Weights are referenced in place (file, offset, dtype), never copied.\n"
      "\nArchitectures (config model_type):\n ";
  size_t column = 1;
  for (StringRef name : fmc::import::supportedArchitectures()) {
    if (column + name.size() + 2 > 76) {
      text += "\n ";
      column = 1;
    }
    text += " " + name.str() + ",";
    column += name.size() + 2;
  }
  text.back() = '\n';
  text +=
      "\nGGUF architectures (general.architecture):\n  " +
      fmc::import::ggufArchitecturesList().str() +
      ".\nEvery <arch>.* metadata key is applied, or rejected by name when "
      "fmc\ncannot honour it (RoPE scaling, partial rotary, unknown keys);\n"
      "general.*, tokenizer.* and quantize.* keys do not change the "
      "logits.\n";
  text +=
      "\nOn bad input, prints one diagnostic naming the file and the field\n"
      "or tensor, writes no output file and exits with status 1.\n";
  return text;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM initLLVM(argc, argv);
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << fmc::versionLine("fmc-import") << "\n";
  });
  cl::HideUnrelatedOptions(importCategory);
  std::string description = overview();
  cl::ParseCommandLineOptions(argc, argv, description);

  auto start = std::chrono::steady_clock::now(), first = start;
  std::optional<StringRef> tokenizer;
  if (!tokenizerPath.empty())
    tokenizer = tokenizerPath.getValue();
  Expected<fmc::import::ModelSource> source =
      fmc::import::readModel(inputPath, tokenizer);
  if (!source)
    return fail(source.takeError());
  if (!configOutPath.empty())
    if (Error error = writeToOutput(configOutPath, [&](raw_ostream &os) {
          os << formatv("{0:2}", json::Value(json::Object(source->config)))
             << "\n";
          return Error::success();
        }))
      return fail(configOutPath + ": cannot write: " +
                  errorToErrorCode(std::move(error)).message());
  double readMs = lap(start);

  mlir::MLIRContext context;
  auto module = fmc::import::buildFmModule(context, *source);
  if (!module)
    return fail(module.takeError());
  double buildMs = lap(start);

  // buildFmModule returns verified IR; verifying again here keeps the tool's
  // promise (never write IR that fmc-opt would reject) independent of it.
  std::string diagnostic;
  {
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      if (diagnostic.empty())
        diagnostic = d.str();
      return mlir::success();
    });
    if (failed(mlir::verify(**module)))
      return fail(inputPath +
                  ": the imported module does not verify: " + diagnostic);
  }
  double verifyMs = lap(start);

  // The readers give paths as the command line did (relative to the current
  // directory, or absolute); in an IR file relative paths are relative to
  // its directory. On stdout they stay relative to the current directory.
  mlir::fm::rebaseFilePaths(**module, "",
                            mlir::fm::irFileDirectory(outputPath));

  // Values are named after what they hold (%q3, %att3, %h4).
  mlir::OpPrintingFlags flags;
  flags.printNameLocAsPrefix(true);
  if (Error error = writeToOutput(outputPath, [&](raw_ostream &os) {
        (*module)->print(os, flags);
        os << "\n";
        return Error::success();
      }))
    return fail(outputPath + ": cannot write: " +
                errorToErrorCode(std::move(error)).message());
  double writeMs = lap(start);

  if (showTime)
    errs() << formatv("fmc-import: read {0:F1} ms, build {1:F1} ms, verify "
                      "{2:F1} ms, write {3:F1} ms, total {4:F1} ms\n",
                      readMs, buildMs, verifyMs, writeMs, lap(first));
  return 0;
}
