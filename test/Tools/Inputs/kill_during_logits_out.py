"""Runs `fmc-run ARTIFACT --logits-out DIR/logits.bin` twice: once watching
DIR while it runs, once killed (SIGKILL) a few milliseconds in. Prints what
DIR held: an interrupted run must leave nothing, a finished one only the
logits file (issue 14: a killed run used to leave logits.bin.tmp-<pid>)."""
import os
import subprocess
import sys
import time

fmc_run, artifact, directory = sys.argv[1:4]
out = os.path.join(directory, "logits.bin")
command = [fmc_run, artifact, "-n", "400", "--prompt", "Once",
           "--logits-out", out]

seen = set()
p = subprocess.Popen(command, stdout=subprocess.DEVNULL)
while p.poll() is None:
    seen.update(os.listdir(directory))
seen.update(os.listdir(directory))
print("while running:", " ".join(sorted(seen)) or "nothing")

os.remove(out)
p = subprocess.Popen(command, stdout=subprocess.DEVNULL)
time.sleep(0.005)
p.kill()
p.wait()
print("after SIGKILL:", " ".join(sorted(os.listdir(directory))) or "nothing")
