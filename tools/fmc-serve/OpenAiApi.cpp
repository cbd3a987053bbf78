//===- OpenAiApi.cpp - OpenAI-compatible requests and responses -----------===//

#include "tools/fmc-serve/OpenAiApi.h"

#include "runtime/grammar/JsonSchemaGrammar.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>

namespace fmc::serve {

namespace {

ApiError bad(std::string message, std::string param = "",
             std::string code = "") {
  ApiError e;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = std::move(code);
  return e;
}

/// A message's content: a string, or an array of {"type": "text"} parts.
std::variant<std::string, ApiError> contentText(const Json &content,
                                                const std::string &param) {
  if (content.is_null())
    return std::string();
  if (content.is_string())
    return content.get<std::string>();
  if (content.is_array()) {
    std::string text;
    for (const Json &part : content) {
      if (!part.is_object() || part.value("type", "") != "text" ||
          !part.contains("text") || !part["text"].is_string())
        return bad("only text content parts are supported", param);
      text += part["text"].get<std::string>();
    }
    return text;
  }
  return bad("content must be a string or an array of text parts", param);
}

/// The tool-calling grammar's JSON Schema: one object naming one of
/// `tools` and carrying arguments valid against its parameters.
Json toolCallSchema(const Json &tools) {
  Json anyOf = Json::array();
  for (const Json &tool : tools) {
    const Json &function = tool["function"];
    Json parameters = function.contains("parameters")
                          ? function["parameters"]
                          : Json{{"type", "object"}};
    anyOf.push_back(
        {{"type", "object"},
         {"properties",
          {{"name", {{"const", function["name"]}}}, {"arguments", parameters}}},
         {"required", {"name", "arguments"}}});
  }
  return anyOf.size() == 1 ? anyOf[0] : Json{{"anyOf", anyOf}};
}

/// What the model is told about the tools (in the system message).
std::string toolInstructions(const Json &tools, bool required) {
  Json listed = Json::array();
  for (const Json &tool : tools)
    listed.push_back(tool["function"]);
  return absl::StrCat(
      required ? "Call one of these functions."
               : "You may call one of these functions.",
      " To call one, answer with only a JSON object {\"name\": <function "
      "name>, \"arguments\": <arguments object>}.\nFunctions:\n",
      listed.dump());
}

} // namespace

std::string errorBody(const ApiError &error) {
  Json body = {{"error",
                {{"message", error.message},
                 {"type", error.type},
                 {"param", error.param.empty() ? Json() : Json(error.param)},
                 {"code", error.code.empty() ? Json() : Json(error.code)}}}};
  return wireText(body);
}

std::variant<ApiRequest, ApiError> parseRequest(const std::string &body,
                                                bool chat, Engine &engine,
                                                const Limits &limits) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return bad("the request body is not valid JSON");
  if (!j.is_object())
    return bad("the request body must be a JSON object");
  ApiRequest request;
  request.chat = chat;
  CompletionRequest &c = request.completion;

  if (j.contains("model") && !j["model"].is_null()) {
    if (!j["model"].is_string())
      return bad("model must be a string", "model");
    std::string model = j["model"].get<std::string>();
    const std::vector<std::string> &adapters = engine.adapterIds();
    if (std::find(adapters.begin(), adapters.end(), model) != adapters.end()) {
      c.adapter = model;
    } else if (model != engine.modelId()) {
      std::string served = absl::StrCat("'", engine.modelId(), "'");
      for (const std::string &adapter : adapters)
        absl::StrAppend(&served, ", '", adapter, "'");
      ApiError e = bad(absl::StrCat("The model '", model,
                                    "' does not exist; this server serves ",
                                    served),
                       "model", "model_not_found");
      e.status = 404;
      return e;
    }
  }
  if (j.contains("n") && !(j["n"].is_number_integer() && j["n"] == 1))
    return bad("only n = 1 is supported", "n");

