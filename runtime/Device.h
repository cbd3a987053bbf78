//===- Device.h - one loaded model on one device, under a session ---------===//
//
// The layer under Session (Session.h), after IREE's HAL: a device holds a
// loaded model's memory (the weights uploaded once, zeroed KV caches, the
// arena, scratch, a run record) and its code, with each program recorded
// once where the API records work (a CUDA graph, a Vulkan command buffer)
// or bound to kernels (cpu). Per run it stages the inputs the session
// sets, executes the program and makes the logits rows the session asks
// for readable. It knows nothing of prefill chunks, the last-row
// semantics, input checks, statistics or kernel families: GPU devices run
// dispatch lists, the cpu device runs the program's kernel list.
//
// Devices are created by name through the registry (Backend.h).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_DEVICE_H
#define FMC_RUNTIME_DEVICE_H

#include "runtime/schema/fmc_generated.h"

#include "absl/status/status.h"
#include "absl/types/span.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fmc {

/// The artifact's two programs.
enum class ProgramKind { Prefill, Decode };

/// "prefill" or "decode", for messages.
const char *programName(ProgramKind kind);
const schema::Program &programOf(const schema::Artifact &artifact,
                                 ProgramKind kind);
/// The executable's dispatch list of `kind` (null when it has none).
const schema::DispatchList *dispatchListOf(const schema::Executable &exe,
                                           ProgramKind kind);

/// The run record (schema BindingMemory::Run): what changes between runs
/// of a recorded program besides token ids and positions, as four i32.
struct RunRecord {
  int32_t rows = 0;        ///< Rows (tokens) of this run.
  int32_t lastRowRows = 1; ///< Rows of the kernels after a LastRow kernel.
  int32_t reserved[2] = {0, 0};

  bool operator==(const RunRecord &other) const {
    return rows == other.rows && lastRowRows == other.lastRowRows &&
           reserved[0] == other.reserved[0] &&
           reserved[1] == other.reserved[1];
  }
};
static_assert(sizeof(RunRecord) == 16, "the run record is four i32");

/// One run's inputs, as the session sets them: record.rows token ids and
/// their positions.
struct RunInputs {
  absl::Span<const int32_t> tokens;
  absl::Span<const int32_t> positions;
  RunRecord record;
};

/// Logits rows [from, from + count) of a run (none when count is 0).
struct LogitsRows {
  int64_t from = 0;
  int64_t count = 0;
};

/// The time of one dispatch of a profiled run and the program kernel it
/// implements (Dispatch.kernel; kernel i of the program on the cpu), from
/// which the session sums times per kernel family.
struct DispatchTime {
  uint32_t kernel = 0;
  double seconds = 0;
};

/// Where a program's token ids, positions and logits lie in the arena, and
/// the most rows one run of it takes.
struct ProgramIO {
  int64_t maxTokens = 0;
  uint64_t tokensOffset = 0, positionsOffset = 0, logitsOffset = 0;
};
ProgramIO programIO(const schema::Program &program);

/// The arena both programs share: the larger program's.
uint64_t sharedArenaBytes(const schema::Artifact &artifact);

class Device {
public:
  virtual ~Device() = default;

  /// The backend it belongs to: "cpu", "cuda", "vulkan" or "metal".
  virtual std::string name() const = 0;

  /// Stages the next run of `program`: its token ids and positions (at most
  /// the program's max_tokens) and its run record.
  virtual absl::Status setInputs(ProgramKind program,
                                 const RunInputs &inputs) = 0;

  /// Runs `program` on the inputs staged last and makes logits rows
  /// `logits` readable through logitsRow() until the next run of it. A
  /// device created to profile appends one DispatchTime per dispatch (or
  /// kernel) to `times`; others leave it alone.
  virtual absl::Status execute(ProgramKind program, LogitsRows logits,
                               std::vector<DispatchTime> &times) = 0;

  /// Logits row `row` of the last run of `program` (one of the rows its
  /// execute() made readable): vocab floats.
  virtual const float *logitsRow(ProgramKind program, int64_t row) const = 0;

  /// Overwrites bytes [offset, offset + data.size()) of the loaded weight
  /// segment, which later runs read: how a LoRA adapter fills its slots
  /// (Session::setAdapter checks the range is a slot tensor's).
  virtual absl::Status writeWeights(uint64_t offset,
                                    absl::Span<const uint8_t> data) = 0;
};

} // namespace fmc

#endif // FMC_RUNTIME_DEVICE_H
