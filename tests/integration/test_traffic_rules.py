"""Traffic rules enforced by ovs-xapi-sync: real ovsdb-server and ovs-vswitchd, the simulator.

The daemon (dom0's Python 3.6) follows XAPI's VIF and network records and
the ports xenopsd plugs; the flows are read back with ovs-ofctl.  Xen
Orchestra's own calls go through the simulator's ``host.call_plugin`` with
exactly the arguments its ``openflow-plugin.js`` sends.
"""

import json
import os
import time

import pytest
import XenAPI

from tests.support import traffic_host as th
from tests.support.traffic_host import rule, stored
from xsovs_common.net import sdncontroller_args as calls
from xsovs_common.net import traffic_rules as tr
from xsovs_common.net import traffic_flows as tf
from xsovs_dev import ovs as ovsmod
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.skips import need, python36
from xsovs_dev.xapi_sync_run import SyncDaemon, make_root, wait_for
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

DENY_SSH = rule(False, "TCP", 22, "10.0.0.0/8", "to")
DENY_PING_IN = rule(False, "ICMP", None, "192.0.2.0/24", "from")
NETWORKS = {1: "xenbr0", 2: "xapi2", 3: "xapi1", 4: "xapi7"}     # NIC, VLAN, bond, private
EDIT_BOUND = 3.0          # seconds, for each rule edit (see the test)


def builder():
    b = PoolBuilder(other_config={tr.OF_FORMAT_KEY: tr.FORMAT_PLUGIN})
    b.host("host1", address="192.0.2.10")
    b.physical_pif("eth0", "xenbr0", management=True, ip="192.0.2.10/24")
    b.vlan("eth0", 100, "xapi2")
    b.physical_pif("eth1", "xenbr1")
    b.physical_pif("eth2", "xenbr2")
    b.physical_pif("eth3", "xenbr3")
    b.bond("bond0", ["eth2", "eth3"], "xapi1")
    b.tunnel("eth1", "xapi7")
    return b


