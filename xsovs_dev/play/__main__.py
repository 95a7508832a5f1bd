"""CLI: a simulated pool to drive by hand.

    python -m xsovs_dev.play up [FIXTURE] [--dir DIR] [--python PATH] [--ovn]
    python -m xsovs_dev.play env [--dir DIR]
    python -m xsovs_dev.play down [--dir DIR]

``up`` brings the pool up (FIXTURE: three-host by default, or one-host, or a
JSON path) and prints the environment to export, so ``eval "$(... up)"``
points this shell at it; ``env`` prints it again; ``down`` stops every
process, removes DIR (default: $TMPDIR/xsovs-play) and prints the lines that
undo the exports, so ``eval "$(... down)"`` puts this shell back (see
:mod:`.shell`).  ``--ovn`` gives the pool an OVN central and makes its
hosts chassis (:mod:`.ovn`).  Exit status 0 done, 1 failed (with the reason), 2 usage error.
"""

import argparse
import os
import subprocess
import sys

from . import pool, shell
from xsovs_dev.xapisim import fixture_names

PROG = shell.PROG


def parser():
    p = argparse.ArgumentParser(prog=PROG, description="A simulated pool to drive by hand.")
    p.add_argument("command", choices=("up", "env", "down"))
    p.add_argument("fixture", nargs="?", default="three-host",
                   help="up: a fixture's name (%s; default three-host) or a JSON file's "
                        "path" % ", ".join(fixture_names()))
    p.add_argument("--dir", default=pool.default_dir(),
                   help="where the pool lives (default %(default)s)")
    p.add_argument("--python", help="the hosts' Python (default .venv36's, as on dom0)")
    p.add_argument("--ovn", action="store_true",
                   help="up: an OVN central too, every host a chassis of it")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "up":
            sys.stderr.write("Bringing a simulated pool up in %s ...\n" % args.dir)
            state = pool.up(args.dir, args.fixture, args.python,
                            saved_environment=shell.saved(os.environ), ovn=args.ovn)
            sys.stdout.write(shell.environment(state))
            sys.stderr.write(shell.up_hint(args.dir))
        elif args.command == "env":
            state = pool.read_state(args.dir)
            if state is None or "url" not in state:
                raise pool.PlayError("no pool is up in %s (run up)" % args.dir)
            sys.stdout.write(shell.environment(state))
        else:
            state = pool.read_state(args.dir)
            left = pool.down(args.dir)
            if left:
                raise pool.PlayError("could not remove: " + "; ".join(left))
            sys.stdout.write(shell.undo(os.path.abspath(args.dir), state, os.environ))
            sys.stderr.write("Down: nothing left of %s.\n" % args.dir)
    except (pool.PlayError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
        sys.stderr.write("%s %s: %s\n" % (PROG, args.command, exc))
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("%s %s: interrupted\n" % (PROG, args.command))
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
