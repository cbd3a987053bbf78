//===- fmc-run.cpp - generate text with a compiled model ------------------===//
//
// Loads an .fmc artifact (a model file or directory is compiled into the
// cache first, CompiledModelCache.cpp), opens a session on a backend,
// tokenizes the prompt, prefills, decodes and streams text; or chats
// (--interactive, Chat.cpp). Every failure is one "fmc-run: error: ..." line
// and exit status 1; output files are written under a temporary name and
// renamed only when the run succeeds.
//
//===----------------------------------------------------------------------===//

#include "runtime/Adapter.h"
#include "runtime/Artifact.h"
#include "runtime/Constraint.h"
#include "runtime/Generator.h"
#include "runtime/Session.h"
#include "runtime/Speculative.h"
#include "runtime/TextStream.h"
#include "runtime/Tokenizer.h"
#include "support/Version.h"
#include "runtime/grammar/JsonSchemaGrammar.h"
#include "tools/common/TextFile.h"
#include "tools/common/TextFormat.h"
#include "tools/fmc-run/Chat.h"
#include "tools/fmc-run/CompiledModelCache.h"
#include "tools/fmc-run/Options.h"
#include "tools/fmc-run/TrackRanks.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

namespace {

/// "rank R: " in the messages of one rank of a track-parallel run.
std::string rankPrefix;

int fail(const absl::Status &status) {
  std::fprintf(stderr, "fmc-run: %serror: %s\n", rankPrefix.c_str(),
               std::string(status.message()).c_str());
  return 1;
}

/// A file that appears under its name only when complete (commit()). It is
/// written as an unnamed file in the target's directory (O_TMPFILE), so a
/// run killed before commit() leaves nothing behind; committing names it
/// (linkat) and renames it over the target. Where the file system has no
/// O_TMPFILE, a named temporary file is written instead. `-` is standard
/// output, written directly.
class OutputFile {
public:
  absl::Status open(const std::string &path) {
    if (path == "-") {
      file = stdout;
      standardOutput = true;
      return absl::OkStatus();
    }
    finalPath = path;
    tempPath = absl::StrCat(path, ".tmp-", ::getpid());
    std::string directory = ".";
    if (size_t slash = path.rfind('/'); slash != std::string::npos)
      directory = slash == 0 ? "/" : path.substr(0, slash);
    int fd = ::open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    unnamed = fd >= 0;
    if (unnamed)
      file = ::fdopen(fd, "wb");
    else
      file = std::fopen(tempPath.c_str(), "wb");
    if (!file) {
      if (fd >= 0)
        ::close(fd);
      return absl::UnavailableError(absl::StrCat("cannot write '", path, "'"));
    }
    return absl::OkStatus();
  }
  std::FILE *get() const { return file; }
  absl::Status commit() {
    if (standardOutput) {
      file = nullptr;
      return std::fflush(stdout) == 0
                 ? absl::OkStatus()
                 : absl::UnavailableError("cannot write standard output");
    }
    bool ok = std::fflush(file) == 0 && std::ferror(file) == 0;
    bool placed = false;
    if (ok && unnamed) {
      // Name the unnamed file: as the target when there is none, else under
      // the temporary name, moved over the target atomically below.
      std::string self = absl::StrCat("/proc/self/fd/", ::fileno(file));
      placed = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, finalPath.c_str(),
                        AT_SYMLINK_FOLLOW) == 0;
      ok = placed || ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD,
                              tempPath.c_str(), AT_SYMLINK_FOLLOW) == 0;
    }
    ok &= std::fclose(file) == 0;
    file = nullptr;
    if (placed) {
      if (ok)
        return absl::OkStatus();
      std::remove(finalPath.c_str());
      return absl::UnavailableError(
          absl::StrCat("cannot write '", finalPath, "'"));
    }
    if (!ok || std::rename(tempPath.c_str(), finalPath.c_str()) != 0) {
      std::remove(tempPath.c_str());
      return absl::UnavailableError(
          absl::StrCat("cannot write '", finalPath, "'"));
    }
    return absl::OkStatus();
  }
  ~OutputFile() {
    if (file && !standardOutput) {
      std::fclose(file);
      if (!unnamed)
        std::remove(tempPath.c_str());
    }
  }

