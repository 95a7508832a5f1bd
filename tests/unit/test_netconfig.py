"""The shared rules for bridge and bond settings."""

from tests.support.sample_network import sample
from xsovs_common.net import netconfig
from xsovs_common.ovs.change_kinds import Set


def test_fail_mode_network_then_pool_then_standalone():
    assert netconfig.fail_mode(sample(), "n-xenbr0") == "standalone"
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"})
    assert netconfig.fail_mode(hn, "n-xenbr0") == "secure"
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"},
                net_other_config={"vswitch-controller-fail-mode": "standalone"})
    assert netconfig.fail_mode(hn, "n-xenbr0") == "standalone"
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"},
                net_other_config={"vswitch-controller-fail-mode": "bogus"})
    assert netconfig.fail_mode(hn, "n-xenbr0") == "secure"
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "Secure "})
    assert netconfig.fail_mode(hn, "n-xenbr0") == "standalone"


def test_disable_in_band_values():
    for raw, value, invalid in (("true", "true", None), ("false", "false", None),
                                (None, None, None), ("", None, None), ("yes", None, "yes")):
        oc = {} if raw is None else {"vswitch-disable-in-band": raw}
        hn = sample(net_other_config=oc)
        values, bad = netconfig.bridge_columns(hn, "n-xenbr0")
        assert bad == invalid
        if invalid is None:
            assert values["other_config:disable-in-band"] == value
        else:
            assert "other_config:disable-in-band" not in values


def test_bond_defaults():
    columns = netconfig.bond_port_columns(sample(), "bond0")
    assert columns == {
        "bond_mode": "balance-slb", "lacp": None, "bond_updelay": 31000, "bond_downdelay": 200,
        "other_config:bond-miimon-interval": "100", "other_config:bond-detect-mode": "carrier",
        "other_config:bond-rebalance-interval": "1800000", "mac": "02:00:00:00:00:02"}


def test_bond_lacp_and_overrides():
    columns = netconfig.bond_port_columns(sample(bond_other_config={
        "bond-mode": "lacp", "bond-hashing-algorithm": "tcpudp_ports", "bond-miimon": "50",
        "bond-updelay": "1000", "bond-downdelay": "10", "bond-use_carrier": "0",
        "bond-lacp-time": "fast", "bond-lacp-fallback-ab": "true", "bond-extra": "v"}), "bond0")
    assert columns["bond_mode"] == "balance-tcp"
    assert columns["lacp"] == "active"
    assert columns["bond_updelay"] == 1000 and columns["bond_downdelay"] == 10
    assert columns["other_config:bond-miimon-interval"] == "50"
    assert columns["other_config:bond-detect-mode"] == "miimon"
    assert columns["other_config:lacp-time"] == "fast"
    assert columns["other_config:lacp-fallback-ab"] == "true"
    assert columns["other_config:bond-extra"] == "v"
    assert "other_config:bond-rebalance-interval" not in columns


def test_pass_through_keys_cannot_override_checked_settings():
    columns = netconfig.bond_port_columns(sample(bond_other_config={
        "bond-miimon": "abc", "bond-miimon-interval": "abc", "bond-detect-mode": "nonsense",
        "bond-slb-something": "kept"}), "bond0")
    assert columns["other_config:bond-miimon-interval"] == "100"
    assert columns["other_config:bond-detect-mode"] == "carrier"
    assert columns["other_config:bond-slb-something"] == "kept"


def test_bond_invalid_values_keep_defaults():
    columns = netconfig.bond_port_columns(sample(bond_other_config={
        "bond-mode": "round-robin", "bond-miimon": "-5", "bond-updelay": "soon",
        "bond-use_carrier": "maybe", "bond-hashing-algorithm": "xor"}), "bond0")
    assert columns["bond_mode"] == "balance-slb"
    assert columns["other_config:bond-miimon-interval"] == "100"
    assert columns["bond_updelay"] == 31000
    assert columns["other_config:bond-detect-mode"] == "carrier"


class _Snap:
    def __init__(self, bridges, ports):
        self._bridges, self.ports = bridges, dict.fromkeys(ports)

    def real_bridges(self):
        return self._bridges


def test_restore_changes_after_reset():
    hn = sample(net_other_config={"vswitch-disable-in-band": "true",
                                  "vswitch-controller-fail-mode": "secure"},
                bond_other_config={"bond-miimon": "70"})
    changes, invalid = netconfig.settings_changes(hn, _Snap(["xenbr0", "xapi1", "foreign"],
                                                            ["bond0"]), after_reset=True)
    assert invalid == {}
    assert Set("Bridge", "xenbr0", {"fail_mode": "secure",
                                        "other_config:disable-in-band": "true"}) in changes.changes
    assert Set("Bridge", "xapi1", {"fail_mode": "standalone"}) in changes.changes
    port = [c for c in changes if c.table == "Port"][0]
    assert port.record == "bond0"
    assert port.values["other_config:bond-miimon-interval"] == "70"
    assert all(key.startswith("other_config:") for key in port.values)
    assert not [c for c in changes if c.record == "foreign"]


def test_settings_changes_without_reset_are_only_the_differences():
    from types import SimpleNamespace as Row
    hn = sample(net_other_config={"vswitch-controller-fail-mode": "secure"},
                bond_other_config={"bond-miimon": "70"})
    wanted_port = netconfig.port_other_config(netconfig.bond_port_columns(hn, "bond0"))
    port_config = {k.split(":", 1)[1]: v for k, v in wanted_port.items()}
    snap = _Snap(["xenbr0", "xapi1"], ["bond0"])
    snap.bridges = {
        "xenbr0": Row(fail_mode="secure", other_config={"disable-in-band": "true"}),
        "xapi1": Row(fail_mode="standalone", other_config={}),
    }
    snap.ports = {"bond0": Row(other_config=dict(port_config,
                                                 **{"bond-miimon-interval": "100"}))}
    changes, invalid = netconfig.settings_changes(hn, snap, after_reset=False)
    assert invalid == {}
    # xenbr0: fail mode already right; the in-band key XAPI does not set is removed.
    assert changes.changes == [
        Set("Bridge", "xenbr0", {"other_config:disable-in-band": None}),
        Set("Port", "bond0", {"other_config:bond-miimon-interval": "70"}),
    ]
