//===- FakeNccl.cpp - a stand-in libnccl for tests without GPUs -----------===//
//
// Built as a shared library the NCCL engine (runtime/nccl) loads in place
// of libnccl.so.2 (FMC_NCCL_LIBRARY, or nccl::loadLibrary(path)): the
// entry points fmc calls, with NCCL's signatures, over host memory. Device
// pointers are host pointers; the ranks of one unique id are threads of one
// process; an all-reduce completes when the last rank posts its buffer (so
// it is done by the time every rank's enqueue returned), scaled per rank
// as PreMulSum scales.
//
// FMC_FAKE_NCCL_VERSION sets the version code (default 2.23.4);
// FMC_FAKE_NCCL_FAIL=uniqueid|init|async makes that step fail (async: every
// communicator reports a remote error). fmc_fake_nccl_aborts() and
// fmc_fake_nccl_destroys() count what ended the communicators.
//
//===----------------------------------------------------------------------===//

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

constexpr int kSuccess = 0, kSystemError = 2, kInvalidArgument = 4,
              kRemoteError = 6;
constexpr int kFloat32 = 7, kSum = 0;

struct Post {
  const float *in = nullptr;
  float *out = nullptr;
  size_t count = 0;
  float scale = 1;
  bool posted = false;
};

struct Group {
  int size = 0;
  std::mutex mutex;
  /// Per operation sequence number, each rank's post.
  std::map<long, std::vector<Post>> pending;
};

std::mutex registryMutex;
std::map<std::string, std::shared_ptr<Group>> registry;
int nextId = 0;
std::atomic<int> aborts{0}, destroys{0};

bool failing(const char *step) {
  const char *mode = std::getenv("FMC_FAKE_NCCL_FAIL");
  return mode && std::strcmp(mode, step) == 0;
}

/// Sums a completed operation into every rank's output.
void complete(std::vector<Post> &posts) {
  size_t count = posts[0].count;
  std::vector<float> sum(count, 0.0f);
  for (const Post &p : posts)
    for (size_t i = 0; i < count; ++i)
      sum[i] += p.scale * p.in[i];
  for (Post &p : posts)
    std::memcpy(p.out, sum.data(), count * sizeof(float));
}

} // namespace

extern "C" {

struct ncclComm {
  std::shared_ptr<Group> group;
  int rank = 0;
  long sequence = 0;
  std::map<int, float> scales; ///< PreMulSum operators.
  int nextOp = 5;              ///< After NCCL's built-in operators.
};
struct ncclUniqueId {
  char internal[128];
};

__attribute__((visibility("default"))) int ncclGetVersion(int *version) {
  const char *v = std::getenv("FMC_FAKE_NCCL_VERSION");
  *version = v ? std::atoi(v) : 22304;
  return kSuccess;
}

__attribute__((visibility("default"))) const char *
ncclGetErrorString(int result) {
  switch (result) {
  case kSystemError:
    return "unhandled system error (fake)";
  case kRemoteError:
    return "remote process exited or there was a network error (fake)";
  default:
    return "fake NCCL error";
  }
}

__attribute__((visibility("default"))) int ncclGetUniqueId(ncclUniqueId *id) {
  if (failing("uniqueid"))
    return kSystemError;
  std::lock_guard<std::mutex> lock(registryMutex);
  std::memset(id->internal, 0, sizeof id->internal);
  std::snprintf(id->internal, sizeof id->internal, "fake-nccl-%d", nextId++);
  return kSuccess;
}

__attribute__((visibility("default"))) int
ncclCommInitRank(ncclComm **comm, int ranks, ncclUniqueId id, int rank) {
  if (failing("init"))
    return kSystemError;
  if (ranks < 1 || rank < 0 || rank >= ranks)
    return kInvalidArgument;
  std::string key(id.internal, strnlen(id.internal, sizeof id.internal));
  std::lock_guard<std::mutex> lock(registryMutex);
  std::shared_ptr<Group> &group = registry[key];
  if (!group) {
    group = std::make_shared<Group>();
    group->size = ranks;
  }
  if (group->size != ranks)
    return kInvalidArgument;
  *comm = new ncclComm{group, rank};
  return kSuccess;
}

__attribute__((visibility("default"))) int
ncclCommGetAsyncError(ncclComm *, int *result) {
  *result = failing("async") ? kRemoteError : kSuccess;
  return kSuccess;
}

__attribute__((visibility("default"))) int ncclCommAbort(ncclComm *comm) {
  ++aborts;
  delete comm;
  return kSuccess;
}

__attribute__((visibility("default"))) int ncclCommDestroy(ncclComm *comm) {
  ++destroys;
  delete comm;
  return kSuccess;
}

__attribute__((visibility("default"))) int ncclGroupStart() { return kSuccess; }
__attribute__((visibility("default"))) int ncclGroupEnd() { return kSuccess; }

__attribute__((visibility("default"))) int
ncclRedOpCreatePreMulSum(int *op, void *scalar, int type, int residence,
                         ncclComm *comm) {
  if (type != kFloat32 || residence != 1)
    return kInvalidArgument;
  *op = comm->nextOp++;
  comm->scales[*op] = *static_cast<float *>(scalar);
  return kSuccess;
}

__attribute__((visibility("default"))) int ncclRedOpDestroy(int op,
                                                            ncclComm *comm) {
  return comm->scales.erase(op) ? kSuccess : kInvalidArgument;
}

__attribute__((visibility("default"))) int
ncclAllReduce(const void *in, void *out, size_t count, int type, int op,
              ncclComm *comm, void *) {
  if (type != kFloat32 || (op != kSum && !comm->scales.count(op)))
    return kInvalidArgument;
  Group &group = *comm->group;
  std::lock_guard<std::mutex> lock(group.mutex);
  std::vector<Post> &posts = group.pending[comm->sequence++];
  posts.resize(group.size);
  posts[comm->rank] = {static_cast<const float *>(in),
                       static_cast<float *>(out), count,
                       op == kSum ? 1.0f : comm->scales[op], true};
  for (const Post &p : posts)
    if (!p.posted)
      return kSuccess;
  for (const Post &p : posts)
    if (p.count != count)
      return kInvalidArgument;
  complete(posts);
  group.pending.erase(comm->sequence - 1);
  return kSuccess;
}

__attribute__((visibility("default"))) int fmc_fake_nccl_aborts() {
  return aborts;
}
__attribute__((visibility("default"))) int fmc_fake_nccl_destroys() {
  return destroys;
}

} // extern "C"
