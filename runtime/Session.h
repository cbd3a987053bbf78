//===- Session.h - a loaded model's runs, written once for every backend --===//
//
// What fmc-run, fmc-bench and the generator call: a session runs the
// artifact's prefill and decode programs on one device (Device.h) and owns
// everything above it, once for every backend: input checks, prefill in
// chunks of the program's max_tokens, the run record each run gets, which
// logits rows a run reads (all, the prompt's last, none; one row after a
// LastRow kernel), the memory figures derived from the artifact, and the
// kernel times of a profiling device summed per kernel family.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_SESSION_H
#define FMC_RUNTIME_SESSION_H

#include "runtime/Adapter.h"
#include "runtime/Artifact.h"
#include "runtime/Backend.h"
#include "runtime/Device.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace fmc {

/// Memory a loaded model holds, for --stats.
struct MemoryStats {
  uint64_t weightsBytes = 0;
  uint64_t kvBytesTotal = 0;
  uint64_t kvBytesPerToken = 0;
  uint64_t arenaBytes = 0;
  /// Of the KV figures above (elements only), the f32 scales of int8 caches.
  uint64_t kvScaleBytesTotal = 0;
  uint64_t kvScaleBytesPerToken = 0;
};

/// The memory figures of `artifact` opened with a context of `context`
/// positions (0: the compiled maximum; the same on every backend).
MemoryStats memoryStatsOf(const Artifact &artifact, int64_t context = 0);

/// What a track-parallel part exchanges with the other ranks per decoded
/// token: its decode program's AllReduce kernels and the bytes it sends
/// into them (each rank sends as much; zeros for a whole model).
struct CollectiveStats {
  int64_t allReducesPerToken = 0;
  uint64_t bytesPerToken = 0;
  /// How the model is split: "tracks", "tensor", or "" for a whole model.
  std::string split;
};
CollectiveStats collectiveStatsOf(const Artifact &artifact);

/// Time spent per kernel family since the session was opened.
struct KernelProfile {
  std::string family;
  int64_t calls = 0;
  double seconds = 0;
};

/// Receives logits rows: the position they predict from and `vocab` floats,
/// valid only during the call.
using LogitsCallback = std::function<void(int64_t position, const float *row)>;

/// Logits rows [from, from + count) a prefill chunk of `rows` tokens reads:
/// every row with `allLogits`, else the prompt's last (in its last chunk);
/// none when nobody wants them. A program with a LastRow kernel has one
/// logits row, the chunk's last position's, read in the prompt's last chunk
/// only.
LogitsRows prefillLogitsRows(bool lastRowProgram, bool allLogits,
                             bool lastChunk, bool wanted, int64_t rows);

/// Whether `program` has a LastRow kernel (its logits are then one row, the
/// last position's).
bool hasLastRow(const schema::Program &program);

class Session {
public:
  /// Opens the device of backend `backend` ("auto", "cpu", ...; see
  /// createDevice) for `artifact`, which must outlive the session.
  static absl::StatusOr<std::unique_ptr<Session>>
  open(const Artifact &artifact, const std::string &backend,
       const BackendOptions &options);

  /// A session over a device already loaded with `artifact` and a context
  /// of `context` positions (BackendOptions::context: 0 for the compiled
  /// maximum).
  Session(const Artifact &artifact, std::unique_ptr<Device> device,
          int64_t context = 0);

  /// The device's backend: "cpu", "cuda", ...
  std::string backend() const { return device->name(); }
  /// How the backend was chosen (createDevice's `why`); empty for a session
  /// over a device loaded by the caller.
  const std::string &backendChoice() const { return choice; }
  int64_t vocab() const { return vocabSize; }
  /// Positions a generation may reach: --ctx-size, or the compiled maximum.
  int64_t maxContext() const { return context; }
  /// The artifact's compiled maximum context.
  int64_t compiledContext() const;

  /// Runs `tokens` at positions start, start + 1, ... through the prefill
  /// program, in chunks of at most its max_tokens, appending their keys and
  /// values to the caches. Calls `onLogits` for every position when
  /// `allLogits`, else for the last one only.
  absl::Status prefill(absl::Span<const int32_t> tokens, int64_t start,
                       bool allLogits, const LogitsCallback &onLogits);

  /// Runs one token at `position` through the decode program and returns its
  /// logits (vocab floats, valid until the next run).
  absl::StatusOr<const float *> decode(int32_t token, int64_t position);

  /// Whether prefill computes the logits of the prompt's last position only
  /// (the artifact's prefill skips the other positions in the layers after
  /// the last cache-writing one): prefill then calls `onLogits` once even
  /// with `allLogits`.
  bool prefillLogitsLastOnly() const { return prefillLastRow; }

  /// Positions written past the text that can be rolled back by position
  /// alone (speculative decoding's rejected drafts): unbounded with linear
  /// caches only; with ring (sliding-window) caches, the fewest slots a
  /// ring has beyond the window of an attention reading it (fmc-compile
  /// --max-draft-tokens), since its slots are reused.
  int64_t rollbackPositions() const { return ringSlack; }

  MemoryStats memory() const { return stats; }

  /// Fills the LoRA slots with `adapter`'s bytes (opened against this
  /// session's artifact), or zeros them when null: later runs compute with
  /// that adapter, or the base alone. Keys and values already cached were
  /// computed with the previous weights: callers start a new context (the
  /// Generator's reset()).
  absl::Status setAdapter(const Adapter *adapter);
  /// The adapter applied last (null: none).
  const Adapter *adapter() const { return applied; }

  /// Calls and seconds per kernel family of a device created with
  /// BackendOptions::profile (empty otherwise), in KernelSpec order.
  std::vector<KernelProfile> profile() const;

  /// The seconds of every profiled run of `kind`, per dispatch in run order
  /// (per kernel on the cpu): launchTimes(kind)[i] holds one sample per run
  /// that reached dispatch i. Empty unless BackendOptions::profile.
  const std::vector<std::vector<double>> &launchTimes(ProgramKind kind) const;

private:
  absl::Status run(ProgramKind kind, absl::Span<const int32_t> tokens,
                   int64_t start, LogitsRows logits);

  const Artifact &artifact;
  std::unique_ptr<Device> device;
  std::string choice;
  const Adapter *applied = nullptr;
  bool slotsUnknown = false;
  int64_t vocabSize = 0, context = 0;
  bool prefillLastRow = false;
  int64_t ringSlack = std::numeric_limits<int64_t>::max();
  MemoryStats stats;
  /// Each program's kernel families (by kernel index), for profiles.
  std::array<std::vector<schema::KernelSpec>, 2> kernelFamilies;
  std::vector<int32_t> positions;
  std::vector<DispatchTime> times;
  /// Calls and seconds per KernelSpec value.
  std::vector<std::pair<int64_t, double>> familyTimes;
  /// Per program, per dispatch position: the seconds of each profiled run.
  std::array<std::vector<std::vector<double>>, 2> launchSamples;
};

} // namespace fmc

#endif // FMC_RUNTIME_SESSION_H