  int64_t limit = limits.maxTokens > 0 ? limits.maxTokens : engine.context();
  c.maxTokens = std::min<int64_t>(256, limit);
  for (const char *key : {"max_tokens", "max_completion_tokens"})
    if (j.contains(key) && !j[key].is_null()) {
      if (!j[key].is_number_integer() || j[key].get<int64_t>() < 1)
        return bad(absl::StrCat(key, " must be a positive integer"), key);
      if (j[key].get<int64_t>() > limit)
        return bad(absl::StrCat(key, " ", j[key].get<int64_t>(),
                                " exceeds this server's limit of ", limit),
                   key);
      c.maxTokens = j[key].get<int64_t>();
    }
  // OpenAI's defaults: temperature 1, top_p 1.
  c.sampling.temperature = 1.0f;
  if (j.contains("temperature") && !j["temperature"].is_null()) {
    if (!j["temperature"].is_number() || j["temperature"].get<double>() < 0 ||
        j["temperature"].get<double>() > 2)
      return bad("temperature must be a number from 0 to 2", "temperature");
    c.sampling.temperature = j["temperature"].get<float>();
  }
  if (j.contains("top_p") && !j["top_p"].is_null()) {
    if (!j["top_p"].is_number() || j["top_p"].get<double>() <= 0 ||
        j["top_p"].get<double>() > 1)
      return bad("top_p must be a number in (0, 1]", "top_p");
    c.sampling.topP = j["top_p"].get<float>();
  }
  c.sampling.seed = static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer())
      return bad("seed must be an integer", "seed");
    c.sampling.seed = j["seed"].get<uint64_t>();
  }
  if (j.contains("stop") && !j["stop"].is_null()) {
    const Json &stop = j["stop"];
    if (stop.is_string()) {
      c.stops.push_back(stop.get<std::string>());
    } else if (stop.is_array() && stop.size() <= 4) {
      for (const Json &s : stop) {
        if (!s.is_string())
          return bad("stop must be a string or up to 4 strings", "stop");
        c.stops.push_back(s.get<std::string>());
      }
    } else {
      return bad("stop must be a string or up to 4 strings", "stop");
    }
    for (const std::string &s : c.stops)
      if (s.empty())
        return bad("stop strings must not be empty", "stop");
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean())
      return bad("stream must be a boolean", "stream");
    request.stream = j["stream"].get<bool>();
  }

  // Guided output: response_format, or tools.
  std::string schema;
  if (j.contains("response_format") && !j["response_format"].is_null()) {
    const Json &format = j["response_format"];
    std::string type = format.is_object() ? format.value("type", "") : "";
    if (type == "json_object") {
      c.gbnf = grammar::anyJsonObjectGbnf();
    } else if (type == "json_schema") {
      if (!format.contains("json_schema") ||
          !format["json_schema"].is_object() ||
          !format["json_schema"].contains("schema"))
        return bad("response_format json_schema needs "
                   "{\"json_schema\": {\"schema\": {...}}}",
                   "response_format");
      schema = format["json_schema"]["schema"].dump();
    } else if (type != "text") {
      return bad("response_format type must be text, json_object or "
                 "json_schema",
                 "response_format");
    }
  }
  Json tools = Json::array();
  std::string choice = "none";
  if (j.contains("tools") && !j["tools"].is_null()) {
    if (!chat)
      return bad("tools are for /v1/chat/completions", "tools");
    if (!j["tools"].is_array())
      return bad("tools must be an array", "tools");
    for (const Json &tool : j["tools"]) {
      if (!tool.is_object() || tool.value("type", "") != "function" ||
          !tool.contains("function") || !tool["function"].is_object() ||
          !tool["function"].contains("name") ||
          !tool["function"]["name"].is_string() ||
          tool["function"]["name"].get<std::string>().empty())
        return bad("each tool must be {\"type\": \"function\", \"function\": "
                   "{\"name\": ..., \"parameters\": {...}}}",
                   "tools");
      tools.push_back(tool);
    }
    choice = tools.empty() ? "none" : "auto";
  }
  if (j.contains("tool_choice") && !j["tool_choice"].is_null()) {
    const Json &tc = j["tool_choice"];
    if (tc.is_string() && (tc == "none" || tc == "auto" || tc == "required")) {
      choice = tc.get<std::string>();
    } else if (tc.is_object() && tc.value("type", "") == "function" &&
               tc.contains("function") && tc["function"].is_object() &&
               tc["function"].contains("name") &&
               tc["function"]["name"].is_string()) {
      std::string name = tc["function"]["name"].get<std::string>();
      Json only = Json::array();
      for (const Json &tool : tools)
        if (tool["function"]["name"] == name)
          only.push_back(tool);
      if (only.empty())
        return bad(absl::StrCat("tool_choice names '", name,
                                "', which is not among the tools"),
                   "tool_choice");
      tools = only;
      choice = "required";
    } else {
      return bad("tool_choice must be none, auto, required or "
                 "{\"type\": \"function\", \"function\": {\"name\": ...}}",
                 "tool_choice");
    }
    if (choice != "none" && tools.empty())
      return bad("tool_choice needs tools", "tool_choice");
  }
  if (choice != "none") {
    if (!c.gbnf.empty() || !schema.empty())
      return bad("give response_format or tools, not both", "response_format");
    absl::StatusOr<std::string> call =
        grammar::jsonSchemaToGbnf(toolCallSchema(tools).dump());
    if (!call.ok())
      return bad(absl::StrCat("a tool's parameters: ", call.status().message()),
                 "tools");
    c.gbnf = *call;
    if (choice == "auto") {
      // Free text, or a tool call when the reply starts with `{`.
      std::string renamed = c.gbnf;
      renamed.replace(0, 4, "tool-call");
      c.gbnf = absl::StrCat("root ::= tool-call | free-text\n",
                            "free-text ::= [^{] .*\n", renamed);
    }
    request.tools = true;
  } else if (!schema.empty()) {
    absl::StatusOr<std::string> gbnf = grammar::jsonSchemaToGbnf(schema);
    if (!gbnf.ok())
      return bad(std::string(gbnf.status().message()), "response_format");
    c.gbnf = *gbnf;
  }
  if (!c.gbnf.empty())
    if (absl::StatusOr<std::shared_ptr<const Constraint>> made =
            engine.constraint(c.gbnf);
        !made.ok())
      return bad(std::string(made.status().message()), "response_format");

  if (!chat) {
    if (!j.contains("prompt"))
      return bad("prompt is required", "prompt");
    const Json &prompt = j["prompt"];
    if (prompt.is_string())
      c.prompt = prompt.get<std::string>();
    else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string())
      c.prompt = prompt[0].get<std::string>();
    else
      return bad("prompt must be a string (one prompt per request)", "prompt");
    return request;
  }

  if (!j.contains("messages") || !j["messages"].is_array() ||
      j["messages"].empty())
    return bad("messages must be a non-empty array", "messages");
  std::vector<ChatMessage> &messages = c.messages;
  for (size_t i = 0; i < j["messages"].size(); ++i) {
    const Json &m = j["messages"][i];
    std::string param = absl::StrCat("messages[", i, "]");
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return bad("each message needs a role", param);
    std::string role = m["role"].get<std::string>();
    auto text = contentText(m.value("content", Json()), param + ".content");
    if (auto *e = std::get_if<ApiError>(&text))
      return *e;
    std::string content = std::get<std::string>(text);
    ChatRole r;
    if (role == "system" || role == "developer") {
      if (i != 0)
        return bad("a system message may only come first", param);
      r = ChatRole::System;
    } else if (role == "user") {
      r = ChatRole::User;
    } else if (role == "assistant") {
      r = ChatRole::Assistant;
      // An earlier tool call, written back as the model wrote it.
      if (m.contains("tool_calls") && m["tool_calls"].is_array())
        for (const Json &call : m["tool_calls"])
          if (call.contains("function") && call["function"].is_object()) {
            Json args = Json::parse(
                call["function"].value("arguments", std::string("{}")),
                nullptr, false);
            content += Json{{"name", call["function"].value("name", "")},
                            {"arguments", args.is_discarded() ? Json::object()
                                                              : args}}
                           .dump();
          }
    } else if (role == "tool") {
      // A tool's result goes to the model as the user's next turn.
      r = ChatRole::User;
      content = absl::StrCat("Result of the function call: ", content);
    } else {
      return bad(absl::StrCat("unknown role '", role, "'"), param);
    }
    // Consecutive messages of one role become one turn.
    if (!messages.empty() && messages.back().role == r &&
        r != ChatRole::System)
      absl::StrAppend(&messages.back().content, "\n\n", content);
    else
      messages.push_back({r, content});
  }
  if (request.tools) {
    std::string instructions = toolInstructions(tools, choice == "required");
    if (messages.front().role == ChatRole::System)
      absl::StrAppend(&messages.front().content, "\n\n", instructions);
    else
      messages.insert(messages.begin(), {ChatRole::System, instructions});
  }
  return request;
}

