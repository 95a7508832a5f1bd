"""Start-up is part of every call: libraries needed on one path only load there."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ("XenAPI", "xmlrpc.client", "http.client", "urllib.request", "xml.sax", "netaddr",
         "xml.etree.ElementTree")


def _loaded(module):
    code = ("import json, sys, %s; print(json.dumps([m for m in %r if m in sys.modules]))"
            % (module, HEAVY))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return json.loads(out)


def test_interface_reconfigure_at_boot_loads_no_xapi_client_nor_xml_nor_netaddr():
    """``--force BRIDGE up`` (boot, no XAPI) never needs them; importing the
    executable's module must not load them."""
    assert _loaded("xsovs_common.actions.commands.interface_reconfigure") == []


def test_the_plugin_does_not_load_xml_sax_nor_the_cache_parser():
    loaded = _loaded("xsovs_common.actions.commands.openvswitch_cfg_update")
    assert "xml.sax" not in loaded and "urllib.request" not in loaded
    assert "xml.etree.ElementTree" not in loaded    # update writes the cache, never parses it
