//===- fmc-msl-translate.cpp - a SPIR-V file to MSL -----------------------===//
//
// Runs the Metal target's translation (lowering/metal) on a SPIR-V binary:
// for tests of the MSL it writes and for looking at kernels by hand.
// fmc-compile --target=metal does the same inside the compiler.
//
//   fmc-msl-translate kernels.spv -o kernels.metal
//   fmc-msl-translate kernels.spv --entry=row_sum:64x1x1:3
//   fmc-msl-translate kernels.spv --list-entry-points
//   fmc-msl-translate kernels.spv --metallib -o kernels.metallib   (macOS)
//
//===----------------------------------------------------------------------===//

#include "lowering/metal/Metallib.h"
#include "lowering/metal/MslTranslation.h"
#include "support/Version.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace {

llvm::cl::opt<std::string> inputPath(llvm::cl::Positional,
                                     llvm::cl::desc("<SPIR-V binary>"),
                                     llvm::cl::Required);
llvm::cl::opt<std::string> outputPath("o", llvm::cl::desc("MSL output file"),
                                      llvm::cl::value_desc("file"),
                                      llvm::cl::init("-"));
llvm::cl::list<std::string> entries(
    "entry",
    llvm::cl::desc("An entry point as the dispatches use it, NAME:XxYxZ:"
                   "BINDINGS (workgroup size, buffer count); repeatable. "
                   "Default: every entry point as the module declares it"),
    llvm::cl::value_desc("name:XxYxZ:bindings"));
llvm::cl::opt<std::string>
    platform("platform", llvm::cl::desc("macos (default) or ios"),
             llvm::cl::init("macos"));
llvm::cl::opt<bool> metallib(
    "metallib",
    llvm::cl::desc("Write a metallib compiled by Xcode's Metal compiler "
                   "(xcrun, macOS only) instead of the MSL source"));
llvm::cl::opt<std::string>
    xcrunPath("xcrun", llvm::cl::desc("The xcrun to run (default: PATH's)"),
              llvm::cl::value_desc("program"), llvm::cl::Hidden);
llvm::cl::opt<bool> listEntryPoints(
    "list-entry-points",
    llvm::cl::desc("Print the module's entry points (NAME:XxYxZ:BINDINGS) "
                   "instead of translating"));

llvm::Expected<fmc::gpu::EntryPoint> parseEntry(llvm::StringRef text) {
  auto bad = [&] {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--entry='" + text + "': expected NAME:XxYxZ:BINDINGS");
  };
  llvm::SmallVector<llvm::StringRef> parts, dims;
  text.split(parts, ':');
  if (parts.size() != 3 || parts[0].empty())
    return bad();
  parts[1].split(dims, 'x');
  fmc::gpu::EntryPoint ep;
  ep.name = parts[0].str();
  if (dims.size() != 3 || parts[2].getAsInteger(10, ep.bindings))
    return bad();
  for (int i = 0; i < 3; ++i)
    if (dims[i].getAsInteger(10, ep.workgroupSize[i]))
      return bad();
  return ep;
}

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "fmc-msl-translate") << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << fmc::versionLine("fmc-msl-translate") << "\n";
  });
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "fmc SPIR-V to MSL translation\n");
  fmc::metal::MslOptions options;
  if (platform == "ios")
    options.platform = fmc::metal::MslPlatform::IOS;
  else if (platform != "macos")
    return fail("--platform='" + platform + "': expected macos or ios");

  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFileOrSTDIN(inputPath, /*IsText=*/false);
  if (!file)
    return fail(inputPath + ": " + file.getError().message());
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() % 4 != 0)
    return fail(inputPath + ": " + llvm::Twine(bytes.size()) +
                " bytes is not a whole number of 32-bit SPIR-V words");
  std::vector<uint32_t> words(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), bytes.size());

  std::vector<fmc::gpu::EntryPoint> entryPoints;
  for (const std::string &text : entries) {
    llvm::Expected<fmc::gpu::EntryPoint> ep = parseEntry(text);
    if (!ep)
      return fail(llvm::toString(ep.takeError()));
    entryPoints.push_back(std::move(*ep));
  }
  if (entryPoints.empty() || listEntryPoints) {
    llvm::Expected<std::vector<fmc::gpu::EntryPoint>> declared =
        fmc::metal::readSpirvEntryPoints(words);
    if (!declared)
      return fail(inputPath + ": " + llvm::toString(declared.takeError()));
    if (listEntryPoints) {
      for (const fmc::gpu::EntryPoint &ep : *declared)
        llvm::outs() << ep.name << ":" << ep.workgroupSize[0] << "x"
                     << ep.workgroupSize[1] << "x" << ep.workgroupSize[2]
                     << ":" << ep.bindings << "\n";
      return 0;
    }
    entryPoints = std::move(*declared);
  }

  llvm::Expected<std::string> msl =
      fmc::metal::translateSpirvToMsl(words, entryPoints, options);
  if (!msl)
    return fail(inputPath + ": " + llvm::toString(msl.takeError()));
  if (metallib) {
    llvm::Expected<std::string> library =
        fmc::metal::buildMetallib(*msl, options, xcrunPath);
    if (!library)
      return fail(inputPath + ": " + llvm::toString(library.takeError()));
    msl = std::move(*library);
  }
  // A temporary file renamed into place: no partial output on failure.
  if (llvm::Error e = llvm::writeToOutput(
          outputPath, [&](llvm::raw_ostream &os) -> llvm::Error {
            os << *msl;
            return llvm::Error::success();
          }))
    return fail(outputPath + ": " + llvm::toString(std::move(e)));
  return 0;
}
