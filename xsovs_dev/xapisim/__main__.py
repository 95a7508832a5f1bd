"""CLI: serve a fixture until killed, e.g. for the demo or driving a pool by hand.

    python -m xsovs_dev.xapisim FIXTURE [--port N | --unix PATH] [--plugin-dir DIR]...
                                [--host-root HOST=DIR]... [--python PATH]

FIXTURE is a JSON path or a bundled name (one-host, three-host). Prints the
URL (or socket path) on stdout, then serves until SIGINT or SIGTERM.

``--host-root HOST=DIR`` (HOST a host's uuid or name_label) gives that host
its own root: its plugin runs get ``XSOVS_ROOT=DIR`` and OVS's run, database
and log directories under DIR (``DIR/var/run/openvswitch``, ...), where that
host's ovsdb-server and ovs-vswitchd are expected, as on a host.  Without it
every host's plugin runs in this process's environment.

A bad argument -- an unknown fixture, a port in use, an unknown host -- is a
message and exit status 2, never a traceback.
"""

import argparse
import os
import signal
import sys
import threading

from xsovs_common import paths

from .server import Simulator

PROG = "python -m xsovs_dev.xapisim"


def port_number(text):
    """A TCP port, 0 meaning any free one."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a port number" % text) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("%r is not a port (0-65535; 0: any free port)" % text)
    return port


def host_root(text):
    host, equals, directory = text.partition("=")
    if not equals or not host or not directory:
        raise argparse.ArgumentTypeError("%r is not HOST=DIR" % text)
    return host, os.path.abspath(directory)


def root_env(directory):
    """The environment a host with root ``directory`` gives its programs."""
    root = paths.Root(directory)
    return {"XSOVS_ROOT": directory, "OVS_RUNDIR": root.path(paths.OVS_RUNDIR),
            "OVS_DBDIR": root.path(paths.OVS_DBDIR), "OVS_LOGDIR": root.path(paths.OVS_LOGDIR)}


def host_uuid(sim, name):
    """The uuid of the host called ``name`` (uuid or name_label), or None."""
    for record in sim.store.all("host").values():
        if name in (record["uuid"], record.get("name_label")):
            return record["uuid"]
    return None


def parser():
    p = argparse.ArgumentParser(prog=PROG, description="Serve a simulated XAPI pool.")
    p.add_argument("fixture", help="fixture JSON path or bundled name (one-host, three-host)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--port", type=port_number, default=0,
                       help="TCP port on 127.0.0.1 (default 0: any free port)")
    where.add_argument("--unix", metavar="PATH", help="also serve on this unix socket")
    p.add_argument("--plugin-dir", action="append", metavar="DIR",
                   help="plugin directory (repeatable; default: the repo's xapi.d/plugins)")
    p.add_argument("--host-root", action="append", type=host_root, default=[],
                   metavar="HOST=DIR", help="this host's root directory (repeatable)")
    p.add_argument("--python", help="interpreter for plugins (default: this one)")
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    try:
        sim = Simulator(args.fixture)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        p.error("cannot load fixture %s: %s" % (args.fixture, exc))
    for name, directory in args.host_root:
        uuid = host_uuid(sim, name)
        if uuid is None:
            p.error("--host-root: the fixture has no host %r" % name)
        if not os.path.isdir(directory):
            p.error("--host-root: %s is not a directory" % directory)
        sim.host_env.setdefault(uuid, {}).update(root_env(directory))
    if args.plugin_dir:
        sim.plugin_dirs = args.plugin_dir
    if args.python:
        sim.python = args.python
    try:
        where = sim.start(unix_path=args.unix, port=args.port)
    except OSError as exc:
        sim.stop()
        p.error("cannot listen on %s: %s"
                % (args.unix or "127.0.0.1 port %d" % args.port, exc.strerror or exc))
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(where, flush=True)
    try:
        done.wait()
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
