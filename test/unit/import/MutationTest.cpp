//===- MutationTest.cpp - deterministic corruption of every parser --------===//
//
// A bounded, seeded stand-in for the libFuzzer harnesses (test/fuzz/import)
// that runs in every build: each parser gets thousands of corrupted copies of
// real headers (bit flips, truncations, length fields overwritten with
// boundary values) and must either succeed or return one diagnostic that
// starts with the file's name; never crash, hang or allocate without bound.
//
//===----------------------------------------------------------------------===//

#include "import/readers/GGUF.h"
#include "import/readers/Llama2c.h"
#include "import/readers/SafeTensors.h"
#include "import/readers/VocabularyReaders.h"

#include "GGUFWriter.h"
#include "TestUtil.h"

#include "llvm/Support/Endian.h"

#include <random>

using namespace fmc::import;
using namespace fmc::import::test;

namespace {

constexpr int kIterations = 10000;

/// Corrupts `bytes` in one of three ways, chosen by `rng`.
std::string mutate(std::string bytes, std::mt19937_64 &rng) {
  if (bytes.empty())
    return bytes;
  auto pick = [&](uint64_t bound) { return rng() % bound; };
  switch (pick(4)) {
  case 0: { // Flip 1-8 bits.
    for (uint64_t n = 1 + pick(8); n > 0; --n)
      bytes[pick(bytes.size())] ^= static_cast<char>(1u << pick(8));
    break;
  }
  case 1: // Truncate.
    bytes.resize(pick(bytes.size()));
    break;
  case 2: { // Overwrite a 4- or 8-byte field with a boundary value.
    static constexpr uint64_t kValues[] = {0,
                                           1,
                                           2,
                                           3,
                                           4,
                                           5,
                                           7,
                                           8,
                                           9,
                                           31,
                                           32,
                                           33,
                                           0x7f,
                                           0xff,
                                           0x7fff,
                                           0xffff,
                                           0x7fffffff,
                                           0x80000000,
                                           0xffffffff,
                                           0x100000000,
                                           0x7fffffffffffffff,
                                           0x8000000000000000,
                                           0xffffffffffffffff};
    uint64_t value = kValues[pick(std::size(kValues))];
    size_t width = pick(2) ? 8 : 4;
    if (bytes.size() < width)
      break;
    size_t at = pick(bytes.size() - width + 1);
    std::memcpy(bytes.data() + at, &value, width);
    break;
  }
  default: { // Duplicate or delete a chunk.
    size_t at = pick(bytes.size());
    size_t length = 1 + pick(std::min<size_t>(64, bytes.size() - at));
    if (pick(2))
      bytes.insert(at, bytes.substr(at, length));
    else
      bytes.erase(at, length);
    break;
  }
  }
  return bytes;
}

/// Checks that `error` is one line that starts with one of `files` and ": ".
void checkError(llvm::Error error,
                std::initializer_list<llvm::StringRef> files) {
  std::string message = llvm::toString(std::move(error));
  bool named = llvm::any_of(files, [&](llvm::StringRef file) {
    return llvm::StringRef(message).starts_with((file + ": ").str());
  });
  EXPECT_TRUE(named) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

/// Whether `result` succeeded; checks its error otherwise.
template <typename T>
bool succeeded(llvm::Expected<T> result,
               std::initializer_list<llvm::StringRef> files) {
  if (result)
    return true;
  checkError(result.takeError(), files);
  return false;
}

/// Runs `parse` on kIterations mutations of `seed`; expects some to fail
/// and, when `someSucceed`, some to parse, so that the mutations are neither
/// all benign nor all rejected at the first field.
template <typename Parse>
void fuzz(const std::string &seed, uint64_t rngSeed, bool someSucceed,
          Parse parse) {
  ASSERT_TRUE(parse(seed)) << "the unmutated seed must parse";
  std::mt19937_64 rng(rngSeed);
  int passed = 0, failed = 0;
  // No time limit here: timed assertions fail on a loaded machine and pass
  // a slow parser; a hang meets ctest's timeout.
  for (int i = 0; i < kIterations && !::testing::Test::HasFailure(); ++i)
    (parse(mutate(seed, rng)) ? passed : failed)++;
  EXPECT_GT(failed, 0);
  if (someSucceed) {
    EXPECT_GT(passed, 0);
  }
}

/// The first `keep` bytes of a shared model file (its header).
std::string head(llvm::StringRef name, size_t keep) {
  return readFile(storiesPath(name)).substr(0, keep);
}

TEST(Mutation, SafeTensorsHeader) {
  FMC_REQUIRE_STORIES();
  std::string file = readFile(storiesPath("hf/model.safetensors"));
  uint64_t headerSize = llvm::support::endian::read64le(file.data());
  uint64_t dataSize = file.size() - 8 - headerSize;
  fuzz(file.substr(0, 8 + headerSize), 1, true, [&](const std::string &in) {
    return succeeded(
        parseSafeTensors("m.safetensors", in, in.size() + dataSize),
        {"m.safetensors"});
  });
}

TEST(Mutation, GGUF) {
  FMC_REQUIRE_STORIES();
  uint64_t rngSeed = 2;
  for (const char *name : {"stories260K.gguf", "stories260K-Q4_0.gguf"}) {
    SCOPED_TRACE(name);
    FMC_ASSERT_OK_AND_ASSIGN(source, readGGUF(storiesPath(name)));
    uint64_t dataStart = UINT64_MAX;
    for (const TensorRef &tensor : source.tensors)
      dataStart = std::min(dataStart, tensor.offset);
    uint64_t fileSize = readFile(storiesPath(name)).size();
    fuzz(head(name, dataStart), rngSeed++, true, [&](const std::string &in) {
      llvm::Expected<GGUFFile> gguf = parseGGUFFile("m.gguf", in, fileSize);
      if (!gguf) {
        checkError(gguf.takeError(), {"m.gguf"});
        return false;
      }
      bool model = succeeded(modelFromGGUF(*gguf), {"m.gguf"});
      bool vocab = succeeded(vocabularyFromGGUF(*gguf), {"m.gguf"});
      return model && vocab;
    });
  }
}

TEST(Mutation, Llama2cCheckpointAndTokenizer) {
  FMC_REQUIRE_STORIES();
  uint64_t size = readFile(storiesPath("stories260K.bin")).size();
  // Nearly every change to the 28-byte header changes the size it implies.
  fuzz(head("stories260K.bin", kLlama2cHeaderBytes), 4, false,
       [&](const std::string &in) {
         return succeeded(parseLlama2c("m.bin", in, size), {"m.bin"});
       });
  fuzz(readFile(storiesPath("tok512.bin")), 5, true,
       [&](const std::string &in) {
         return succeeded(parseLlama2cVocabulary("tok.bin", in), {"tok.bin"});
       });
}

TEST(Mutation, TokenizerJson) {
  std::string json = R"({"added_tokens": [{"id": 5, "content": "<|e|>",
      "special": true}], "pre_tokenizer": {"type": "ByteLevel"},
      "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "c": 3,
      "<|b|>": 4}, "merges": ["a b", ["ab", "c"]]}})";
  std::string config = R"({"bos_token": "<|b|>", "eos_token": {"content":
      "<|e|>"}, "add_bos_token": true})";
  fuzz(json, 6, true, [&](const std::string &in) {
    return succeeded(
        parseHFTokenizer("tokenizer.json", in, "tokenizer_config.json", config),
        {"tokenizer.json", "tokenizer_config.json"});
  });
  fuzz(config, 7, true, [&](const std::string &in) {
    return succeeded(
        parseHFTokenizer("tokenizer.json", json, "tokenizer_config.json", in),
        {"tokenizer.json", "tokenizer_config.json"});
  });
}

} // namespace
