"""The command lines of the libexec programs: options, their checks, what each runs.

Each executable is a thin shell around one ``main(argv)`` here, so every
argument parser can be imported and tested.  Every numeric option is a
checked :func:`xsovs_common.cli.number` (finite, positive, bounded): a bad
value is a usage error, exit status 2, with a message.  interface-reconfigure
keeps its historical command line in :mod:`xsovs_common.actions.interface_reconfigure`.
"""

import sys

from .. import cli, paths
from . import boot, pool_update
from ..xapi import session as xapi
from ..log import log

BOOT = "openvswitch-boot"
XAPI_UPDATE = "openvswitch-xapi-update"
POOL_UPDATE = "openvswitch-pool-update"

# Bounds of the numeric options.  An hour is longer than any wait worth making
# at boot or for one XAPI call; below these minimums a run only fails or spins.
MAX_SECONDS = 3600.0
MIN_TIMEOUT = 1.0
MIN_INTERVAL = 0.1
MAX_INTERVAL = 60.0
MAX_WORKERS = 256


def boot_parser():
    parser = cli.ArgumentParser(prog=BOOT, description="Open vSwitch at host boot.",
                                environment=(paths.ENV_ROOT, paths.ENV_DATAPATH_TYPE))
    parser.add_argument("command", choices=boot.COMMANDS)
    return parser


def boot_main(argv):
    """openvswitch-boot start|stop|restart|status: Open vSwitch at host boot."""
    options = boot_parser().parse_args(argv)
    root = cli.setup(BOOT, options)
    return boot.run(root, options.command, sys.stdout)


def xapi_update_parser():
    parser = cli.ArgumentParser(
        prog=XAPI_UPDATE,
        description="XAPI start-up hook: run the openvswitch-cfg-update plugin's update "
                    "on this host.",
        environment=(paths.ENV_ROOT, paths.ENV_XAPI_URL))
    _seconds_option(parser, "--wait", MIN_TIMEOUT, MAX_SECONDS, pool_update.DEFAULT_WAIT,
                    "how long to wait for XAPI to start")
    _seconds_option(parser, "--interval", MIN_INTERVAL, MAX_INTERVAL,
                    pool_update.DEFAULT_INTERVAL, "between tries")
    return parser


def _seconds_option(parser, flag, low, high, default, what):
    """A checked duration option: its range and default are in its help."""
    parser.add_argument(flag, type=cli.seconds(low, high), default=default, metavar="SECONDS",
                        help="%s, %g-%g (default %%(default)s)" % (what, low, high))


def xapi_update_main(argv):
    """openvswitch-xapi-update [--wait SECONDS] [--interval SECONDS]."""
    options = xapi_update_parser().parse_args(argv)
    root = cli.setup(XAPI_UPDATE, options)
    result = pool_update.update_this_host(root, wait=options.wait, interval=options.interval)
    if result is not None:
        log.info("update: %s", result)
        print(result)
    return cli.EXIT_OK


def pool_update_parser():
    parser = cli.ArgumentParser(
        prog=POOL_UPDATE,
        description="Run the openvswitch-cfg-update plugin on every host of the pool.",
        environment=(paths.ENV_ROOT, paths.ENV_XAPI_URL))
    parser.add_argument("fn", nargs="?", default="update", choices=pool_update.FUNCTIONS,
                        help="plugin function to run on every host (default: update)")
    parser.add_argument("--workers", type=cli.number(1, MAX_WORKERS, integer=True),
                        default=pool_update.DEFAULT_WORKERS,
                        help="hosts called at once, 1-%d (default %%(default)s)" % MAX_WORKERS)
    _seconds_option(parser, "--timeout", MIN_TIMEOUT, MAX_SECONDS, xapi.DEFAULT_TIMEOUT,
                    "per XAPI call")
    return parser


def pool_update_main(argv):
    """openvswitch-pool-update [update|status] [--workers N] [--timeout SECONDS]."""
    options = pool_update_parser().parse_args(argv)
    root = cli.setup(POOL_UPDATE, options)
    progress = pool_update.Progress(sys.stderr)
    try:
        results = pool_update.call_all(root, options.fn, options.workers, options.timeout,
                                       progress)
    finally:
        progress.finish()
    sys.stdout.write(pool_update.table(results, options.fn))
    return cli.EXIT_OK if all(r.ok for r in results) else cli.EXIT_FAILURE
