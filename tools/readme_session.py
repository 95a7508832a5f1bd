"""The README's play session, run as written and compared with what the README shows.

    .venv/bin/python tools/readme_session.py            # run it, show the differences
    .venv/bin/python tools/readme_session.py --update   # write what ran into README.md

The session is every indented block of README.md's section "Try it by hand"
that starts with a ``$ `` line: each ``$ COMMAND`` line is run, in order, by
one ``bash`` in the checkout (so ``eval``, ``H2=...`` and ``PATH`` carry
over), with this environment minus what would point a program elsewhere
(``XSOVS_*``, ``OVS_*``, ``PYTHON*``) and a ``TMPDIR`` of its own, so the
pool comes up in a fresh ``$TMPDIR/xsovs-play`` and never meets one already
up.  The lines up to the next ``$`` line are what it printed, stdout and
stderr together as a terminal shows them.

Only what varies from run to run may differ (:data:`VARYING`): the pool's
directory (shown as ``/tmp/xsovs-play``), ports, pids (in JSON too), durations; and log
lines, which go to syslog where there is one and to stderr where there is
not, are left out.  ``--update`` rewrites the session's output lines in
README.md with what ran (review it with ``git diff README.md``); exit
status 0 when the README matches, 1 with a diff when it does not.
"""

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")
SECTION = "## Try it by hand"
SHOWN_DIR = "/tmp/xsovs-play"
INDENT = "    "
PROMPT = INDENT + "$ "
MARK = "\x1eREADME-SESSION %d\x1e"

# What may differ between the README and a run: (pattern, what both sides become).
VARYING = [
    (re.compile(r"\bpid \d+"), "pid N"),
    (re.compile(r'("[a-z_]*pid": )\d+'), r"\1N"),
    (re.compile(r"\b127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\b\d+(\.\d+)? ?(s|ms)\b"), "N s"),
]
# The programs' log lines (syslog where there is one, else stderr): left out.
LOG_LINE = re.compile(r"^[a-z][a-z0-9-]*: (DEBUG|INFO|WARNING) ")


class Step:
    """One ``$ COMMAND`` of the README and the lines it shows after it."""

    def __init__(self, command, first, shown):
        self.command = command
        self.first = first          # index in the README's lines of the first output line
        self.shown = shown          # the output lines, without the indent


def session(lines):
    """The :class:`Step` list of the README's play section (``lines``: the README's)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(SECTION))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    steps, i = [], start
    while i < end:
        if not lines[i].startswith(PROMPT):
            i += 1
            continue
        j = i + 1
        while j < end and not lines[j].startswith(PROMPT):
            if lines[j].startswith(INDENT):
                j += 1
                continue
            k = j                       # blank lines: inside the block if more follows
            while k < end and not lines[k].strip():
                k += 1
            if k in (j, end) or not lines[k].startswith(INDENT):
                break
            j = k
        steps.append(Step(lines[i][len(PROMPT):], i + 1,
                          [line[len(INDENT):] for line in lines[i + 1:j]]))
        i = j
    return steps


def run(commands, timeout=900):
    """What each command printed, run as described above; the pool is always taken down."""
    tmpdir = tempfile.mkdtemp(prefix="xsovs-readme-")
    play_dir = os.path.join(tmpdir, "xsovs-play")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XSOVS_", "OVS_", "PYTHON"))}
    env.update(TMPDIR=tmpdir, PYTHONUNBUFFERED="1")
    script = "exec 2>&1\n" + "".join(
        "printf '%s\\n'\n%s\n" % (MARK % n, command.replace(SHOWN_DIR, play_dir))
        for n, command in enumerate(commands))
    # From a file: a command line naming the pool would be swept by play down.
    script_path = os.path.join(tmpdir, "session.sh")
    with open(script_path, "w") as handle:
        handle.write(script)
    try:
        result = subprocess.run(["bash", script_path], cwd=REPO, env=env, check=False,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True,
                                timeout=timeout)
        output = result.stdout
    finally:
        subprocess.run([sys.executable, "-m", "xsovs_dev.play", "down", "--dir", play_dir],
                       cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120, check=False)
        shutil.rmtree(tmpdir, ignore_errors=True)
    parts = re.split(MARK.replace("%d", r"(\d+)") + "\n", output)
    printed = {int(parts[k]): parts[k + 1] for k in range(1, len(parts) - 1, 2)}
    return [_as_shown(printed.get(n, ""), play_dir) for n in range(len(commands))]


def _as_shown(text, play_dir):
    """A command's output as the README would show it."""
    lines = text.replace(play_dir, SHOWN_DIR).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip() for line in lines if not LOG_LINE.match(line)]


def masked(lines):
    """``lines`` with what varies (:data:`VARYING`) made alike, trailing blanks gone."""
    result = []
    for line in lines:
        for pattern, replacement in VARYING:
            line = pattern.sub(replacement, line)
        result.append(line.rstrip())
    while result and not result[-1]:
        result.pop()
    return result


def differences(steps, outputs):
    """A unified diff for each command whose output differs from the README's."""
    text = []
    for step, printed in zip(steps, outputs):
        if masked(step.shown) != masked(printed):
            text.append("$ %s   (README.md line %d)" % (step.command, step.first))
            text += difflib.unified_diff(step.shown, printed, "README.md",
                                         "what it prints now", lineterm="")
            text.append("")
    return "\n".join(text)


def updated(lines, steps, outputs):
    """README lines with each step's output lines replaced by what it printed."""
    lines = list(lines)
    for step, printed in sorted(zip(steps, outputs), key=lambda pair: -pair[0].first):
        after = step.first + len(step.shown)
        printed = list(printed)
        if not (after < len(lines) and lines[after].startswith(PROMPT)):
            while printed and not printed[-1]:
                printed.pop()             # the block ends here: its blank line is not output
        lines[step.first:after] = [(INDENT + line) if line else "" for line in printed]
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--update"]):
        sys.stderr.write("usage: tools/readme_session.py [--update]\n")
        return 2
    with open(README) as handle:
        lines = handle.read().split("\n")
    steps = session(lines)
    outputs = run([step.command for step in steps])
    if argv == ["--update"]:
        with open(README, "w") as handle:
            handle.write("\n".join(updated(lines, steps, outputs)))
        sys.stdout.write("README.md: %d commands' output written; review: git diff README.md\n"
                         % len(steps))
        return 0
    diff = differences(steps, outputs)
    if diff:
        sys.stdout.write(diff + "\n")
        return 1
    sys.stdout.write("README.md's play session: %d commands, as shown\n" % len(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
