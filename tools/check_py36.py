"""Compile every file of host code with the running Python (run it on 3.6).

Executables under libexec/ and xapi.d/ have no .py suffix, so compileall
would skip them; this takes every Python file and every script whose first
line names python.
"""

import os
import sys


def python_files(top):
    if os.path.isfile(top):
        yield top
        return
    for directory, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(names):
            path = os.path.join(directory, name)
            if name.endswith(".py"):
                yield path
            elif not name.endswith((".pyc", ".md")) and os.path.isfile(path):
                with open(path, "rb") as handle:
                    if b"python" in handle.readline():
                        yield path


def main(tops):
    failures = 0
    count = 0
    for top in tops:
        for path in python_files(top):
            count += 1
            with open(path) as handle:
                source = handle.read()
            try:
                compile(source, path, "exec")
            except SyntaxError as exc:
                failures += 1
                print("%s:%s: %s" % (path, exc.lineno, exc.msg))
    print("%d host files compiled with Python %s, %d failed"
          % (count, sys.version.split()[0], failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
