//===- ArtifactTest.cpp - artifact round trip and corruption --------------===//

#include "runtime/Artifact.h"
#include "SealArtifact.h"

#include "runtime/ArtifactChecksum.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/Session.h"

#include "absl/strings/str_cat.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace fmc {
namespace {

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

/// Where each stories260K tensor lies in the llama2.c checkpoint: the
/// header's 7 ints, then the arrays in llama2.c's order.
std::map<std::string, uint64_t> checkpointOffsets() {
  const uint64_t dim = 64, hidden = 172, layers = 5, kv = 32, vocab = 512;
  std::map<std::string, uint64_t> offsets;
  uint64_t at = 28;
  auto perLayer = [&](const std::string &name, uint64_t elements) {
    for (uint64_t l = 0; l < layers; ++l)
      offsets["model.layers." + std::to_string(l) + "." + name] =
          at + l * elements * 4;
    at += layers * elements * 4;
  };
  offsets["model.embed_tokens.weight"] = at;
  at += vocab * dim * 4;
  perLayer("input_layernorm.weight", dim);
  perLayer("self_attn.q_proj.weight", dim * dim);
  perLayer("self_attn.k_proj.weight", kv * dim);
  perLayer("self_attn.v_proj.weight", kv * dim);
  perLayer("self_attn.o_proj.weight", dim * dim);
  perLayer("post_attention_layernorm.weight", dim);
  perLayer("mlp.gate_proj.weight", hidden * dim);
  perLayer("mlp.down_proj.weight", dim * hidden);
  perLayer("mlp.up_proj.weight", hidden * dim);
  offsets["model.norm.weight"] = at;
  return offsets;
}

TEST(Artifact, RoundTripsTheStoriesModel) {
  absl::StatusOr<std::unique_ptr<Artifact>> opened =
      Artifact::open(FMC_TEST_ARTIFACT);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  const Artifact &artifact = **opened;
  const schema::Artifact &root = artifact.root();
  EXPECT_EQ(root.format_version(), kArtifactFormatVersion);
  EXPECT_EQ(root.weights_offset() % kWeightSegmentAlignment, 0u);
  EXPECT_EQ(root.config()->vocab_size(), 512);
  EXPECT_EQ(root.config()->hidden_size(), 64);
  EXPECT_EQ(root.config()->max_context(), 512);
  EXPECT_EQ(artifact.targets(), std::vector<std::string>{"cpu"});
  EXPECT_EQ(root.executables()->Get(0)->data()->size(), 0u);

  // Every tensor's bytes are the checkpoint's, 64-byte aligned.
  std::vector<uint8_t> checkpoint = readFile(
      std::string(FMC_SHARED_DIR) + "/models/stories260K/stories260K.bin");
  ASSERT_EQ(checkpoint.size(), 1056540u);
  std::map<std::string, uint64_t> offsets = checkpointOffsets();
  ASSERT_EQ(root.tensors()->size(), offsets.size());
  for (uint32_t i = 0; i < root.tensors()->size(); ++i) {
    const schema::Tensor *t = root.tensors()->Get(i);
    SCOPED_TRACE(t->name()->str());
    ASSERT_EQ(offsets.count(t->name()->str()), 1u);
    EXPECT_EQ(t->offset() % kTensorAlignment, 0u);
    EXPECT_EQ(t->dtype(), schema::DType::F32);
    EXPECT_EQ(std::memcmp(artifact.tensorData(i),
                          checkpoint.data() + offsets[t->name()->str()],
                          t->bytes()),
              0);
  }

  // The KV plan: five linear f32 caches of 512 positions, 4 heads of 8.
  ASSERT_EQ(root.kv_caches()->size(), 5u);
  for (const schema::KVCache *c : *root.kv_caches()) {
    EXPECT_EQ(c->kind(), schema::CacheKind::Linear);
    EXPECT_EQ(c->capacity(), 512);
    EXPECT_EQ(c->bytes(), 512u * 2 * 4 * 8 * 4);
  }

  // Both programs hold the same kernels: one per fm op.
  for (const schema::Program *p : {root.prefill(), root.decode()}) {
    std::map<schema::KernelSpec, int> families;
    for (const schema::Kernel *k : *p->kernels())
      ++families[k->spec_type()];
    EXPECT_EQ(families[schema::KernelSpec::EmbeddingSpec], 1);
    EXPECT_EQ(families[schema::KernelSpec::RmsNormSpec], 11);
    EXPECT_EQ(families[schema::KernelSpec::LinearSpec], 35);
    EXPECT_EQ(families[schema::KernelSpec::RopeSpec], 10);
    EXPECT_EQ(families[schema::KernelSpec::AttentionSpec], 5);
    EXPECT_EQ(families[schema::KernelSpec::GluSpec], 5);
    EXPECT_EQ(families[schema::KernelSpec::AddSpec], 10);
    EXPECT_EQ(families[schema::KernelSpec::LogitsSpec], 1);
    // Each layer's cache writer appends as a kernel of its own.
    EXPECT_EQ(families[schema::KernelSpec::KvAppendSpec], 5);
    EXPECT_EQ(p->kernels()->size(), 83u);
  }
  EXPECT_EQ(root.prefill()->max_tokens(), 512);
  EXPECT_EQ(root.decode()->max_tokens(), 1);
}

TEST(Artifact, RejectsEveryTruncation) {
  std::vector<uint8_t> bytes = readFile(FMC_TEST_ARTIFACT);
  ASSERT_GT(bytes.size(), 100000u);
  uint32_t header;
  std::memcpy(&header, bytes.data(), 4);
  for (size_t keep :
       {size_t(0), size_t(11), size_t(12), size_t(100), size_t(header),
        size_t(header + 4), bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE(keep);
    absl::StatusOr<std::unique_ptr<Artifact>> artifact = Artifact::fromBytes(
        std::vector<uint8_t>(bytes.begin(), bytes.begin() + keep), "cut.fmc");
    ASSERT_FALSE(artifact.ok());
    std::string message(artifact.status().message());
    EXPECT_EQ(message.rfind("'cut.fmc': ", 0), 0u) << message;
    EXPECT_TRUE(message.find("truncated") != std::string::npos ||
                message.find("only") != std::string::npos)
        << message;
  }
}

TEST(Artifact, RejectsAWrongIdentifier) {
  std::vector<uint8_t> bytes = readFile(FMC_TEST_ARTIFACT);
  std::memcpy(bytes.data() + 8, "FMC9", 4);
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::fromBytes(bytes, "x.fmc");
  ASSERT_FALSE(artifact.ok());
  EXPECT_EQ(artifact.status().message(),
            "'x.fmc': not an fmc artifact: file identifier is 'FMC9', expected "
            "'FMC0'");
}

/// Issue 14: 16 of ~1,080 well-formed header changes (swapped buffer
/// indices, a binding moved to another memory, token strings) used to
/// change the output silently. Every flipped header byte is now rejected:
/// by the checksum, or before it by the FlatBuffer verifier.
TEST(Artifact, RejectsEveryFlippedHeaderByte) {
  std::vector<uint8_t> bytes = readFile(FMC_TEST_ARTIFACT);
  uint32_t header;
  std::memcpy(&header, bytes.data(), 4);
  size_t step = 3;
  if (const char *env = std::getenv("FMC_FLIP_STEP"))
    step = std::max(1, std::atoi(env));
  int byChecksum = 0;
  for (size_t at = 0; at < kSizePrefixBytes + header; at += step) {
    std::vector<uint8_t> damaged = bytes;
    damaged[at] ^= 0x01;
    absl::StatusOr<std::unique_ptr<Artifact>> artifact =
        Artifact::fromBytes(std::move(damaged), "flipped.fmc");
    ASSERT_FALSE(artifact.ok()) << "byte " << at;
    byChecksum += artifact.status().message().find("checksum") !=
                  std::string::npos;
  }
  EXPECT_GT(byChecksum, static_cast<int>(header / step / 2));
}

TEST(Artifact, RejectsAChangedWeightByte) {
  std::vector<uint8_t> bytes = readFile(FMC_TEST_ARTIFACT);
  const schema::Artifact *root = schema::GetSizePrefixedArtifact(bytes.data());
  size_t at = root->weights_offset() + root->weights_bytes() / 3;
  bytes[at] ^= 0x40;
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::fromBytes(bytes, "flipped.fmc");
  ASSERT_FALSE(artifact.ok());
  EXPECT_NE(artifact.status().message().find(
                "corrupt artifact: the weight segment's checksum is "),
            std::string::npos)
      << artifact.status().message();
}

/// The same flips sealed again (a crafted file, not an accident): each is
/// rejected with a message or loads and runs; never a crash or an access
/// out of bounds (run the suite under a sanitizer to see the latter).
TEST(Artifact, SurvivesCraftedHeaderBytes) {
  std::vector<uint8_t> bytes = readFile(FMC_TEST_ARTIFACT);
  uint32_t header;
  std::memcpy(&header, bytes.data(), 4);
  int rejected = 0, ran = 0;
  BackendOptions options;
  options.threads = 1;
  // Every 13th byte by default (the mutation campaign below covers more);
  // FMC_FLIP_STEP=1 (slow) tries them all.
  size_t step = 13;
  if (const char *env = std::getenv("FMC_FLIP_STEP"))
    step = std::max(1, std::atoi(env));
  for (size_t at = 4; at < 4 + header; at += step) {
    std::vector<uint8_t> damaged = bytes;
    damaged[at] ^= 0xff;
    test::resealArtifact(damaged);
    absl::StatusOr<std::unique_ptr<Artifact>> artifact =
        Artifact::fromBytes(std::move(damaged), "crafted.fmc");
    if (!artifact.ok()) {
      EXPECT_FALSE(artifact.status().message().empty());
      ++rejected;
      continue;
    }
    absl::StatusOr<std::unique_ptr<Session>> session =
        Session::open(**artifact, "cpu", options);
    if (!session.ok()) {
      ++rejected;
      continue;
    }
    std::vector<int32_t> prompt = {1, 403, 407};
    absl::Status status = (*session)->prefill(prompt, 0, false, nullptr);
    if (status.ok())
      (void)(*session)->decode(378, 3);
    ++ran;
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(ran, 0);
}

/// Issue 14's mutation campaign as a deterministic test: 3,000 crafted
/// changes of the stories260K artifact (random bytes and 32-bit words in
/// the header, sealed again; random weight bytes, sealed; truncations).
/// Each ends in a one-line error or in a run; none crashes, and under a
/// sanitizer none reads or writes out of bounds.
TEST(Artifact, MutationCampaignEndsInOutputOrAnError) {
  std::vector<uint8_t> bytes = readFile(FMC_TEST_ARTIFACT);
  uint32_t fb;
  std::memcpy(&fb, bytes.data(), 4);
  const size_t header = kSizePrefixBytes + fb;
  const schema::Artifact *root = schema::GetSizePrefixedArtifact(bytes.data());
  const size_t weightsAt = root->weights_offset();
  std::mt19937_64 random(14);
  BackendOptions options;
  options.threads = 1;
  int rejected = 0, ran = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> damaged = bytes;
    switch (i % 4) {
    case 0: // A header byte.
      damaged[4 + random() % fb] = static_cast<uint8_t>(random());
      break;
    case 1: { // A header word: indices, sizes, offsets.
      size_t at = (4 + random() % (fb - 4)) & ~size_t{3};
      uint32_t value = static_cast<uint32_t>(
          random() % 2 ? random() % 4096 : random());
      std::memcpy(damaged.data() + at, &value, 4);
      break;
    }
    case 2: // A weight byte.
      damaged[weightsAt + random() % (bytes.size() - weightsAt)] ^=
          static_cast<uint8_t>(1 + random() % 255);
      break;
    default: // A truncation.
      damaged.resize(random() % bytes.size());
      break;
    }
    test::resealArtifact(damaged);
    absl::StatusOr<std::unique_ptr<Artifact>> artifact =
        Artifact::fromBytes(std::move(damaged), "mutated.fmc");
    absl::Status status = artifact.status();
    std::unique_ptr<Session> session;
    if (status.ok()) {
      absl::StatusOr<std::unique_ptr<Session>> opened =
          Session::open(**artifact, "cpu", options);
      status = opened.status();
      if (opened.ok())
        session = std::move(*opened);
    }
    if (session) {
      status = session->prefill({1, 403, 407}, 0, false, nullptr);
      if (status.ok())
        status = session->decode(378, 3).status();
    }
    if (status.ok()) {
      ++ran;
    } else {
      ++rejected;
      std::string message(status.message());
      EXPECT_FALSE(message.empty()) << "mutation " << i;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(ran, 100);
}

/// The file's FlatBuffer (after its 4-byte size) and a way to overwrite
/// one scalar of it in place, as a corrupted or crafted file would.
struct PatchableArtifact {
  std::vector<uint8_t> bytes;
  explicit PatchableArtifact(const std::string &path = FMC_TEST_ARTIFACT)
      : bytes(readFile(path)) {}
  const schema::Artifact &root() const {
    return *flatbuffers::GetRoot<schema::Artifact>(bytes.data() + 4);
  }
  /// Where `at`, a pointer into this file's FlatBuffer, lies in the file.
  size_t offsetOf(const void *at) const {
    return static_cast<size_t>(static_cast<const uint8_t *>(at) -
                               bytes.data());
  }
  template <typename T> void patch(size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
  }
  template <typename T> void patch(const void *at, T value) {
    patch(offsetOf(at), value);
  }
  /// Opens the bytes sealed again (header checksum recomputed), as a
  /// crafted file would be: validation itself must reject them.
  std::string openError() {
    std::vector<uint8_t> sealed = bytes;
    test::resealArtifact(sealed);
    absl::StatusOr<std::unique_ptr<Artifact>> artifact =
        Artifact::fromBytes(std::move(sealed), "crafted.fmc");
    return artifact.ok() ? "" : std::string(artifact.status().message());
  }
};

/// Where kernel `k` of `program` reads positions (-1: it reads none).
int positionsInput(const schema::Kernel &k) {
  switch (k.spec_type()) {
  case schema::KernelSpec::RopeSpec:
  case schema::KernelSpec::LastRowSpec:
    return 1;
  case schema::KernelSpec::KvAppendSpec:
    return 2;
  case schema::KernelSpec::AttentionSpec:
    return static_cast<int>(k.inputs()->size()) - 1;
  default:
    return -1;
  }
}

// Issue 14: an attention given the token ids as positions indexed the KV
// cache with values up to the vocabulary size (a heap write past the cache
// on the cpu backend). Every kernel that reads positions, pointed at the
// token ids instead, is rejected at open.
TEST(Artifact, RejectsPositionsThatAreNotTheProgramsPositions) {
  int tried = 0;
  for (bool decode : {false, true}) {
    PatchableArtifact probe;
    const schema::Program &program =
        decode ? *probe.root().decode() : *probe.root().prefill();
    for (uint32_t k = 0; k < program.kernels()->size(); ++k) {
      const schema::Kernel *kernel = program.kernels()->Get(k);
      int input = positionsInput(*kernel);
      if (input < 0)
        continue;
      SCOPED_TRACE(testing::Message() << (decode ? "decode" : "prefill")
                                      << " kernel " << k);
      PatchableArtifact crafted;
      crafted.patch<uint32_t>(
          probe.offsetOf(kernel->inputs()->Data() + 4 * input),
          program.tokens());
      std::string error = crafted.openError();
      EXPECT_NE(error.find(absl::StrCat(
                    " reads positions from buffer ", program.tokens(),
                    ", which holds neither the program's positions (buffer ",
                    program.positions(), ") nor a copy of them")),
                std::string::npos)
          << error;
      ++tried;
    }
  }
  EXPECT_GE(tried, 20); // 5 layers x (rope q, rope k, attention) x 2.
}

TEST(Artifact, RejectsAKernelWritingWhatItReads) {
  PatchableArtifact crafted;
  const schema::Program &decode = *crafted.root().decode();
  for (uint32_t k = 0; k < decode.kernels()->size(); ++k) {
    const schema::Kernel *kernel = decode.kernels()->Get(k);
    if (kernel->spec_type() != schema::KernelSpec::AddSpec)
      continue;
    uint32_t input = kernel->inputs()->Get(0);
    crafted.patch<uint32_t>(kernel->outputs()->Data(), input);
    EXPECT_EQ(crafted.openError(),
              absl::StrCat("'crafted.fmc': corrupt artifact: program "
                           "'decode', kernel ",
                           k, " (add) writes buffer ", input,
                           ", which it also reads"));
    return;
  }
  FAIL() << "the stories decode program has no add kernel";
}

TEST(Artifact, RejectsBuffersSharingBytesWhileLive) {
  // The positions, which every attention reads, moved onto the rows the
  // embedding writes first.
  PatchableArtifact crafted;
  const schema::Program &decode = *crafted.root().decode();
  const schema::Kernel *embedding = decode.kernels()->Get(0);
  ASSERT_EQ(embedding->spec_type(), schema::KernelSpec::EmbeddingSpec);
  const schema::Buffer *hidden =
      decode.buffers()->Get(embedding->outputs()->Get(0));
  const schema::Buffer *positions = decode.buffers()->Get(decode.positions());
  // Generated tables derive privately from flatbuffers::Table.
  const uint8_t *field = reinterpret_cast<const flatbuffers::Table *>(positions)
                             ->GetAddressOf(schema::Buffer::VT_OFFSET);
  ASSERT_NE(field, nullptr) << "the positions lie at offset 0";
  crafted.patch<uint64_t>(field, hidden->offset());
  std::string error = crafted.openError();
  EXPECT_NE(error.find(absl::StrCat(" and ", decode.positions(),
                                    " share arena bytes from ")),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(" while both are live (kernels "), std::string::npos)
      << error;
}

// Issue 14: an 8M-position cache in an artifact whose context is 512 took
// 2.1 GB at load. A linear cache holds exactly the context.
TEST(Artifact, RejectsACacheLargerThanTheContext) {
  PatchableArtifact crafted;
  const schema::KVCache *cache = crafted.root().kv_caches()->Get(0);
  auto field = [&](flatbuffers::voffset_t offset) {
    const uint8_t *at = reinterpret_cast<const flatbuffers::Table *>(cache)
                            ->GetAddressOf(offset);
    EXPECT_NE(at, nullptr);
    return at;
  };
  int64_t capacity = cache->capacity();
  uint64_t bytes = cache->bytes();
  crafted.patch<int64_t>(field(schema::KVCache::VT_CAPACITY), capacity * 16384);
  crafted.patch<uint64_t>(field(schema::KVCache::VT_BYTES), bytes * 16384);
  EXPECT_EQ(crafted.openError(),
            absl::StrCat("'crafted.fmc': corrupt artifact: KV cache 0 ('",
                         cache->name()->str(), "') holds ", capacity * 16384,
                         " positions, not the context of 512"));
}

/// The address of scalar field `field` of any generated table (they derive
/// privately from flatbuffers::Table).
template <typename T>
const uint8_t *fieldOf(const T *table, flatbuffers::voffset_t field) {
  const uint8_t *at =
      reinterpret_cast<const flatbuffers::Table *>(table)->GetAddressOf(field);
  EXPECT_NE(at, nullptr) << "field " << field << " is not stored";
  return at;
}

/// The first kernel of `program` of family `spec`.
const schema::Kernel *kernelOf(const schema::Program &program,
                               schema::KernelSpec spec) {
  for (const schema::Kernel *k : *program.kernels())
    if (k->spec_type() == spec)
      return k;
  ADD_FAILURE() << "no kernel of family " << schema::EnumNameKernelSpec(spec);
  return program.kernels()->Get(0);
}

/// Field `field` of the spec of the first `family` kernel of the decode
/// program.
const uint8_t *specFieldOf(const PatchableArtifact &a,
                           schema::KernelSpec family,
                           flatbuffers::voffset_t field) {
  const void *spec = kernelOf(*a.root().decode(), family)->spec();
  const uint8_t *at =
      static_cast<const flatbuffers::Table *>(spec)->GetAddressOf(field);
  EXPECT_NE(at, nullptr) << "field " << field << " is not stored";
  return at;
}

// Issue 14: most of the validator's messages were reached by no test. Each
// case crafts one field of the stories260K artifact (sealed again) and
// checks the message that names it.
TEST(Artifact, NamesEachCraftedFieldItRejects) {
  using A = schema::Artifact;
  struct Case {
    const char *what;
    std::function<void(PatchableArtifact &)> patch;
    std::string message;
  };
  auto length = [](const void *vector) {
    return static_cast<const uint8_t *>(vector); // Vectors start with it.
  };
  // Drops a field: its vtable entry becomes 0 (absent).
  auto drop = [](PatchableArtifact &a, const void *table,
                 flatbuffers::voffset_t field) {
    const uint8_t *t = static_cast<const uint8_t *>(table);
    int32_t back;
    std::memcpy(&back, t, 4);
    a.patch<uint16_t>(t - back + field, 0);
  };
  std::vector<Case> cases = {
      {"no executables",
       [&](PatchableArtifact &a) {
         a.patch<uint32_t>(length(a.root().executables()), 0);
       },
       "the artifact lists no targets"},
      {"no config",
       [&](PatchableArtifact &a) { drop(a, &a.root(), A::VT_CONFIG); },
       "no model config"},
      {"no tensor table",
       [&](PatchableArtifact &a) { drop(a, &a.root(), A::VT_TENSORS); },
       "no tensor table"},
      {"no cache table",
       [&](PatchableArtifact &a) { drop(a, &a.root(), A::VT_KV_CACHES); },
       "no KV-cache table"},
      {"a weight segment inside the header",
       [](PatchableArtifact &a) {
         a.patch<uint64_t>(fieldOf(&a.root(), A::VT_WEIGHTS_OFFSET), 4096 + 8);
       },
       "is not a page-aligned offset past the header"},
      {"no space marker",
       [&](PatchableArtifact &a) {
         drop(a, a.root().tokenizer(), schema::Tokenizer::VT_SPACE_MARKER);
       },
       "the tokenizer has no space marker"},
      {"a nameless executable",
       [&](PatchableArtifact &a) {
         drop(a, a.root().executables()->Get(0), schema::Executable::VT_TARGET);
       },
       "an executable has no target name"},
      {"a target name with a control byte",
       [&](PatchableArtifact &a) {
         // "cpu" becomes "\npu".
         a.patch<uint8_t>(a.root().executables()->Get(0)->target()->data(),
                          '\n');
       },
       "an executable's target name is not a short name of letters, digits, "
       "'_', '-' and '.' (3 bytes)"},
      {"a program without buffers",
       [&](PatchableArtifact &a) {
         drop(a, a.root().decode(), schema::Program::VT_BUFFERS);
       },
       "program 'decode' has no buffer or kernel table"},
      {"a kernel without inputs",
       [&](PatchableArtifact &a) {
         drop(a, a.root().decode()->kernels()->Get(0), schema::Kernel::VT_INPUTS);
       },
       "has no buffer lists"},
      {"an arena of 2 TB",
       [](PatchableArtifact &a) {
         a.patch<uint64_t>(fieldOf(a.root().decode(),
                                   schema::Program::VT_ARENA_BYTES),
                           uint64_t{1} << 41);
       },
       "program 'decode' has an arena of 2199023255552 bytes"},
      {"vocabulary 0",
       [](PatchableArtifact &a) {
         a.patch<int64_t>(fieldOf(a.root().config(),
                                  schema::ModelConfig::VT_VOCAB_SIZE),
                          0);
       },
       "model config has vocab_size 0"},
      {"a rank-0 tensor",
       [&](PatchableArtifact &a) {
         a.patch<uint32_t>(length(a.root().tensors()->Get(0)->shape()), 0);
       },
       "has no shape of rank 1 to 4"},
      {"an unknown element type",
       [](PatchableArtifact &a) {
         a.patch<uint8_t>(fieldOf(a.root().tensors()->Get(0),
                                  schema::Tensor::VT_DTYPE),
                          99);
       },
       "has unknown element type 99"},
      {"a cache of no positions",
       [](PatchableArtifact &a) {
         a.patch<int64_t>(fieldOf(a.root().kv_caches()->Get(0),
                                  schema::KVCache::VT_CAPACITY),
                          0);
       },
       "has capacity 0"},
      {"no tokens",
       [&](PatchableArtifact &a) {
         a.patch<uint32_t>(length(a.root().tokenizer()->tokens()), 0);
       },
       "the tokenizer has no tokens"},
      {"fewer scores than tokens",
       [&](PatchableArtifact &a) {
         a.patch<uint32_t>(length(a.root().tokenizer()->scores()), 3);
       },
       "the tokenizer's scores do not match its tokens"},
      {"an unknown tokenizer",
       [](PatchableArtifact &a) {
         a.patch<uint8_t>(fieldOf(a.root().tokenizer(),
                                  schema::Tokenizer::VT_KIND),
                          9);
       },
       "unknown tokenizer kind 9"},
      {"an unknown pre-tokenizer",
       [](PatchableArtifact &a) {
         a.patch<uint8_t>(fieldOf(a.root().tokenizer(),
                                  schema::Tokenizer::VT_PRE_TOKENIZER),
                          42);
       },
       "the tokenizer's pre-tokenizer 42 is unknown"},
      {"BOS outside the vocabulary",
       [](PatchableArtifact &a) {
         a.patch<int32_t>(fieldOf(a.root().tokenizer(),
                                  schema::Tokenizer::VT_BOS_ID),
                          100000);
       },
       "the tokenizer's BOS/EOS id"},
      {"a program of no rows",
       [](PatchableArtifact &a) {
         a.patch<int64_t>(fieldOf(a.root().decode(),
                                  schema::Program::VT_MAX_TOKENS),
                          0);
       },
       "program 'decode' has max_tokens 0"},
      {"an arena larger than its buffers",
       [](PatchableArtifact &a) {
         a.patch<uint64_t>(fieldOf(a.root().decode(),
                                   schema::Program::VT_ARENA_BYTES),
                           uint64_t{1} << 39);
       },
       "bytes, more than its buffers'"},
      {"a buffer off its alignment",
       [](PatchableArtifact &a) {
         const schema::Program &p = *a.root().decode();
         a.patch<uint64_t>(fieldOf(p.buffers()->Get(p.logits()),
                                   schema::Buffer::VT_OFFSET),
                           p.buffers()->Get(p.logits())->offset() + 4);
       },
       "not a multiple of 64"},
      {"a buffer of width 0",
       [](PatchableArtifact &a) {
         a.patch<int64_t>(fieldOf(a.root().decode()->buffers()->Get(2),
                                  schema::Buffer::VT_WIDTH),
                          0);
       },
       "program 'decode' buffer 2 has width 0 and element type"},
      {"token ids beyond the buffers",
       [](PatchableArtifact &a) {
         a.patch<uint32_t>(fieldOf(a.root().decode(),
                                   schema::Program::VT_TOKENS),
                           9999);
       },
       "names an input or output buffer beyond its"},
      {"logits as token ids",
       [](PatchableArtifact &a) {
         const schema::Program &p = *a.root().decode();
         a.patch<uint32_t>(fieldOf(&p, schema::Program::VT_TOKENS),
                           p.logits());
       },
       "has token or position buffers that are not i32 rows of width 1"},
      {"token ids as logits",
       [](PatchableArtifact &a) {
         const schema::Program &p = *a.root().decode();
         a.patch<uint32_t>(fieldOf(&p, schema::Program::VT_LOGITS),
                           p.tokens());
       },
       "has a logits buffer of width 1, not the vocabulary size 512"},
      {"a kernel family from the future",
       [](PatchableArtifact &a) {
         a.patch<uint8_t>(fieldOf(a.root().decode()->kernels()->Get(0),
                                  schema::Kernel::VT_SPEC_TYPE),
                          200);
       },
       "has unknown kernel family 200 (an artifact from a newer compiler?)"},
      {"a norm group that does not divide the row",
       [](PatchableArtifact &a) {
         a.patch<int64_t>(
             specFieldOf(a, schema::KernelSpec::RmsNormSpec,
                         schema::RmsNormSpec::VT_GROUP_SIZE),
             3);
       },
       "(rms_norm): group_size 3 does not divide the width 64"},
      {"a NaN weight offset",
       [](PatchableArtifact &a) {
         a.patch<float>(
             specFieldOf(a, schema::KernelSpec::RmsNormSpec,
                         schema::RmsNormSpec::VT_WEIGHT_OFFSET),
             std::nanf(""));
       },
       "(rms_norm): weight_offset is nan"},
      {"a RoPE head that does not fit the row",
       [](PatchableArtifact &a) {
         a.patch<int64_t>(
             specFieldOf(a, schema::KernelSpec::RopeSpec,
                         schema::RopeSpec::VT_HEAD_DIM),
             3);
       },
       "(rope): head_dim 3, rotary_dim 8 do not fit width"},
      // inv_freq is always stored (attention_factor only when it is not 1,
      // so it has no stored field to craft here).
      {"a RoPE frequency table one entry short",
       [&](PatchableArtifact &a) {
         auto spec = kernelOf(*a.root().decode(), schema::KernelSpec::RopeSpec)
                         ->spec_as_RopeSpec();
         a.patch<uint32_t>(length(spec->inv_freq()), 3);
       },
       "(rope): inv_freq has 3 entries, not rotary_dim / 2 = 4"},
      {"a negative RoPE frequency",
       [](PatchableArtifact &a) {
         auto spec = kernelOf(*a.root().decode(), schema::KernelSpec::RopeSpec)
                         ->spec_as_RopeSpec();
         a.patch<double>(spec->inv_freq()->Data() + 2 * sizeof(double), -0.5);
       },
       "(rope): inv_freq[2] is -0.5, not a positive finite frequency"},
      {"attention reading a cache that does not exist",
       [](PatchableArtifact &a) {
         a.patch<int32_t>(
             specFieldOf(a, schema::KernelSpec::AttentionSpec,
                         schema::AttentionSpec::VT_READS),
             99);
       },
       "(attention): reads cache 99 and writes cache -1 of 5"},
      {"local attention without a window",
       [](PatchableArtifact &a) {
         a.patch<uint8_t>(
             specFieldOf(a, schema::KernelSpec::AttentionSpec,
                         schema::AttentionSpec::VT_KIND),
             static_cast<uint8_t>(schema::AttentionKind::Local));
       },
       "(attention): kind 1 with window 0"},
      {"an append to a cache that does not exist",
       [](PatchableArtifact &a) {
         a.patch<int32_t>(
             specFieldOf(a, schema::KernelSpec::KvAppendSpec,
                         schema::KvAppendSpec::VT_CACHE),
             99);
       },
       "(kv_append): writes cache 99 of 5"},
      {"an unknown activation",
       [](PatchableArtifact &a) {
         a.patch<uint8_t>(
             specFieldOf(a, schema::KernelSpec::GluSpec,
                         schema::GluSpec::VT_KIND),
             77);
       },
       "(glu): unknown activation 77"},
  };
  for (Case &c : cases) {
    SCOPED_TRACE(c.what);
    PatchableArtifact crafted;
    c.patch(crafted);
    std::string error = crafted.openError();
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
  }
}

// The same for the families stories260K has no kernel of.
TEST(Artifact, NamesCraftedTrackAndExpertFields) {
  const std::string synthetic = FMC_TEST_SYNTHETIC;
  struct Case {
    const char *what, *artifact;
    std::function<void(PatchableArtifact &)> patch;
    std::string message;
  };
  std::vector<Case> cases = {
      {"an unknown track combine", "afm_server.fmc",
       [](PatchableArtifact &a) {
         a.patch<uint8_t>(
             specFieldOf(a, schema::KernelSpec::TrackCombineSpec,
                         schema::TrackCombineSpec::VT_COMBINE),
             9);
       },
       "(track_combine): unknown track combine 9"},
      {"a track combine without an output", "afm_server.fmc",
       [](PatchableArtifact &a) {
         const schema::Kernel *k = kernelOf(
             *a.root().decode(), schema::KernelSpec::TrackCombineSpec);
         a.patch<uint32_t>(k->outputs(), 0);
       },
       "(track_combine) needs tracks and one output"},
      {"a grouped linear missing an output", "afm_server.fmc",
       [](PatchableArtifact &a) {
         const schema::Kernel *k = kernelOf(
             *a.root().decode(), schema::KernelSpec::GroupedLinearSpec);
         a.patch<uint32_t>(k->outputs(), k->outputs()->size() - 1);
       },
       "(grouped_linear) needs one output per input, has 2 and 1"},
      {"a packed tensor without its encoding", "stories-2bit.fmc",
       [](PatchableArtifact &a) {
         for (const schema::Tensor *t : *a.root().tensors())
           if (t->dtype() == schema::DType::Packed) {
             const uint8_t *table = reinterpret_cast<const uint8_t *>(t);
             int32_t back;
             std::memcpy(&back, table, 4);
             a.patch<uint16_t>(table - back + schema::Tensor::VT_QUANT, 0);
             return;
           }
         ADD_FAILURE() << "no packed tensor";
       },
       "is packed but has no quant encoding"},
      {"an all-reduce over another world", "split.rank1.fmc",
       [](PatchableArtifact &a) {
         a.patch<int32_t>(specFieldOf(a, schema::KernelSpec::AllReduceSpec,
                                      schema::AllReduceSpec::VT_RANKS),
                          3);
       },
       "(all_reduce) sums over 3 ranks, but the artifact is a part of 2 "
       "ranks"},
      {"an all-reduce scaling by a negative number", "split.rank1.fmc",
       [](PatchableArtifact &a) {
         a.patch<float>(specFieldOf(a, schema::KernelSpec::AllReduceSpec,
                                    schema::AllReduceSpec::VT_SCALE),
                        -0.5f);
       },
       "(all_reduce): scale -0.5 is not a positive number"},
      {"a part of a rank outside its world", "split.rank1.fmc",
       [](PatchableArtifact &a) {
         const void *partition = a.root().track_partition();
         a.patch<int32_t>(static_cast<const flatbuffers::Table *>(partition)
                              ->GetAddressOf(schema::TrackPartition::VT_RANK),
                          2);
       },
       "track partition rank 2 of 2 ranks (needs 0 <= rank < ranks, ranks "
       ">= 2)"},
      {"an all-reduce in a whole model", "split.rank1.fmc",
       [](PatchableArtifact &a) {
         // A table offset of 0 in the root's vtable: the field is absent.
         const uint8_t *root = reinterpret_cast<const uint8_t *>(&a.root());
         int32_t back;
         std::memcpy(&back, root, 4);
         a.patch<uint16_t>(root - back + schema::Artifact::VT_TRACK_PARTITION,
                           0);
       },
       "(all_reduce) sums over 2 ranks, but the artifact is not a part of "
       "a split model"},
      {"a part of neither kind", "split.rank1.fmc",
       [](PatchableArtifact &a) {
         const void *partition = a.root().track_partition();
         const uint8_t *at =
             static_cast<const flatbuffers::Table *>(partition)->GetAddressOf(
                 schema::TrackPartition::VT_KIND);
         if (!at) {
           ADD_FAILURE() << "the kind of a tracks part is stored as default";
           return;
         }
         a.patch<int8_t>(at, 7);
       },
       "track partition kind 7 is neither tracks nor tensor"},
      {"a shared expert without its down projection", "qwen2_moe.fmc",
       [](PatchableArtifact &a) {
         a.patch<int32_t>(
             specFieldOf(a, schema::KernelSpec::MoeSpec,
                         schema::MoeSpec::VT_SHARED_DOWN),
             -1);
       },
       "(moe): an incomplete shared expert"},
  };
  for (Case &c : cases) {
    SCOPED_TRACE(c.what);
    PatchableArtifact crafted(synthetic + "/" + c.artifact);
    ASSERT_GT(crafted.bytes.size(), 4096u) << c.artifact;
    c.patch(crafted);
    std::string error = crafted.openError();
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
  }
}

} // namespace
} // namespace fmc
