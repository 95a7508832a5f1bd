"""ovs-xapi-sync [--root-prefix=DIR] [the ovs library's daemon and log options] [DATABASE].

The historical daemon's command line: argparse with the ``ovs`` library's own
options (``--pidfile``, ``--detach``, ``--monitor``, ``--log-file``, ``-v``,
...), whose files follow the root prefix.  What the daemon does is
:mod:`xsovs_common.sync.daemon`.
"""

import argparse
import sys

from ... import cli, paths
from ...sync import daemon

PROGRAM = daemon.PROGRAM


def parse(ovs, argv):
    """``(root, args)`` of ``argv``; a bad command line exits 2 with a message, as
    argparse does."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--root-prefix", metavar="DIR", default=None)
    known, _ = early.parse_known_args(argv)
    root = paths.Root.from_environment(known.root_prefix)
    # The ovs library's defaults (pidfile, unixctl socket, log file) follow the root.
    ovs.dirs.RUNDIR = root.ovs_rundir()
    ovs.dirs.LOGDIR = root.ovs_logdir()
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Keep OVSDB's external ids in step with XAPI.",
        epilog=cli.environment_help(paths.ENV_ROOT, paths.ENV_XAPI_URL),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", metavar="DATABASE", nargs="?",
                        default="unix:" + root.ovsdb_socket(),
                        help="ovsdb-server's socket (default: %(default)s)")
    parser.add_argument("--root-prefix", metavar="DIR", default=None,
                        help="use DIR as the host's root directory (for testing)")
    ovs.vlog.add_args(parser)
    ovs.daemon.add_args(parser)
    return root, parser.parse_args(argv)


def main(argv=None):
    """ovs-xapi-sync's whole life: runs until told to exit, then 0; 2 on a usage error."""
    ovs = daemon.ovs_library()
    root, args = parse(ovs, sys.argv[1:] if argv is None else argv)
    return daemon.serve(ovs, root, args)
