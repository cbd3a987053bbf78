//===- Session.cpp - a loaded model's runs, written once for every backend ===//

#include "runtime/Session.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace fmc {

namespace {

/// Each token id inside the vocabulary, positions start .. start + n - 1
/// inside the context.
absl::Status checkRunInputs(absl::Span<const int32_t> tokens, int64_t start,
                            int64_t vocab, int64_t maxContext) {
  for (int32_t token : tokens)
    if (token < 0 || token >= vocab)
      return absl::InvalidArgumentError(absl::StrCat(
          "token id ", token, " is outside the vocabulary of ", vocab));
  int64_t end = start + static_cast<int64_t>(tokens.size());
  if (start < 0 || end > maxContext)
    return absl::OutOfRangeError(
        absl::StrCat("positions ", start, " to ", end - 1,
                     " exceed the model's context of ", maxContext));
  return absl::OkStatus();
}

size_t programIndex(ProgramKind kind) { return static_cast<size_t>(kind); }

} // namespace

MemoryStats memoryStatsOf(const Artifact &artifact, int64_t context) {
  const schema::Artifact &root = artifact.root();
  MemoryStats stats;
  stats.weightsBytes = artifact.weightsBytes();
  stats.arenaBytes = sharedArenaBytes(root);
  for (const schema::KVCache *c : *root.kv_caches()) {
    uint64_t positions = static_cast<uint64_t>(cacheCapacity(*c, context));
    uint64_t elements = (c->bytes() - c->scale_bytes()) / c->capacity();
    uint64_t scales = c->scale_bytes() / c->capacity();
    stats.kvBytesTotal += elements * positions;
    stats.kvScaleBytesTotal += scales * positions;
    // A ring cache holds a window whatever the context: no cost per token.
    if (c->kind() != schema::CacheKind::Ring) {
      stats.kvBytesPerToken += elements;
      stats.kvScaleBytesPerToken += scales;
    }
  }
  return stats;
}

CollectiveStats collectiveStatsOf(const Artifact &artifact) {
  CollectiveStats stats;
  if (const schema::TrackPartition *part = artifact.root().track_partition())
    stats.split =
        part->kind() == schema::PartitionKind::Tensor ? "tensor" : "tracks";
  const schema::Program &decode = *artifact.root().decode();
  for (const schema::Kernel *k : *decode.kernels())
    if (k->spec_type() == schema::KernelSpec::AllReduceSpec) {
      ++stats.allReducesPerToken;
      for (uint32_t out : *k->outputs())
        stats.bytesPerToken +=
            decode.buffers()->Get(out)->width() * sizeof(float);
    }
  return stats;
}

LogitsRows prefillLogitsRows(bool lastRowProgram, bool allLogits,
                             bool lastChunk, bool wanted, int64_t rows) {
  LogitsRows result;
  if (lastRowProgram) {
    // The program's logits are one row, the chunk's last position's; only
    // the prompt's last position counts.
    result.count = wanted && lastChunk ? 1 : 0;
    return result;
  }
  result.from = allLogits ? 0 : (lastChunk ? rows - 1 : rows);
  result.count = wanted ? rows - result.from : 0;
  return result;
}

int64_t Session::compiledContext() const {
  return artifact.root().config()->max_context();
}

bool hasLastRow(const schema::Program &program) {
  if (!program.kernels())
    return false;
  for (const schema::Kernel *k : *program.kernels())
    if (k->spec_type() == schema::KernelSpec::LastRowSpec)
      return true;
  return false;
}

absl::StatusOr<std::unique_ptr<Session>>
Session::open(const Artifact &artifact, const std::string &backend,
              const BackendOptions &options) {
  std::string why;
  absl::StatusOr<std::unique_ptr<Device>> device =
      createDevice(backend, artifact, options, &why);
  if (!device.ok())
    return device.status();
  auto session = std::make_unique<Session>(artifact, std::move(*device),
                                           options.context);
  session->choice = std::move(why);
  return session;
}

Session::Session(const Artifact &artifact, std::unique_ptr<Device> device,
                 int64_t openedContext)
    : artifact(artifact), device(std::move(device)),
      familyTimes(static_cast<size_t>(schema::KernelSpec::MAX) + 1, {0, 0.0}) {
  const schema::Artifact &root = artifact.root();
  vocabSize = root.config()->vocab_size();
  context = openedContext > 0
                ? std::min(openedContext, root.config()->max_context())
                : root.config()->max_context();
  prefillLastRow = hasLastRow(*root.prefill());
  stats = memoryStatsOf(artifact, context);
  for (ProgramKind kind : {ProgramKind::Prefill, ProgramKind::Decode}) {
    const schema::Program &program = programOf(root, kind);
    for (const schema::Kernel *k : *program.kernels()) {
      kernelFamilies[programIndex(kind)].push_back(k->spec_type());
      const schema::AttentionSpec *a = k->spec_as_AttentionSpec();
      if (!a || a->reads() < 0)
        continue;
      const schema::KVCache *cache = root.kv_caches()->Get(a->reads());
      if (cache->kind() == schema::CacheKind::Ring)
        ringSlack = std::min(ringSlack, cache->capacity() - a->window());
    }
  }
  positions.resize(std::max(root.prefill()->max_tokens(),
                            root.decode()->max_tokens()));
}

