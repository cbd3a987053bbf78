"""Speculative decoding in fmc-serve: prints one line per check for
FileCheck; exits 1 at the first wrong answer.

usage: serve_draft_client.py MODEL.fmc DRAFT.fmc
Starts fmc-serve MODEL --draft DRAFT and checks that greedy completions are
fmc-run's text without a draft (the draft changes speed, never text), that
they report the draft's work as llama.cpp does ("timings": draft_n,
draft_n_accepted), and that requests the draft cannot serve (top_p below 1,
a JSON response format) run without it.
"""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_common import check, fmc_run, request, start  # noqa: E402

MODEL, DRAFT = sys.argv[1], sys.argv[2]


def main():
    proc, port = start(MODEL, "--draft", DRAFT, "--draft-tokens", "4")
    try:
        for prompt in ("Once upon a time", "The cat"):
            expected = fmc_run(MODEL, prompt, 40)
            status, body = request(port, "POST", "/v1/completions", {
                "prompt": prompt, "max_tokens": 40, "temperature": 0})
            text = body["choices"][0]["text"] if status == 200 else body
            check(status == 200 and text == expected,
                  f"'{prompt}': the text without a draft", f"{text!r}")
            timings = body.get("timings", {})
            check(timings.get("draft_n", 0) > 0 and
                  0 <= timings["draft_n_accepted"] <= timings["draft_n"],
                  f"'{prompt}': draft work reported", timings)
        status, body = request(port, "POST", "/v1/completions", {
            "prompt": "Once", "max_tokens": 8, "temperature": 0.8,
            "top_p": 0.9, "seed": 1})
        check(status == 200 and "timings" not in body,
              "top_p below 1 runs without the draft", body)
        status, body = request(port, "POST", "/v1/completions", {
            "prompt": "Once", "max_tokens": 8, "seed": 2})
        check(status == 200 and "timings" in body,
              "a temperature alone runs with it", body)
        status, body = request(port, "POST", "/v1/completions", {
            "prompt": "Once", "max_tokens": 16, "seed": 3,
            "response_format": {"type": "json_object"}})
        check(status == 200 and "timings" not in body,
              "guided generation runs without it", body)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
