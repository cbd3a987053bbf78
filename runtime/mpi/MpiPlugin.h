/*===- MpiPlugin.h - the C interface of libfmc-mpi.so ----------------------===//
//
// fmc-run needs only libc and libstdc++ where it is copied to, so it does
// not link MPI: when mpirun starts it, the runtime dlopens libfmc-mpi.so
// (MpiCollective.cpp), a plugin built against the MPI the machine has, and
// calls it through this table. Plain C, so the plugin and the runtime share
// no C++ types and no copy of Abseil.
//
// Every call returns 0 on success, or non-zero with a message in `error`
// (NUL-terminated, at most `error_bytes`).
//
//===----------------------------------------------------------------------===*/

#ifndef FMC_RUNTIME_MPI_MPIPLUGIN_H
#define FMC_RUNTIME_MPI_MPIPLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FMC_MPI_PLUGIN_VERSION 1

struct FmcMpiPlugin {
  int version; /* FMC_MPI_PLUGIN_VERSION */
  /* MPI_Init (once); this process's rank and the world's size. */
  int (*init)(int *rank, int *size, char *error, size_t error_bytes);
  /* out = sum over ranks of in, count floats, on every rank. Gives up after
   * timeout_ms when another rank does not join. */
  int (*all_reduce_sum)(const float *in, float *out, size_t count,
                        int64_t timeout_ms, char *error, size_t error_bytes);
  /* values[i] = the minimum and maximum over ranks of values[i], in place
   * (count values; minimum in values[0..count), maximum in
   * values[count..2 count)). */
  int (*all_min_max)(int64_t *values, size_t count, int64_t timeout_ms,
                     char *error, size_t error_bytes);
  /* Rank 0's `bytes` bytes of data on every rank. */
  int (*broadcast)(void *data, size_t bytes, int64_t timeout_ms, char *error,
                   size_t error_bytes);
  /* Ends every rank of the job now (MPI_Abort): after a failure that left
   * the ranks out of step. */
  void (*abort_job)(int exit_code);
  /* MPI_Finalize. */
  void (*finalize)(void);
};

/* The plugin's one exported symbol. */
const struct FmcMpiPlugin *fmc_mpi_plugin(void);

#ifdef __cplusplus
}
#endif

#endif /* FMC_RUNTIME_MPI_MPIPLUGIN_H */
