"""ovs-xapi-sync [--root-prefix=DIR] [the ovs library's daemon and log options] [DATABASE].

The historical daemon's command line: the ``ovs`` library's own options
(``--pidfile``, ``--detach``, ``--monitor``, ``--log-file``, ``-v``, ...),
whose files follow the root prefix (:func:`xsovs_common.sync.service.parse_args`),
and the database.  What the daemon does is :mod:`xsovs_common.sync.daemon`.
"""

import sys

from ... import cli, paths
from ...sync import daemon, service

PROGRAM = daemon.PROGRAM


def _add_database(parser, root):
    parser.add_argument("database", metavar="DATABASE", nargs="?",
                        default="unix:" + root.ovsdb_socket(),
                        help="ovsdb-server's socket (default: %(default)s)")


def parse(ovs, argv):
    """``(root, args)`` of ``argv``; a bad command line exits 2 with a message, as
    argparse does."""
    return service.parse_args(ovs, PROGRAM, "Keep OVSDB's external ids in step with XAPI.",
                              argv, _add_database,
                              epilog=cli.environment_help(paths.ENV_ROOT, paths.ENV_XAPI_URL))


def main(argv=None):
    """ovs-xapi-sync's whole life: runs until told to exit, then 0; 2 on a usage error."""
    ovs = service.load_ovs(PROGRAM)
    argv = sys.argv[1:] if argv is None else argv
    root, args = service.start(ovs, PROGRAM, lambda: parse(ovs, argv))
    return daemon.serve(ovs, root, args)
