//===- fmc-inspect.cpp - what an .fmc artifact holds ----------------------===//
//
// Opens an artifact as fmc-run does (the header verified against its
// checksum and every index validated; the weights mapped, not read) and
// prints its summary (Summary.h) as text or, with --json, as JSON. A
// corrupt or truncated file is one "fmc-inspect: error: ..." line naming
// what is wrong, and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ArtifactFormat.h"
#include "support/Version.h"
#include "tools/common/TextFormat.h"
#include "tools/fmc-inspect/Summary.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

using fmc::inspect::Summary;

const char *usage() {
  return R"(usage: fmc-inspect model.fmc [--json]

Prints what an .fmc artifact holds: its format version, targets with their
entry points and dispatches per run, the context length, the KV plan (the
caches and which attention layers read each: more than one is sharing),
the weights by class (the classes --quantize names, by the kernel that
reads them) with their formats and bits per weight, the tokenizer, and how
the artifact was made: the fmc-compile command line, the options in effect
and the source files with their size and SHA-256 ("not recorded" in
artifacts written before fmc-compile recorded them), and the family of the
model's chat template (what fmc-run -i renders; "none" when fmc does not
recognise it).

The header is verified (checksum, structure, every index) as fmc-run
verifies it; the weights are not read.

Options:
  --json       the same as JSON on stdout
  -h, --help   this text
  --version    the tool's version and the artifact format it reads
)";
}

int fail(absl::string_view message) {
  std::fprintf(stderr, "fmc-inspect: error: %.*s\n",
               static_cast<int>(message.size()), message.data());
  return 1;
}

/// An argument as a POSIX shell reads it back.
std::string shellQuoted(const std::string &arg) {
  if (!arg.empty() &&
      arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                            "XYZ0123456789-_./=,:+%@") == std::string::npos)
    return arg;
  std::string out = "'";
  for (char c : arg)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string layers(const std::vector<int64_t> &readers) {
  if (readers.empty())
    return "read by no attention layer";
  return absl::StrCat(readers.size() == 1 ? "read by layer " : "read by layers ",
                      absl::StrJoin(readers, ", "),
                      readers.size() > 1 ? " (shared)" : "");
}

std::string formats(const fmc::inspect::WeightClass &c) {
  std::vector<std::string> parts;
  for (const auto &[format, count] : c.formats)
    parts.push_back(c.formats.size() == 1 ? format
                                          : absl::StrCat(format, " x", count));
  return absl::StrJoin(parts, ", ");
}

