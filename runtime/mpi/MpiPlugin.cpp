//===- MpiPlugin.cpp - libfmc-mpi.so: MPI behind a C table ----------------===//
//
// Built against the machine's MPI (Open MPI from Debian) and loaded by the
// runtime only under mpirun (MpiPlugin.h says why it is a plugin).
// Collectives are non-blocking calls polled against a deadline: MPI's
// blocking ones wait forever for a rank that stopped, and a server that
// hangs is worse than one that says which rank it waited for.
//
//===----------------------------------------------------------------------===//

#include "runtime/mpi/MpiPlugin.h"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace {

void say(char *error, size_t bytes, const char *format, long long a = 0,
         long long b = 0) {
  if (bytes)
    std::snprintf(error, bytes, format, a, b);
}

int rankOfThis() {
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

/// Waits for `request`, spinning briefly (a decode step's all-reduce is a
/// few microseconds) and then sleeping, until `timeoutMs`.
int wait(MPI_Request &request, int64_t timeoutMs, const char *what,
         char *error, size_t bytes) {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::milliseconds(timeoutMs);
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      say(error, bytes, "rank %lld: MPI failed in an all-reduce",
          rankOfThis());
      return 1;
    }
    if (done)
      return 0;
    if (polls < 20000)
      continue;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      char format[200];
      std::snprintf(format, sizeof format,
                    "rank %%lld: the other ranks did not join %s within "
                    "%%lld ms: one of them failed or stopped",
                    what);
      say(error, bytes, format, rankOfThis(), static_cast<long long>(timeoutMs));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(
        now - start < std::chrono::milliseconds(10) ? 5 : 200));
  }
}

int init(int *rank, int *size, char *error, size_t bytes) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized && MPI_Init(nullptr, nullptr) != MPI_SUCCESS) {
    say(error, bytes, "MPI_Init failed");
    return 1;
  }
  // Errors come back as codes; the caller turns them into messages.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return 0;
}

int allReduceSum(const float *in, float *out, size_t count, int64_t timeoutMs,
                 char *error, size_t bytes) {
  MPI_Request request;
  // MPI forbids aliased send and receive buffers unless named so.
  const void *send = in == out ? MPI_IN_PLACE : in;
  if (MPI_Iallreduce(send, out, static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                     MPI_COMM_WORLD, &request) != MPI_SUCCESS) {
    say(error, bytes, "rank %lld: MPI_Iallreduce of %lld floats failed",
        rankOfThis(), static_cast<long long>(count));
    return 1;
  }
  return wait(request, timeoutMs, "an all-reduce", error, bytes);
}

int allMinMax(int64_t *values, size_t count, int64_t timeoutMs, char *error,
              size_t bytes) {
  MPI_Request requests[2];
  int n = static_cast<int>(count);
  for (size_t i = 0; i < count; ++i)
    values[count + i] = values[i];
  if (MPI_Iallreduce(MPI_IN_PLACE, values, n, MPI_INT64_T, MPI_MIN,
                     MPI_COMM_WORLD, &requests[0]) != MPI_SUCCESS ||
      MPI_Iallreduce(MPI_IN_PLACE, values + count, n, MPI_INT64_T, MPI_MAX,
                     MPI_COMM_WORLD, &requests[1]) != MPI_SUCCESS) {
    say(error, bytes, "rank %lld: MPI_Iallreduce failed", rankOfThis());
    return 1;
  }
  if (int s = wait(requests[0], timeoutMs, "the start-up check", error, bytes))
    return s;
  return wait(requests[1], timeoutMs, "the start-up check", error, bytes);
}

int broadcast(void *data, size_t count, int64_t timeoutMs, char *error,
              size_t bytes) {
  MPI_Request request;
  if (MPI_Ibcast(data, static_cast<int>(count), MPI_BYTE, 0, MPI_COMM_WORLD,
                 &request) != MPI_SUCCESS) {
    say(error, bytes, "rank %lld: MPI_Ibcast failed", rankOfThis());
    return 1;
  }
  return wait(request, timeoutMs, "a broadcast", error, bytes);
}

void abortJob(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

void finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized)
    MPI_Finalize();
}

const FmcMpiPlugin kPlugin = {FMC_MPI_PLUGIN_VERSION,
                              init,
                              allReduceSum,
                              allMinMax,
                              broadcast,
                              abortJob,
                              finalize};

} // namespace

extern "C" __attribute__((visibility("default"))) const FmcMpiPlugin *
fmc_mpi_plugin(void) {
  return &kPlugin;
}
