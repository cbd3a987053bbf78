//===- CompiledModelCache.cpp - fmc-run MODEL: compile once, then reuse ---===//
//
// An entry is `<cache>/<model name>-<key>.fmc`, the key an XXH3-128 hash of:
// fmc's version and git revision (an artifact is compiled by the fmc-compile
// built with this fmc-run); the fmc-compile arguments (the target, then
// --compile-arg's); and the files the compiler reads, by content, because
// the same path may hold a new download tomorrow:
//   - a Hugging Face directory: its *.json, *.safetensors and *.jinja files
//     (config, shards and their index, tokenizer and its config, chat
//     template: what the importer reads), by name;
//   - fm IR (.mlir): the file and every file a string in it names (the
//     weights of #fm.external parameters and the tokenizer, paths relative
//     to the IR file's directory, as fmc-compile resolves them);
//   - any other file (.gguf, llama2.c): the file;
//   - a --tokenizer file given with --compile-arg.
//
// A miss compiles into a private directory in the cache, named after the
// model so that the artifact records the model's name (fmc-compile names it
// after the output file), then renames the artifact into place: an entry
// is whole or absent, also when two runs compile it at once (the last
// rename wins, with the same bytes). The private directory of a compile
// that was killed is removed by the next miss.
//
//===----------------------------------------------------------------------===//

#include "tools/fmc-run/CompiledModelCache.h"

#include "tools/common/TextFile.h"

#include "runtime/ArtifactFormat.h"
#include "runtime/Backend.h"
#include "support/Version.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

// Header-only, as in runtime/ArtifactChecksum.h: no library to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <spawn.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace fmc::run {

namespace {

/// The private directories of compiles in progress: `.compiling-<pid>-*`.
constexpr char kCompilingPrefix[] = ".compiling-";

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

bool isRegularFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// The XDG base directory specification's cache directory; a relative
/// $XDG_CACHE_HOME is invalid there and ignored.
absl::StatusOr<std::string> defaultCacheDir() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/')
    return absl::StrCat(xdg, "/fmc");
  if (const char *home = std::getenv("HOME"); home && home[0])
    return absl::StrCat(home, "/.cache/fmc");
  return absl::FailedPreconditionError(
      "no cache directory for the compiled model: neither XDG_CACHE_HOME nor "
      "HOME is set; give --cache-dir DIR");
}

/// mkdir -p, private to the user as XDG asks of the directories it creates.
absl::Status makeDirectories(const std::string &dir) {
  for (size_t end = 1; end <= dir.size(); ++end) {
    if (end < dir.size() && dir[end] != '/')
      continue;
    std::string prefix = dir.substr(0, end);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return absl::UnavailableError(absl::StrCat(
          "cannot create the cache directory '", dir,
          "': ", std::strerror(errno), " (--cache-dir DIR picks another)"));
  }
  if (!isDirectory(dir))
    return absl::FailedPreconditionError(
        absl::StrCat("the cache directory '", dir,
                     "' is not a directory (--cache-dir DIR picks another)"));
  return absl::OkStatus();
}

/// Removes a private compile directory: the files fmc-compile left in it
/// (its temporary artifact, when killed), then the directory.
void removeCompileDirectory(const std::string &dir) {
  if (DIR *d = ::opendir(dir.c_str())) {
    while (const dirent *entry = ::readdir(d)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..")
        ::unlink(absl::StrCat(dir, "/", name).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

/// The private directories of compiles whose process is gone (killed, or
/// interrupted with ^C) hold partial artifacts nobody will finish.
void removeAbandonedCompiles(const std::string &cacheDir) {
  DIR *d = ::opendir(cacheDir.c_str());
  if (!d)
    return;
  std::vector<std::string> abandoned;
  while (const dirent *entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name.rfind(kCompilingPrefix, 0) != 0)
      continue;
    std::string rest = name.substr(sizeof kCompilingPrefix - 1);
    long pid = 0;
    if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid) || pid <= 0)
      continue;
    std::string path = absl::StrCat(cacheDir, "/", name);
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH &&
        isDirectory(path))
      abandoned.push_back(std::move(path));
  }
  ::closedir(d);
  for (const std::string &dir : abandoned)
    removeCompileDirectory(dir);
}

