"""The datapath plans of PIF up/down, against described switches (no OVS needed)."""

import pytest

from tests.support.sample_network import net_uuid, sample
from tests.support.switch_state import snapshot
from xsovs_common.net import datapath
from xsovs_common.errors import InvalidValue
from xsovs_common.net.model import ModelError
from xsovs_common.ovs.change_kinds import AddBr, AddPort, BrSetExternalId, DelBr, DelPort, Set
from xsovs_common.ovs.changes import ChangeSet

STANDALONE = {"fail_mode": "standalone", "other_config:disable-in-band": None}


ETH0_NETWORKS = net_uuid("xenbr0")
VLAN100_NETWORKS = net_uuid("xapi2") + ";" + net_uuid("xenbr0")

def mtu1500(host_network, pif_ref):
    return 1500


def up(hn, pif, switch=None, **kw):
    return datapath.plan_up(hn, pif, snapshot(switch or {}), **kw)


def expected(*steps):
    changes = ChangeSet()
    for method, args in steps:
        getattr(changes, method)(*args)
    return changes


def test_physical_pif_on_an_empty_switch():
    plan = up(sample(), "eth0", mtu=mtu1500)
    assert plan.changes == expected(
        ("add_br", ("xenbr0", None, None, "system")),
        ("add_port", ("xenbr0", "eth0", ["eth0"], {}, {"eth0": {"mtu_request": 1500}})),
        ("set", ("Bridge", "xenbr0", dict(STANDALONE, **{
            "other_config:hwaddr": "02:00:00:00:00:01"}))),
        ("br_set_external_id", ("xenbr0", "xs-network-uuids", ETH0_NETWORKS)),
        ("set", ("Interface", "xenbr0", {"mtu_request": 1500})))
    assert plan.nics_up == [("eth0", "eth0")]
    assert (plan.ip_device, plan.nics_down, plan.released) == ("xenbr0", [], [])
    assert plan.management_flows is None


def test_up_again_changes_settings_only():
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}}}
    plan = up(sample(), "eth0", switch, datapath_type="netdev")
    assert [c.kind for c in plan.changes] == ["set", "br-set-external-id"]
    assert plan == up(sample(), "eth0", switch, datapath_type="netdev")


def test_datapath_type_only_on_bridges_created():
    assert AddBr("xenbr0", None, None, "netdev") in \
        up(sample(), "eth0", datapath_type="netdev").changes


def test_nic_in_another_bridge_moves():
    plan = up(sample(), "eth0", {"other": {"ports": {"eth0": ["eth0"]}}})
    assert list(plan.changes)[:2] == [DelPort("eth0"),
                                      AddBr("xenbr0", None, None, "system")]
    assert plan.released == []


def test_stale_fake_bridge_with_the_bridge_name_is_replaced():
    plan = up(sample(), "eth0", {"xenbr9": {"fakes": {"xenbr0": 7}}})
    assert list(plan.changes)[:2] == [DelBr("xenbr0"),
                                      AddBr("xenbr0", None, None, "system")]


def test_bond_releases_its_nics_bridges():
    switch = {"xenbr1": {"ports": {"eth1": ["eth1"]}, "fakes": {"xapi9": 9}},
              "xenbr2": {"ports": {"eth2": ["eth2"]}}}
    plan = up(sample(), "bond0", switch)
    changes = list(plan.changes)
    assert changes[:3] == [DelBr("xenbr1"), DelBr("xenbr2"),
                           AddBr("xapi1", None, None, "system")]
    bond = changes[3]
    port_columns = bond.port_columns
    assert (bond.kind, bond.bridge, bond.port, bond.interfaces) == \
        ("add-port", "xapi1", "bond0", ("eth1", "eth2"))
    assert port_columns["bond_mode"] == "balance-slb"
    assert port_columns["mac"] == "02:00:00:00:00:02"
    assert "lacp" not in port_columns            # None values are not inserted
    assert plan.released == [("eth1", "xenbr1"), ("eth2", "xenbr2")]
    assert plan.nics_up == [("eth1", "eth1"), ("eth2", "eth2")]


