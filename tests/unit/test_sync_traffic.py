"""ovs-xapi-sync's traffic rules without any daemon: lists held and overlaid, flows planned."""

import json
import os

import pytest

from xsovs_common.errors import Error, InvalidValue
from xsovs_common.net import traffic_rules as tr
from xsovs_common.net import traffic_flows as tf
from xsovs_common.sync import traffic, traffic_commands, traffic_lists
from xsovs_common.sync.cache import XapiCache
from xsovs_common.sync.traffic_lists import HELD, RuleLists
from xsovs_dev.fakeroot import FakeRoot

NET = "9b66c68b-a74e-4d34-89a5-20a8ab352d1e"
VLAN_NET = "0b66c68b-a74e-4d34-89a5-20a8ab352d1f"
VIF = "6ab1b260-398e-49ba-827b-c7696108964c"
MAC = "02:00:00:00:00:01"
DENY_SSH = {"allow": False, "protocol": "TCP", "port": 22, "ipRange": "10.0.0.0/8",
            "direction": "to"}
DENY_PING = {"allow": False, "protocol": "ICMP", "ipRange": "", "direction": "from"}


def stored(*items):
    return json.dumps([json.dumps(i) for i in items])


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


# -- RuleLists ------------------------------------------------------------------------

def test_a_bad_list_keeps_the_last_good_one_and_says_why():
    clock = Clock()
    lists = RuleLists(clock)
    good = lists.from_xapi("vif", VIF, stored(DENY_SSH), tr.FORMAT_PLUGIN)
    assert len(good) == 1
    assert lists.from_xapi("vif", VIF, "[broken", tr.FORMAT_PLUGIN) == good
    assert "not JSON" in lists.errors[("vif", VIF)]
    assert lists.from_xapi("vif", VIF, None, tr.FORMAT_PLUGIN) == good    # gone: not yet
    clock.now += traffic_lists.ABSENT_GRACE
    assert lists.expire()
    assert lists.from_xapi("vif", VIF, None, tr.FORMAT_PLUGIN) == ()
    assert ("vif", VIF) not in lists.errors


def test_an_edit_as_xo_writes_it_never_passes_through_no_rules():
    """Xen Orchestra removes the key, then adds it again: the old rules hold in between."""
    clock = Clock()
    lists = RuleLists(clock)
    old = lists.from_xapi("vif", VIF, stored(DENY_SSH), tr.FORMAT_PLUGIN)
    assert lists.from_xapi("vif", VIF, None, tr.FORMAT_PLUGIN) == old
    assert lists.next_deadline() == clock.now + traffic_lists.ABSENT_GRACE
    clock.now += 0.1
    new = lists.from_xapi("vif", VIF, stored(DENY_PING), tr.FORMAT_PLUGIN)
    assert new != old and lists.next_deadline() is None


def test_a_bad_list_never_seen_good_is_held():
    lists = RuleLists()
    assert lists.from_xapi("vif", VIF, '["nope"]', tr.FORMAT_PLUGIN) == HELD
    assert lists.in_force("vif", VIF, HELD) == HELD


def test_a_bad_pool_format_refuses_vif_lists():
    lists = RuleLists()
    bad = InvalidValue("bad format")
    assert lists.from_xapi("vif", VIF, stored(DENY_SSH), bad) == HELD
    assert lists.errors[("vif", VIF)] == "bad format"


def test_plugin_calls_overlay_until_xapi_shows_them():
    clock = Clock()
    lists = RuleLists(clock)
    ssh = tr.parse_rule_list(stored(DENY_SSH), "vif")
    lists.call("vif", VIF, "add-rule", ssh, None)
    assert lists.in_force("vif", VIF, ()) == ssh
    assert lists.pending
    assert lists.in_force("vif", VIF, ssh) == ssh      # XAPI shows it: the call is done
    assert not lists.pending
    lists.call("vif", VIF, "del-rule", ssh, None)
    assert lists.in_force("vif", VIF, ssh) == ()
    clock.now += traffic_lists.PENDING_SECONDS
    version = lists.version
    assert lists.expire() and lists.version > version
    assert lists.in_force("vif", VIF, ssh) == ssh      # expired: XAPI's list again
    assert not lists.pending


def test_network_calls_replace_same_match_and_delete_by_cookie():
    lists = RuleLists()
    deny = tr.parse_rule_list(stored(dict(DENY_SSH, cookie="0x5")), "network")
    allow = tr.parse_rule_list(stored(dict(DENY_SSH, allow=True, cookie="0x6")), "network")
    lists.call("network", NET, "add-rule", allow, "0x6")
    assert lists.in_force("network", NET, deny) == allow
    lists.pending[:] = []
    lists.call("network", NET, "del-rule", allow, "0x5")
    assert lists.in_force("network", NET, deny + allow) == allow


# -- TrafficRules with a fake switch ----------------------------------------------------

def add(cls, ref, snapshot):
    return {"class": cls, "operation": "add", "ref": ref, "snapshot": snapshot}


