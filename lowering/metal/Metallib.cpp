//===- Metallib.cpp - MSL into a metallib with Xcode's Metal compiler -----===//

#include "lowering/metal/Metallib.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <vector>

namespace fmc::metal {

namespace {

llvm::Error metallibError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "metallib: " + message);
}

/// Removes a directory tree when it goes out of scope.
struct TemporaryDirectory {
  llvm::SmallString<128> path;
  ~TemporaryDirectory() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

/// Runs `args` (args[0] is `program`) with stdout and stderr into `log`.
llvm::Error run(llvm::StringRef program, llvm::ArrayRef<std::string> args,
                llvm::StringRef log) {
  std::vector<llvm::StringRef> argv(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {llvm::StringRef(""), log, log};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, argv, std::nullopt,
                                         redirects, 0, 0, &message);
  if (status == 0)
    return llvm::Error::success();
  std::string output;
  if (llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
          llvm::MemoryBuffer::getFile(log))
    output = (*text)->getBuffer().trim().str();
  if (output.empty())
    output = message.empty() ? "no output" : message;
  return metallibError("`" + llvm::join(argv, " ") + "` failed (exit " +
                       llvm::Twine(status) + "): " + output);
}

} // namespace

llvm::Expected<std::string> buildMetallib(llvm::StringRef msl,
                                          const MslOptions &options,
                                          llvm::StringRef xcrun) {
  std::string program = xcrun.str();
  if (program.empty()) {
    llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName("xcrun");
    if (!found)
      return metallibError(
          "no xcrun on PATH: a metallib is built by Xcode's Metal compiler, "
          "on macOS only; keep the MSL source (the runtime compiles it at "
          "load)");
    program = *found;
  }

  TemporaryDirectory dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("fmc-metallib", dir.path))
    return metallibError("cannot create a temporary directory: " +
                         ec.message());
  auto in = [&](llvm::StringRef name) {
    llvm::SmallString<128> p(dir.path);
    llvm::sys::path::append(p, name);
    return std::string(p);
  };
  std::string source = in("kernels.metal"), air = in("kernels.air"),
              library = in("kernels.metallib"), log = in("xcrun.log");
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(source, ec);
    if (ec)
      return metallibError("cannot write " + source + ": " + ec.message());
    out << msl;
  }

  std::string sdk =
      options.platform == MslPlatform::IOS ? "iphoneos" : "macosx";
  std::string standard = "-std=metal" + std::to_string(options.major) + "." +
                         std::to_string(options.minor);
  if (llvm::Error e = run(program,
                          {"xcrun", "-sdk", sdk, "metal", standard, "-c",
                           source, "-o", air},
                          log))
    return std::move(e);
  if (llvm::Error e = run(program,
                          {"xcrun", "-sdk", sdk, "metallib", air, "-o",
                           library},
                          log))
    return std::move(e);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> bytes =
      llvm::MemoryBuffer::getFile(library, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!bytes)
    return metallibError("xcrun metallib wrote no " + library + ": " +
                         bytes.getError().message());
  if ((*bytes)->getBufferSize() == 0)
    return metallibError("xcrun metallib wrote an empty library");
  return (*bytes)->getBuffer().str();
}

} // namespace fmc::metal
