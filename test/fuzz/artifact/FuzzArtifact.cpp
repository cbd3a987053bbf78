//===- FuzzArtifact.cpp - libFuzzer harness: open, validate, run ----------===//
//
// An .fmc artifact is a file users download and share. The input is one,
// sealed again before it is opened (its checksums recomputed, as a crafted
// file's would be), so mutations reach the validator and the kernels rather
// than stopping at the checksum: open, validate, and on success one prefill
// of three tokens and one decode step on the cpu backend. Any crash, leak,
// hang or undefined behaviour (ASan, UBSan) is a finding.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/Session.h"
#include "test/unit/runtime/SealArtifact.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  fmc::test::resealArtifact(bytes);
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
      fmc::Artifact::fromBytes(std::move(bytes), "fuzz.fmc");
  if (!artifact.ok())
    return 0;
  fmc::BackendOptions options;
  options.threads = 1;
  absl::StatusOr<std::unique_ptr<fmc::Session>> session =
      fmc::Session::open(**artifact, "cpu", options);
  if (!session.ok())
    return 0;
  int32_t vocab = static_cast<int32_t>((*session)->vocab());
  std::vector<int32_t> prompt = {1 % vocab, 2 % vocab, 3 % vocab};
  if (!(*session)->prefill(prompt, 0, false, nullptr).ok())
    return 0;
  (void)(*session)->decode(0, 3);
  return 0;
}
