"""The XAPI host plugin ``sdncontroller.py``: Xen Orchestra's traffic rules.

One XML-RPC call in, one answer out (:mod:`xsovs_common.xapi.plugin`); the
functions are :data:`xsovs_common.actions.sdncontroller.PLUGIN_FUNCTIONS`.
"""

import os
import sys

from ... import cli, log
from .. import sdncontroller
from ...xapi import plugin


def main(argv=None):
    """Answer one invocation on stdout; the exit status is always 0 (a failure is an
    answer, as XAPI reads it)."""
    log.setup(os.path.basename(sys.argv[0]))
    plugin.dispatch(sdncontroller.PLUGIN_FUNCTIONS, sys.argv[1:] if argv is None else argv)
    return cli.EXIT_OK
