"""What ``play`` prints for the shell: the lines to ``eval``, and how to run ``play`` again.

``up`` and ``env`` print ``export`` lines: ``XSOVS_XAPI_URL`` (the
simulator), ``XSOVS_DATAPATH_TYPE`` (the pool's datapath, so a hand-run
``interface-reconfigure`` makes bridges like the pool's) and ``PATH`` with
the pool's ``bin`` (``xe``) first, then a comment line per host.  ``down``
prints the lines that put a shell back as ``up`` found it: ``PATH`` without
that ``bin``, and each variable that still holds what the pool exported
back to its value before ``up`` (``unset`` if it had none).
"""

import os
import shlex
import sys

from . import ovn, pool

PROG = "python -m xsovs_dev.play"
# What up exports besides PATH, and kept as the shell had them, for down (the
# last two with --ovn: where ovn-nbctl and ovn-sbctl find the central).
EXPORTED = ("XSOVS_XAPI_URL", "XSOVS_DATAPATH_TYPE", "OVN_NB_DB", "OVN_SB_DB")


def saved(environ):
    """The shell's values of what ``up`` will export (None: unset)."""
    return {name: environ.get(name) for name in EXPORTED}


def _exports(state):
    exports = {"XSOVS_XAPI_URL": state["url"], "XSOVS_DATAPATH_TYPE": pool.DATAPATH_TYPE}
    exports.update(ovn.exports(state))
    return exports


def _bin(directory):
    return os.path.join(directory, "bin")


def environment(state):
    """The shell lines to export, then one comment line per host."""
    exports = _exports(state)
    lines = ["export %s=%s" % (name, shlex.quote(exports[name])) for name in EXPORTED
             if name in exports]
    lines.append("export PATH=%s:\"$PATH\"" % shlex.quote(_bin(state["directory"])))
    for host in state["hosts"]:
        lines.append("# %-6s %s  root %s  OVSDB %s"
                     % (host["name"], host["uuid"], host["root"], host["ovsdb"]))
    return "\n".join(lines) + "\n"


def undo(directory, state, environ):
    """The shell lines that undo what ``environment`` exported (``state`` may be None)."""
    lines = []
    entries = environ.get("PATH", "").split(":")
    if _bin(directory) in entries:
        kept = ":".join(entry for entry in entries if entry != _bin(directory))
        lines.append("export PATH=%s" % shlex.quote(kept))
    if state and "url" in state:
        before = state.get("saved_environment", {})
        for name, value in sorted(_exports(state).items()):
            if environ.get(name) != value:
                continue            # changed since: not ours to touch
            old = before.get(name)
            lines.append("unset %s" % name if old is None
                         else "export %s=%s" % (name, shlex.quote(old)))
    return "".join(line + "\n" for line in lines)


def command(directory, cwd=None):
    """How to run ``play`` again as this run was: this interpreter, and ``--dir``
    unless it is the default."""
    cwd = os.getcwd() if cwd is None else cwd
    python = sys.executable
    relative = os.path.relpath(python, cwd)
    if not relative.startswith(os.pardir + os.sep):
        python = relative
    words = [shlex.quote(python), "-m", "xsovs_dev.play"]
    return " ".join(words), ("" if os.path.abspath(directory) == pool.default_dir()
                             else " --dir " + shlex.quote(os.path.abspath(directory)))


def up_hint(directory):
    program, where = command(directory)
    return ("Up. eval \"$(%s env%s)\" exports this again; eval \"$(%s down%s)\" removes "
            "it all and undoes the exports.\n" % (program, where, program, where))
