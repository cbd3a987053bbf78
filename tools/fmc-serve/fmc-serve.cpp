//===- fmc-serve.cpp - an OpenAI-compatible HTTP server for one model -----===//
//
// GET /health, GET /v1/models, POST /v1/completions and
// /v1/chat/completions (stream: true as server-sent events), with guided
// generation (response_format) and tool calling (tools, tool_choice) as the
// Foundation Models framework offers them. HTTP is cpp-httplib's (Debian's
// libcpp-httplib-dev), JSON nlohmann's; requests wait their turn for the
// one session (Engine.h). Every error is an OpenAI error object with its
// HTTP status; a client that goes away mid-stream ends its generation.
//
//===----------------------------------------------------------------------===//

#include "support/Suggest.h"
#include "support/Version.h"
#include "tools/common/CommandLine.h"
#include "tools/fmc-serve/Engine.h"
#include "tools/fmc-serve/OpenAiApi.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

const char *kUsage = R"(usage: fmc-serve model.fmc [options]

Serves a compiled model over HTTP with an OpenAI-compatible API:
  GET  /health               {"status": "ok"}
  GET  /v1/models            the model (its id: the artifact's name) and
                             its LoRA adapters (--lora)
  POST /v1/completions       {"prompt": "...", "max_tokens": 64, ...}
  POST /v1/chat/completions  {"messages": [{"role": "user", "content": "..."}]}
Both POSTs take temperature (default 1), top_p, max_tokens, stop (a string
or up to 4), seed, stream (server-sent events), and response_format:
{"type": "json_object"} or {"type": "json_schema", "json_schema": {"schema":
{...}}} (guided generation: the output is valid JSON for the schema). Chat
also takes tools and tool_choice (none, auto, required, or a function):
a tool call is generated under the grammar of the tools' parameter schemas
and returned as tool_calls. Requests are served one at a time in arrival
order; errors are OpenAI error objects with an HTTP status.

Options:
  --host H             address to listen on (default 127.0.0.1)
  --port N             port (default 8080; 0: any free port, printed)
  --backend NAME       auto (default), cpu, cuda, vulkan, metal
  --threads N          CPU threads (default: all cores)
  -c, --ctx-size N     context positions (default: the compiled context)
  --chat-template NAME chat format when the model's own is missing or
                       unknown (llama2, llama3, chatml, gemma, mistral, phi3,
                       command-r, deepseek)
  --max-tokens N       the largest max_tokens a request may ask for
                       (default: the context)
  --max-body-bytes N   the largest request body (default 1048576): larger
                       ones get 413
  --draft F            a draft model (an .fmc with the same tokenizer) that
                       proposes tokens the model checks in one pass, for
                       requests with a temperature only (no top_p < 1 or
                       response_format/tools); the text is the model's own,
                       and responses report "timings": {"draft_n",
                       "draft_n_accepted"}
  --draft-tokens K     tokens proposed per pass (default 4)
  --lora NAME=FILE     serve LoRA adapter FILE (.fmca, compiled for this
                       model: fmc-compile --adapter DIR --base model.fmc) as
                       model NAME: a request whose "model" is NAME runs with
                       it, one naming the artifact without (repeatable)
  -h, --help           this text
  --version            fmc's version and the git revision of this build
)";

struct ServeOptions {
  fmc::serve::EngineOptions engine;
  std::string host = "127.0.0.1";
  int port = 8080;
  fmc::serve::Limits limits;
  size_t maxBodyBytes = 1 << 20;
  bool help = false, version = false;
};

int fail(const std::string &message) {
  std::fprintf(stderr, "fmc-serve: error: %s\n", message.c_str());
  return 1;
}

