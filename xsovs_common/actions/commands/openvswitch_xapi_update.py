"""openvswitch-xapi-update [--wait SECONDS] [--interval SECONDS]: the XAPI start-up hook.

For XAPI versions that do not run the plugin themselves when they start: it
waits for XAPI and asks it to run the plugin's ``update`` on this host
(:func:`xsovs_common.actions.pool_update.update_this_host`).
"""

from ... import cli, paths
from .. import pool_update
from ...log import log

PROGRAM = "openvswitch-xapi-update"
MIN_INTERVAL = 0.1      # below it a wait only spins
MAX_INTERVAL = 60.0


def parser():
    result = cli.ArgumentParser(
        prog=PROGRAM,
        description="XAPI start-up hook: run the openvswitch-cfg-update plugin's update "
                    "on this host.",
        environment=(paths.ENV_ROOT, paths.ENV_XAPI_URL))
    cli.seconds_option(result, "--wait", cli.MIN_TIMEOUT, cli.MAX_SECONDS,
                       pool_update.DEFAULT_WAIT, "how long to wait for XAPI to start")
    cli.seconds_option(result, "--interval", MIN_INTERVAL, MAX_INTERVAL,
                       pool_update.DEFAULT_INTERVAL, "between tries")
    return result


def _main(argv):
    options = parser().parse_args(argv)
    root = cli.setup(PROGRAM, options)
    result = pool_update.update_this_host(root, wait=options.wait, interval=options.interval)
    if result is not None:
        log.info("update: %s", result)
        print(result)
    return cli.EXIT_OK


def main(argv=None):
    """openvswitch-xapi-update's whole life: exit status 0, 1 or 2."""
    return cli.run(PROGRAM, _main, argv)
