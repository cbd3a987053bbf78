"""Switches LoRA adapters per request on a real fmc-serve, in one process,
and prints one line per check for FileCheck; exits 1 at the first wrong
answer.

usage: serve_lora_client.py BASE.fmc NAME=ADAPTER.fmca...
Starts fmc-serve BASE --lora NAME=FILE... on a free loopback port, then asks
for the same greedy completion as the base, as each adapter, back to the
base and to the first adapter again: each answer must equal fmc-run's with
the same adapter (or none), so applying, switching and removing an adapter
in one loaded model is what loading it afresh gives.
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_common import check, fmc_run, request, start  # noqa: E402

BASE, ADAPTERS = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
PROMPT = "cat"  # No space: this vocabulary has none.


def main():
    flags = [f for name, path in ADAPTERS for f in ("--lora", f"{name}={path}")]
    proc, port = start(BASE, *flags)
    try:
        base_id = BASE.rsplit("/", 1)[-1][:-len(".fmc")]
        status, models = request(port, "GET", "/v1/models")
        ids = [m["id"] for m in models["data"]]
        check(ids == [base_id] + [n for n, _ in ADAPTERS],
              "models list the base and its adapters", ids)
        expected = {None: fmc_run(BASE, PROMPT, 12)}
        for name, path in ADAPTERS:
            expected[name] = fmc_run(BASE, PROMPT, 12, "--adapter", path)
        check(len(set(expected.values())) == len(expected),
              "each adapter changes the text")
        order = [None] + [n for n, _ in ADAPTERS] + [None, ADAPTERS[0][0]]
        for name in order:
            status, body = request(port, "POST", "/v1/completions", {
                "model": name or base_id, "prompt": PROMPT, "max_tokens": 12,
                "temperature": 0})
            text = body["choices"][0]["text"] if status == 200 else body
            check(status == 200 and text == expected[name]
                  and body["model"] == (name or base_id),
                  f"{name or 'the base'} as fmc-run gives it",
                  f"{status} {text!r} vs {expected[name]!r}")
        status, body = request(port, "POST", "/v1/completions",
                               {"model": "nope", "prompt": PROMPT})
        check(status == 404 and all(f"'{n}'" in body["error"]["message"]
                                    for n, _ in ADAPTERS),
              "404 names the adapters", body)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