/// Parses argv; an error message, or empty.
std::string parse(int argc, char **argv, ServeOptions &o) {
  std::vector<std::string> positional;
  const std::vector<std::string> valued = {
      "--host",       "--port",       "--backend",   "--threads",
      "--ctx-size",   "--chat-template", "--max-tokens", "--max-body-bytes",
      "--lora",       "--draft",      "--draft-tokens"};
  for (int i = 1; i < argc; ++i) {
    fmc::tools::Argument arg = fmc::tools::splitArgument(argv[i]);
    if (arg.positional) {
      positional.push_back(arg.text);
      continue;
    }
    std::string flag = arg.flag;
    if (flag == "-h" || flag == "--help") {
      o.help = true;
      continue;
    }
    if (flag == "--version") {
      o.version = true;
      continue;
    }
    if (flag == "-c")
      flag = "--ctx-size";
    if (std::find(valued.begin(), valued.end(), flag) == valued.end()) {
      std::vector<std::string> all = valued;
      all.insert(all.end(), {"--help", "--version", "-c", "-h"});
      return fmc::unknownOptionMessage(flag, all);
    }
    absl::StatusOr<std::string> read = fmc::tools::flagValue(arg, argc, argv, i);
    if (!read.ok())
      return std::string(read.status().message());
    const std::string &value = *read;
    auto badValue = [&](const char *want) {
      return std::string(fmc::tools::badValue(flag, value, want).message());
    };
    int64_t number = 0;
    bool isNumber = absl::SimpleAtoi(value, &number);
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      if (!isNumber || number < 0 || number > 65535)
        return badValue("a port from 0 to 65535");
      o.port = static_cast<int>(number);
    } else if (flag == "--backend") {
      o.engine.backend = value;
    } else if (flag == "--threads") {
      if (!isNumber || number < 1 || number > 1024)
        return badValue("an integer from 1 to 1024");
      o.engine.backendOptions.threads = static_cast<int>(number);
    } else if (flag == "--ctx-size") {
      if (!isNumber || number < 1)
        return badValue("a positive integer");
      o.engine.backendOptions.context = number;
    } else if (flag == "--chat-template") {
      o.engine.chatTemplate = value;
    } else if (flag == "--max-tokens") {
      if (!isNumber || number < 1)
        return badValue("a positive integer");
      o.limits.maxTokens = number;
    } else if (flag == "--draft") {
      o.engine.draft = value;
    } else if (flag == "--draft-tokens") {
      if (!isNumber || number < 1 || number > 64)
        return badValue("an integer from 1 to 64");
      o.engine.draftTokens = static_cast<int>(number);
    } else if (flag == "--lora") {
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        return badValue("NAME=FILE (an adapter name and its .fmca)");
      o.engine.adapters.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (flag == "--max-body-bytes") {
      if (!isNumber || number < 1)
        return badValue("a positive integer");
      o.maxBodyBytes = static_cast<size_t>(number);
    }
  }
  if (o.help || o.version)
    return "";
  if (positional.size() != 1)
    return positional.empty()
               ? "no artifact given: fmc-serve model.fmc [options] (see --help)"
               : absl::StrCat("unexpected argument '", positional[1], "'");
  o.engine.artifact = positional[0];
  return "";
}

httplib::Server *running = nullptr;