namespace {

/// The reply as tool_calls, when it is a tool call.
Json toolCalls(const ApiRequest &request, const CompletionResult &result,
               const std::string &id) {
  if (!request.tools || result.text.empty() || result.text[0] != '{')
    return Json();
  Json call = Json::parse(result.text, nullptr, false);
  if (call.is_discarded() || !call.is_object() || !call.contains("name"))
    return Json();
  return Json::array(
      {{{"id", absl::StrCat("call_", id)},
        {"type", "function"},
        {"function",
         {{"name", call["name"]}, {"arguments", call["arguments"].dump()}}}}});
}

/// OpenAI's object around one choice: id, object kind, time and model.
Json envelope(const ApiRequest &request, bool chunk, const std::string &id,
              const std::string &model, int64_t created, Json choice) {
  const char *object = !request.chat ? "text_completion"
                       : chunk       ? "chat.completion.chunk"
                                     : "chat.completion";
  return {{"id", (request.chat ? "chatcmpl-" : "cmpl-") + id},
          {"object", object},
          {"created", created},
          {"model", model},
          {"choices", Json::array({std::move(choice)})}};
}

/// A completions choice: text, no logprobs, the finish reason.
Json textChoice(const std::string &text, Json finish) {
  return {{"index", 0},
          {"text", text},
          {"logprobs", nullptr},
          {"finish_reason", std::move(finish)}};
}

} // namespace