def test_existing_bond_is_updated_and_stale_keys_go():
    switch = {"xapi1": {"ports": {"bond0": ["eth2", "eth1"]},
                        "port_other_config": {"bond0": {"bond-old": "1", "lacp-time": "fast",
                                                        "keep": "x"}}}}
    hn = sample(bond_other_config={"bond-mode": "active-backup"})
    plan = up(hn, "bond0", switch)
    port_sets = [c for c in plan.changes
                 if isinstance(c, Set) and (c.table, c.record) == ("Port", "bond0")]
    assert len(port_sets) == 1
    values = port_sets[0].values
    assert values["bond_mode"] == "active-backup" and values["lacp"] is None
    assert values["other_config:bond-old"] is None
    assert values["other_config:lacp-time"] is None
    assert "other_config:keep" not in values
    assert not [c for c in plan.changes if c.kind in ("add-port", "del-port", "add-br")]


def test_bond_with_other_slaves_is_rebuilt():
    plan = up(sample(), "bond0", {"xapi1": {"ports": {"bond0": ["eth1", "eth3"]}}})
    assert list(plan.changes)[0] == DelPort("bond0")
    bond = list(plan.changes)[1]
    assert (bond.kind, bond.bridge, bond.port, bond.interfaces) == \
        ("add-port", "xapi1", "bond0", ("eth1", "eth2"))


def test_slave_nic_up_tears_the_bond_down():
    switch = {"xapi1": {"ports": {"bond0": ["eth1", "eth2"]}, "fakes": {"xapi3": 200}}}
    plan = up(sample(), "eth1", switch)
    assert list(plan.changes)[:2] == [DelBr("xapi1"),
                                      AddBr("xenbr1", None, None, "system")]
    assert plan.released == [("bond0", "xapi1"), ("v200", "xapi3")]
    assert plan.nics_down == ["eth2"]


def test_slave_nic_up_leaves_the_other_nic_when_the_bond_is_not_up():
    plan = up(sample(), "eth1")
    assert plan.nics_down == [] and plan.released == []


def test_vlan_builds_parent_then_fake_bridge():
    plan = up(sample(), "v100", mtu=mtu1500)
    changes = list(plan.changes)
    assert changes[:3] == [
        AddBr("xenbr0", None, None, "system"),
        AddPort("xenbr0", "eth0", ("eth0",), {}, {"eth0": {"mtu_request": 1500}}),
        AddBr("xapi2", "xenbr0", 100, None)]
    assert BrSetExternalId("xapi2", "xs-network-uuids", VLAN100_NETWORKS) in changes
    assert BrSetExternalId("xenbr0", "xs-network-uuids", ETH0_NETWORKS) in changes
    assert Set("Interface", "xapi2", {"mac": "02:00:00:00:00:01", "mtu_request": 1500}) \
        in changes
    assert plan.ip_device == "xapi2"
    assert plan.nics_up == [("eth0", "eth0")]


def test_vlan_replaces_stale_bridges():
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"old100": 100, "v7": 7}},
              "xapi2": {}}
    plan = up(sample(), "v100", switch)
    changes = list(plan.changes)
    assert changes[:3] == [DelBr("xapi2"), DelBr("old100"),
                           AddBr("xapi2", "xenbr0", 100, None)]
    assert DelBr("v7") not in changes


def test_vlan_already_there_is_kept():
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}}
    plan = up(sample(), "v100", switch)
    assert not [c for c in plan.changes if c.kind in ("add-br", "del-br", "add-port")]


def test_vlan_with_another_tag_is_rebuilt():
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 101}}}
    changes = list(up(sample(), "v100", switch).changes)
    assert changes[:2] == [DelBr("xapi2"), AddBr("xapi2", "xenbr0", 100, None)]


def test_vlan_on_a_bond():
    plan = up(sample(), "v200")
    changes = list(plan.changes)
    assert changes[0] == AddBr("xapi1", None, None, "system")
    bond = changes[1]
    assert (bond.kind, bond.bridge, bond.port, bond.interfaces) == \
        ("add-port", "xapi1", "bond0", ("eth1", "eth2"))
    assert changes[2] == AddBr("xapi3", "xapi1", 200, None)
    assert Set("Interface", "xapi3", {"mac": "02:00:00:00:00:02"}) in changes


def test_tunnel_is_a_bridge_without_nic():
    plan = up(sample(), "tun0")
    assert [c.kind for c in plan.changes] == ["add-br", "set", "br-set-external-id"]
    assert plan.nics_up == []


def test_fail_mode_and_in_band_from_xapi():
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"},
                net_other_config={"vswitch-disable-in-band": "true"})
    sets = [c for c in up(hn, "eth0").changes
            if isinstance(c, Set) and (c.table, c.record) == ("Bridge", "xenbr0")]
    assert sets[0].values["fail_mode"] == "secure"
    assert sets[0].values["other_config:disable-in-band"] == "true"