/// The model's name: the last component of its real path, without a
/// file's extension ("stories260K" for stories260K.gguf, the directory's
/// name for a Hugging Face directory).
std::string modelName(const std::string &model) {
  std::string path = model;
  if (char *real = ::realpath(model.c_str(), nullptr)) {
    path = real;
    std::free(real);
  }
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  std::string name = path.substr(path.rfind('/') + 1);
  if (!isDirectory(path))
    if (size_t dot = name.rfind('.'); dot != std::string::npos && dot > 0)
      name.resize(dot);
  // A leading dot would hide the entry (and could look like a compile's
  // private directory).
  name.erase(0, name.find_first_not_of('.'));
  return name.empty() ? "model" : name;
}

/// XXH3-128 over length-prefixed parts, so that no two different
/// sequences of parts hash the same bytes.
class KeyHasher {
public:
  KeyHasher() { XXH3_128bits_reset(&state); }

  void add(std::string_view bytes) {
    addLength(bytes.size());
    XXH3_128bits_update(&state, bytes.data(), bytes.size());
  }

  /// `name`, then the file's size and bytes, streamed (shards are GBs).
  absl::Status addFile(std::string_view name, const std::string &path) {
    add(name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      absl::Status error = absl::NotFoundError(
          absl::StrCat("cannot read '", path, "': ", std::strerror(errno)));
      if (fd >= 0)
        ::close(fd);
      return error;
    }
    addLength(static_cast<uint64_t>(st.st_size));
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    std::vector<char> buffer(size_t{4} << 20);
    for (;;) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        absl::Status error = absl::DataLossError(
            absl::StrCat("cannot read '", path, "': ", std::strerror(errno)));
        ::close(fd);
        return error;
      }
      if (n == 0)
        break;
      XXH3_128bits_update(&state, buffer.data(), static_cast<size_t>(n));
    }
    ::close(fd);
    return absl::OkStatus();
  }

  std::string hex() const {
    XXH128_hash_t hash = XXH3_128bits_digest(&state);
    char text[33];
    std::snprintf(text, sizeof text, "%016llx%016llx",
                  static_cast<unsigned long long>(hash.high64),
                  static_cast<unsigned long long>(hash.low64));
    return text;
  }

private:
  void addLength(uint64_t n) { XXH3_128bits_update(&state, &n, sizeof n); }

  XXH3_state_t state;
};

