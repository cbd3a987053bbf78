//===- OpenAiApi.h - OpenAI-compatible requests and responses -------------===//
//
// The JSON side of fmc-serve, apart from HTTP: a request body becomes a
// CompletionRequest (or an ApiError with the HTTP status and OpenAI's error
// object), a result becomes a response or stream chunks. Tool calling is
// guided generation: the reply is generated under the grammar of "one of
// the tools, with arguments valid against its parameters schema" (all of
// the reply for tool_choice "required" or a named function; for "auto", a
// reply that starts with `{`), and returned as tool_calls.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_FMC_SERVE_OPENAIAPI_H
#define FMC_TOOLS_FMC_SERVE_OPENAIAPI_H

#include "tools/fmc-serve/Engine.h"

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace fmc::serve {

using Json = nlohmann::ordered_json;

/// `json` as the bytes sent to a client. A model's text need not be valid
/// UTF-8 (a byte-fallback token, a cut multi-byte character): what is not
/// becomes U+FFFD, as llama.cpp's server does, instead of an exception.
inline std::string wireText(const Json &json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/// An error answered to the client: HTTP status and OpenAI's error object.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  std::string code;
};

/// The JSON body of `error`.
std::string errorBody(const ApiError &error);

struct Limits {
  /// The largest max_tokens a request may ask for (0: the context).
  int64_t maxTokens = 0;
};

/// A request as the engine runs it, and how to answer it.
struct ApiRequest {
  CompletionRequest completion;
  bool chat = false;
  bool stream = false;
  /// The reply may be (or must be) a tool call, parsed into tool_calls.
  bool tools = false;
};

/// Parses the body of POST /v1/completions (`chat` false) or
/// /v1/chat/completions.
std::variant<ApiRequest, ApiError> parseRequest(const std::string &body,
                                                bool chat, Engine &engine,
                                                const Limits &limits);

/// The non-streaming response to `request`.
Json response(const ApiRequest &request, const CompletionResult &result,
              const std::string &id, const std::string &model, int64_t created);

/// One server-sent-event chunk of a stream: `text` as a delta, or the last
/// chunk with `finishReason` (and, for a tool call, the call).
Json chunk(const ApiRequest &request, const std::string &id,
           const std::string &model, int64_t created, const std::string &text,
           const CompletionResult *final);

} // namespace fmc::serve

#endif // FMC_TOOLS_FMC_SERVE_OPENAIAPI_H
