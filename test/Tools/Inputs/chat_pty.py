"""fmc-run -i in a pseudo-terminal, as a person types into it: the prompt
"> " appears before each turn, each typed line gets a reply, and Ctrl-D
(end of input) ends the chat with exit status 0.

usage: chat_pty.py fmc-run ARGS...
Prints what a person would see, one marker line per event.
"""
import os
import pty
import select
import sys
import time


def read_until(fd, marker, timeout=60):
    data = b""
    end = time.time() + timeout
    while marker not in data:
        left = end - time.time()
        if left <= 0:
            sys.exit(f"timed out waiting for {marker!r}; got {data!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


def main():
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    read_until(fd, b"> ")
    print("prompt 1")
    os.write(fd, b"Once upon a time\n")
    reply = read_until(fd, b"> ")
    # The terminal echoes the line; the reply follows it.
    text = reply.decode(errors="replace").replace("\r", "")
    lines = [l for l in text.split("\n") if l.strip() and l.strip() != ">"]
    print("reply 1:", "yes" if len(lines) >= 2 else f"no {text!r}")
    os.write(fd, b"The cat\n")
    read_until(fd, b"> ")
    print("prompt 3")
    os.write(fd, b"\x04")  # Ctrl-D: end of input
    _, status = os.waitpid(pid, 0)
    print("exit", os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
