//===- Provenance.cpp - how an artifact was made --------------------------===//

#include "lowering/artifact/Provenance.h"

#include "dialects/fm/IR/FmOps.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <openssl/evp.h>

namespace fmc::artifact {

std::vector<std::string> referencedFiles(mlir::ModuleOp module) {
  llvm::SetVector<llvm::StringRef> files;
  for (mlir::fm::TokenizerOp tokenizer : module.getOps<mlir::fm::TokenizerOp>())
    files.insert(tokenizer.getFile());
  for (mlir::fm::ParamOp param : module.getOps<mlir::fm::ParamOp>()) {
    if (mlir::fm::ExternalAttr source = param.getSourceAttr())
      files.insert(source.getFile());
    if (mlir::fm::LoraDeltaAttr delta = param.getDeltaAttr()) {
      files.insert(delta.getA().getFile());
      files.insert(delta.getB().getFile());
    }
  }
  return {files.begin(), files.end()};
}

llvm::Expected<SourceFile> describeSourceFile(llvm::StringRef path) {
  // A FIFO or a device (/dev/zero) would block or read without end.
  llvm::sys::fs::file_status status;
  if (std::error_code error = llvm::sys::fs::status(path, status))
    return llvm::createStringError(error, "cannot hash source file '" + path +
                                              "': " + error.message());
  if (!llvm::sys::fs::is_regular_file(status))
    return llvm::createStringError("cannot hash source file '" + path +
                                   "': not a regular file");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot hash source file '" + path +
                                       "': " + buffer.getError().message());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digestBytes = 0;
  if (!EVP_Digest((*buffer)->getBufferStart(), (*buffer)->getBufferSize(),
                  digest, &digestBytes, EVP_sha256(), nullptr))
    return llvm::createStringError("cannot hash source file '" + path +
                                   "': OpenSSL's SHA-256 failed");
  SourceFile file;
  file.path = path.str();
  file.bytes = (*buffer)->getBufferSize();
  file.sha256 = llvm::toHex(llvm::ArrayRef<uint8_t>(digest, digestBytes),
                            /*LowerCase=*/true);
  return file;
}

} // namespace fmc::artifact