def test_invalid_in_band_value_leaves_the_key():
    hn = sample(net_other_config={"vswitch-disable-in-band": "maybe"})
    sets = [c for c in up(hn, "eth0").changes
            if isinstance(c, Set) and (c.table, c.record) == ("Bridge", "xenbr0")]
    assert "other_config:disable-in-band" not in sets[0].values


def test_secure_management_bridge_gets_flows_before_when_it_exists():
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"})
    existing = up(hn, "eth0", {"xenbr0": {"ports": {"eth0": ["eth0"]}}})
    assert existing.management_flows.path.bridge == "xenbr0"
    # Before, and again after: turning secure flushes the flows.
    assert (existing.management_flows.before, existing.management_flows.after) == (True, True)
    new = up(hn, "eth0")
    assert new.management_flows.path.nics == ["eth0"]
    assert (new.management_flows.before, new.management_flows.after) == (False, True)
    assert up(hn, "bond0").management_flows is None          # not the management bridge
    assert up(sample(), "eth0").management_flows is None      # standalone


def test_management_vlan_flows_wait_for_a_new_fake_bridge():
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"})
    hn.pifs["eth0"]["management"] = False
    hn.pifs["v100"]["management"] = True
    plan = up(hn, "v100", {"xenbr0": {"ports": {"eth0": ["eth0"]}}})
    assert plan.management_flows.path.host_port == "xapi2"
    assert (plan.management_flows.before, plan.management_flows.after) == (False, True)
    plan = up(hn, "v100", {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}})
    assert plan.management_flows.before


# Bad input: the plan is refused, naming the PIF.

def test_vlan_without_its_slave():
    hn = sample()
    del hn.vlans["vlan100"]
    with pytest.raises(ModelError, match="v100"):
        up(hn, "v100")


def test_bond_without_slaves():
    hn = sample()
    hn.bonds["bond0"]["slaves"] = []
    with pytest.raises(ModelError, match="bond0 has no slaves"):
        up(hn, "bond0")


def test_two_pifs_of_this_host_on_one_network():
    hn = sample()
    hn.pifs["eth1"]["network"] = "n-xenbr0"
    hn = type(hn)(hn.pifs, hn.networks, hn.bonds, hn.vlans, hn.tunnels, hn.pools)
    with pytest.raises(ModelError, match="several PIFs"):
        up(hn, "eth0")


@pytest.mark.parametrize("field,value,what", [
    ("MAC", "02:00:00:00:00", "MAC of PIF uuid-eth0"),
    ("device", "eth0;rm", "device of PIF uuid-eth0"),
    ("VLAN", "4095", "VLAN tag of PIF uuid-v100"),
])
def test_malformed_values(field, value, what):
    hn = sample()
    pif = "v100" if field == "VLAN" else "eth0"
    hn.pifs[pif][field] = value
    with pytest.raises(InvalidValue, match=what):
        up(hn, pif)


def test_malformed_bridge_name():
    hn = sample()
    hn.networks["n-xenbr0"]["bridge"] = "a" * 16
    with pytest.raises(InvalidValue, match="bridge of PIF uuid-eth0"):
        up(hn, "eth0")


def test_unknown_pif():
    with pytest.raises(ModelError, match="unknown PIF"):
        up(sample(), "nope")


def test_network_without_bridge_uses_the_nic():
    hn = sample()
    hn.networks["n-xenbr0"]["bridge"] = ""
    plan = up(hn, "eth0", {"xenbr0": {"ports": {"eth0": ["eth0"]}}})
    assert plan.ip_device == "eth0"
    assert list(plan.changes) == [DelPort("eth0")]
    hn.networks["n-xapi1"]["bridge"] = ""
    with pytest.raises(ModelError, match="no bridge"):
        up(hn, "bond0")


def test_a_vlan_up_making_its_parent_says_so_when_the_parent_has_an_ip():
    assert up(sample(), "v100").restored == [("eth0", "xenbr0")]
    # The parent is a fake bridge now: made again.
    assert up(sample(), "v100", {"xapi1": {"fakes": {"xenbr0": 300}}}).restored == \
        [("eth0", "xenbr0")]
    assert up(sample(), "v100", {"xenbr0": {"ports": {"eth0": ["eth0"]}}}).restored == []
    assert up(sample(), "v200").restored == []                        # bond0 has no IP
    assert "IP device xenbr0 of eth0 gets its IP configuration back" in str(up(sample(), "v100"))


# Down.

def never(ref):
    return False


