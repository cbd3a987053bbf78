//===- Artifact.cpp - open, verify and map an .fmc artifact ---------------===//

#include "runtime/Artifact.h"

#include "runtime/ArtifactChecksum.h"
#include "runtime/ArtifactFormat.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fmc {

namespace {

constexpr uint64_t kHugePage = 2ull << 20;

/// A file descriptor closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

bool readFully(int fd, void *data, uint64_t bytes, uint64_t offset) {
  auto *out = static_cast<uint8_t *>(data);
  while (bytes > 0) {
    ssize_t n = ::pread(fd, out, bytes > (1u << 30) ? (1u << 30) : bytes,
                        static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    out += n;
    bytes -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

/// The identifier as printable text: "GGUF", "\x00\x01..".
std::string printable(const uint8_t *bytes, size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i) {
    if (bytes[i] >= 0x20 && bytes[i] < 0x7f)
      text += static_cast<char>(bytes[i]);
    else
      text += absl::StrFormat("\\x%02x", bytes[i]);
  }
  return text;
}

/// The identifier lies at bytes 8..12: after the size prefix and the root
/// table offset.
absl::Status checkIdentifier(const uint8_t *first12) {
  if (std::memcmp(first12 + 8, kArtifactIdentifier, 4) != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "not an fmc artifact: file identifier is '", printable(first12 + 8, 4),
        "', expected '", kArtifactIdentifier, "'"));
  return absl::OkStatus();
}

absl::Status truncatedHeader(uint32_t fbBytes, uint64_t fileBytes) {
  return absl::DataLossError(absl::StrCat(
      "truncated artifact: the header needs ", kSizePrefixBytes + fbBytes,
      " bytes but the file has ", fileBytes));
}

absl::Status verifyHeader(const std::vector<uint8_t> &header,
                          const schema::Artifact *&root) {
  flatbuffers::Verifier::Options options;
  options.max_tables = 1u << 26;
  options.max_depth = 16;
  flatbuffers::Verifier verifier(header.data(), header.size(), options);
  if (!schema::VerifySizePrefixedArtifactBuffer(verifier))
    return absl::DataLossError(
        "corrupt artifact: the FlatBuffer header fails verification");
  root = schema::GetSizePrefixedArtifact(header.data());
  if (root->format_version() != kArtifactFormatVersion)
    return absl::FailedPreconditionError(
        absl::StrCat("artifact format version ", root->format_version(),
                     " is not supported by this runtime, which reads version ",
                     kArtifactFormatVersion,
                     "; recompile the model with a matching fmc-compile"));
  // Structure alone does not catch a changed index or string: the header
  // (executables included) must be the one the compiler wrote.
  std::ptrdiff_t at = checksumsOffset(header.data());
  if (at < 0)
    return absl::DataLossError("corrupt artifact: the header has no checksums");
  uint64_t computed =
      headerChecksum(header.data(), header.size(), static_cast<size_t>(at));
  if (computed != root->checksums()->header())
    return absl::DataLossError(absl::StrFormat(
        "corrupt artifact: the header's checksum is %016x, not the %016x "
        "it was written with",
        computed, root->checksums()->header()));
  return absl::OkStatus();
}

/// The weight segment's checksum against the one the header records.
absl::Status checkWeights(const schema::Artifact &root, const uint8_t *weights) {
  uint64_t computed = weightsChecksum(weights, root.weights_bytes());
  if (computed != root.checksums()->weights())
    return absl::DataLossError(absl::StrFormat(
        "corrupt artifact: the weight segment's checksum is %016x, not the "
        "%016x it was written with",
        computed, root.checksums()->weights()));
  return absl::OkStatus();
}

absl::Status withPath(const std::string &path, const absl::Status &status) {
  return absl::Status(status.code(),
                      absl::StrCat("'", path, "': ", status.message()));
}

} // namespace

uint64_t dtypeBytes(schema::DType dtype) {
  switch (dtype) {
  case schema::DType::F32:
  case schema::DType::I32:
    return 4;
  case schema::DType::F16:
  case schema::DType::BF16:
    return 2;
  case schema::DType::I8:
    return 1;
  case schema::DType::Packed:     // Sized by its QuantEncoding.
  case schema::DType::GgmlBlocks: // Sized by its ggml block format.
    return 0;
  }
  return 0;
}

Artifact::~Artifact() {
  if (mapBase_)
    ::munmap(mapBase_, mapBytes_);
}

absl::StatusOr<std::unique_ptr<Artifact>>
Artifact::open(const std::string &path, const ArtifactOptions &options) {
  std::unique_ptr<Artifact> artifact(new Artifact());
  absl::Status status = artifact->load(path, options);
  if (!status.ok())
    return withPath(path, status);
  return artifact;
}

absl::StatusOr<std::unique_ptr<Artifact>>
Artifact::fromBytes(std::vector<uint8_t> bytes, const std::string &name) {
  std::unique_ptr<Artifact> artifact(new Artifact());
  artifact->path_ = name;
  artifact->ownedBytes_ = std::move(bytes);
  const std::vector<uint8_t> &data = artifact->ownedBytes_;
  if (data.size() < 12)
    return withPath(name, absl::InvalidArgumentError(absl::StrCat(
                              "not an fmc artifact: the file has only ",
                              data.size(), " bytes")));
  if (absl::Status s = checkIdentifier(data.data()); !s.ok())
    return withPath(name, s);
  uint32_t fbBytes;
  std::memcpy(&fbBytes, data.data(), 4);
  if (fbBytes >= (1u << 31) || kSizePrefixBytes + fbBytes > data.size())
    return withPath(name, truncatedHeader(fbBytes, data.size()));
  artifact->header_.assign(data.begin(),
                           data.begin() + kSizePrefixBytes + fbBytes);
  if (absl::Status s = verifyHeader(artifact->header_, artifact->root_);
      !s.ok())
    return withPath(name, s);
  if (absl::Status s = validateArtifact(*artifact->root_,
                                        artifact->header_.size(), data.size());
      !s.ok())
    return withPath(name, s);
  artifact->weights_ = data.data() + artifact->root_->weights_offset();
  if (absl::Status s = checkWeights(*artifact->root_, artifact->weights_);
      !s.ok())
    return withPath(name, s);
  return artifact;
}

absl::Status Artifact::load(const std::string &path,
                            const ArtifactOptions &options) {
  path_ = path;
  Fd file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0)
    return absl::NotFoundError(
        absl::StrCat("cannot open: ", std::strerror(errno)));
  struct stat st;
  if (::fstat(file.fd, &st) != 0)
    return absl::UnavailableError(
        absl::StrCat("cannot stat: ", std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError("not a regular file");
  uint64_t fileBytes = static_cast<uint64_t>(st.st_size);

  uint8_t first[12];
  if (fileBytes < sizeof(first))
    return absl::InvalidArgumentError(absl::StrCat(
        "not an fmc artifact: the file has only ", fileBytes, " bytes"));
  if (!readFully(file.fd, first, sizeof(first), 0))
    return absl::UnavailableError(
        absl::StrCat("cannot read: ", std::strerror(errno)));
  if (absl::Status s = checkIdentifier(first); !s.ok())
    return s;
  uint32_t fbBytes;
  std::memcpy(&fbBytes, first, 4);
  if (fbBytes >= (1u << 31) || kSizePrefixBytes + fbBytes > fileBytes)
    return truncatedHeader(fbBytes, fileBytes);
  header_.resize(kSizePrefixBytes + fbBytes);
  if (!readFully(file.fd, header_.data(), header_.size(), 0))
    return absl::UnavailableError(
        absl::StrCat("cannot read: ", std::strerror(errno)));
  if (absl::Status s = verifyHeader(header_, root_); !s.ok())
    return s;
  if (absl::Status s = validateArtifact(*root_, header_.size(), fileBytes);
      !s.ok())
    return s;

  uint64_t bytes = root_->weights_bytes();
  if (bytes == 0)
    return absl::OkStatus();
  if (options.weights == WeightLoading::Map) {
    void *map = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, file.fd,
                       static_cast<off_t>(root_->weights_offset()));
    if (map == MAP_FAILED)
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot map the weight segment (", bytes,
                       " bytes): ", std::strerror(errno)));
    ::madvise(map, bytes, MADV_HUGEPAGE);
    ::madvise(map, bytes, MADV_WILLNEED);
    mapBase_ = map;
    mapBytes_ = bytes;
    mapFromFile_ = true;
    weights_ = static_cast<const uint8_t *>(map);
    // Mapped pages load lazily; reading them all to check them is opt-in.
    return options.verifyWeights ? checkWeights(*root_, weights_)
                                 : absl::OkStatus();
  }
  // Copy into anonymous memory aligned to 2 MB, so that whole huge pages
  // back it.
  uint64_t mapped = (bytes + kHugePage - 1) / kHugePage * kHugePage + kHugePage;
  void *raw = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes,
                     " bytes for the weights: ", std::strerror(errno)));
  mapBase_ = raw;
  mapBytes_ = mapped;
  uintptr_t base = reinterpret_cast<uintptr_t>(raw);
  auto *dest = reinterpret_cast<uint8_t *>((base + kHugePage - 1) / kHugePage *
                                           kHugePage);
  ::madvise(dest, bytes, MADV_HUGEPAGE);
  if (!readFully(file.fd, dest, bytes, root_->weights_offset()))
    return absl::DataLossError("cannot read the weight segment");
  weights_ = dest;
  // The bytes were just read: checking them costs a pass over memory.
  return checkWeights(*root_, weights_);
}

