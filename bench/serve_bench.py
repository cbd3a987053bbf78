"""fmc-serve throughput: requests/s with 1, 4 and 8 concurrent clients, and
a request's decode speed with and without a JSON-schema constraint (the
mask overhead per token), measured in one run against one server.

usage: serve_bench.py MODEL.fmc [--requests N] [--max-tokens T] [--schema F]
Prints medians of 3 rounds. Requests are served one at a time by design
(one session, one set of KV caches), so requests/s measures the queue.
"""
import argparse
import concurrent.futures
import http.client
import json
import re
import statistics
import subprocess
import time


def post(port, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1/completions", body=json.dumps(body))
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    return data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--requests", type=int, default=16)
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--schema", default=None)
    p.add_argument("--server-flag", action="append", default=[])
    a = p.parse_args()
    server = subprocess.Popen(["fmc-serve", a.model, "--port", "0", *a.server_flag],
                              stderr=subprocess.PIPE, text=True)
    port = int(re.search(r":(\d+)\n", server.stderr.readline()).group(1))
    try:
        body = {"prompt": "Once upon a time", "max_tokens": a.max_tokens,
                "temperature": 0}
        post(port, body)  # warm up
        for clients in (1, 4, 8):
            rounds = []
            for _ in range(3):
                start = time.time()
                with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                    list(pool.map(lambda _: post(port, body), range(a.requests)))
                rounds.append(a.requests / (time.time() - start))
            print(f"fmc-serve: {clients} clients: {statistics.median(rounds):.1f} "
                  f"requests/s ({a.max_tokens} tokens each, median of 3)")
        if a.schema:
            with open(a.schema) as f:
                schema = json.load(f)
            guided = dict(body, max_tokens=a.max_tokens,
                          response_format={"type": "json_schema",
                                           "json_schema": {"schema": schema}})
            times = {"free": [], "schema": []}
            tokens = {"free": [], "schema": []}
            for seed in range(1, 6):
                for kind, b in (("free", body), ("schema", guided)):
                    b = dict(b, seed=seed, temperature=1)
                    start = time.time()
                    r = post(port, b)
                    times[kind].append(time.time() - start)
                    tokens[kind].append(r["usage"]["completion_tokens"])
            per = {k: statistics.median(t / n for t, n in zip(times[k], tokens[k]))
                   for k in times}
            print(f"fmc-serve: decode {1 / per['free']:.1f} tok/s free, "
                  f"{1 / per['schema']:.1f} tok/s under {a.schema}: "
                  f"{(per['schema'] - per['free']) * 1e6:.0f} us per token "
                  f"(request time per generated token, median of 5 seeds)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
