"""Traffic-rule flows: what each rule becomes, cookies, and the bundle that changes a bridge."""

import json

import pytest

from xsovs_common.errors import InvalidValue
from xsovs_common.net import traffic_rules as tr
from xsovs_common.net import traffic_flows as tf

MAC = "02:00:00:00:00:01"


def rules(*items, scope="vif"):
    return tr.in_force(tr.parse_rule_list(json.dumps([json.dumps(i) for i in items]), scope),
                       ())


DENY_SSH = {"allow": False, "protocol": "tcp", "port": 22, "ipRange": "10.0.0.0/8",
            "direction": "from/to"}
ALLOW_ARP = {"allow": True, "protocol": "ARP", "ipRange": "10.0.0.1", "direction": "from/to"}
DENY_ALL_OUT = {"allow": False, "protocol": "ip", "ipRange": "", "direction": "to"}


def test_one_port_both_directions():
    groups = tf.bridge_flows([tf.PortRules(5, MAC, rules(DENY_SSH, ALLOW_ARP, DENY_ALL_OUT))])
    out, into = tf.from_vif_cookie(5), tf.to_vif_cookie(5)
    assert sorted(groups) == [out, tf.SHARED_COOKIE, into]
    # Rules on traffic to the VM: the port is pinned to its VIF's MAC.
    assert groups[out][0] == (
        "cookie=0x7873747200000005,table=0,priority=65502,in_port=5,dl_src=%s,reg14=0/0x1,"
        "actions=load:1->NXM_NX_REG14[0],resubmit(,60)" % MAC)
    assert groups[out][1] == ("cookie=0x7873747200000005,table=0,priority=65501,in_port=5,"
                              "reg14=0/0x1,actions=drop")
    assert groups[out][2] == "cookie=0x7873747200000005,table=60,priority=0,in_port=5," \
                             "actions=resubmit(,0)"
    rule_flows = groups[out][3:]
    assert [f.split("priority=")[1].split(",")[0] for f in rule_flows] == [
        str(tf.RULE_PRIORITY + tr.precedence(r)) for r in rules(DENY_SSH, ALLOW_ARP,
                                                                DENY_ALL_OUT)
        if r.direction == tr.FROM_VIF for _ in range(2 if r.covers_ipv6 else 1)]
    assert any("in_port=5,tcp,nw_dst=10.0.0.0/8,tp_dst=22,actions=drop" in f
               for f in rule_flows)
    assert any("in_port=5,arp,arp_tpa=10.0.0.1/32,actions=resubmit(,0)" in f
               for f in rule_flows)
    assert any(f.endswith("in_port=5,ip,actions=drop") for f in rule_flows)
    assert any(f.endswith("in_port=5,ipv6,actions=drop") for f in rule_flows)
    assert groups[into][0].startswith(
        "cookie=0x7873747280000005,table=0,priority=65500,dl_dst=%s,reg14=0/0x2,"
        "actions=load:1->NXM_NX_REG14[1],resubmit(,61)" % MAC)
    assert any("dl_dst=%s,tcp,nw_src=10.0.0.0/8,tp_src=22,actions=drop" % MAC in f
               for f in groups[into])
    assert any("arp,arp_spa=10.0.0.1/32" in f for f in groups[into])
    assert not any("tcp6" in f for f in groups[into])          # a range: IPv4 only


def test_rules_for_any_address_cover_ipv6_with_a_range_ipv4_only():
    items = [{"allow": False, "protocol": p, "ipRange": "", "direction": "to"}
             for p in ("ip", "icmp", "arp")]
    items += [{"allow": False, "protocol": "tcp", "port": 22, "ipRange": "", "direction": "to"},
              {"allow": True, "protocol": "udp", "port": 53, "ipRange": "", "direction": "to"},
              {"allow": False, "protocol": "udp", "port": 53, "ipRange": "192.0.2.0/24",
               "direction": "to"}]
    groups = tf.bridge_flows([tf.PortRules(5, MAC, rules(*items))])
    matches = [f.split("in_port=5,")[1] for f in groups[tf.from_vif_cookie(5)][2:]]
    assert sorted(matches) == sorted([
        "ip,actions=drop", "ipv6,actions=drop", "icmp,actions=drop", "icmp6,actions=drop",
        "arp,actions=drop", "tcp,tp_dst=22,actions=drop", "tcp6,tp_dst=22,actions=drop",
        "udp,tp_dst=53,actions=resubmit(,0)", "udp6,tp_dst=53,actions=resubmit(,0)",
        "udp,nw_dst=192.0.2.0/24,tp_dst=53,actions=drop"])
    # No to-VM rules: the port is not pinned to a MAC.
    assert "dl_src" not in groups[tf.from_vif_cookie(5)][0]
    assert not any("priority=%d" % tf.FOREIGN_MAC_PRIORITY in f
                   for f in groups[tf.from_vif_cookie(5)])


