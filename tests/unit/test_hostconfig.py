"""Inventory, network.conf and sysconfig parsing."""

import os

import pytest

from xsovs_common import paths
from xsovs_common.system import hostconfig
from xsovs_common.errors import ConfigError
from xsovs_common.xapi import controller

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _write(tmp_path, host_path, text):
    real = tmp_path / host_path.lstrip("/")
    real.parent.mkdir(parents=True, exist_ok=True)
    real.write_text(text)


def test_inventory(tmp_path):
    _write(tmp_path, paths.INVENTORY,
           "# comment\nINSTALLATION_UUID='abc'\nPRODUCT_BRAND='XenServer'\nBUILD_NUMBER=r1\n")
    inv = hostconfig.inventory(paths.Root(str(tmp_path)))
    assert inv == {"INSTALLATION_UUID": "abc", "PRODUCT_BRAND": "XenServer", "BUILD_NUMBER": "r1"}
    assert hostconfig.host_uuid(paths.Root(str(tmp_path))) == "abc"


def test_inventory_missing_or_incomplete(tmp_path):
    root = paths.Root(str(tmp_path))
    with pytest.raises(ConfigError) as info:
        hostconfig.inventory(root)
    assert "xensource-inventory" in info.value.message
    _write(tmp_path, paths.INVENTORY, "PRODUCT_BRAND='x'\n")
    with pytest.raises(ConfigError):
        hostconfig.inventory(root)


def test_shell_vars_are_parsed_not_run():
    text = 'A="x y"\nexport B=1\nC=$(touch /tmp/never) # comment\n'
    assert hostconfig.parse_shell_vars(text) == {"A": "x y", "B": "1",
                                                 "C": "$(touch /tmp/never)"}
    with pytest.raises(ConfigError):
        hostconfig.parse_shell_vars("not an assignment\n")
    with pytest.raises(ConfigError):
        hostconfig.parse_shell_vars("A='unterminated\n")


@pytest.mark.parametrize("text,backend", [
    ("openvswitch\n", "openvswitch"), ("vswitch", "openvswitch"), ("bridge\n", "bridge"),
    ("", None), ("ovs bridge", None), ("nonsense", None)])
def test_network_backend(tmp_path, text, backend):
    _write(tmp_path, paths.NETWORK_CONF, text)
    assert hostconfig.network_backend(paths.Root(str(tmp_path))) == backend


def test_network_backend_missing(tmp_path):
    assert hostconfig.network_backend(paths.Root(str(tmp_path))) is None


def test_sysconfig_absent_is_empty(tmp_path):
    assert hostconfig.sysconfig_openvswitch(paths.Root(str(tmp_path))) == {}


def test_sysconfig_xsovs_file_wins_over_the_vendors(tmp_path):
    _write(tmp_path, paths.SYSCONFIG_OPENVSWITCH,
           "# the vendor's template, an administrator's values\n"
           "VSWITCHD_PRIORITY=-5\nCONTROLLER_PORT=6633\n")
    _write(tmp_path, paths.SYSCONFIG_XSOVS, "CONTROLLER_PORT=6632\nTUNNEL_PROTOCOLS=vxlan\n")
    assert hostconfig.sysconfig_openvswitch(paths.Root(str(tmp_path))) == {
        "VSWITCHD_PRIORITY": "-5", "CONTROLLER_PORT": "6632", "TUNNEL_PROTOCOLS": "vxlan"}


def test_shipped_xsovs_file_keeps_the_administrators_values(tmp_path):
    """The file the package installs overrides nothing the vendor's file sets."""
    _write(tmp_path, paths.SYSCONFIG_OPENVSWITCH,
           "CONTROLLER_PORT=6633\nTUNNEL_PROTOCOLS=vxlan\nSSL_PROTOCOLS=TLSv1.2\n")
    with open(os.path.join(REPO, "packaging", "sysconfig.xsovs")) as handle:
        _write(tmp_path, paths.SYSCONFIG_XSOVS, handle.read())
    values = hostconfig.sysconfig_openvswitch(paths.Root(str(tmp_path)))
    assert values == {"CONTROLLER_PORT": "6633", "TUNNEL_PROTOCOLS": "vxlan",
                      "SSL_PROTOCOLS": "TLSv1.2"}
    assert controller.default_port(paths.Root(str(tmp_path)), "ssl") == 6633


def test_sysconfig_vendor_file_alone(tmp_path):
    _write(tmp_path, paths.SYSCONFIG_OPENVSWITCH, "CONTROLLER_PORT=6633\n")
    assert hostconfig.sysconfig_openvswitch(paths.Root(str(tmp_path))) == \
        {"CONTROLLER_PORT": "6633"}