def _unused(hn, ref):
    """``hn`` with ``ref`` neither the management PIF nor IP-configured."""
    hn.pifs[ref].update(management=False, ip_configuration_mode="None")
    return hn


def test_vlan_down_takes_the_unused_parent_too():
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}}
    plan = datapath.plan_down(_unused(sample(), "eth0"), "v100", snapshot(switch), never)
    assert list(plan.changes) == [DelBr("xapi2"), DelBr("xenbr0")]
    assert plan.nics_down == ["eth0"]
    assert plan.ip_device == "xapi2"
    switch = {"xapi1": {"ports": {"bond0": ["eth1", "eth2"]}, "fakes": {"xapi3": 200}}}
    plan = datapath.plan_down(sample(), "v200", snapshot(switch), never)
    assert list(plan.changes) == [DelBr("xapi3"), DelBr("xapi1")]


@pytest.mark.parametrize("parent", [
    {},                                                          # management, static IPv4
    {"management": False},                                       # static IPv4
    {"ip_configuration_mode": "None"},                           # management only
    {"management": False, "ip_configuration_mode": "dhcp"},      # as older caches spell it
    {"management": False, "ip_configuration_mode": "None",
     "ipv6_configuration_mode": "Autoconf"},
])
def test_vlan_down_never_takes_a_parent_in_use(parent):
    """From the cache nothing is attached: the management interface, or any IP
    configuration, is what says the parent bridge is the host's own."""
    hn = sample()
    hn.pifs["eth0"].update(parent)
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}}
    for attached in (never, datapath.attached_from_switch(hn, snapshot(switch))):
        plan = datapath.plan_down(hn, "v100", snapshot(switch), attached)
        assert list(plan.changes) == [DelBr("xapi2")]
        assert plan.nics_down == [] and plan.released == []


def test_vlan_down_keeps_a_parent_carrying_the_management_vlan():
    hn = _unused(sample(), "eth0")
    hn.pifs["v101"] = dict(hn.pifs["v100"], uuid="uuid-v101", VLAN="101",
                           VLAN_master_of="vlan101", network="n-xapi5", management=True)
    hn.networks["n-xapi5"] = dict(hn.networks["n-xapi2"], bridge="xapi5", PIFs=["v101"])
    hn.vlans["vlan101"] = dict(hn.vlans["vlan100"], untagged_PIF="v101", tag="101")
    hn = type(hn)(hn.pifs, hn.networks, hn.bonds, hn.vlans, hn.tunnels, hn.pools)
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}}
    plan = datapath.plan_down(hn, "v100", snapshot(switch), never)
    assert list(plan.changes) == [DelBr("xapi2")]


def test_in_use_says_why():
    hn = sample()
    assert datapath.in_use(hn, "eth0", never) == [
        "the management interface", "with an IP configuration"]
    assert datapath.in_use(hn, "bond0", lambda ref: True) == ["attached"]
    assert datapath.in_use(hn, "bond0", never) == []


def test_vlan_down_keeps_an_attached_parent():
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}}
    plan = datapath.plan_down(sample(), "v100", snapshot(switch), lambda ref: ref == "eth0")
    assert list(plan.changes) == [DelBr("xapi2")]
    assert plan.nics_down == []


def test_down_of_a_bridge_with_attached_vlans_keeps_it():
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}}
    hn = sample()
    plan = datapath.plan_down(hn, "eth0", snapshot(switch),
                              datapath.attached_from_switch(hn, snapshot(switch)))
    assert list(plan.changes) == []
    plan = datapath.plan_down(hn, "eth0", snapshot(switch), never)
    assert list(plan.changes) == [DelBr("xenbr0")]
    assert plan.released == [("v100", "xapi2")]


def test_down_of_a_missing_bridge_changes_nothing():
    plan = datapath.plan_down(sample(), "bond0", snapshot({}), never)
    assert list(plan.changes) == [] and plan.nics_down == ["eth1", "eth2"]


def test_attached_from_switch():
    hn = sample()
    snap = snapshot({"xapi1": {"fakes": {"xapi3": 200}}, "xapi2": {}})
    attached = datapath.attached_from_switch(hn, snap)
    assert attached("v200")            # its fake bridge exists
    assert not attached("v100")        # a real bridge with its name is not the VLAN
    assert not attached("bond0")       # the cache never says a PIF is attached


def test_dry_run_text():
    text = str(up(sample(), "v100"))
    assert "add-br xapi2 xenbr0 100" in text
    assert "ip link set dev eth0 up" in text
