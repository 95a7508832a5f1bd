"""Management flows for physical, bonded and VLAN management interfaces."""

import pytest

from tests.support.sample_network import sample
from xsovs_common.net.management import ManagementFlows, management_path
from xsovs_common.ovs import mgmt_flows


def test_physical():
    path = management_path(sample())
    flows = mgmt_flows.flows(path)
    head = "cookie=0x78736f7673,idle_timeout=0,priority=0,"   # a fallback: anything wins
    assert flows == [
        head + "in_port=eth0,arp,arp_op=1,actions=LOCAL",          # ARP requests only
        head + "in_port=eth0,dl_dst=02:00:00:00:00:01,actions=LOCAL",
        head + "in_port=LOCAL,dl_src=02:00:00:00:00:01,arp,actions=output:eth0",
        head + "in_port=LOCAL,dl_src=02:00:00:00:00:01,actions=output:eth0"]


def test_bond_gets_one_arp_flow_per_slave():
    hn = sample()
    hn.pifs["eth0"]["management"] = False
    hn.pifs["bond0"]["management"] = True
    flows = mgmt_flows.flows(management_path(hn))
    assert sum("arp,arp_op=1,actions=LOCAL" in f for f in flows) == 2
    assert flows[-1].endswith("actions=NORMAL")


def test_vlan_management():
    hn = sample()
    hn.pifs["eth0"]["management"] = False
    hn.pifs["v100"]["management"] = True
    flows = mgmt_flows.flows(management_path(hn))
    assert "in_port=eth0,dl_vlan=100,arp,arp_op=1,actions=strip_vlan,output:xapi2" in flows[0]
    assert flows[-1].endswith("in_port=xapi2,dl_src=02:00:00:00:00:01,"
                              "actions=mod_vlan_vid:100,output:eth0")


def test_flows_around_a_transaction(monkeypatch):
    """Before and/or after the transaction as planned; none without a plan or on failure."""
    path = management_path(sample())
    calls = []
    monkeypatch.setattr(mgmt_flows, "install", lambda root, p: calls.append(("install", p)))
    for before, after, expected in ((True, False, ["install", "commit"]),
                                    (False, True, ["commit", "install"]),
                                    (True, True, ["install", "commit", "install"])):
        del calls[:]
        with mgmt_flows.around_transaction("/", ManagementFlows(path, before, after)):
            calls.append(("commit", None))
        assert [kind for kind, _ in calls] == expected
        assert all(p == path for kind, p in calls if kind == "install")
    del calls[:]
    with mgmt_flows.around_transaction("/", None):
        calls.append(("commit", None))
    assert calls == [("commit", None)]
    del calls[:]
    with pytest.raises(RuntimeError):
        with mgmt_flows.around_transaction("/", ManagementFlows(path, False, True)):
            raise RuntimeError("transaction refused")
    assert calls == []


def test_flows_in_place_compared_with_what_ovs_ofctl_dumps():
    hn = sample()
    hn.pifs["eth0"]["management"] = False
    hn.pifs["v100"]["management"] = True
    hn.pifs["eth0"]["device"] = hn.pifs["v100"]["device"] = "eth0.7"
    path = management_path(hn)
    # ovs-ofctl --names dump-flows: its own field order, names with a dot quoted.
    dumped = [
        ' cookie=0x78736f7673, priority=0,arp,in_port="eth0.7",dl_vlan=100,arp_op=1'
        ' actions=strip_vlan,output:xapi2',
        ' cookie=0x78736f7673, priority=0,in_port="eth0.7",dl_vlan=100,'
        'dl_dst=02:00:00:00:00:01 actions=strip_vlan,output:xapi2',
        ' cookie=0x78736f7673, priority=0,arp,in_port=xapi2,dl_src=02:00:00:00:00:01'
        ' actions=mod_vlan_vid:100,output:"eth0.7"',
        ' cookie=0x78736f7673, priority=0,in_port=xapi2,dl_src=02:00:00:00:00:01'
        ' actions=mod_vlan_vid:100,output:"eth0.7"',
    ]
    assert mgmt_flows.in_place(path, dumped)
    assert mgmt_flows.in_place(path, list(reversed(dumped)))
    assert not mgmt_flows.in_place(path, None)                      # could not be read
    assert not mgmt_flows.in_place(path, dumped[1:])                # one missing
    assert not mgmt_flows.in_place(path, dumped + dumped[:1])       # one more
    assert not mgmt_flows.in_place(path, [dumped[0].replace("dl_vlan=100", "dl_vlan=101")]
                                   + dumped[1:])
    assert not mgmt_flows.in_place(path, [dumped[0].replace("output:xapi2", "LOCAL")]
                                   + dumped[1:])
    # The same flows dumped in OpenFlow 1.1 and 1.3 words (a bridge limited to them).
    for push in ("push_vlan:0x8100,set_vlan_vid:100", "push_vlan:0x8100,set_field:4196->vlan_vid"):
        later = [f.replace(" priority", " reset_counts priority").replace("strip_vlan", "pop_vlan")
                 .replace("mod_vlan_vid:100", push) for f in dumped]
        assert mgmt_flows.in_place(path, later)
        assert not mgmt_flows.in_place(path, [f.replace("4196", "4197").replace(":100,", ":101,")
                                              for f in later])
