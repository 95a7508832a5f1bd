#!/usr/bin/python3
"""XAPI host plugin for Xen Orchestra's traffic rules: add-rule, del-rule, dump-flows.

Installed as /etc/xapi.d/plugins/sdncontroller.py, the name Xen Orchestra
calls (the vendor's plugin of xcp-ng-xapi-plugins has it; the package takes
the path over).  The rules are applied and kept by ovs-xapi-sync.  Run by
XAPI as ``<plugin> <XML-RPC methodCall>``; stdout carries only the
methodResponse.

The program is xsovs_common.actions.commands.sdncontroller (its command line and main).
"""

import sys

from xsovs_common.actions.commands import sdncontroller as command

if __name__ == "__main__":
    sys.exit(command.main())
