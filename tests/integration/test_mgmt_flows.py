"""Management flows on a real switch: read back, compared, replaced -- also on a
bridge a controller limited to an OpenFlow version without bundles."""

import pytest

from tests.support.sample_network import sample
from xsovs_common.net.management import management_path
from xsovs_common.ovs import mgmt_flows


def _vlan_path():
    hn = sample()
    hn.pifs["eth0"]["management"] = False
    hn.pifs["v100"]["management"] = True
    hn.pifs["eth0"]["device"] = hn.pifs["v100"]["device"] = "eth0.7"   # a name ovs-ofctl quotes
    return management_path(hn)


@pytest.fixture
def switch(ovs, fake_root):
    fake_root.link_program("ovs-ofctl")
    ovs.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0.7",
              "--", "add-br", "xapi2", "xenbr0", "100",
              "--", "set", "Bridge", "xenbr0", "fail_mode=secure")
    return fake_root.root


def _ours(ovs):
    dumped = ovs.ofctl("-O", "OpenFlow11,OpenFlow13", "--names", "--no-stats", "dump-flows",
                       "xenbr0")
    return sorted(line.strip() for line in dumped.splitlines()
                  if "cookie=" + mgmt_flows.COOKIE in line)


@pytest.mark.parametrize("protocols", [None, "OpenFlow11"])
def test_installed_flows_read_back_in_place_and_are_replaced(ovs, switch, protocols):
    if protocols:       # as Xen Orchestra's OpenFlow channel leaves a bridge
        ovs.vsctl("set", "Bridge", "xenbr0", "protocols=" + protocols)
    path = _vlan_path()
    assert mgmt_flows.installed(switch, "xenbr0") == []
    mgmt_flows.install(switch, path)
    assert mgmt_flows.in_place(path, mgmt_flows.installed(switch, "xenbr0"))
    assert len(_ours(ovs)) == 4
    # Someone else's flow on the bridge is neither read nor touched.
    ovs.ofctl("-O", "OpenFlow11", "add-flow", "xenbr0", "cookie=0x5,priority=9,actions=drop")
    # Another MAC for the same path: replaced, nothing stale left beside it.
    moved = path._replace(mac="02:00:00:00:00:77")
    assert not mgmt_flows.in_place(moved, mgmt_flows.installed(switch, "xenbr0"))
    mgmt_flows.install(switch, moved)
    assert mgmt_flows.in_place(moved, mgmt_flows.installed(switch, "xenbr0"))
    with_mac = [f for f in _ours(ovs) if "dl_src=" in f or "dl_dst=" in f]
    assert len(_ours(ovs)) == 4 and len(with_mac) == 3
    assert all("02:00:00:00:00:77" in f for f in with_mac)
    assert "cookie=0x5," in ovs.ofctl("-O", "OpenFlow11", "dump-flows", "xenbr0")
