"""ovn-xapi-sync [--root-prefix=DIR] [the ovs library's daemon and log options].

On the pool master: the ``ovs`` library's own options, whose files follow the
root prefix (:func:`xsovs_common.sync.service.parse_args`).  What the daemon
does is :mod:`xsovs_common.ovn_sync.daemon`.
"""

import sys

from ... import cli, paths
from ...ovn_sync import daemon
from ...sync import service

PROGRAM = daemon.PROGRAM


def _no_arguments(unused_parser, unused_root):
    pass


def parse(ovs, argv):
    """``(root, args)`` of ``argv``; a bad command line exits 2 with a message, as
    argparse does."""
    return service.parse_args(ovs, PROGRAM, "Keep the OVN northbound database in step "
                              "with XAPI.", argv, _no_arguments,
                              epilog=cli.environment_help(paths.ENV_ROOT, paths.ENV_XAPI_URL))


def main(argv=None):
    """ovn-xapi-sync's whole life: runs until told to exit, then 0; 2 on a usage error."""
    ovs = service.load_ovs(PROGRAM)
    argv = sys.argv[1:] if argv is None else argv
    root, unused_args = service.start(ovs, PROGRAM, lambda: parse(ovs, argv))
    return daemon.serve(ovs, root)