def make_cache(vif_rules=None, net_rules=None, pool_oc=None):
    cache = XapiCache()
    vif_oc = {tr.RULES_KEY: vif_rules} if vif_rules is not None else {}
    net_oc = {tr.RULES_KEY: net_rules} if net_rules is not None else {}
    cache.apply([
        add("pool", "OpaqueRef:p", {"uuid": "p", "other_config": dict(
            pool_oc or {tr.OF_FORMAT_KEY: tr.FORMAT_PLUGIN})}),
        add("network", "OpaqueRef:n", {"uuid": NET, "bridge": "xenbr0",
                                       "other_config": net_oc}),
        add("network", "OpaqueRef:v", {"uuid": VLAN_NET, "bridge": "xapi2",
                                       "other_config": {}}),
        add("vif", "OpaqueRef:vif", {"uuid": VIF, "MAC": MAC.upper(),
                                     "network": "OpaqueRef:n", "other_config": vif_oc}),
    ], reset=True)
    return cache


def switch(ofport=5, bridge_uuid="br0", fail_mode=None, extra_ports=()):
    ifaces = {"i-eth0": traffic.Iface("i-eth0", "eth0", 1, {}),
              "i-vif": traffic.Iface("i-vif", "vif3.0", ofport, {"xs-vif-uuid": VIF})}
    ports = {"p-eth0": traffic.Port("p-eth0", "eth0", False, ["i-eth0"]),
             "p-vif": traffic.Port("p-vif", "vif3.0", False, ["i-vif"]),
             "p-xapi2": traffic.Port("p-xapi2", "xapi2", True, [])}
    for name, ofp, ids in extra_ports:
        ifaces["i-" + name] = traffic.Iface("i-" + name, name, ofp, ids)
        ports["p-" + name] = traffic.Port("p-" + name, name, False, ["i-" + name])
    bridge = traffic.Bridge(bridge_uuid, "xenbr0", fail_mode, sorted(ports))
    return traffic.Switch([bridge], ports, ifaces)


class Recorder:
    def __init__(self, fail=False, dump=()):
        self.bundles = []
        self.dumps = []
        self.fail = fail
        self.dump_lines = list(dump)

    def bundle(self, root, bridge, lines, timeout=10):
        if self.fail:
            raise Error("ovs-ofctl: xenbr0 is not a bridge or a socket")
        self.bundles.append((bridge, list(lines)))

    def dump(self, root, bridge, match=None):
        self.dumps.append((bridge, match))
        return self.dump_lines


@pytest.fixture
def rig(tmp_path):
    root = FakeRoot(str(tmp_path / "root")).root
    recorder = Recorder()
    clock = Clock()
    rules = traffic.TrafficRules(root, clock=clock, bundle=recorder.bundle, dump=recorder.dump)
    return rules, recorder, clock, root


def test_first_sync_resets_the_bridge_then_only_changes(rig):
    rules, recorder, clock, _ = rig
    cache = make_cache(stored(DENY_SSH, DENY_PING))
    assert rules.sync(cache, switch()) == {}
    bridge, lines = recorder.bundles[-1]
    assert bridge == "xenbr0"
    assert lines[0] == "delete cookie=" + tf.ALL_COOKIES
    assert any("in_port=5,tcp,nw_dst=10.0.0.0/8,tp_dst=22,actions=drop" in x for x in lines)
    assert any("dl_dst=%s,icmp,actions=drop" % MAC in x for x in lines)
    count = len(recorder.bundles)
    rules.sync(cache, switch())
    assert len(recorder.bundles) == count              # nothing changed, nothing sent
    rules.sync(make_cache(stored(DENY_SSH)), switch())
    # The to-VM rules gone: their group goes, and the port's own group is no longer
    # pinned to the VIF's MAC; the shared group stays as it is.
    lines = recorder.bundles[-1][1]
    assert lines[:2] == ["delete cookie=0x7873747200000005/-1",
                         "delete cookie=0x7873747280000005/-1"]
    assert all(x.startswith("add cookie=0x7873747200000005,") for x in lines[2:])
    assert not any("dl_src" in x or "actions=drop" in x and "reg14" in x for x in lines)
    rules.sync(make_cache(stored(DENY_PING)), switch())
    assert any(",in_port=5,dl_src=%s,reg14=0/0x1," % MAC in x
               for x in recorder.bundles[-1][1])


def test_the_port_moving_moves_the_flows(rig):
    rules, recorder, _, _ = rig
    cache = make_cache(stored(DENY_SSH))
    rules.sync(cache, switch(ofport=5))
    rules.sync(cache, switch(ofport=8))
    lines = recorder.bundles[-1][1]
    assert lines[0] == "delete cookie=0x7873747200000005/-1"
    assert all("in_port=8" in x for x in lines[1:])


def test_new_bridge_row_or_fail_mode_resets(rig):
    rules, recorder, _, _ = rig
    cache = make_cache(stored(DENY_SSH))
    rules.sync(cache, switch())
    rules.sync(cache, switch(bridge_uuid="br0-rebuilt"))
    assert recorder.bundles[-1][1][0] == "delete cookie=" + tf.ALL_COOKIES
    rules.sync(cache, switch(bridge_uuid="br0-rebuilt", fail_mode="secure"))
    assert recorder.bundles[-1][1][0] == "delete cookie=" + tf.ALL_COOKIES
    count = len(recorder.bundles)
    rules.sync(cache, switch(bridge_uuid="br0-rebuilt", fail_mode="secure"))
    assert len(recorder.bundles) == count


