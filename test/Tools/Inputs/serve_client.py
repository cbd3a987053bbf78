"""Talks to a real fmc-serve over HTTP (Python's standard library client) and
prints one line per check for FileCheck; exits 1 at the first wrong answer.

usage: serve_client.py MODEL.fmc SCHEMA_DIR
Starts fmc-serve on a free loopback port (--port 0, read from its log),
checks completions, chat, streaming, stop strings, guided JSON (validated by
jsonschema), tool calls, 8 concurrent clients, a client leaving mid-stream
and every error class, then stops it.
"""
import concurrent.futures
import http.client
import json
import os
import re
import subprocess
import sys
import time

import jsonschema

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_common  # noqa: E402

MODEL, SCHEMAS = sys.argv[1], sys.argv[2]


def start(*flags):
    return serve_common.start(MODEL, *flags)


def request(port, method, path, body=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    return r.status, text


def post(port, path, body):
    status, text = request(port, "POST", path, body)
    return status, json.loads(text)


def stream(port, path, body):
    """The deltas and the final chunk of a server-sent-event stream."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body=json.dumps(dict(body, stream=True)),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    events = [line[6:] for line in r.read().decode().split("\n")
              if line.startswith("data: ")]
    conn.close()
    return r.status, r.getheader("Content-Type"), events


def check(ok, what, detail=""):
    if not ok:
        print(f"FAILED: {what} {detail}")
        sys.exit(1)
    print(f"ok: {what}")


def fmc_run(prompt, n):
    out = subprocess.run(["fmc-run", MODEL, "-p", prompt, "-n", str(n)],
                         capture_output=True, text=True, check=True).stdout
    return out[len(prompt):].rstrip("\n")


def main():
    server, port = start("--chat-template", "chatml", "--max-tokens", "400")
    try:
        status, text = request(port, "GET", "/health")
        check(status == 200 and json.loads(text) == {"status": "ok"}, "health")
        status, text = request(port, "GET", "/v1/models")
        model = json.loads(text)["data"][0]["id"]
        check(status == 200 and model == "s", "models lists 's'")

        # Greedy completions equal fmc-run's text.
        status, r = post(port, "/v1/completions", {"prompt": "Once upon a time",
                          "max_tokens": 24, "temperature": 0, "model": model})
        check(status == 200 and r["choices"][0]["text"] == fmc_run("Once upon a time", 24)
              and r["choices"][0]["finish_reason"] == "length"
              and r["usage"]["completion_tokens"] == 24,
              "completion equals fmc-run's greedy text")

        # Streaming: the deltas add up to the same text, then [DONE].
        status, ctype, events = stream(port, "/v1/completions", {
            "prompt": "Once upon a time", "max_tokens": 24, "temperature": 0})
        chunks = [json.loads(e) for e in events[:-1]]
        streamed = "".join(c["choices"][0]["text"] for c in chunks)
        check(status == 200 and ctype.startswith("text/event-stream")
              and events[-1] == "[DONE]" and streamed == r["choices"][0]["text"]
              and chunks[-1]["choices"][0]["finish_reason"] == "length",
              "streamed deltas equal the completion")

        # Stop strings end the text before them.
        status, s = post(port, "/v1/completions", {"prompt": "Once upon a time",
                          "max_tokens": 60, "temperature": 0, "stop": ["Lily"]})
        full = fmc_run("Once upon a time", 60)
        check(status == 200 and s["choices"][0]["text"] == full[:full.index("Lily")]
              and s["choices"][0]["finish_reason"] == "stop", "stop string")

        # Chat, streamed and not.
        chat = {"messages": [{"role": "system", "content": "Be brief."},
                             {"role": "user", "content": "Tell me a story."}],
                "max_tokens": 30, "temperature": 0}
        status, c = post(port, "/v1/chat/completions", chat)
        content = c["choices"][0]["message"]["content"]
        check(status == 200 and c["object"] == "chat.completion" and len(content) > 0,
              "chat completion")
        status, _, events = stream(port, "/v1/chat/completions", chat)
        deltas = "".join(json.loads(e)["choices"][0]["delta"].get("content", "")
                         for e in events[:-1])
        check(deltas == content, "streamed chat deltas equal the chat reply")

        # Guided generation: every output validates, for many seeds.
        for name in ["person.json", "nested.json", "union.json"]:
            with open(os.path.join(SCHEMAS, name)) as f:
                schema = json.load(f)
            for seed in range(1, 9):
                status, g = post(port, "/v1/chat/completions", {
                    "messages": [{"role": "user", "content": "Describe someone."}],
                    "seed": seed, "temperature": 1, "max_tokens": 400,
                    "response_format": {"type": "json_schema",
                                        "json_schema": {"name": "x", "schema": schema}}})
                out = g["choices"][0]["message"]["content"] if status == 200 else g
                try:
                    jsonschema.validate(json.loads(out), schema)
                except Exception as e:
                    check(False, f"{name} seed {seed}", f"{out!r}: {e}")
            check(True, f"response_format {name}: 8 of 8 valid")
        # Any JSON object: strings are unbounded, so a rambling model may hit
        # max_tokens ("length", cut); every finished one is an object.
        finished = 0
        for seed in range(1, 9):
            status, g = post(port, "/v1/completions", {"prompt": "Data:", "seed": seed,
                              "max_tokens": 300, "response_format": {"type": "json_object"}})
            if g["choices"][0]["finish_reason"] == "stop":
                check(isinstance(json.loads(g["choices"][0]["text"]), dict),
                      f"json_object seed {seed}")
                finished += 1
        check(finished >= 4, "response_format json_object: finished ones are objects")

        # Tool calls: required, named and auto; arguments validate.
        # Small schemas: the tool list goes into a 512-token context.
        weather = {"type": "object", "properties": {
            "city": {"type": "string", "maxLength": 8},
            "unit": {"enum": ["c", "f"]}}, "required": ["city", "unit"]}
        tools = [{"type": "function", "function": {"name": "get_weather",
                  "parameters": weather}},
                 {"type": "function", "function": {"name": "get_time",
                  "parameters": {"type": "object", "properties": {
                      "zone": {"enum": ["utc", "local"]}}, "required": ["zone"]}}}]
        params = {"get_weather": weather,
                  "get_time": tools[1]["function"]["parameters"]}
        for seed in range(1, 7):
            status, t = post(port, "/v1/chat/completions", {
                "messages": [{"role": "user", "content": "Weather in Paris?"}],
                "tools": tools, "tool_choice": "required", "seed": seed})
            check("tool_calls" in t["choices"][0]["message"], "a tool call", t)
            call = t["choices"][0]["message"]["tool_calls"][0]["function"]
            jsonschema.validate(json.loads(call["arguments"]), params[call["name"]])
            check(t["choices"][0]["finish_reason"] == "tool_calls", f"tool call seed {seed}: {call['name']}")
        status, t = post(port, "/v1/chat/completions", {
            "messages": [{"role": "user", "content": "What time is it?"}], "tools": tools,
            "tool_choice": {"type": "function", "function": {"name": "get_time"}}, "seed": 1})
        call = t["choices"][0]["message"]["tool_calls"][0]["function"]
        check(call["name"] == "get_time" and
              json.loads(call["arguments"])["zone"] in ("utc", "local"), "named tool_choice")
        status, _, events = stream(port, "/v1/chat/completions", {
            "messages": [{"role": "user", "content": "Weather?"}], "tools": tools,
            "tool_choice": "required", "seed": 2})
        last = json.loads(events[-2])["choices"][0]
        check(last["finish_reason"] == "tool_calls" and
              last["delta"]["tool_calls"][0]["function"]["name"] in params, "streamed tool call")
        for seed in range(1, 4):
            status, t = post(port, "/v1/chat/completions", {
                "messages": [{"role": "user", "content": "Hi"}], "tools": tools,
                "seed": seed, "max_tokens": 40})
            msg = t["choices"][0]["message"]
            if msg.get("tool_calls"):
                f = msg["tool_calls"][0]["function"]
                jsonschema.validate(json.loads(f["arguments"]), params[f["name"]])
            else:
                check(not msg["content"].startswith("{"), "auto: text is not a half call")
        check(True, "tool_choice auto: text or a valid call")

        # Eight clients at once each get their own answer.
        prompts = [f"Once upon a time, {w}" for w in
                   ["a cat", "a dog", "the sun", "a girl", "a boy", "a tree", "the sea", "a bird"]]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda p: post(port, "/v1/completions", {
                "prompt": p, "max_tokens": 16, "temperature": 0}), prompts))
        check(all(s == 200 and r["choices"][0]["text"] == fmc_run(p, 16)
                  for (s, r), p in zip(results, prompts)),
              "8 concurrent clients get fmc-run's answers")

        # A client that leaves mid-stream frees the server.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/v1/completions", body=json.dumps({
            "prompt": "Once", "max_tokens": 400, "temperature": 0, "stream": True}))
        resp = conn.getresponse()
        resp.fp.readline()
        conn.sock.close()
        conn.close()
        start_time = time.time()
        status, r = post(port, "/v1/completions", {"prompt": "Once", "max_tokens": 4})
        check(status == 200, "a request after a client left mid-stream")

        # Errors: status, OpenAI error object, message.
        def error(body, raw=None, path="/v1/completions"):
            status, text = request(port, "POST", path, body, raw)
            return status, json.loads(text)["error"]
        s, e = error(None, raw="{not json")
        check(s == 400 and e["message"] == "the request body is not valid JSON", "400 malformed JSON")
        s, e = error({"prompt": "x", "model": "gpt-4"})
        check(s == 404 and e["code"] == "model_not_found"
              and e["message"] == "The model 'gpt-4' does not exist; this server serves 's'",
              "404 unknown model")
        s, e = error({"prompt": "x", "response_format": {"type": "json_schema",
                      "json_schema": {"schema": {"type": "integer", "multipleOf": 3}}}})
        check(s == 400 and e["param"] == "response_format" and "multipleOf" in e["message"],
              "400 unsupported schema keyword")
        s, e = error({"prompt": "Once upon a time " * 200})
        check(s == 400 and e["code"] == "context_length_exceeded"
              and re.match(r"the prompt has \d+ tokens; this model's context is 512 tokens",
                           e["message"]), "400 context overflow")
        s, e = error({"prompt": "x", "max_tokens": 1000})
        check(s == 400 and e["message"] == "max_tokens 1000 exceeds this server's limit of 400",
              "400 max_tokens over the limit")
        s, e = error({"prompt": "x", "temperature": 5})
        check(s == 400 and e["param"] == "temperature", "400 bad temperature")
        s, e = error({"max_tokens": 3})
        check(s == 400 and e["message"] == "prompt is required", "400 missing prompt")
        s, e = error({"messages": []}, path="/v1/chat/completions")
        check(s == 400 and e["message"] == "messages must be a non-empty array", "400 no messages")
        s, e = error({"messages": [{"role": "user", "content": "x"}], "tools": [
            {"type": "function", "function": {"name": "f"}}],
            "tool_choice": {"type": "function", "function": {"name": "g"}}},
            path="/v1/chat/completions")
        check(s == 400 and e["message"] == "tool_choice names 'g', which is not among the tools",
              "400 unknown tool")
        s, text = request(port, "GET", "/v2/nothing")
        check(s == 404 and json.loads(text)["error"]["message"] == "no route GET /v2/nothing",
              "404 unknown route")
    finally:
        server.terminate()
        server.wait()

    # Limits and a model without a chat template.
    server, port = start("--max-body-bytes", "200")
    try:
        status, text = request(port, "POST", "/v1/completions",
                               {"prompt": "x" * 500})
        check(status == 413 and json.loads(text)["error"]["code"] == "payload_too_large",
              "413 oversized body")
        status, text = request(port, "POST", "/v1/chat/completions",
                               {"messages": [{"role": "user", "content": "x"}]})
        e = json.loads(text)["error"]
        check(status == 400 and e["message"].startswith("this model cannot chat")
              and "--chat-template" in e["message"], "400 chat without a template")
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