void printText(const std::string &path, const Summary &s) {
  const char *indent = "                  ";
  std::printf("%s\n", path.c_str());
  std::printf("format version    %u (written by %s)\n", s.formatVersion,
              s.producer.c_str());
  std::printf("model             %s: vocab %lld, hidden %lld\n",
              s.model.c_str(), static_cast<long long>(s.vocab),
              static_cast<long long>(s.hidden));
  std::printf("context           %lld positions\n",
              static_cast<long long>(s.context));
  if (s.part)
    std::printf("part              rank %d of %d (split by %s): %lld "
                "all-reduces and %llu bytes sent per decoded token; run with "
                "mpirun -np %d fmc-run MODEL.fmc\n",
                s.part->rank, s.part->ranks, s.part->split.c_str(),
                static_cast<long long>(s.part->allReducesPerToken),
                static_cast<unsigned long long>(s.part->bytesPerToken),
                s.part->ranks);
  std::printf("programs          prefill: up to %lld tokens a run, %lld "
              "kernels; decode: %lld kernels\n",
              static_cast<long long>(s.prefillTokens),
              static_cast<long long>(s.prefillKernels),
              static_cast<long long>(s.decodeKernels));
  if (s.prefillLastPositionOnly)
    std::printf("%sprefill computes the logits of the last position only\n",
                indent);
  for (size_t i = 0; i < s.targets.size(); ++i) {
    const fmc::inspect::TargetSummary &t = s.targets[i];
    std::string line =
        t.target == "cpu"
            ? absl::StrCat("cpu: the runtime's kernels, ", t.prefillDispatches,
                           " prefill / ", t.decodeDispatches,
                           " decode kernels a run")
            : absl::StrCat(t.target, t.arch.empty() ? "" : " " + t.arch, " (",
                           t.format, ", ", fmc::tools::humanBytes(t.codeBytes),
                           "): ", t.entryPoints, " entry points, ",
                           t.prefillDispatches, " prefill / ",
                           t.decodeDispatches, " decode dispatches a run");
    std::printf("%s%s\n", i == 0 ? "targets           " : indent,
                line.c_str());
  }
  std::printf("kv plan           %zu cache%s for %lld attention layers\n",
              s.caches.size(), s.caches.size() == 1 ? "" : "s",
              static_cast<long long>(s.attentionLayers));
  for (const fmc::inspect::CacheSummary &c : s.caches)
    std::printf(
        "%s%s: %s, %lld positions x %lld heads x %lld, %s, %s%s; "
        "%s\n",
        indent, c.name.c_str(), c.kind.c_str(),
        static_cast<long long>(c.capacity), static_cast<long long>(c.kvHeads),
        static_cast<long long>(c.headDim), c.dtype.c_str(),
        fmc::tools::humanBytes(c.bytes).c_str(),
        c.scaleBytes ? absl::StrCat(" (", fmc::tools::humanBytes(c.scaleBytes),
                                    " of scales)")
                           .c_str()
                     : "",
        layers(c.readers).c_str());
  std::printf("weights           %-10s %7s %12s %12s %9s  %s\n", "class",
              "tensors", "elements", "bytes", "bits/w", "formats");
  for (const fmc::inspect::WeightClass &c : s.classes)
    std::printf("%s%-10s %7lld %12lld %12llu %9.3f  %s\n", indent,
                c.name.c_str(), static_cast<long long>(c.tensors),
                static_cast<long long>(c.elements),
                static_cast<unsigned long long>(c.bytes), c.bitsPerWeight(),
                formats(c).c_str());
  if (s.tiedOutput)
    std::printf("%sthe output projection is the embedding table (tied)\n",
                indent);
  if (s.tokenizer)
    std::printf(
        "tokenizer         %s%s, %lld tokens, BOS %d%s, EOS %d%s\n",
        s.tokenizer->kind.c_str(),
        s.tokenizer->preTokenizer.empty()
            ? ""
            : absl::StrCat(" (", s.tokenizer->preTokenizer, " pre-tokenizer)")
                  .c_str(),
        static_cast<long long>(s.tokenizer->vocab), s.tokenizer->bos,
        s.tokenizer->addBos ? " (added)" : "", s.tokenizer->eos,
        s.tokenizer->addEos ? " (added)" : "");
  else
    std::printf("tokenizer         none (token ids in and out)\n");
  if (s.tokenizer && s.tokenizer->chatFamily)
    std::printf("chat template     %s\n", s.tokenizer->chatFamily->c_str());
  else
    std::printf("chat template     none in the model\n");
  if (s.command) {
    std::vector<std::string> quoted;
    for (const std::string &arg : *s.command)
      quoted.push_back(shellQuoted(arg));
    std::printf("compiled with     %s\n", absl::StrJoin(quoted, " ").c_str());
  } else {
    std::printf("compiled with     not recorded\n");
  }
  if (s.options) {
    for (size_t i = 0; i < s.options->size(); ++i)
      std::printf("%s--%s=%s\n", i == 0 ? "options           " : indent,
                  (*s.options)[i].first.c_str(),
                  shellQuoted((*s.options)[i].second).c_str());
  } else {
    std::printf("options           not recorded\n");
  }
  if (s.sourceFiles) {
    for (size_t i = 0; i < s.sourceFiles->size(); ++i) {
      const fmc::inspect::SourceFileSummary &f = (*s.sourceFiles)[i];
      std::printf("%s%s  %llu bytes  sha256 %s\n",
                  i == 0 ? "source files      " : indent, f.path.c_str(),
                  static_cast<unsigned long long>(f.bytes), f.sha256.c_str());
    }
  } else {
    std::printf("source files      not recorded\n");
  }
  std::printf("weights segment   %s (%llu bytes)\n",
              fmc::tools::humanBytes(s.weightsBytes).c_str(),
              static_cast<unsigned long long>(s.weightsBytes));
  std::printf("checksums         xxh3-64 header %016llx, weights %016llx\n",
              static_cast<unsigned long long>(s.headerChecksum),
              static_cast<unsigned long long>(s.weightsChecksum));
}