/// The files of a Hugging Face directory that the importer reads, sorted.
absl::StatusOr<std::vector<std::string>>
directoryModelFiles(const std::string &dir) {
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return absl::NotFoundError(
        absl::StrCat("cannot list '", dir, "': ", std::strerror(errno)));
  std::vector<std::string> names;
  while (const dirent *entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if ((endsWith(name, ".json") || endsWith(name, ".safetensors") ||
         endsWith(name, ".jinja")) &&
        isRegularFile(absl::StrCat(dir, "/", name)))
      names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

/// The files the double-quoted strings of IR text name (a relative one
/// against `directory`, the IR file's, as fmc-compile resolves them),
/// sorted. A string that names no file (a symbol, a kind) is skipped, and
/// so are `//` comments, where a lone quote would pair the strings after it
/// wrongly.
std::set<std::pair<std::string, std::string>>
filesNamedIn(std::string_view text, const std::string &directory) {
  // (as written, resolved): the key hashes the name as the IR writes it,
  // so a model moved with its files keeps its key.
  std::set<std::pair<std::string, std::string>> files;
  for (size_t at = 0; at < text.size(); ++at) {
    if (text.compare(at, 2, "//") == 0) {
      at = text.find('\n', at);
      if (at == std::string_view::npos)
        break;
      continue;
    }
    if (text[at] != '"')
      continue;
    size_t end = at + 1;
    while (end < text.size() && text[end] != '"' && text[end] != '\n')
      end += text[end] == '\\' ? 2 : 1;
    if (end >= text.size())
      break;
    std::string_view literal = text.substr(at + 1, end - at - 1);
    // Escaped strings and hex blobs name no file fmc reads.
    std::string path(literal);
    if (!path.empty() && path[0] != '/')
      path = directory + "/" + path;
    if (!literal.empty() && literal.size() < PATH_MAX &&
        literal.find('\\') == std::string_view::npos && isRegularFile(path))
      files.emplace(std::string(literal), path);
    at = end;
  }
  return files;
}

/// The cache key of compiling `model` with fmc-compile arguments `args`.
absl::StatusOr<std::string> cacheKey(const std::string &model,
                                     const std::vector<std::string> &args) {
  KeyHasher key;
  // Bumped when what the key covers changes.
  key.add("fmc-run compiled model cache 1");
  key.add(fmc::version());
  key.add(fmc::gitRevision());
  key.add(absl::StrCat(args.size()));
  for (const std::string &arg : args)
    key.add(arg);

  if (isDirectory(model)) {
    absl::StatusOr<std::vector<std::string>> names = directoryModelFiles(model);
    if (!names.ok())
      return names.status();
    for (const std::string &name : *names)
      if (absl::Status s = key.addFile(name, absl::StrCat(model, "/", name));
          !s.ok())
        return s;
  } else if (endsWith(model, ".mlir")) {
    absl::StatusOr<std::string> text = fmc::tools::readTextFile(model, "model file");
    if (!text.ok())
      return text.status();
    key.add("ir");
    key.add(*text);
    size_t slash = model.rfind('/');
    std::string directory = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : model.substr(0, slash);
    for (const auto &[name, file] : filesNamedIn(*text, directory))
      if (absl::Status s = key.addFile(name, file); !s.ok())
        return s;
  } else if (absl::Status s = key.addFile("model", model); !s.ok()) {
    return s;
  }

  // A tokenizer given to fmc-compile is read too: --tokenizer F,
  // --tokenizer=F (LLVM's options take one dash or two).
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    while (!arg.empty() && arg.front() == '-' &&
           args[i].size() - arg.size() < 2)
      arg.remove_prefix(1);
    std::string file;
    if (arg == "tokenizer" && i + 1 < args.size())
      file = args[i + 1];
    else if (arg.rfind("tokenizer=", 0) == 0)
      file = std::string(arg.substr(10));
    if (!file.empty() && isRegularFile(file))
      if (absl::Status s = key.addFile("tokenizer", file); !s.ok())
        return s;
  }
  return key.hex();
}

/// fmc-compile beside this fmc-run (an install or a build directory keeps
/// the tools together), else the first on PATH.
absl::StatusOr<std::string> findCompiler(const std::string &argv0) {
  std::string self;
  char buffer[PATH_MAX];
  if (ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
      n > 0)
    self.assign(buffer, static_cast<size_t>(n));
  else if (argv0.find('/') != std::string::npos)
    self = argv0;
  std::string besideSelf;
  if (!self.empty()) {
    besideSelf = self.substr(0, self.rfind('/'));
    if (besideSelf.empty())
      besideSelf = "/";
    std::string candidate = absl::StrCat(besideSelf, "/fmc-compile");
    if (isRegularFile(candidate) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  const char *path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':')) {
    std::string candidate = absl::StrCat(
        dir.empty() ? absl::string_view(".") : dir, "/fmc-compile");
    if (isRegularFile(candidate) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return absl::NotFoundError(absl::StrCat(
      "compiling it needs fmc-compile, which is neither beside fmc-run",
      besideSelf.empty() ? "" : absl::StrCat(" (in ", besideSelf, ")"),
      " nor on PATH; install it there, or compile elsewhere "
      "(fmc-compile MODEL -o model.fmc) and run the .fmc"));
}

/// Runs fmc-compile `args` (args[0] its path) and waits for it. Its stderr
/// is fmc-run's (progress on a terminal, warnings, errors); its stdout, the
/// size report, is dropped: fmc-run's stdout is the generated text.
absl::Status runCompiler(const std::string &model,
                         const std::vector<std::string> &args) {
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                     O_WRONLY, 0);
  std::vector<char *> argv;
  for (const std::string &arg : args)
    argv.push_back(const_cast<char *>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  int error = ::posix_spawn(&pid, args[0].c_str(), &actions, nullptr,
                            argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (error != 0)
    return absl::UnavailableError(absl::StrCat("cannot run '", args[0],
                                               "' to compile ", model, ": ",
                                               std::strerror(error)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return absl::InternalError(
          absl::StrCat("waiting for fmc-compile: ", std::strerror(errno)));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(
      "compiling ", model, " failed (",
      WIFEXITED(status)
          ? absl::StrCat("fmc-compile exited with status ", WEXITSTATUS(status))
          : absl::StrCat("fmc-compile was killed by signal ", WTERMSIG(status)),
      ")"));
}

} // namespace

bool isArtifactPath(const std::string &path) {
  if (endsWith(path, ".fmc"))
    return true;
  if (!isRegularFile(path))
    return false;
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return false;
  // The FlatBuffers identifier follows the size prefix and the root offset.
  char first[12];
  bool artifact = std::fread(first, 1, sizeof first, file) == sizeof first &&
                  std::memcmp(first + 8, fmc::kArtifactIdentifier, 4) == 0;
  std::fclose(file);
  return artifact;
}

absl::StatusOr<CompiledModel> compiledModel(const CompileRequest &request) {
  // The target: the backend asked for, or the best one present. fmc-compile
  // keeps the cpu code beside a GPU target, as every machine's fallback.
  std::string backend = request.backend;
  if (absl::Status s = fmc::checkBackendName(backend); !s.ok())
    return s;
  if (backend == "auto")
    backend = fmc::bestBackendHere();
  std::vector<std::string> args;
  if (backend != "cpu")
    args.push_back(absl::StrCat("--target=", backend));
  args.insert(args.end(), request.compileArgs.begin(),
              request.compileArgs.end());

  std::string cacheDir = request.cacheDir;
  if (cacheDir.empty()) {
    absl::StatusOr<std::string> dir = defaultCacheDir();
    if (!dir.ok())
      return dir.status();
    cacheDir = *dir;
  }
  absl::StatusOr<std::string> key = cacheKey(request.model, args);
  if (!key.ok())
    return key.status();
  std::string name = modelName(request.model);
  CompiledModel result;
  result.path = absl::StrCat(cacheDir, "/", name, "-", *key, ".fmc");

  if (!request.recompile && isRegularFile(result.path)) {
    std::fprintf(stderr, "fmc-run: using %s (compiled from %s)\n",
                 result.path.c_str(), request.model.c_str());
    return result;
  }

  absl::StatusOr<std::string> compiler = findCompiler(request.argv0);
  if (!compiler.ok())
    return absl::Status(compiler.status().code(),
                        absl::StrCat("'", request.model,
                                     "' is not an .fmc artifact, and ",
                                     compiler.status().message()));
  if (absl::Status s = makeDirectories(cacheDir); !s.ok())
    return s;
  removeAbandonedCompiles(cacheDir);
  std::string privateDir =
      absl::StrCat(cacheDir, "/", kCompilingPrefix, ::getpid(), "-XXXXXX");
  if (!::mkdtemp(privateDir.data()))
    return absl::UnavailableError(absl::StrCat(
        "cannot write into the cache directory '", cacheDir,
        "': ", std::strerror(errno), " (--cache-dir DIR picks another)"));
  std::string output = absl::StrCat(privateDir, "/", name, ".fmc");

  std::fprintf(stderr,
               "fmc-run: compiling %s for %s into %s (once; later runs "
               "reuse it)\n",
               request.model.c_str(), backend.c_str(), result.path.c_str());
  std::vector<std::string> command = {*compiler, request.model, "-o", output};
  command.insert(command.end(), args.begin(), args.end());
  absl::Status compiled = runCompiler(request.model, command);
  if (compiled.ok() && !isRegularFile(output))
    compiled = absl::InternalError(
        absl::StrCat("fmc-compile ", request.model,
                     " succeeded but wrote no artifact (did a --compile-arg "
                     "ask for --help or --version?)"));
  if (compiled.ok() && ::rename(output.c_str(), result.path.c_str()) != 0)
    compiled = absl::UnavailableError(
        absl::StrCat("cannot move the compiled model to '", result.path,
                     "': ", std::strerror(errno)));
  removeCompileDirectory(privateDir);
  if (!compiled.ok())
    return compiled;
  result.compiledNow = true;
  return result;
}

} // namespace fmc::run