def test_ipv6_neighbour_discovery_goes_unjudged_above_every_rule():
    groups = tf.bridge_flows([tf.PortRules(5, MAC, rules(DENY_ALL_OUT))])
    shared = groups[tf.SHARED_COOKIE]
    assert len(shared) == 2 * 8
    assert all("actions=resubmit(,0)" in f and "priority=%d" % tf.UNJUDGED_PRIORITY in f
               for f in shared)
    assert tf.UNJUDGED_PRIORITY > tf.RULE_PRIORITY + tr.PRECEDENCE_LEVELS - 1
    assert "cookie=0x7873747240000000,table=60,priority=496,icmp6,icmp_type=135,icmp_code=0," \
        "nw_ttl=255,actions=resubmit(,0)" in shared
    assert any("table=61" in f and "ipv6_dst=ff02::16,icmp_type=143" in f for f in shared)


def test_no_rules_no_flows_and_one_direction_one_group():
    assert tf.bridge_flows([tf.PortRules(3, MAC, [])]) == {}
    groups = tf.bridge_flows([tf.PortRules(3, MAC, rules(DENY_ALL_OUT))])
    assert sorted(groups) == [tf.from_vif_cookie(3), tf.SHARED_COOKIE]
    # Rules on traffic to the VM only: still a from-VM group, pinning the port's MAC.
    into = {"allow": False, "protocol": "icmp", "ipRange": "10.0.0.0/8", "direction": "from"}
    groups = tf.bridge_flows([tf.PortRules(3, MAC, rules(into))])
    assert sorted(groups) == [tf.from_vif_cookie(3), tf.SHARED_COOKIE, tf.to_vif_cookie(3)]
    assert [f.split(",actions=")[1] for f in groups[tf.from_vif_cookie(3)]] == [
        "load:1->NXM_NX_REG14[0],resubmit(,60)", "drop", "resubmit(,0)"]


def test_vif_and_tap_share_the_mac_group():
    both = rules(DENY_SSH)
    groups = tf.bridge_flows([tf.PortRules(9, MAC, both), tf.PortRules(4, MAC, both)])
    assert sorted(groups) == sorted([tf.from_vif_cookie(4), tf.from_vif_cookie(9),
                                     tf.to_vif_cookie(4), tf.SHARED_COOKIE])


def test_cookies_are_ours_and_nobody_elses():
    for cookie in (tf.from_vif_cookie(1), tf.to_vif_cookie(tf.MAX_OFPORT), tf.SHARED_COOKIE):
        assert tf.is_ours(cookie)
    for other in (0, 1, 0x78736f7673, 0xe4e59f746a3ce3db, 0x7873747100000001):
        assert not tf.is_ours(other)


@pytest.mark.parametrize("ofport", [0, -1, tf.MAX_OFPORT + 1, "x", None])
def test_bad_ofport_refused(ofport):
    with pytest.raises(InvalidValue):
        tf.bridge_flows([tf.PortRules(ofport, MAC, rules(DENY_SSH))])


def test_bundle_lines_change_only_what_changed():
    old = tf.bridge_flows([tf.PortRules(5, MAC, rules(DENY_SSH)),
                           tf.PortRules(6, "02:00:00:00:00:02", rules(DENY_ALL_OUT))])
    new = tf.bridge_flows([tf.PortRules(5, MAC, rules(DENY_SSH, ALLOW_ARP)),
                           tf.PortRules(7, "02:00:00:00:00:03", rules(DENY_ALL_OUT))])
    lines = tf.bundle_lines(old, new)
    deletes = [line for line in lines if line.startswith("delete")]
    assert deletes == ["delete cookie=0x7873747200000005/-1",
                       "delete cookie=0x7873747200000006/-1",
                       "delete cookie=0x7873747280000005/-1"]
    added = {line.split(",")[0][len("add cookie="):] for line in lines if line.startswith("add")}
    assert added == {"0x7873747200000005", "0x7873747280000005", "0x7873747200000007"}
    assert tf.bundle_lines(new, new) == []


def test_reset_deletes_all_of_ours_first_unless_some_are_kept():
    desired = tf.bridge_flows([tf.PortRules(5, MAC, rules(DENY_SSH))])
    lines = tf.bundle_lines(desired, desired, reset=True)
    assert lines[0] == "delete cookie=0x7873747200000000/0xffffffff00000000"
    assert len(lines) == 1 + sum(len(f) for f in desired.values())
    kept = tf.from_vif_cookie(8)
    installed = {kept: tf.UNKNOWN, tf.from_vif_cookie(9): tf.UNKNOWN}
    lines = tf.bundle_lines(installed, desired, keep={kept}, reset=True)
    assert "delete cookie=0x7873747200000009/-1" in lines
    assert not any(tf.cookie_text(kept) in line for line in lines)
    assert not any(line.startswith("delete cookie=0x7873747200000000/") for line in lines)


def test_cookies_in_dump():
    dump = [" cookie=0x7873747200000005, duration=1s, table=0, priority=65501 actions=drop",
            " cookie=0x1, table=0, priority=4000,in_port=5 actions=drop",
            " cookie=0x7873747280000002, table=61, priority=0 actions=resubmit(,0)",
            "priority=0 actions=NORMAL"]
    assert tf.cookies_in_dump(dump) == {tf.from_vif_cookie(5), tf.to_vif_cookie(2)}