std::string json(const std::string &text) {
  return fmc::tools::jsonString(text);
}

std::string json(bool value) { return value ? "true" : "false"; }

void printJson(const std::string &path, const Summary &s) {
  std::string out = "{\n";
  auto field = [&](std::string_view key, const std::string &value,
                   bool last = false) {
    absl::StrAppend(&out, "  ", json(std::string(key)), ": ", value,
                    last ? "\n" : ",\n");
  };
  field("file", json(path));
  field("format_version", absl::StrCat(s.formatVersion));
  field("producer", json(s.producer));
  field("model", json(s.model));
  field("vocab_size", absl::StrCat(s.vocab));
  field("hidden_size", absl::StrCat(s.hidden));
  field("context", absl::StrCat(s.context));
  field("part",
        s.part ? absl::StrCat("{\"rank\": ", s.part->rank, ", \"ranks\": ",
                              s.part->ranks, ", \"split\": ",
                              json(s.part->split),
                              ", \"all_reduces_per_token\": ",
                              s.part->allReducesPerToken,
                              ", \"all_reduce_bytes_per_token\": ",
                              s.part->bytesPerToken, "}")
               : "null");
  // The importer's facts are JSON already (or empty in hand-written IR).
  field("source_config", s.sourceConfigJson.empty() ? "null"
                                                    : s.sourceConfigJson);
  field("prefill_tokens", absl::StrCat(s.prefillTokens));
  field("prefill_kernels", absl::StrCat(s.prefillKernels));
  field("decode_kernels", absl::StrCat(s.decodeKernels));
  field("prefill_last_position_only", json(s.prefillLastPositionOnly));
  std::vector<std::string> targets;
  for (const fmc::inspect::TargetSummary &t : s.targets)
    targets.push_back(absl::StrCat(
        "{\"target\": ", json(t.target), ", \"format\": ", json(t.format),
        ", \"arch\": ", json(t.arch), ", \"code_bytes\": ", t.codeBytes,
        ", \"entry_points\": ", t.entryPoints,
        ", \"prefill_dispatches\": ", t.prefillDispatches,
        ", \"decode_dispatches\": ", t.decodeDispatches, "}"));
  field("targets", absl::StrCat("[", absl::StrJoin(targets, ", "), "]"));
  field("attention_layers", absl::StrCat(s.attentionLayers));
  std::vector<std::string> caches;
  for (const fmc::inspect::CacheSummary &c : s.caches)
    caches.push_back(absl::StrCat(
        "\n    {\"name\": ", json(c.name), ", \"kind\": ", json(c.kind),
        ", \"capacity\": ", c.capacity, ", \"kv_heads\": ", c.kvHeads,
        ", \"head_dim\": ", c.headDim, ", \"dtype\": ", json(c.dtype),
        ", \"bytes\": ", c.bytes, ", \"scale_bytes\": ", c.scaleBytes,
        ", \"read_by_layers\": [", absl::StrJoin(c.readers, ", "), "]}"));
  field("kv_caches", absl::StrCat("[", absl::StrJoin(caches, ","), "\n  ]"));
  std::vector<std::string> classes;
  for (const fmc::inspect::WeightClass &c : s.classes) {
    std::vector<std::string> formatList;
    for (const auto &[format, count] : c.formats)
      formatList.push_back(absl::StrCat(json(format), ": ", count));
    classes.push_back(absl::StrCat(
        "\n    {\"class\": ", json(c.name), ", \"tensors\": ", c.tensors,
        ", \"elements\": ", c.elements, ", \"bytes\": ", c.bytes,
        ", \"bits_per_weight\": ", absl::StrFormat("%.6f", c.bitsPerWeight()),
        ", \"formats\": {", absl::StrJoin(formatList, ", "), "}}"));
  }
  field("weights", absl::StrCat("[", absl::StrJoin(classes, ","), "\n  ]"));
  field("tied_output", json(s.tiedOutput));
  field("tokenizer",
        s.tokenizer
            ? absl::StrCat(
                  "{\"kind\": ", json(s.tokenizer->kind),
                  ", \"pre_tokenizer\": ",
                  s.tokenizer->preTokenizer.empty()
                      ? "null"
                      : json(s.tokenizer->preTokenizer),
                  ", \"vocab_size\": ", s.tokenizer->vocab,
                  ", \"bos\": ", s.tokenizer->bos, ", \"eos\": ",
                  s.tokenizer->eos, ", \"add_bos\": ", json(s.tokenizer->addBos),
                  ", \"add_eos\": ", json(s.tokenizer->addEos), "}")
            : "null");
  field("chat_template", s.tokenizer && s.tokenizer->chatFamily
                             ? json(*s.tokenizer->chatFamily)
                             : std::string("null"));
  if (s.command) {
    std::vector<std::string> args;
    for (const std::string &arg : *s.command)
      args.push_back(json(arg));
    field("compile_command", absl::StrCat("[", absl::StrJoin(args, ", "), "]"));
  } else {
    field("compile_command", "null");
  }
  if (s.options) {
    std::vector<std::string> options;
    for (const auto &[name, value] : *s.options)
      options.push_back(absl::StrCat(json(name), ": ", json(value)));
    field("compile_options",
          absl::StrCat("{", absl::StrJoin(options, ", "), "}"));
  } else {
    field("compile_options", "null");
  }
  if (s.sourceFiles) {
    std::vector<std::string> files;
    for (const fmc::inspect::SourceFileSummary &f : *s.sourceFiles)
      files.push_back(absl::StrCat("\n    {\"path\": ", json(f.path),
                                   ", \"bytes\": ", f.bytes,
                                   ", \"sha256\": ", json(f.sha256), "}"));
    field("source_files",
          absl::StrCat("[", absl::StrJoin(files, ","), "\n  ]"));
  } else {
    field("source_files", "null");
  }
  field("weights_bytes", absl::StrCat(s.weightsBytes));
  field("checksums",
        absl::StrFormat("{\"header\": \"%016x\", \"weights\": \"%016x\"}",
                        s.headerChecksum, s.weightsChecksum),
        /*last=*/true);
  out += "}\n";
  std::fputs(out.c_str(), stdout);
}

} // namespace

int main(int argc, char **argv) {
  bool asJson = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage(), stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("%s, reads .fmc artifact format version %u\n",
                fmc::versionLine("fmc-inspect").c_str(), fmc::kArtifactFormatVersion);
      return 0;
    }
    if (arg == "--json") {
      asJson = true;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-')
      return fail(absl::StrCat("unknown option '", std::string(arg),
                               "' (see --help)"));
    positional.emplace_back(arg);
  }
  if (positional.size() != 1)
    return fail(positional.empty()
                    ? "no artifact given: fmc-inspect model.fmc [--json] (see "
                      "--help)"
                    : absl::StrCat("unexpected argument '", positional[1],
                                   "'"));
  const std::string &path = positional[0];
  // Mapped and not checked: inspecting reads the header only.
  fmc::ArtifactOptions options;
  options.weights = fmc::WeightLoading::Map;
  options.verifyWeights = false;
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
      fmc::Artifact::open(path, options);
  if (!artifact.ok())
    return fail(artifact.status().message());
  Summary summary = fmc::inspect::summarize(**artifact);
  if (asJson)
    printJson(path, summary);
  else
    printText(path, summary);
  return std::fflush(stdout) == 0 ? 0 : fail("cannot write to stdout");
}