Json response(const ApiRequest &request, const CompletionResult &result,
              const std::string &id, const std::string &model,
              int64_t created) {
  Json choice;
  if (!request.chat) {
    choice = textChoice(result.text, result.finishReason);
  } else {
    Json calls = toolCalls(request, result, id);
    Json message = {{"role", "assistant"},
                    {"content", calls.is_null() ? Json(result.text) : Json()}};
    if (!calls.is_null())
      message["tool_calls"] = calls;
    choice = {{"index", 0},
              {"message", message},
              {"finish_reason",
               calls.is_null() ? result.finishReason : "tool_calls"}};
  }
  Json body = envelope(request, false, id, model, created, std::move(choice));
  body["usage"] = {
      {"prompt_tokens", result.promptTokens},
      {"completion_tokens", result.completionTokens},
      {"total_tokens", result.promptTokens + result.completionTokens}};
  // As llama.cpp's server reports its draft model's work.
  if (result.drafted)
    body["timings"] = {{"draft_n", result.draftProposed},
                       {"draft_n_accepted", result.draftAccepted}};
  return body;
}

Json chunk(const ApiRequest &request, const std::string &id,
           const std::string &model, int64_t created, const std::string &text,
           const CompletionResult *final) {
  Json finish = final ? Json(final->finishReason) : Json();
  if (!request.chat)
    return envelope(request, true, id, model, created,
                    textChoice(text, finish));
  Json delta = Json::object();
  if (final) {
    Json calls = toolCalls(request, *final, id);
    if (!calls.is_null()) {
      calls[0]["index"] = 0;
      delta["tool_calls"] = calls;
      finish = "tool_calls";
    }
  } else {
    delta["content"] = text;
  }
  return envelope(request, true, id, model, created,
                  {{"index", 0}, {"delta", delta}, {"finish_reason", finish}});
}

} // namespace fmc::serve