private:
  std::string finalPath, tempPath;
  std::FILE *file = nullptr;
  bool unnamed = false;
  bool standardOutput = false;
};

/// The prompt text of a file, `-` being standard input; one trailing
/// newline is dropped (the one an editor or `echo` adds), as llama.cpp does.
absl::StatusOr<std::string> readPrompt(const std::string &path) {
  absl::StatusOr<std::string> text =
      fmc::tools::readTextFile(path, "prompt file");
  if (text.ok())
    fmc::tools::dropTrailingNewline(*text);
  return text;
}

const char *stopReasonName(fmc::StopReason reason) {
  switch (reason) {
  case fmc::StopReason::MaxTokens:
    return "max_tokens";
  case fmc::StopReason::EndToken:
    return "end_token";
  case fmc::StopReason::Context:
    return "context";
  case fmc::StopReason::Caller:
    return "stop_string";
  case fmc::StopReason::Grammar:
    return "grammar";
  }
  return "unknown";
}

uint64_t peakRssBytes() {
  struct rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

/// -n and the sampling options.
/// --adapter: opens the adapter against the model and fills its slots.
/// `adapter` keeps it alive for the session.
absl::Status applyAdapter(const fmc::run::Options &options,
                          const fmc::Artifact &artifact, fmc::Session &session,
                          std::unique_ptr<fmc::Adapter> &adapter) {
  if (!options.adapter)
    return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<fmc::Adapter>> opened =
      fmc::Adapter::open(*options.adapter, artifact);
  if (!opened.ok())
    return opened.status();
  adapter = std::move(*opened);
  return session.setAdapter(adapter.get());
}

fmc::BackendOptions backendOptionsOf(const fmc::run::Options &options,
                                     fmc::Collective *collective = nullptr) {
  fmc::BackendOptions backend;
  backend.threads = options.threads;
  backend.context = options.contextSize;
  backend.collective = collective;
  return backend;
}

/// The GBNF text of --grammar or --json-schema (none: empty).
absl::StatusOr<std::string> constraintGbnf(const fmc::run::Options &options) {
  if (options.grammarFile) {
    absl::StatusOr<std::string> text =
        fmc::tools::readTextFile(*options.grammarFile, "grammar file");
    if (!text.ok())
      return text.status();
    // Checked here, so that --print-grammar reports errors too.
    if (absl::StatusOr<fmc::grammar::Grammar> g =
            fmc::grammar::Grammar::parse(*text);
        !g.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(*options.grammarFile, ": ", g.status().message()));
    return text;
  }
  if (options.jsonSchema) {
    // A schema inline when it starts with `{`, else a file holding one.
    std::string schema = *options.jsonSchema;
    std::string where = "--json-schema";
    if (schema.find_first_not_of(" \t\n") == std::string::npos ||
        schema[schema.find_first_not_of(" \t\n")] != '{') {
      absl::StatusOr<std::string> text =
          fmc::tools::readTextFile(schema, "JSON schema file");
      if (!text.ok())
        return text.status();
      where = schema;
      schema = std::move(*text);
    }
    absl::StatusOr<std::string> gbnf = fmc::grammar::jsonSchemaToGbnf(schema);
    if (!gbnf.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", gbnf.status().message()));
    return gbnf;
  }
  return std::string();
}

fmc::GenerationOptions generationOptions(const fmc::run::Options &options) {
  fmc::GenerationOptions generation;
  generation.maxNewTokens = options.maxNewTokens;
  generation.sampling.temperature = options.temperature;
  generation.sampling.topK = options.topK;
  generation.sampling.topP = options.topP;
  generation.sampling.minP = options.minP;
  generation.sampling.repeatPenalty = options.repeatPenalty;
  generation.sampling.presencePenalty = options.presencePenalty;
  generation.sampling.frequencyPenalty = options.frequencyPenalty;
  generation.sampling.penaltyWindow = options.repeatLastN;
  generation.sampling.seed =
      options.seed
          ? *options.seed
          : static_cast<uint64_t>(
                std::chrono::steady_clock::now().time_since_epoch().count());
  return generation;
}

} // namespace

int main(int argc, char **argv) {
  absl::StatusOr<fmc::run::Options> parsed = fmc::run::parseOptions(argc, argv);
  if (!parsed.ok())
    return fail(parsed.status());
  const fmc::run::Options &options = *parsed;
  if (options.help) {
    std::fputs(fmc::run::usage(), stdout);
    return 0;
  }
  if (options.version) {
    std::printf("%s\n", fmc::versionLine("fmc-run").c_str());
    return 0;
  }
  absl::StatusOr<std::string> gbnf = constraintGbnf(options);
  if (!gbnf.ok())
    return fail(gbnf.status());
  if (options.printGrammar) {
    std::fputs(gbnf->c_str(), stdout);
    return 0;
  }

  // Started by mpirun: this process is one rank of a track-parallel run,
  // which runs its own part of the model and prints nothing but errors
  // unless it is rank 0.
  absl::StatusOr<std::unique_ptr<fmc::run::TrackRanks>> joined =
      fmc::run::TrackRanks::joinIfLaunched(options.collectiveTimeout);
  if (!joined.ok())
    return fail(joined.status());
  std::unique_ptr<fmc::run::TrackRanks> ranks = std::move(*joined);
  bool primary = !ranks || ranks->rank() == 0;
  if (ranks && ranks->size() > 1) {
    rankPrefix = absl::StrCat("rank ", ranks->rank(), ": ");
    if (options.interactive)
      return fail(absl::InvalidArgumentError(
          "--interactive reads standard input, which mpirun gives rank 0 "
          "only; a track-parallel run takes --prompt or --prompt-file"));
    if (!primary && !std::freopen("/dev/null", "w", stdout))
      return fail(absl::InternalError("cannot silence standard output"));
  } else if (std::optional<std::string> hint =
                 fmc::run::trackPartsHint(options.artifact)) {
    return fail(absl::FailedPreconditionError(*hint));
  }

  // A path that does not exist is left to Artifact::open, which says so.
  std::string artifactPath =
      ranks ? ranks->partPath(options.artifact) : options.artifact;
  bool cached = false;
  struct stat st;
  bool exists = ::stat(artifactPath.c_str(), &st) == 0;
  if (exists && !fmc::run::isArtifactPath(artifactPath)) {
    fmc::run::CompileRequest request;
    request.model = options.artifact;
    request.cacheDir = options.cacheDir;
    request.compileArgs = options.compileArgs;
    request.backend = options.backend;
    request.recompile = options.recompile;
    request.argv0 = argv[0];
    absl::StatusOr<fmc::run::CompiledModel> compiled =
        fmc::run::compiledModel(request);
    if (!compiled.ok())
      return fail(compiled.status());
    artifactPath = compiled->path;
    cached = !compiled->compiledNow;
  } else if (exists) {
    const char *compileFlag = !options.compileArgs.empty() ? "--compile-arg"
                              : options.recompile          ? "--recompile"
                              : !options.cacheDir.empty()  ? "--cache-dir"
                                                           : nullptr;
    if (compileFlag)
      return fail(absl::InvalidArgumentError(absl::StrCat(
          compileFlag, " applies to a model that fmc-run compiles; '",
          options.artifact, "' is an .fmc artifact already")));
  }

  fmc::ArtifactOptions artifactOptions;
  artifactOptions.weights =
      options.mapWeights ? fmc::WeightLoading::Map : fmc::WeightLoading::Copy;
  artifactOptions.verifyWeights = options.verifyWeights;
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
      fmc::Artifact::open(artifactPath, artifactOptions);
  if (!artifact.ok()) {
    if (!cached)
      return fail(artifact.status());
    // An entry damaged since it was written: say how to replace it.
    return fail(absl::Status(
        artifact.status().code(),
        absl::StrCat(artifact.status().message(), " (a cached compile of ",
                     options.artifact, "; --recompile replaces it)")));
  }
  const fmc::schema::Artifact &root = (*artifact)->root();
  int64_t vocab = root.config()->vocab_size();
  std::unique_ptr<fmc::Adapter> adapter; // --adapter, for the session's life.

  std::unique_ptr<fmc::Tokenizer> tokenizer;
  if (root.tokenizer()) {
    absl::StatusOr<std::unique_ptr<fmc::Tokenizer>> t =
        fmc::Tokenizer::create(*root.tokenizer());
    if (!t.ok())
      return fail(t.status());
    tokenizer = std::move(*t);
  }

  if (options.interactive) {
    if (!tokenizer)
      return fail(absl::FailedPreconditionError(
          "--interactive needs a tokenizer, and the artifact has none"));
    absl::StatusOr<std::unique_ptr<fmc::Session>> session =
        fmc::Session::open(**artifact, options.backend,
                           backendOptionsOf(options));
    if (!session.ok())
      return fail(session.status());
    if (absl::Status s = applyAdapter(options, **artifact, **session, adapter);
        !s.ok())
      return fail(s);
    fmc::GenerationOptions generation = generationOptions(options);
    std::vector<fmc::run::ChatTurnStats> turns;
    absl::Status chatStatus =
        fmc::run::runChat(options, **session, *tokenizer, *root.tokenizer(),
                          generation, turns);
    // The turns so far are reported even when a later one failed.
    if (!options.statsJson.empty()) {
      OutputFile json;
      if (absl::Status s = json.open(options.statsJson); !s.ok())
        return fail(s);
      std::fprintf(json.get(),
                   "{\n  \"backend\": \"%s\",\n  \"seed\": %llu,\n"
                   "  \"context\": %lld,\n  \"turns\": [",
                   (*session)->backend().c_str(),
                   static_cast<unsigned long long>(generation.sampling.seed),
                   static_cast<long long>((*session)->maxContext()));
      for (size_t i = 0; i < turns.size(); ++i) {
        const fmc::run::ChatTurnStats &t = turns[i];
        std::fprintf(json.get(),
                     "%s\n    {\"turn\": %d, \"prompt_tokens\": %lld, "
                     "\"position\": %lld, \"generated_tokens\": %lld, "
                     "\"ttft_ms\": %.6f, \"prefill_tokens_per_s\": %.3f, "
                     "\"decode_tokens_per_s\": %.3f, \"stop\": \"%s\"}",
                     i ? "," : "", t.turn,
                     static_cast<long long>(t.promptTokens),
                     static_cast<long long>(t.position),
                     static_cast<long long>(t.generatedTokens), t.ttftMs,
                     t.prefillTokensPerS, t.decodeTokensPerS,
                     stopReasonName(t.stop));
      }
      std::fprintf(json.get(), "\n  ]\n}\n");
      if (absl::Status s = json.commit(); !s.ok())
        return fail(s);
    }
    if (!chatStatus.ok())
      return fail(chatStatus);
    return 0;
  }

  // Standard input is read only when asked for (`--prompt -`): a prompt
  // taken from an inherited pipe nobody closes would hang the run.
  std::optional<std::string> promptText = options.prompt;
  if (options.promptFile) {
    absl::StatusOr<std::string> text = readPrompt(*options.promptFile);
    if (!text.ok())
      return fail(text.status());
    promptText = std::move(*text);
  }

  std::vector<int32_t> prompt;
  if (options.promptIds) {
    prompt = *options.promptIds;
  } else {
    if (promptText && !promptText->empty() && !tokenizer)
      return fail(absl::FailedPreconditionError(
          "the artifact has no tokenizer; give the prompt with --prompt-ids"));
    int32_t bos = tokenizer ? tokenizer->bos() : -1;
    std::vector<int32_t> text;
    if (promptText && !promptText->empty())
      text = tokenizer->encode(*promptText);
    if ((tokenizer && tokenizer->addBos()) || text.empty()) {
      if (bos < 0 && text.empty())
        return fail(
            absl::InvalidArgumentError("the prompt is empty and the model has "
                                       "no BOS token to start from"));
      if (bos >= 0)
        prompt.push_back(bos);
    }
    prompt.insert(prompt.end(), text.begin(), text.end());
  }

  absl::StatusOr<std::unique_ptr<fmc::Session>> session =
      fmc::Session::open(**artifact, options.backend,
                         backendOptionsOf(options,
                                          ranks ? ranks->collective() : nullptr));
  if (!session.ok())
    return fail(session.status());
  if (absl::Status s = applyAdapter(options, **artifact, **session, adapter);
      !s.ok())
    return fail(s);

  // Speculative decoding: the draft model proposes, the target verifies.
  fmc::DraftModel draft;
  if (options.draft) {
    absl::StatusOr<fmc::DraftModel> opened = fmc::openDraft(
        *options.draft, **artifact, **session, artifactOptions,
        backendOptionsOf(options), options.draftTokens);
    if (!opened.ok())
      return fail(opened.status());
    draft = std::move(*opened);
  }
  fmc::Session *draftSession = draft.session.get();

  if (options.draft && ranks && ranks->size() > 1)
    return fail(absl::InvalidArgumentError(
        "--draft is not supported in a track-parallel run yet"));
  OutputFile logitsFile;
  // Every rank computes the same logits rows (the ranks must run the same
  // kernels); rank 0 writes them.
  if (!options.logitsOut.empty() && primary) {
    if (absl::Status s = logitsFile.open(options.logitsOut); !s.ok())
      return fail(s);
    if ((*session)->prefillLogitsLastOnly())
      std::fprintf(stderr,
                   "fmc-run: note: %s computes the logits of the last prompt "
                   "position only (its prefill skips the earlier positions "
                   "after the last KV-cache-writing layer); %s starts at "
                   "position %zu. Compile with --prefill-all-positions for "
                   "every position.\n",
                   options.artifact.c_str(), options.logitsOut.c_str(),
                   prompt.empty() ? size_t{0} : prompt.size() - 1);
  }

  fmc::GenerationOptions generation = generationOptions(options);
  generation.allLogits = !options.logitsOut.empty();
  if (ranks)
    if (absl::Status s = ranks->ready(**artifact, generation.sampling.seed);
        !s.ok()) {
      fail(s);
      // A rank that never came may never finalize either: end them all.
      if (absl::IsDeadlineExceeded(s))
        ranks->abortAll();
      return 1;
    }
  if (tokenizer && !options.ignoreEos) {
    if (tokenizer->eos() >= 0)
      generation.endTokens.push_back(tokenizer->eos());
    if (tokenizer->bos() >= 0)
      generation.endTokens.push_back(tokenizer->bos());
  }

  // Guided generation: tokens are drawn from those the grammar allows.
  std::unique_ptr<fmc::grammar::GrammarMatcher> matcher;
  std::shared_ptr<const fmc::Constraint> constraint;
  if (!gbnf->empty()) {
    if (!tokenizer)
      return fail(absl::FailedPreconditionError(
          "--grammar and --json-schema need the model's tokenizer, and the "
          "artifact has none"));
    std::vector<int32_t> ends;
    if (!options.ignoreEos && tokenizer->eos() >= 0)
      ends.push_back(tokenizer->eos());
    absl::StatusOr<std::shared_ptr<const fmc::Constraint>> made =
        fmc::Constraint::fromGbnf(*gbnf,
                                  fmc::grammarVocabulary(*tokenizer, ends));
    if (!made.ok())
      return fail(made.status());
    constraint = *made;
    matcher = constraint->start();
    generation.constraint = matcher.get();
  }

  // Every token is flushed, into a terminal or a pipe alike: whoever reads
  // the stream sees each character as soon as it is final.
  if (!options.stops.empty() && !tokenizer)
    return fail(absl::FailedPreconditionError(
        "--stop needs text, and the artifact has no tokenizer"));
  fmc::TextStream stream(options.stops);
  int32_t previous = -1;
  auto show = [&](int32_t token, bool generated) {
    std::string text = tokenizer ? tokenizer->decode(previous, token)
                                 : absl::StrCat(previous < 0 ? "" : " ", token);
    previous = token;
    std::string shown = stream.push(text, generated);
    std::fwrite(shown.data(), 1, shown.size(), stdout);
    std::fflush(stdout);
    return !stream.stoppedAt();
  };
  for (int32_t token : prompt)
    show(token, /*generated=*/false);

  fmc::GenerationCallbacks callbacks;
  callbacks.onToken = [&](int32_t token) { return show(token, true); };
  if (generation.allLogits)
    callbacks.onLogits = [&](int64_t, const float *row) {
      if (primary)
        std::fwrite(row, sizeof(float), vocab, logitsFile.get());
    };
  fmc::SpeculativeStats speculative;
  absl::StatusOr<fmc::GenerationStats> stats =
      draftSession ? fmc::generateSpeculative(**session, *draftSession, prompt,
                                              generation, callbacks,
                                              options.draftTokens, speculative)
                   : fmc::generate(**session, prompt, generation, callbacks);
  std::string rest = stream.flush();
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (!stats.ok()) {
    fail(stats.status());
    // The other ranks wait in a collective this one will never join.
    if (ranks && ranks->size() > 1)
      ranks->abortAll();
    return 1;
  }
  if (!primary)
    return 0;
  // Why the text ended, unless it ended where -n said.
  if (stats->stop == fmc::StopReason::Context)
    std::fprintf(stderr,
                 "fmc-run: stopped at the end of the context (%lld tokens) "
                 "after %lld generated tokens\n",
                 static_cast<long long>((*session)->maxContext()),
                 static_cast<long long>(stats->generatedTokens));
  else if (stats->stop == fmc::StopReason::EndToken)
    std::fprintf(stderr,
                 "fmc-run: stopped at the end-of-text token after %lld "
                 "generated tokens\n",
                 static_cast<long long>(stats->generatedTokens));
  else if (stats->stop == fmc::StopReason::Grammar)
    std::fprintf(stderr,
                 "fmc-run: the grammar's text is complete after %lld "
                 "generated tokens\n",
                 static_cast<long long>(stats->generatedTokens));
  else if (stats->stop == fmc::StopReason::Caller)
    std::fprintf(stderr,
                 "fmc-run: stopped at the stop string \"%s\" after %lld "
                 "generated tokens\n",
                 stream.stoppedAt()->c_str(),
                 static_cast<long long>(stats->generatedTokens));
  if (!options.logitsOut.empty())
    if (absl::Status s = logitsFile.commit(); !s.ok())
      return fail(s);

  fmc::MemoryStats memory = (*session)->memory();
  fmc::CollectiveStats collective = fmc::collectiveStatsOf(**artifact);
  uint64_t rss = peakRssBytes();
  if (options.stats) {
    std::fprintf(
        stderr,
        "fmc-run: %s backend, %lld prompt tokens, %lld generated%s\n"
        "  backend chosen by    %s\n"
        "  time to first token  %.3f ms\n"
        "  prefill              %.1f tokens/s\n"
        "  decode               %.1f tokens/s\n"
        "  context              %lld of %lld positions\n"
        "  weights              %s\n"
        "  kv cache             %llu bytes/token, %s allocated%s\n"
        "  arena                %s\n"
        "  peak rss             %s\n"
        "  seed                 %llu\n%s%s",
        (*session)->backend().c_str(),
        static_cast<long long>(stats->promptTokens),
        static_cast<long long>(stats->generatedTokens),
        stats->stop == fmc::StopReason::Context
            ? " (stopped at the end of the context)"
            : "",
        (*session)->backendChoice().c_str(), stats->ttftMs,
        stats->prefillTokensPerS, stats->decodeTokensPerS,
        static_cast<long long>((*session)->maxContext()),
        static_cast<long long>((*session)->compiledContext()),
        fmc::tools::humanBytes(memory.weightsBytes).c_str(),
        static_cast<unsigned long long>(memory.kvBytesPerToken),
        fmc::tools::humanBytes(memory.kvBytesTotal).c_str(),
        memory.kvScaleBytesTotal
            ? absl::StrCat(" (+ int8 scales ", memory.kvScaleBytesPerToken,
                           " bytes/token, ",
                           fmc::tools::humanBytes(memory.kvScaleBytesTotal),
                           ")")
                  .c_str()
            : "",
        fmc::tools::humanBytes(memory.arenaBytes).c_str(),
        fmc::tools::humanBytes(rss).c_str(),
        static_cast<unsigned long long>(generation.sampling.seed),
        draftSession
            ? absl::StrFormat("  speculative          %d draft tokens per "
                              "pass, %.1f%% accepted, %.2f tokens per target "
                              "pass\n",
                              options.draftTokens,
                              100 * speculative.acceptanceRate(),
                              speculative.targetPasses
                                  ? static_cast<double>(
                                        stats->generatedTokens - 1) /
                                        speculative.targetPasses
                                  : 0.0)
                  .c_str()
            : "",
        ranks && ranks->size() > 1
            ? absl::StrFormat(
                  "  %-21s%d processes, %lld all-reduces "
                  "and %s sent per rank per decoded token (%lld "
                  "all-reduces in all)\n",
                  collective.split == "tensor" ? "tensor ranks"
                                               : "track ranks",
                  ranks->size(),
                  static_cast<long long>(collective.allReducesPerToken),
                  fmc::tools::humanBytes(collective.bytesPerToken),
                  static_cast<long long>(ranks->collective()->allReduces()))
                  .c_str()
            : "");
  }
  if (!options.statsJson.empty()) {
    OutputFile json;
    if (absl::Status s = json.open(options.statsJson); !s.ok())
      return fail(s);
    std::fprintf(json.get(),
                 "{\n"
                 "  \"backend\": \"%s\",\n"
                 "  \"prompt_tokens\": %lld,\n"
                 "  \"generated_tokens\": %lld,\n"
                 "  \"ttft_ms\": %.6f,\n"
                 "  \"prefill_tokens_per_s\": %.3f,\n"
                 "  \"decode_tokens_per_s\": %.3f,\n"
                 "  \"context\": %lld,\n"
                 "  \"compiled_context\": %lld,\n"
                 "  \"weights_bytes\": %llu,\n"
                 "  \"kv_bytes_per_token\": %llu,\n"
                 "  \"kv_bytes_total\": %llu,\n"
                 "  \"kv_scale_bytes_per_token\": %llu,\n"
                 "  \"kv_scale_bytes_total\": %llu,\n"
                 "  \"arena_bytes\": %llu,\n"
                 "  \"peak_rss_bytes\": %llu,\n"
                 "  \"seed\": %llu,\n"
                 "%s%s"
                 "  \"stop\": \"%s\"\n"
                 "}\n",
                 (*session)->backend().c_str(),
                 static_cast<long long>(stats->promptTokens),
                 static_cast<long long>(stats->generatedTokens), stats->ttftMs,
                 stats->prefillTokensPerS, stats->decodeTokensPerS,
                 static_cast<long long>((*session)->maxContext()),
                 static_cast<long long>((*session)->compiledContext()),
                 static_cast<unsigned long long>(memory.weightsBytes),
                 static_cast<unsigned long long>(memory.kvBytesPerToken),
                 static_cast<unsigned long long>(memory.kvBytesTotal),
                 static_cast<unsigned long long>(memory.kvScaleBytesPerToken),
                 static_cast<unsigned long long>(memory.kvScaleBytesTotal),
                 static_cast<unsigned long long>(memory.arenaBytes),
                 static_cast<unsigned long long>(rss),
                 static_cast<unsigned long long>(generation.sampling.seed),
                 draftSession
                     ? absl::StrFormat(
                           "  \"draft_tokens\": %d,\n"
                           "  \"draft_acceptance\": %.6f,\n"
                           "  \"target_passes\": %lld,\n",
                           options.draftTokens, speculative.acceptanceRate(),
                           static_cast<long long>(speculative.targetPasses))
                           .c_str()
                     : "",
                 ranks && ranks->size() > 1
                     ? absl::StrFormat(
                           "  \"ranks\": %d,\n"
                           "  \"split\": \"%s\",\n"
                           "  \"all_reduces_per_token\": %lld,\n"
                           "  \"all_reduce_bytes_per_token\": %llu,\n"
                           "  \"all_reduces\": %lld,\n",
                           ranks->size(), collective.split,
                           static_cast<long long>(collective.allReducesPerToken),
                           static_cast<unsigned long long>(
                               collective.bytesPerToken),
                           static_cast<long long>(
                               ranks->collective()->allReduces()))
                           .c_str()
                     : "",
                 stopReasonName(stats->stop));
    if (absl::Status s = json.commit(); !s.ok())
      return fail(s);
  }
  return 0;
}
