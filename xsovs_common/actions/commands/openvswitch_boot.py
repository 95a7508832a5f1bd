"""openvswitch-boot start|stop|restart|status: Open vSwitch at host boot.

What each command does is :mod:`xsovs_common.actions.boot`.
"""

import sys

from ... import cli, paths
from .. import boot

PROGRAM = "openvswitch-boot"


def parser():
    result = cli.ArgumentParser(prog=PROGRAM, description="Open vSwitch at host boot.",
                                environment=(paths.ENV_ROOT, paths.ENV_DATAPATH_TYPE))
    result.add_argument("command", choices=boot.COMMANDS)
    return result


def _main(argv):
    options = parser().parse_args(argv)
    root = cli.setup(PROGRAM, options)
    return boot.run(root, options.command, sys.stdout)


def main(argv=None):
    """openvswitch-boot's whole life: an init script's exit statuses (``status``:
    0 running, 1 dead, 3 stopped, 4 unknown), 2 on a usage error."""
    return cli.run(PROGRAM, _main, argv)
