"""Runs `fmc-run ARTIFACT --logits-out DIR/logits.bin` twice: once watching
DIR while it runs, once killed (SIGKILL) a few milliseconds in. Prints what
DIR held: an interrupted run must leave nothing, a finished one only the
logits file (issue 14: a killed run used to leave logits.bin.tmp-<pid>)."""
import os
import subprocess
import sys

fmc_run, artifact, directory = sys.argv[1:4]
out = os.path.join(directory, "logits.bin")
command = [fmc_run, artifact, "-n", "400", "--prompt", "Once",
           "--logits-out", out]

seen = set()
p = subprocess.Popen(command, stdout=subprocess.DEVNULL)
while p.poll() is None:
    seen.update(os.listdir(directory))
seen.update(os.listdir(directory))
if p.returncode != 0:
    sys.exit(f"fmc-run failed ({p.returncode})")
print("while running:", " ".join(sorted(seen)) or "nothing")

def writing_into(pid, directory):
    """Whether process `pid` holds a file in `directory` open."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}")
                 for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any(link.startswith(os.path.realpath(directory) + "/")
               for link in links)


os.remove(out)
p = subprocess.Popen(command, stdout=subprocess.DEVNULL)
# Killed while its output is open (written, not yet complete).
while p.poll() is None and not writing_into(p.pid, directory):
    pass
p.kill()
killed_while_writing = p.wait() == -9
if not killed_while_writing:
    print("the run ended before it could be killed while writing")
print("after SIGKILL:", " ".join(sorted(os.listdir(directory))) or "nothing")