class Rig:
    """host1: its bridges, XAPI with VMs, the daemon; ``x`` is a XAPI session (as XO's)."""

    def __init__(self, workdir, vifs):
        self.workdir = workdir
        self.bridges = {n: bridge for n, bridge, _ in vifs}
        self.ovs = ovsmod.OvsInstance(os.path.join(workdir, "ovs"), vswitchd="dummy").start()
        self.builder = builder()
        self.sim = Simulator(th.add_vms(self.builder.build(), self.builder, vifs))
        self.sim.start()
        self.host_uuid = self.builder.host_uuid("host1")
        self.ovs.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
                       "--", "add-br", "xapi2", "xenbr0", "100",
                       "--", "add-br", "xenbr1", "--", "add-port", "xenbr1", "eth1",
                       "--", "add-br", "xapi1", "--", "add-bond", "xapi1", "bond0", "eth2", "eth3",
                       "--", "add-br", "xapi7")
        self.fake = FakeRoot(os.path.join(workdir, "root"), host_uuid=self.host_uuid)
        for program in ("ovs-ofctl", "ovs-appctl"):
            self.fake.link_program(program)
        self.fake.stub_program("iptables")
        make_root(self.fake.path)
        self.sim.host_env[self.host_uuid] = {"XSOVS_ROOT": self.fake.path,
                                             "OVS_RUNDIR": self.ovs.rundir}
        self.session = client.session(self.sim.url)
        self.session.xenapi.login_with_password("root", "")
        self.x = self.session.xenapi
        self.host_ref = self.x.host.get_by_uuid(self.host_uuid)
        self.daemon = SyncDaemon(workdir, self.fake.path, self.ovs, self.sim.url,
                                 python=python36()).start()

    def stop(self):
        """Stop everything started (also after a failed start); the daemon's exit status."""
        status = self.daemon.stop() if getattr(self, "daemon", None) else 0
        if getattr(self, "x", None):
            try:
                self.x.session.logout()
            except Exception:
                pass
        if getattr(self, "sim", None):
            self.sim.stop()
        if getattr(self, "ovs", None):
            self.ovs.stop()
        return status

    # -- acting as xenopsd and as Xen Orchestra -------------------------------------
    def network_uuid(self, bridge):
        return self.x.network.get_uuid(self.builder.network_ref(bridge))

    def plug(self, n, dev=None):
        dev = dev or "vif%d.0" % n
        bridge = self.bridges[n]
        self.ovs.vsctl(*th.plug_argv(bridge, dev, n, self.network_uuid(bridge)))
        return dev

    def unplug(self, dev):
        self.ovs.vsctl(*th.unplug_argv(dev))

    def ofport(self, dev):
        return int(self.ovs.get("Interface", dev, "ofport"))

    def vif_ref(self, n):
        return self.x.VIF.get_by_uuid(th.vif_uuid(n))

    def set_vif_rules(self, n, value):
        """As Xen Orchestra's ``update_other_config``: remove the key, then add it (None: gone)."""
        ref = self.vif_ref(n)
        self.x.VIF.remove_from_other_config(ref, tr.RULES_KEY)
        if value is not None:
            self.x.VIF.add_to_other_config(ref, tr.RULES_KEY, value)

    def set_network_rules(self, bridge, value):
        ref = self.builder.network_ref(bridge)
        self.x.network.remove_from_other_config(ref, tr.RULES_KEY)
        if value is not None:
            self.x.network.add_to_other_config(ref, tr.RULES_KEY, value)

    def call(self, fn, args, plugin=th.XO_PLUGIN):
        return self.x.host.call_plugin(self.host_ref, plugin, fn, args)

    def failure(self, fn, args, plugin=th.XO_PLUGIN):
        with pytest.raises(XenAPI.Failure) as info:
            self.call(fn, args, plugin)
        return info.value.details

    # -- reading back ---------------------------------------------------------------
    def ofctl(self, *args):
        """ovs-ofctl COMMAND BRIDGE ...: the bridge named by its socket in the test's rundir."""
        argv = list(args)
        at = next(i for i, a in enumerate(argv) if not a.startswith("-")) + 1
        argv[at] = "unix:%s/%s.mgmt" % (self.ovs.rundir, argv[at])
        return self.ovs.ofctl(*argv)

    def flows(self, bridge):
        return th.our_flows(self.ofctl, bridge)

    def flows_of(self, bridge, dev):
        port = "in_port=%d" % self.ofport(dev)
        return [f for f in self.flows(bridge) if port in f[2]]

    def until(self, check, timeout=30.0):
        value = wait_for(check, timeout=timeout)
        assert value, "not reached within %s s; daemon log:\n%s" % (timeout, self.daemon.log())
        return value

    def traffic_status(self):
        return json.loads(self.call("status", {}, plugin="openvswitch-cfg-update"))[
            "traffic_rules"]


@pytest.fixture
def rig(tmp_path):
    need(ovsmod.available())
    python36()
    made = []

    def make(vifs):
        made.append(Rig.__new__(Rig))
        Rig.__init__(made[-1], str(tmp_path), vifs)
        return made[-1]
    yield make
    for r in made:
        assert r.stop() == 0


def has(flows, table, *parts, actions=None):
    return any(f[0] == table and all(p in f[2] for p in parts)
               and (actions is None or f[3] == actions) for f in flows)


def test_rules_follow_each_vif_onto_its_own_port_on_every_kind_of_network(rig):
    r = rig([(n, bridge, stored(DENY_SSH, DENY_PING_IN)) for n, bridge in NETWORKS.items()])
    for n in NETWORKS:
        r.plug(n)
    where = {1: "xenbr0", 2: "xenbr0", 3: "xapi1", 4: "xapi7"}   # the VLAN's: on its parent
    for n, bridge in where.items():
        dev = "vif%d.0" % n
        r.until(lambda b=bridge, d=dev: r.flows_of(b, d))
        flows = r.flows(bridge)
        port = "in_port=%d" % r.ofport(dev)
        assert has(flows, 0, port, "reg14=0/0x1", actions="load:0x1->NXM_NX_REG14[0],"
                                                          "resubmit(,60)")
        assert has(flows, tf.TABLE_FROM_VIF, "tcp", port, "nw_dst=10.0.0.0/8", "tp_dst=22",
                   actions="drop")
        assert has(flows, 0, "dl_dst=" + th.mac(n), actions="load:0x1->NXM_NX_REG14[1],"
                                                          "resubmit(,61)")
        assert has(flows, tf.TABLE_TO_VIF, "icmp", "dl_dst=" + th.mac(n), "nw_src=192.0.2.0/24",
                   actions="drop")
    assert r.flows("xenbr1") == []                      # no VIF there
    status = r.traffic_status()
    ports = {p["port"]: p for p in status["ports"]}
    assert ports["vif2.0"]["bridge"] == "xenbr0" and ports["vif2.0"]["state"] == "enforced"
    assert {x["from"] for x in ports["vif3.0"]["rules"]} == {"vif %s" % th.vif_uuid(3)}


