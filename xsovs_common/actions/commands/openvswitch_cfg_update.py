"""The XAPI host plugin ``openvswitch-cfg-update``: its invocation is the protocol's.

XAPI runs the plugin with one argument, an XML-RPC ``methodCall``, and reads
one ``methodResponse`` from stdout (:mod:`xsovs_common.xapi.plugin`); the
functions are :data:`xsovs_common.actions.cfg_update.PLUGIN_FUNCTIONS`.  The
plugin logs under the name it was run by: ``openvswitch-cfg-update``, or
``openvswitch-config-update`` (current XAPI's name for the same file).
"""

import os
import sys

from ... import cli, log
from .. import cfg_update
from ...xapi import plugin


def main(argv=None):
    """Answer one invocation on stdout; the exit status is always 0 (a failure is an
    answer, as XAPI reads it)."""
    log.setup(os.path.basename(sys.argv[0]))
    plugin.dispatch(cfg_update.PLUGIN_FUNCTIONS, sys.argv[1:] if argv is None else argv)
    return cli.EXIT_OK
