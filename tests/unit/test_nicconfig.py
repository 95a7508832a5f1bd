"""NIC settings from XAPI's data: MTU and ethtool (nicconfig)."""

import pytest

from tests.support.sample_network import sample
from xsovs_common.net import nicconfig
from xsovs_common.errors import InvalidValue


def test_mtu_network_then_other_config():
    hn = sample()
    assert nicconfig.mtu(hn, "eth0") == 1500
    hn.networks["n-xenbr0"]["MTU"] = "9000"
    assert nicconfig.mtu(hn, "eth0") == 9000
    del hn.networks["n-xenbr0"]["MTU"]
    assert nicconfig.mtu(hn, "eth0") == 1500
    hn = sample(pool_other_config={"mtu": "1400"})
    assert nicconfig.mtu(hn, "eth0") == 1400
    hn = sample(pool_other_config={"mtu": "1400"}, net_other_config={"mtu": "9000"})
    assert nicconfig.mtu(hn, "eth0") == 9000
    hn.pifs["eth0"]["other_config"] = {"mtu": "1280"}
    assert nicconfig.mtu(hn, "eth0") == 1280


@pytest.mark.parametrize("value", ["jumbo", "67", "65536", "-1", "9000 x", "1e3", ""])
def test_invalid_mtu_is_skipped(value):
    assert nicconfig.mtu(sample(net_other_config={"mtu": value}), "eth0") is None


def test_invalid_network_mtu_is_skipped():
    hn = sample()
    hn.networks["n-xenbr0"]["MTU"] = "big"
    assert nicconfig.mtu(hn, "eth0") is None


def test_ethtool_defaults_turn_gro_and_lro_off():
    assert nicconfig.ethtool_plan(sample(), "eth0", "eth0") == [
        ("ethtool-K", "eth0", (("gro", "off"), ("lro", "off")))]


def test_ethtool_settings_merge_pool_network_pif():
    hn = sample(pool_other_config={"ethtool-tx": "off", "ethtool-speed": "100"},
                net_other_config={"ethtool-speed": "10000", "ethtool-duplex": "full",
                                  "ethtool-gro": "on"})
    hn.pifs["eth0"]["other_config"] = {"ethtool-autoneg": "false", "ethtool-tso": "true",
                                       "ethtool-ufo": "off", "ethtool-rx": "on"}
    assert nicconfig.ethtool_plan(hn, "eth0", "eth0") == [
        ("ethtool-s", "eth0", ("speed", "10000", "duplex", "full", "autoneg", "off")),
        ("ethtool-K", "eth0", (("rx", "on"), ("tx", "off"), ("tso", "on"), ("ufo", "off"),
                               ("gro", "on"), ("lro", "off")))]


def test_invalid_ethtool_values_are_skipped_and_defaults_kept():
    hn = sample(net_other_config={"ethtool-speed": "fast", "ethtool-duplex": "both",
                                  "ethtool-autoneg": "sometimes", "ethtool-gro": "maybe",
                                  "ethtool-sg": "off; reboot"})
    assert nicconfig.ethtool_plan(hn, "eth0", "eth0") == [
        ("ethtool-K", "eth0", (("gro", "off"), ("lro", "off")))]


def test_ethtool_plan_refuses_a_bad_device_name():
    with pytest.raises(InvalidValue):
        nicconfig.ethtool_plan(sample(), "eth0", "eth0 speed")


def test_apply_ethtool_refuses_other_steps(tmp_path):
    from xsovs_common import paths
    with pytest.raises(ValueError):
        nicconfig.apply_ethtool(paths.Root(str(tmp_path)), [("link-up", "eth0", ())])