absl::Status Session::setAdapter(const Adapter *adapter) {
  if (adapter == applied && !slotsUnknown)
    return absl::OkStatus();
  // Until every slot is written, a failure leaves them partly written:
  // the next call then writes them all.
  bool wasUnknown = slotsUnknown;
  slotsUnknown = true;
  const schema::Artifact &root = artifact.root();
  std::vector<uint8_t> zeros;
  for (uint32_t t : loraSlotTensors(root)) {
    const schema::Tensor *tensor = root.tensors()->Get(t);
    absl::Span<const uint8_t> bytes =
        adapter ? adapter->bytesOf(t) : absl::Span<const uint8_t>();
    if (bytes.empty()) {
      // Only slots the previous adapter filled hold anything to clear.
      if (!wasUnknown && (!applied || applied->bytesOf(t).empty()))
        continue;
      zeros.assign(tensor->bytes(), 0);
      bytes = zeros;
    }
    if (absl::Status s = device->writeWeights(tensor->offset(), bytes);
        !s.ok())
      return s;
  }
  applied = adapter;
  slotsUnknown = false;
  return absl::OkStatus();
}

absl::Status Session::run(ProgramKind kind, absl::Span<const int32_t> tokens,
                          int64_t start, LogitsRows logits) {
  int64_t rows = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < rows; ++i)
    positions[i] = static_cast<int32_t>(start + i);
  RunInputs inputs;
  inputs.tokens = tokens;
  inputs.positions = absl::MakeConstSpan(positions.data(), rows);
  // Kernels after a LastRow kernel run on one row, the run's last.
  inputs.record.rows = static_cast<int32_t>(rows);
  inputs.record.lastRowRows = 1;
  if (absl::Status s = device->setInputs(kind, inputs); !s.ok())
    return s;
  times.clear();
  if (absl::Status s = device->execute(kind, logits, times); !s.ok())
    return s;
  const std::vector<schema::KernelSpec> &families =
      kernelFamilies[programIndex(kind)];
  std::vector<std::vector<double>> &samples =
      launchSamples[programIndex(kind)];
  if (samples.size() < times.size())
    samples.resize(times.size());
  for (size_t i = 0; i < times.size(); ++i) {
    const DispatchTime &t = times[i];
    // ArtifactValidation.cpp checked every Dispatch.kernel index.
    auto &slot = familyTimes[static_cast<size_t>(families[t.kernel])];
    slot.first += 1;
    slot.second += t.seconds;
    samples[i].push_back(t.seconds);
  }
  return absl::OkStatus();
}

absl::Status Session::prefill(absl::Span<const int32_t> tokens, int64_t start,
                              bool allLogits, const LogitsCallback &onLogits) {
  if (absl::Status s = checkRunInputs(tokens, start, vocabSize, context);
      !s.ok())
    return s;
  int64_t chunk = artifact.root().prefill()->max_tokens();
  int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t done = 0; done < n; done += chunk) {
    int64_t rows = std::min(chunk, n - done);
    bool lastChunk = done + rows == n;
    LogitsRows wanted =
        prefillLogitsRows(prefillLastRow, allLogits, lastChunk,
                          static_cast<bool>(onLogits), rows);
    if (absl::Status s = run(ProgramKind::Prefill, tokens.subspan(done, rows),
                             start + done, wanted);
        !s.ok())
      return s;
    if (prefillLastRow) {
      // The one logits row is the prompt's last position's.
      if (wanted.count)
        onLogits(start + n - 1, device->logitsRow(ProgramKind::Prefill, 0));
      continue;
    }
    for (int64_t r = wanted.from; r < wanted.from + wanted.count; ++r)
      onLogits(start + done + r, device->logitsRow(ProgramKind::Prefill, r));
  }
  return absl::OkStatus();
}

absl::StatusOr<const float *> Session::decode(int32_t token,
                                              int64_t position) {
  absl::Span<const int32_t> tokens(&token, 1);
  if (absl::Status s = checkRunInputs(tokens, position, vocabSize, context);
      !s.ok())
    return s;
  LogitsRows row;
  row.count = 1;
  if (absl::Status s = run(ProgramKind::Decode, tokens, position, row);
      !s.ok())
    return s;
  return device->logitsRow(ProgramKind::Decode, 0);
}

const std::vector<std::vector<double>> &
Session::launchTimes(ProgramKind kind) const {
  return launchSamples[programIndex(kind)];
}

std::vector<KernelProfile> Session::profile() const {
  std::vector<KernelProfile> result;
  for (size_t i = 0; i < familyTimes.size(); ++i)
    if (familyTimes[i].first)
      result.push_back(
          {schema::EnumNameKernelSpec(static_cast<schema::KernelSpec>(i)),
           familyTimes[i].first, familyTimes[i].second});
  return result;
}

} // namespace fmc
