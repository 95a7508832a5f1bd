"""openvswitch-pool-update [update|status] [--workers N] [--timeout SECONDS].

On the pool master: the plugin's ``update`` (or ``status``) on every host of
the pool, in parallel, as a table (:mod:`xsovs_common.actions.pool_update`).
"""

import sys

from ... import cli, paths
from .. import pool_update
from ...xapi import session as xapi

PROGRAM = "openvswitch-pool-update"
MAX_WORKERS = 256


def parser():
    result = cli.ArgumentParser(
        prog=PROGRAM,
        description="Run the openvswitch-cfg-update plugin on every host of the pool.",
        environment=(paths.ENV_ROOT, paths.ENV_XAPI_URL))
    result.add_argument("fn", nargs="?", default="update", choices=pool_update.FUNCTIONS,
                        help="plugin function to run on every host (default: update)")
    result.add_argument("--workers", type=cli.number(1, MAX_WORKERS, integer=True),
                        default=pool_update.DEFAULT_WORKERS,
                        help="hosts called at once, 1-%d (default %%(default)s)" % MAX_WORKERS)
    cli.seconds_option(result, "--timeout", cli.MIN_TIMEOUT, cli.MAX_SECONDS,
                       xapi.DEFAULT_TIMEOUT, "per XAPI call")
    return result


def _main(argv):
    options = parser().parse_args(argv)
    root = cli.setup(PROGRAM, options)
    progress = pool_update.Progress(sys.stderr)
    try:
        results = pool_update.call_all(root, options.fn, options.workers, options.timeout,
                                       progress)
    finally:
        progress.finish()
    sys.stdout.write(pool_update.table(results, options.fn))
    return cli.EXIT_OK if all(r.ok for r in results) else cli.EXIT_FAILURE


def main(argv=None):
    """openvswitch-pool-update's whole life: exit status 0, 1 (a host failed) or 2."""
    return cli.run(PROGRAM, _main, argv)