void stopOnSignal(int) {
  if (running)
    running->stop();
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

int main(int argc, char **argv) {
  ServeOptions options;
  if (std::string error = parse(argc, argv, options); !error.empty())
    return fail(error);
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (options.version) {
    std::printf("%s\n", fmc::versionLine("fmc-serve").c_str());
    return 0;
  }
  absl::StatusOr<std::unique_ptr<fmc::serve::Engine>> opened =
      fmc::serve::Engine::open(options.engine);
  if (!opened.ok())
    return fail(std::string(opened.status().message()));
  fmc::serve::Engine &engine = **opened;
  if (options.limits.maxTokens > engine.context())
    return fail(absl::StrCat("--max-tokens ", options.limits.maxTokens,
                             " exceeds the context of ", engine.context()));

  using fmc::serve::ApiError;
  httplib::Server server;
  server.set_payload_max_length(options.maxBodyBytes);
  auto sendError = [](httplib::Response &res, const ApiError &error) {
    res.status = error.status;
    res.set_content(fmc::serve::errorBody(error), "application/json");
  };
  // Errors httplib raises itself (unknown paths, oversized bodies) get
  // OpenAI error objects too.
  server.set_error_handler(
      [&](const httplib::Request &req, httplib::Response &res) {
        if (!res.body.empty())
          return;
        ApiError error;
        error.status = res.status;
        if (res.status == 404) {
          error.message = absl::StrCat("no route ", req.method, " ", req.path);
          error.code = "not_found";
        } else if (res.status == 413) {
          error.message = absl::StrCat("the request body exceeds ",
                                       options.maxBodyBytes, " bytes");
          error.code = "payload_too_large";
        } else {
          error.message = absl::StrCat("HTTP ", res.status);
        }
        sendError(res, error);
      });
  server.set_exception_handler([&](const httplib::Request &,
                                   httplib::Response &res,
                                   std::exception_ptr) {
    ApiError error;
    error.status = 500;
    error.type = "server_error";
    error.message = "internal error";
    sendError(res, error);
  });

  server.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server.Get("/v1/models",
             [&](const httplib::Request &, httplib::Response &res) {
               fmc::serve::Json models = fmc::serve::Json::array();
               auto add = [&](const std::string &id, const std::string &root) {
                 models.push_back({{"id", id},
                                   {"object", "model"},
                                   {"created", 0},
                                   {"owned_by", "fmc"},
                                   {"root", root},
                                   {"context_length", engine.context()}});
               };
               add(engine.modelId(), engine.modelId());
               for (const std::string &adapter : engine.adapterIds())
                 add(adapter, engine.modelId());
               fmc::serve::Json body = {{"object", "list"}, {"data", models}};
               res.set_content(fmc::serve::wireText(body), "application/json");
             });

  // Responses name the model a request asked for: an adapter's name runs
  // the base with that adapter.
  auto modelOf = [&](const fmc::serve::ApiRequest &request) {
    return request.completion.adapter.empty() ? engine.modelId()
                                              : request.completion.adapter;
  };
  std::atomic<int64_t> counter{0};
  auto handle = [&](bool chat) {
    return [&, chat](const httplib::Request &req, httplib::Response &res) {
      auto parsed =
          fmc::serve::parseRequest(req.body, chat, engine, options.limits);
      if (auto *error = std::get_if<ApiError>(&parsed))
        return sendError(res, *error);
      auto request = std::make_shared<fmc::serve::ApiRequest>(
          std::get<fmc::serve::ApiRequest>(std::move(parsed)));
      std::string id = absl::StrCat(nowSeconds(), "-", counter++);
      int64_t created = nowSeconds();
      auto failed = [&](httplib::Response &r, const absl::Status &status) {
        ApiError error;
        bool client = fmc::serve::isClientError(status);
        error.status = client ? 400 : 500;
        error.type = client ? "invalid_request_error" : "server_error";
        error.message = std::string(status.message());
        if (absl::IsOutOfRange(status))
          error.code = "context_length_exceeded";
        sendError(r, error);
      };
      if (!request->stream) {
        absl::StatusOr<fmc::serve::CompletionResult> result = engine.complete(
            request->completion, [](const std::string &) { return true; });
        if (!result.ok())
          return failed(res, result.status());
        res.set_content(
            fmc::serve::wireText(fmc::serve::response(
                *request, *result, id, modelOf(*request), created)),
            "application/json");
        return;
      }
      // Streams are checked before the first byte: a request that cannot
      // run still gets a proper error status.
      res.set_chunked_content_provider(
          "text/event-stream",
          [&engine, request, id, created,
           model = modelOf(*request)](size_t, httplib::DataSink &sink) {
            auto event = [&](const fmc::serve::Json &data) {
              std::string line = absl::StrCat("data: ", fmc::serve::wireText(data), "\n\n");
              return sink.write(line.data(), line.size());
            };
            // A tool call is answered whole, as tool_calls, at the end.
            bool buffer = request->tools;
            absl::StatusOr<fmc::serve::CompletionResult> result =
                engine.complete(request->completion,
                                [&](const std::string &text) {
                                  if (buffer)
                                    return sink.is_writable();
                                  return event(fmc::serve::chunk(
                                      *request, id, model, created,
                                      text, nullptr));
                                });
            if (!result.ok()) {
              ApiError error;
              error.status = fmc::serve::isClientError(result.status()) ? 400
                                                                        : 500;
              error.message = std::string(result.status().message());
              std::string line = absl::StrCat(
                  "data: ", fmc::serve::errorBody(error), "\n\n");
              sink.write(line.data(), line.size());
            } else if (!result->cancelled) {
              if (buffer && (result->text.empty() || result->text[0] != '{'))
                event(fmc::serve::chunk(*request, id, model,
                                        created, result->text, nullptr));
              event(fmc::serve::chunk(*request, id, model, created,
                                      "", &*result));
              std::string done = "data: [DONE]\n\n";
              sink.write(done.data(), done.size());
            }
            sink.done();
            return true;
          });
    };
  };
  server.Post("/v1/completions", handle(false));
  server.Post("/v1/chat/completions", handle(true));

  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port < 0)
      return fail(absl::StrCat("cannot listen on ", options.host));
  } else if (!server.bind_to_port(options.host, port)) {
    return fail(absl::StrCat("cannot listen on ", options.host, ":", port,
                             " (in use, or not an address of this machine)"));
  }
  running = &server;
  std::signal(SIGINT, stopOnSignal);
  std::signal(SIGTERM, stopOnSignal);
  std::fprintf(stderr,
               "fmc-serve: %s on %s, context %lld; listening on "
               "http://%s:%d\n",
               engine.modelId().c_str(), engine.backend().c_str(),
               static_cast<long long>(engine.context()), options.host.c_str(),
               port);
  if (!engine.chatUnavailable().empty())
    std::fprintf(stderr, "fmc-serve: note: %s\n",
                 engine.chatUnavailable().c_str());
  std::fflush(stderr);
  if (!server.listen_after_bind())
    return fail("the server stopped with an error");
  std::fprintf(stderr, "fmc-serve: stopped\n");
  return 0;
}