def test_a_rule_edit_in_xapi_reaches_the_flows_within_a_second(rig):
    r = rig([(1, "xenbr0", stored(DENY_SSH))])
    r.plug(1)
    r.until(lambda: r.flows_of("xenbr0", "vif1.0"))
    took = []
    for value, wanted in ((stored(DENY_SSH, rule(False, "UDP", 53, "", "to")), "udp"),
                          (stored(rule(True, "ARP", None, "10.0.0.1", "to")), "arp"),
                          (stored(DENY_PING_IN), "icmp"),
                          (None, None)):
        started = time.monotonic()
        r.set_vif_rules(1, value)          # as Xen Orchestra writes it: remove, then add
        if wanted:
            r.until(lambda w=wanted: has(r.flows("xenbr0"), tf.TABLE_FROM_VIF, w) or
                    has(r.flows("xenbr0"), tf.TABLE_TO_VIF, w), timeout=10)
        else:
            r.until(lambda: r.flows("xenbr0") == [], timeout=10)
        took.append(time.monotonic() - started)
    # Each edit on its own: within EDIT_BOUND, generous next to the second asked for,
    # because the suite shares its machine with other work and one stalled moment is
    # load, not the daemon; the median is held to the second itself.  (make bench
    # BENCH=traffic_rules measures it at scale: median, 90th percentile, maximum.)
    assert max(took) < EDIT_BOUND, "an XAPI edit took %.2f s to reach the flows: %s" % (
        max(took), took)
    assert sorted(took)[len(took) // 2] < 1.0, "XAPI edit to flows took %s s" % took


def test_network_rules_bind_to_every_vif_of_the_network(rig):
    r = rig([(1, "xenbr0", None), (5, "xenbr0", stored(DENY_SSH))])
    r.plug(1)
    r.plug(5)
    r.until(lambda: r.flows_of("xenbr0", "vif5.0"))
    assert r.flows_of("xenbr0", "vif1.0") == []
    r.set_network_rules("xenbr0", stored(rule(False, "UDP", 53, "", "to", cookie="0x77")))
    r.until(lambda: has(r.flows_of("xenbr0", "vif1.0"), tf.TABLE_FROM_VIF, "udp", "tp_dst=53"))
    assert has(r.flows_of("xenbr0", "vif5.0"), tf.TABLE_FROM_VIF, "udp", "tp_dst=53")
    ports = {p["port"]: p for p in r.traffic_status()["ports"]}
    froms = {x["from"] for x in ports["vif5.0"]["rules"]}
    assert froms == {"vif %s" % th.vif_uuid(5), "network %s" % r.network_uuid("xenbr0")}


def test_rules_follow_the_port_away_and_back_under_a_new_domain(rig):
    r = rig([(1, "xenbr0", stored(DENY_SSH))])
    r.plug(1)
    r.until(lambda: r.flows_of("xenbr0", "vif1.0"))
    r.unplug("vif1.0")
    r.until(lambda: r.flows("xenbr0") == [])
    r.plug(1, "vif7.0")                                 # migrated back: another domain id
    r.until(lambda: r.flows_of("xenbr0", "vif7.0"))
    assert has(r.flows("xenbr0"), tf.TABLE_FROM_VIF, "nw_dst=10.0.0.0/8", actions="drop")
    assert not [c for c in r.sim.plugin_calls if c.plugin == th.XO_PLUGIN]


def test_rules_come_back_after_vswitchd_restarts_and_bridge_rebuilds(rig):
    r = rig([(1, "xenbr0", stored(DENY_SSH)), (4, "xapi7", stored(DENY_SSH))])
    r.plug(1)
    r.plug(4)
    r.until(lambda: r.flows_of("xenbr0", "vif1.0") and r.flows_of("xapi7", "vif4.0"))
    before = r.flows("xenbr0")
    r.ovs.stop_vswitchd()
    r.ovs.start_vswitchd()
    r.until(lambda: r.flows("xenbr0") == before)
    # xapi7 rebuilt (xcp-networkd's del-br/add-br), the VIF plugged again.
    r.ovs.vsctl("del-br", "xapi7")
    r.ovs.vsctl("add-br", "xapi7")
    r.plug(4)
    r.until(lambda: r.flows_of("xapi7", "vif4.0"))
    # XAPI asks for another fail mode: the daemon sets it, ovs-vswitchd flushes the
    # bridge's flows (it has no controller), the rules go back in.
    r.x.network.add_to_other_config(r.builder.network_ref("xapi7"),
                                    "vswitch-controller-fail-mode", "secure")
    r.until(lambda: r.ovs.get("Bridge", "xapi7", "fail_mode") == "secure")
    r.until(lambda: r.flows_of("xapi7", "vif4.0"))


def test_flows_of_other_owners_survive(rig):
    r = rig([(1, "xenbr0", stored(DENY_SSH))])
    r.plug(1)
    r.until(lambda: r.flows_of("xenbr0", "vif1.0"))
    port = r.ofport("vif1.0")
    others = [
        "cookie=0x1,priority=4000,in_port=%d,actions=drop" % port,           # XAPI's locking
        "cookie=0x1,priority=6000,in_port=%d,dl_src=%s,ip,nw_src=10.1.1.1,actions=normal"
        % (port, th.mac(1)),
        "cookie=0xe4e59f746a3ce3db,priority=50000,tcp,dl_src=%s,nw_dst=10.0.0.0/8,tp_dst=22,"
        "actions=normal" % th.mac(1),                                        # XO's plugin
        "cookie=0x0,tcp,dl_dst=%s,nw_src=1.1.1.1,tp_src=80,actions=drop" % th.mac(1),  # XO's
        "cookie=0x78736f7673,priority=0,in_port=1,arp,actions=LOCAL",        # management
    ]
    for flow in others:
        r.ofctl("add-flow", "xenbr0", flow)
    theirs = [f for f in th.all_flows(r.ofctl, "xenbr0") if not tf.is_ours(int(f[0], 16))]
    r.set_vif_rules(1, stored(rule(False, "UDP", 53, "", "to")))
    r.until(lambda: has(r.flows("xenbr0"), tf.TABLE_FROM_VIF, "udp"))
    r.unplug("vif1.0")
    r.until(lambda: r.flows("xenbr0") == [])
    r.plug(1)
    r.until(lambda: r.flows("xenbr0"))
    r.daemon.appctl("traffic-rules/resync")
    r.until(lambda: r.flows("xenbr0"))
    assert [f for f in th.all_flows(r.ofctl, "xenbr0") if not tf.is_ours(int(f[0], 16))] \
        == theirs


def test_a_malformed_list_is_refused_and_the_rules_in_force_stay(rig):
    r = rig([(1, "xenbr0", stored(DENY_SSH))])
    r.plug(1)
    r.until(lambda: r.flows_of("xenbr0", "vif1.0"))
    before = r.flows("xenbr0")
    r.set_vif_rules(1, stored(rule(False, "TCP", 99999, "", "to")))

    def refused():
        port = {p["port"]: p for p in r.traffic_status()["ports"]}["vif1.0"]
        return port.get("refused")
    reason = r.until(refused)["vif"]
    assert "99999" in reason and "0-65535" in reason
    assert r.flows("xenbr0") == before
    r.set_vif_rules(1, stored(DENY_SSH, DENY_PING_IN))
    r.until(lambda: has(r.flows("xenbr0"), tf.TABLE_TO_VIF, "icmp"))
    assert not refused()


# -- Xen Orchestra's own calls -----------------------------------------------------------

def xo_vif_args(r, n, allow, protocol, ip_range, direction, port=None):
    """openflow-plugin.js addRule/deleteRule: mac, allow as text, port as text, bridge."""
    args = {"mac": th.mac(n).upper(), "allow": "true" if allow else "false",
            "protocol": protocol, "ipRange": ip_range, "direction": direction,
            "bridge": r.bridges[n]}
    if port:
        args["port"] = str(port)
    return args


def test_xen_orchestras_call_sequence(rig):
    r = rig([(1, "xenbr0", None), (2, "xapi2", None)])
    r.plug(1)
    r.plug(2)
    # check(host): dump-flows on each PIF's network bridge; JSON with returncode 0.
    for bridge in ("xenbr0", "xapi2", "xenbr1"):
        answer = json.loads(r.call("dump-flows", {"bridge": bridge}))
        assert answer["returncode"] == 0 and "NORMAL" in answer["stdout"]
        assert set(answer) == {"returncode", "command", "stdout", "stderr"}
    # addRule: applied when the call returns, before XO writes XAPI.
    args = xo_vif_args(r, 2, False, "TCP", "10.0.0.0/8", "from/to", 22)
    assert r.call("add-rule", args) == "true"
    flows = r.flows_of("xenbr0", "vif2.0")
    assert has(flows, tf.TABLE_FROM_VIF, "tcp", "nw_dst=10.0.0.0/8", "tp_dst=22", actions="drop")
    assert has(r.flows("xenbr0"), tf.TABLE_TO_VIF, "dl_dst=" + th.mac(2), "tp_src=22")
    # ... then XO writes the rule into XAPI (its JSON: allow a boolean, port a number).
    r.set_vif_rules(2, json.dumps([json.dumps({"allow": False, "protocol": "TCP", "port": 22,
                                               "ipRange": "10.0.0.0/8",
                                               "direction": "from/to"})]))
    r.until(lambda: all(x["from"] == "vif %s" % th.vif_uuid(2) for x in
                        {p["port"]: p for p in r.traffic_status()["ports"]}["vif2.0"]["rules"]))
    assert r.flows_of("xenbr0", "vif2.0") == flows
    # deleteRule: gone when the call returns; XO then removes the key.
    assert r.call("del-rule", args) == "true"
    assert r.flows("xenbr0") == []
    r.set_vif_rules(2, None)
    time.sleep(0.3)
    assert r.flows("xenbr0") == []
    # addNetworkRule / deleteNetworkRule, with XO's cookie.
    net_args = {"allow": "false", "protocol": "UDP", "ipRange": "198.51.100.0/24",
                "direction": "to", "port": "53", "cookie": "0xe4e59f746a3ce3db",
                "bridge": "xenbr0"}
    assert r.call("add-rule", net_args) == "true"
    assert has(r.flows_of("xenbr0", "vif1.0"), tf.TABLE_FROM_VIF, "udp", "tp_dst=53")
    assert r.flows_of("xenbr0", "vif2.0") == []          # vif2.0 is on the VLAN's network
    r.set_network_rules("xenbr0", json.dumps([json.dumps(
        {"allow": False, "protocol": "UDP", "port": 53, "ipRange": "198.51.100.0/24",
         "direction": "to", "cookie": "0xe4e59f746a3ce3db"})]))
    assert r.call("del-rule", net_args) == "true"
    assert r.flows("xenbr0") == []
    r.set_network_rules("xenbr0", None)
    # A network rule where this host has no VIF port: the vendor's "no rules" answer.
    details = r.failure("add-rule", dict(net_args, bridge="xapi7"))
    assert details[0] == calls.E_PORTS, details
    # XO's probe for cookie support: refused in the parser, naming the cookie.
    details = r.failure("del-rule", {"bridge": "xenbr0", "mac": "00:00:00:00:00:00",
                                     "direction": "to", "protocol": "ip",
                                     "ipRange": "255.255.255.255", "cookie": "not-a-cookie"})
    assert details[0] == calls.E_PARSER and "cookie" in details[1]


BAD_CALLS = [
    ("add-rule", {}, calls.E_PARSER),
    ("add-rule", {"bridge": "xenbr0"}, calls.E_PARSER),
    ("add-rule", {"bridge": "xenbr0", "allow": "maybe", "protocol": "tcp", "port": "22",
                  "ipRange": "10.0.0.0/8", "direction": "to"}, calls.E_PARSER),
    ("add-rule", {"bridge": "xenbr0", "allow": "false", "protocol": "tcp",
                  "ipRange": "10.0.0.0/8", "direction": "to"}, calls.E_PARAMS),
    ("add-rule", {"bridge": "xenbr0", "allow": "false", "protocol": "sctp", "port": "22",
                  "ipRange": "10.0.0.0/8", "direction": "to"}, calls.E_PARSER),
    ("add-rule", {"bridge": "xenbr0", "allow": "false", "protocol": "ip",
                  "ipRange": "10.0.0.0/99", "direction": "to"}, calls.E_PARSER),
    ("add-rule", {"bridge": "xenbr0; rm -rf /", "allow": "false", "protocol": "ip",
                  "ipRange": "10.0.0.0/8", "direction": "to"}, calls.E_PARSER),
    ("add-rule", {"bridge": "xenbr0", "mac": "02:00:00:00:00:0g", "allow": "false",
                  "protocol": "ip", "ipRange": "10.0.0.0/8", "direction": "to"}, calls.E_PARSER),
    ("add-rule", {"bridge": "nosuchbr0", "allow": "false", "protocol": "ip",
                  "ipRange": "10.0.0.0/8", "direction": "to"}, calls.E_OVSCALL),
    ("del-rule", {"bridge": "xenbr0", "protocol": "udp", "ipRange": "10.0.0.0/8",
                  "direction": "sideways", "port": "1"}, calls.E_PARSER),
    ("del-rule", {"bridge": "xenbr0", "protocol": "udp", "ipRange": "10.0.0.0/8",
                  "direction": "to", "port": "1", "cookie": "0x" + "f" * 17}, calls.E_PARSER),
    ("dump-flows", {}, calls.E_PARSER),
    ("dump-flows", {"bridge": "nosuchbr0"}, calls.E_OVSCALL),
]


def test_bad_plugin_calls_are_refused_and_change_nothing(rig):
    r = rig([(1, "xenbr0", stored(DENY_SSH))])
    r.plug(1)
    r.until(lambda: r.flows_of("xenbr0", "vif1.0"))
    before = th.all_flows(r.ofctl, "xenbr0")
    for fn, args, code in BAD_CALLS:
        details = r.failure(fn, args)
        assert details[0] == code, (fn, args, details)
        assert len(details) == 2 and details[1], details
    assert th.all_flows(r.ofctl, "xenbr0") == before
    details = r.failure("no-such-function", {})
    assert details[0] == "UNKNOWN_XENAPI_PLUGIN_FUNCTION"


def test_plugin_calls_fail_clearly_without_the_daemon(rig):
    r = rig([(1, "xenbr0", None)])
    r.plug(1)
    r.until(lambda: r.daemon.appctl("traffic-rules/show").returncode == 0)
    assert r.daemon.stop() == 0
    details = r.failure("add-rule", xo_vif_args(r, 1, False, "ICMP", "10.0.0.1", "to"))
    assert details[0] == calls.E_OVSCALL and "xsovs-xapi-sync" in details[1]
    assert json.loads(r.call("dump-flows", {"bridge": "xenbr0"}))["returncode"] == 0
    assert "error" in r.traffic_status()
    r.daemon.start()
    r.until(lambda: r.daemon.appctl("traffic-rules/show").returncode == 0)


MALFORMED = [
    "not json",
    '{"allow": false}',
    json.dumps([{"allow": False, "protocol": "ip", "direction": "to"}]),
    stored(rule(False, "SCTP", None, "", "to")),
    stored(rule(False, "TCP", 22, "10.0.0.0/33", "to")),
    stored(rule(False, "ICMP", 7, "", "to")),
    stored(rule("no", "TCP", 22, "", "to")),
    stored(rule(False, "TCP", 22, "", "sideways")),
]


def test_fuzzed_lists_in_xapi_are_refused_and_change_no_flow(rig):
    r = rig([(1, "xenbr0", stored(DENY_SSH, DENY_PING_IN))])
    r.plug(1)
    r.until(lambda: r.flows_of("xenbr0", "vif1.0"))
    before = th.all_flows(r.ofctl, "xenbr0")

    def refused():
        report = json.loads(r.daemon.appctl("traffic-rules/show").stdout)
        port = {p["port"]: p for p in report["ports"]}["vif1.0"]
        return port.get("refused", {}).get("vif")
    for value in MALFORMED:
        r.set_vif_rules(1, value)
        reason = r.until(refused)
        assert reason and "xo:sdn-controller:of-rules" in reason
        assert th.all_flows(r.ofctl, "xenbr0") == before
        r.set_vif_rules(1, stored(DENY_SSH, DENY_PING_IN))
        r.until(lambda: not refused())
    assert th.all_flows(r.ofctl, "xenbr0") == before
