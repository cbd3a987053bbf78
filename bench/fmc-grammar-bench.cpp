//===- fmc-grammar-bench.cpp - the cost of guided generation's masks ------===//
//
//   fmc-grammar-bench VOCAB (--json-schema S | --grammar F) [--walks W]
//                     [--tokens N] [--seed S]
//
// What a constraint adds to each decoded token: the time to compute the
// allowed-token mask (GrammarMatcher::allowedTokens) and accept the token,
// over W random walks of at most N tokens through the grammar, each token
// drawn uniformly from the allowed ones (a model that writes long tokens
// and odd states, harder than real text). VOCAB is any model file
// fmc-tokenize reads (a vocabulary-only GGUF of ../shared/models/vocab is
// enough), so real 32K-150K vocabularies are measured without their
// weights. Prints medians and the 90th percentile per token, uncached
// masks (a state seen for the first time) apart, and the cache's hit rate.
//
//===----------------------------------------------------------------------===//

#include "runtime/Constraint.h"
#include "runtime/grammar/JsonSchemaGrammar.h"
#include "support/Version.h"
#include "tools/common/LoadTokenizer.h"
#include "tools/common/TextFile.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

using namespace llvm;

namespace {

cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<vocabulary: .gguf, HF dir, .fmc>"));
cl::opt<std::string> schemaFile("json-schema",
                                cl::desc("A JSON Schema file"));
cl::opt<std::string> grammarFile("grammar", cl::desc("A GBNF grammar file"));
cl::opt<int> walks("walks", cl::desc("Random walks (default 20)"),
                   cl::init(20));
cl::opt<int> maxTokens("tokens",
                       cl::desc("Tokens per walk at most (default 256)"),
                       cl::init(256));
cl::opt<unsigned> seed("seed", cl::desc("Random seed (default 1)"),
                       cl::init(1));

int fail(const Twine &message) {
  WithColor::error(errs(), "fmc-grammar-bench") << message << "\n";
  return 1;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<size_t>(p * values.size()))];
}

double microsecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << fmc::versionLine("fmc-grammar-bench") << "\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "fmc-grammar-bench: time per token of guided generation's masks\n");
  if (schemaFile.empty() == grammarFile.empty())
    return fail("give one of --json-schema and --grammar");

  fmc::tools::LoadedTokenizer loaded;
  if (Error error = fmc::tools::loadTokenizer(modelPath, "", loaded))
    return fail(toString(std::move(error)));
  const fmc::Tokenizer &tokenizer = *loaded.tokenizer;

  std::string gbnf;
  if (!grammarFile.empty()) {
    absl::StatusOr<std::string> text =
        fmc::tools::readTextFile(grammarFile, "grammar file");
    if (!text.ok())
      return fail(std::string(text.status().message()));
    gbnf = *text;
  } else {
    absl::StatusOr<std::string> text =
        fmc::tools::readTextFile(schemaFile, "JSON schema file");
    if (!text.ok())
      return fail(std::string(text.status().message()));
    absl::StatusOr<std::string> converted =
        fmc::grammar::jsonSchemaToGbnf(*text);
    if (!converted.ok())
      return fail(std::string(converted.status().message()));
    gbnf = *converted;
  }

  auto buildStart = std::chrono::steady_clock::now();
  std::vector<int32_t> ends;
  if (tokenizer.eos() >= 0)
    ends.push_back(tokenizer.eos());
  auto vocabulary = fmc::grammarVocabulary(tokenizer, ends);
  double buildUs = microsecondsSince(buildStart);
  absl::StatusOr<std::shared_ptr<const fmc::Constraint>> constraint =
      fmc::Constraint::fromGbnf(gbnf, vocabulary);
  if (!constraint.ok())
    return fail(std::string(constraint.status().message()));

  std::mt19937 random(seed);
  std::vector<double> all, uncached;
  int64_t tokens = 0, hits = 0, misses = 0, finished = 0;
  std::vector<uint64_t> mask;
  for (int walk = 0; walk < walks; ++walk) {
    std::unique_ptr<fmc::grammar::GrammarMatcher> matcher =
        (*constraint)->start();
    for (int step = 0; step < maxTokens; ++step) {
      int64_t masksBefore = (*constraint)->states().maskCount();
      auto start = std::chrono::steady_clock::now();
      matcher->allowedTokens(mask);
      double us = microsecondsSince(start);
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < vocabulary->size(); ++t)
        if (mask[t / 64] >> (t % 64) & 1)
          allowed.push_back(t);
      if (allowed.empty())
        break;
      int32_t token = allowed[random() % allowed.size()];
      start = std::chrono::steady_clock::now();
      if (absl::Status s = matcher->accept(token); !s.ok())
        return fail(std::string(s.message()));
      us += microsecondsSince(start);
      all.push_back(us);
      if ((*constraint)->states().maskCount() > masksBefore) {
        uncached.push_back(us);
        ++misses;
      } else {
        ++hits;
      }
      ++tokens;
      if (matcher->ended() || matcher->mustEnd()) {
        ++finished;
        break;
      }
    }
  }

  outs() << format("fmc-grammar-bench: %s, %d tokens; %s\n",
                   modelPath.c_str(), vocabulary->size(),
                   (schemaFile.empty() ? grammarFile : schemaFile).c_str());
  outs() << format("  vocabulary view built in %.1f ms (once per model)\n",
                   buildUs / 1000);
  outs() << format("  %d walks, %lld tokens (%lld walks reached the end), "
                   "mask cache hits %.0f%%\n",
                   walks.getValue(), static_cast<long long>(tokens),
                   static_cast<long long>(finished),
                   100.0 * hits / std::max<int64_t>(1, hits + misses));
  outs() << format("  automaton: %lld states built\n",
                   static_cast<long long>((*constraint)->states().stateCount()));
  outs() << format("  per token (mask + accept): median %.1f us, p90 %.1f us, "
                   "mean %.1f us\n",
                   percentile(all, 0.5), percentile(all, 0.9),
                   all.empty() ? 0.0
                               : std::accumulate(all.begin(), all.end(), 0.0) /
                                     all.size());
  outs() << format("  uncached masks (%zu): median %.1f us, p90 %.1f us\n",
                   uncached.size(), percentile(uncached, 0.5),
                   percentile(uncached, 0.9));
  return 0;
}