class Idl:
    change_seqno = 1

    def __init__(self, sw):
        self.sw = sw

    def has_ever_connected(self):
        return True


def test_vswitchd_pid_change_resets_every_bridge(tmp_path):
    root = FakeRoot(str(tmp_path / "root")).root
    recorder, clock = Recorder(), Clock()
    rules = traffic.TrafficRules(root, clock=clock, bundle=recorder.bundle, dump=recorder.dump,
                                 read_switch=lambda idl: idl.sw)
    cache, idl = make_cache(stored(DENY_SSH)), Idl(switch())
    rules.run(cache, idl)
    count = len(recorder.bundles)
    rules.run(cache, idl)
    assert len(recorder.bundles) == count              # nothing new: nothing done
    os.makedirs(root.ovs_rundir(), exist_ok=True)
    with open(os.path.join(root.ovs_rundir(), "ovs-vswitchd.pid"), "w") as handle:
        handle.write("4242\n")
    clock.now += traffic.PID_CHECK_SECONDS
    rules.run(cache, idl)
    assert recorder.bundles[-1][1][0] == "delete cookie=" + tf.ALL_COOKIES
    assert rules.pid == 4242


def test_failure_retries_with_backoff(rig, tmp_path):
    rules, recorder, clock, _ = rig
    recorder.fail = True
    cache = make_cache(stored(DENY_SSH))
    failures = rules.sync(cache, switch())
    assert "not a bridge" in failures["xenbr0"]
    state = next(iter(rules.bridges.values()))
    assert state.retry.at == clock.now + traffic.FIRST_RETRY_DELAY
    assert rules.sync(cache, switch()) == {}           # not yet due
    recorder.fail = False
    clock.now += traffic.FIRST_RETRY_DELAY
    assert rules.sync(cache, switch()) == {}
    assert recorder.bundles[-1][1][0] == "delete cookie=" + tf.ALL_COOKIES
    assert traffic_commands.report(rules)["bridges"]["xenbr0"]["error"] is None


def test_malformed_list_refused_flows_stay(rig):
    rules, recorder, _, _ = rig
    rules.sync(make_cache(stored(DENY_SSH)), switch())
    count = len(recorder.bundles)
    rules.sync(make_cache('[{"allow": "sure"}]'), switch())
    assert len(recorder.bundles) == count              # nothing weakened
    report = traffic_commands.report(rules)
    port = next(p for p in report["ports"] if p["port"] == "vif3.0")
    assert "refused" in port and "vif" in port["refused"]
    assert port["rules"][0]["from"].endswith("(the current one is refused)")


def test_held_at_start_keeps_the_ports_flows(rig, tmp_path):
    root = rig[3]
    recorder = Recorder(dump=[" cookie=0x7873747200000005, table=0, priority=65501 actions=x",
                              " cookie=0x7873747200000063, table=0, priority=65501 actions=x"])
    rules = traffic.TrafficRules(root, bundle=recorder.bundle, dump=recorder.dump)
    rules.sync(make_cache("not json"), switch())
    assert recorder.dumps == [("xenbr0", "cookie=" + tf.ALL_COOKIES)]
    assert recorder.bundles[-1][1] == ["delete cookie=0x7873747200000063/-1"]
    report = traffic_commands.report(rules)
    assert next(p for p in report["ports"] if p["port"] == "vif3.0")["state"].startswith("held")


def test_network_rules_reach_every_vif_and_vlan_ports(rig):
    rules, recorder, _, _ = rig
    other = ("vif4.0", 6, {"xs-vif-uuid": "unknown-vif"})
    cache = make_cache(net_rules=stored(dict(DENY_SSH, cookie="0x1234")))
    rules.sync(cache, switch(extra_ports=[other]))
    lines = recorder.bundles[-1][1]
    assert any("in_port=5,tcp" in x for x in lines)
    assert not any("in_port=6" in x for x in lines)    # no VIF in XAPI: not ours to rule
    report = traffic_commands.report(rules)
    rule = next(p for p in report["ports"] if p["port"] == "vif3.0")["rules"][0]
    assert rule["from"] == "network %s" % NET and rule["cookie"] == "0x1234"


def test_a_port_not_on_its_networks_bridge_is_left_alone(rig):
    rules, recorder, _, _ = rig
    cache = make_cache(stored(DENY_SSH))
    sw = switch()
    sw = traffic.Switch([sw.bridges[0]._replace(name="br-int")], sw.ports, sw.interfaces)
    rules.sync(cache, sw)
    assert all(len(lines) == 1 for _, lines in recorder.bundles)   # only the reset delete
    ports = traffic_commands.report(rules)["ports"]
    assert next(p for p in ports if p["port"] == "vif3.0")["state"] == "not enforced"
