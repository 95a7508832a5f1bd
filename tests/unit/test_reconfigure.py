"""A whole PIF action planned: datapath, IP configuration, NICs (nothing applied)."""

import pytest

from tests.support.sample_network import sample
from tests.support.switch_state import snapshot
from xsovs_common import paths
from xsovs_common.actions import reconfigure
from xsovs_common.errors import InvalidValue
from xsovs_common.ovs.change_kinds import AddBr


def test_up_plans_every_part(root):
    switch = {"xenbr1": {"ports": {"eth1": ["eth1"]}}}
    plan = reconfigure.plan_up(root, sample(), "v200", snapshot(switch))
    assert plan.ip.ip_device == "xapi3" and plan.ip.action == "up"
    assert [p.ip_device for p in plan.released] == ["xenbr1"]
    assert [p.action for p in plan.released] == ["down"]
    assert [device for device, _ in plan.nic_steps] == ["eth1", "eth2"]
    assert ("ethtool-K", "eth1", (("gro", "off"), ("lro", "off"))) in plan.nic_steps[0][1]
    text = str(plan)
    assert "add-br xapi3 xapi1 200" in text and "IP configuration of xapi3" in text


def test_a_vlan_up_that_makes_its_parent_gives_the_parent_its_ip_back(root):
    """The parent's own address and default route, after the transaction, before the
    VLAN's; not when the parent bridge is there already, nor for a parent without one."""
    plan = reconfigure.plan_up(root, sample(), "v100", snapshot({}))
    assert plan.switch.restored == [("eth0", "xenbr0")]
    [parent] = plan.restored
    assert (parent.action, parent.ip_device) == ("up", "xenbr0")
    assert ("addr-add", "xenbr0", "192.0.2.10/24") in parent.steps
    assert ("route-add", "xenbr0", "default", "192.0.2.1") in parent.steps
    text = str(plan)
    assert text.index("IP configuration of xenbr0") < text.index("IP configuration of xapi2")
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}}}
    assert reconfigure.plan_up(root, sample(), "v100", snapshot(switch)).restored == []
    assert reconfigure.plan_up(root, sample(), "v200", snapshot({})).restored == []  # bond0


def test_datapath_type_comes_from_the_environment(tmp_path):
    # XSOVS_DATAPATH_TYPE, as a program's start puts it in its root
    root = paths.Root.from_environment(str(tmp_path), {"XSOVS_DATAPATH_TYPE": "netdev"})
    plan = reconfigure.plan_up(root, sample(), "eth0", snapshot({}))
    assert AddBr("xenbr0", None, None, "netdev") in plan.switch.changes
    root = paths.Root.from_environment(str(tmp_path), {"XSOVS_DATAPATH_TYPE": "system; rm"})
    with pytest.raises(InvalidValue, match="XSOVS_DATAPATH_TYPE"):
        reconfigure.plan_up(root, sample(), "eth0", snapshot({}))


def test_ip_values_are_checked_while_planning(root):
    hn = sample()
    hn.pifs["eth0"]["gateway"] = "192.0.2"
    with pytest.raises(InvalidValue, match="gateway of PIF uuid-eth0"):
        reconfigure.plan_up(root, hn, "eth0", snapshot({}))


def test_network_without_bridge_sets_the_nic_mtu_itself(root):
    hn = sample()
    hn.networks["n-xenbr0"]["bridge"] = ""
    plan = reconfigure.plan_up(root, hn, "eth0", snapshot({}))
    assert plan.ip.ip_device == "eth0"
    assert ("link-mtu", "eth0", 1500) in plan.ip.steps


def test_down_plans_ip_device_and_released(root):
    switch = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100}}}
    plan = reconfigure.plan_down(root, sample(), "eth0", snapshot(switch), lambda ref: False)
    assert plan.ip.ip_device == "xenbr0" and plan.ip.action == "down"
    assert [p.ip_device for p in plan.released] == ["xapi2"]
    assert plan.nic_steps == [] and plan.switch.nics_down == ["eth0"]
