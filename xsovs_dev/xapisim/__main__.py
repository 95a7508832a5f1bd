"""CLI: serve a fixture until killed, e.g. for the demo or manual poking.

    python -m xsovs_dev.xapisim FIXTURE [--port N | --unix PATH] [--plugin-dir DIR]...

FIXTURE is a JSON path or a bundled name (one-host, three-host). Prints the
URL (or socket path) on stdout, then serves until SIGINT or SIGTERM.
"""

import argparse
import signal
import sys
import threading

from .server import Simulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m xsovs_dev.xapisim")
    parser.add_argument("fixture", help="fixture JSON path or bundled name")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1")
    where.add_argument("--unix", metavar="PATH", help="also serve on this unix socket")
    parser.add_argument("--plugin-dir", action="append", metavar="DIR",
                        help="plugin directory (repeatable; default: the repo's xapi.d/plugins)")
    parser.add_argument("--python", help="interpreter for plugins (default: this one)")
    args = parser.parse_args(argv)

    sim = Simulator(args.fixture)
    if args.plugin_dir:
        sim.plugin_dirs = args.plugin_dir
    if args.python:
        sim.python = args.python
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(sim.start(unix_path=args.unix, port=args.port), flush=True)
    try:
        done.wait()
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