const void *Artifact::tensorData(uint32_t index) const {
  return weights_ + root_->tensors()->Get(index)->offset();
}

absl::Status Artifact::overwriteWeights(uint64_t offset,
                                        absl::Span<const uint8_t> data) const {
  if (offset > weightsBytes() || data.size() > weightsBytes() - offset)
    return absl::OutOfRangeError(absl::StrCat(
        "bytes [", offset, ", ", offset + data.size(),
        ") are outside the weight segment of ", weightsBytes(), " bytes"));
  auto *at = const_cast<uint8_t *>(weights_) + offset;
  if (mapFromFile_ && !data.empty()) {
    // A private file mapping becomes writable page by page: written pages
    // turn into anonymous copies, the file stays as it is.
    uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    uintptr_t first = reinterpret_cast<uintptr_t>(at) / page * page;
    uintptr_t end = reinterpret_cast<uintptr_t>(at) + data.size();
    if (::mprotect(reinterpret_cast<void *>(first), end - first,
                   PROT_READ | PROT_WRITE) != 0)
      return absl::InternalError(absl::StrCat(
          "cannot make the mapped weights writable: ", std::strerror(errno)));
  }
  std::memcpy(at, data.data(), data.size());
  return absl::OkStatus();
}

bool Artifact::hasTarget(const std::string &target) const {
  for (const schema::Executable *exe : *root_->executables())
    if (exe->target()->str() == target)
      return true;
  return false;
}

std::vector<std::string> Artifact::targets() const {
  // One name per target: a cuda target holds one executable per SM arch.
  std::vector<std::string> result;
  for (const schema::Executable *exe : *root_->executables())
    if (std::find(result.begin(), result.end(), exe->target()->str()) ==
        result.end())
      result.push_back(exe->target()->str());
  return result;
}

} // namespace fmc
