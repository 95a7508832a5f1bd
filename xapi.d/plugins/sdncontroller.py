#!/usr/bin/python3
"""XAPI host plugin for Xen Orchestra's traffic rules: add-rule, del-rule, dump-flows.

Installed as /etc/xapi.d/plugins/sdncontroller.py, the name Xen Orchestra
calls (the vendor's plugin of xcp-ng-xapi-plugins has it; the package takes
the path over).  The rules are applied and kept by ovs-xapi-sync -- see
xsovs_common.actions.sdncontroller.  Run by XAPI as
``<plugin> <XML-RPC methodCall>``; stdout carries only the methodResponse.
"""

import os
import sys

from xsovs_common import log
from xsovs_common.actions import sdncontroller
from xsovs_common.xapi import plugin

if __name__ == "__main__":
    log.setup(os.path.basename(sys.argv[0]))
    plugin.dispatch(sdncontroller.PLUGIN_FUNCTIONS)
