"""Fail when a file of the repository sends its reader outside the repository.

The project carries its own map (docs/design.md); a user of it has nothing
else.  So no tracked file may point at a design page elsewhere (any
``design.md`` but ``docs/design.md``), at a sibling directory of the
checkout, at the place the project was written in, or at a numbered issue
of some tracker: say the fact, or point at the place in the repository that
says it.

    python3 tools/check_self_contained.py [DIR]

checks the files git tracks in DIR (default: this repository), or every
file under DIR when it is not a git checkout.  Exit status 0 when clean,
1 with one ``path:line: text`` per finding.
"""

import os
import re
import subprocess
import sys

# Spelled in pieces, so that this file does not match itself.
OUTSIDE = re.compile(r"\.\./" r"shared|in this " r"workplace|[Ii]ssue [0-9]+|design\.md")
ALLOWED = "docs/design.md"
SKIP_DIRS = {".git", ".venv", ".venv36", "build", "dist", "__pycache__", ".pytest_cache",
             ".ruff_cache"}
THIS = os.path.join("tools", "check_self_contained.py")   # it names the patterns


def tracked_files(top):
    """Paths relative to ``top``: git's tracked files, else every file."""
    try:
        listing = subprocess.run(["git", "-C", top, "ls-files", "-z"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, check=True).stdout
        return sorted(p for p in listing.decode("utf-8", "replace").split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for directory, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in names:
            found.append(os.path.relpath(os.path.join(directory, name), top))
    return sorted(found)


def findings(line):
    """The matches in ``line`` that point outside the repository."""
    result = []
    for match in OUTSIDE.finditer(line):
        if match.group() == "design.md" and \
                line[max(0, match.start() - len("docs/")):match.end()] == ALLOWED:
            continue
        result.append(match.group())
    return result


def check(top):
    problems = []
    for path in tracked_files(top):
        if path == THIS:
            continue
        full = os.path.join(top, path)
        try:
            with open(full, "rb") as handle:
                data = handle.read()
        except OSError:
            continue   # listed by git but deleted in the work tree
        if b"\0" in data:
            continue   # binary
        text = data.decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), 1):
            if findings(line):
                problems.append("%s:%d: %s" % (path, number, line.strip()))
    return problems


def main(argv):
    top = argv[0] if argv else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check(top)
    for problem in problems:
        print(problem)
    if problems:
        print("%d reference(s) to something outside the repository (see %s)"
              % (len(problems), THIS), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
