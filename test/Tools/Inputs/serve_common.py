"""What the fmc-serve test clients share: start a server on a free loopback
port, send a request, print a check line for FileCheck."""
import http.client
import json
import re
import subprocess
import sys


def start(model, *flags):
    """fmc-serve MODEL --port 0 FLAGS..., and the port it listens on."""
    proc = subprocess.Popen(["fmc-serve", model, "--port", "0", *flags],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    m = re.search(r"listening on http://127.0.0.1:(\d+)", line)
    if not m:
        sys.exit(f"fmc-serve did not start: {line}{proc.stderr.read()}")
    return proc, int(m.group(1))


def request(port, method, path, body=None):
    """The status and the JSON body of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=json.dumps(body) if body else None,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    return r.status, json.loads(text)


def check(ok, what, detail=""):
    if not ok:
        print(f"FAILED: {what} {detail}")
        sys.exit(1)
    print(f"ok: {what}")


def fmc_run(model, prompt, n, *flags):
    """fmc-run's greedy continuation of `prompt` (its echo cut off), with
    what is not UTF-8 replaced as the server's JSON replaces it."""
    out = subprocess.run(["fmc-run", model, "-p", prompt, "-n", str(n), *flags],
                         capture_output=True, check=True).stdout
    return out.decode("utf-8", "replace")[len(prompt):].rstrip("\n")
