"""Traffic rules: 1000 VIF ports with 5 rules each on one host, enforced by ovs-xapi-sync.

The daemon (Python 3.6 when .venv36 exists, as on dom0) runs against the
XAPI simulator and a real ovsdb-server and ovs-vswitchd (dummy ports, real
OpenFlow tables).  Measured:
- cold start: the 1000 ports are plugged (as xenopsd plugs them) and XAPI
  holds their rules; time from the daemon's start until every flow is on
  the switch, the flow count, and the XAPI calls it made;
- a rule edit in XAPI to the flows of that port: median and maximum of
  SAMPLES edits;
- one ``add-rule`` as Xen Orchestra calls it (``host.call_plugin``) through
  xsovs's ``sdncontroller.py``: median of a few calls.
Baseline from the same run: the vendor plugin's way for the same rules --
per rule, its ``ovs-vsctl`` listing calls (br-to-parent, list-ports twice,
the port's tag, every Port, every Interface, as JSON) then one ``ovs-ofctl
add-flow`` per flow it builds -- timed on BASELINE_RULES rules and scaled
to all 5000 (``XSOVS_BENCH_FULL=1`` runs them all).
"""

import os
import statistics
import tempfile
import time

import XenAPI

from tests.support import traffic_host as th
from tests.support.traffic_host import rule, stored
from xsovs_common.net import traffic_rules as tr
from xsovs_common.net import traffic_flows as tf
from xsovs_dev import ovs as ovsmod
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import SyncDaemon, make_root, wait_for
from xsovs_dev.xapisim import PoolBuilder, Simulator

PORTS = 1000
SAMPLES = 20
PLUGIN_SAMPLES = 5
BASELINE_RULES = 50
RULES = [rule(False, "TCP", 22, "10.0.0.0/8", "to"),
         rule(True, "TCP", 443, "", "to"),
         rule(False, "UDP", 53, "192.0.2.0/24", "to"),
         rule(False, "ICMP", None, "198.51.100.0/24", "from"),
         rule(True, "ARP", None, "", "from")]
TARGET_COLD = 10.0
TARGET_EDIT = 1.0


def _calls(sim):
    return sum(sim.api.calls.values())


def main():
    need = ovsmod.available()
    if need:
        print("skipped: %s" % need)
        return
    python = host_python()
    with tempfile.TemporaryDirectory(prefix="xsovs-bench-traffic-") as tmp:
        switch = ovsmod.OvsInstance(os.path.join(tmp, "ovs"), vswitchd="dummy").start()
        builder = PoolBuilder(other_config={tr.OF_FORMAT_KEY: tr.FORMAT_PLUGIN})
        builder.host("host1").physical_pif("eth0", "xenbr0", management=True,
                                           ip="192.0.2.10/24")
        fixture = th.add_vms(builder.build(), builder,
                             [(n, "xenbr0", stored(*RULES)) for n in range(1, PORTS + 1)])
        sim = Simulator(fixture)
        sim.start()
        fake = FakeRoot(os.path.join(tmp, "root"), host_uuid=builder.host_uuid("host1"))
        for program in ("ovs-ofctl", "ovs-appctl"):
            fake.link_program(program)
        make_root(fake.path)
        sim.host_env[builder.host_uuid("host1")] = {"XSOVS_ROOT": fake.path,
                                                     "OVS_RUNDIR": switch.rundir}
        daemon = SyncDaemon(tmp, fake.path, switch, sim.url, python=python)
        try:
            _measure(switch, sim, builder, daemon, python)
        finally:
            daemon.stop()
            sim.stop()
            switch.stop()


def _planned(rule_lists):
    """``{cookie: flow count}`` the planner gives ports 1..N (one stored rule list each, its
    own MAC) on one bridge: what the switch must hold once the daemon is done."""
    ports = [tf.PortRules(n, th.mac(n), tuple(tr.in_force(
        tr.parse_rule_list(value, tr.SCOPE_VIF), ()))) for n, value in enumerate(rule_lists, 1)]
    return {cookie: len(flows) for cookie, flows in tf.bridge_flows(ports).items()}


def _flow_count(switch, match="cookie=" + tf.ALL_COOKIES):
    text = switch.ofctl("dump-aggregate", "unix:%s/xenbr0.mgmt" % switch.rundir, match)
    return int(text.split("flow_count=")[1].split()[0])


def _measure(switch, sim, builder, daemon, python):
    session = XenAPI.Session(sim.url)
    session.xenapi.login_with_password("root", "", "1.0", "xsovs-bench")
    x = session.xenapi
    network = x.network.get_uuid(builder.network_ref("xenbr0"))
    argv = ["add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0"]
    for n in range(1, PORTS + 1):
        argv += th.plug_argv("xenbr0", "vif%d.0" % n, n, network)[1:]
    switch.vsctl("--timeout=120", *argv)
    expected = sum(_planned([stored(*RULES)] * PORTS).values())
    per_port = _planned([stored(*RULES)])
    shared = per_port.pop(tf.SHARED_COOKIE)
    per_port = sum(per_port.values())

    before = _calls(sim)
    started = time.monotonic()
    daemon.start()
    if not wait_for(lambda: _flow_count(switch) == expected, timeout=300, interval=0.1):
        raise RuntimeError("cold start never reached %d flows (%d); log:\n%s"
                           % (expected, _flow_count(switch), daemon.log()))
    cold = time.monotonic() - started
    cold_calls = _calls(sim) - before

    def settled():       # the daemon's other work (the ids of 1000 ports) is done
        return switch.vsctl("--no-wait", "--columns=_uuid", "find", "Interface",
                            "external_ids:iface-status=active").count("_uuid") >= PORTS
    if not wait_for(settled, timeout=300, interval=0.2):
        raise RuntimeError("the daemon never wrote the ports' ids")

    # A rule edit in XAPI: the flows of traffic to one port change.
    vif = x.VIF.get_by_uuid(th.vif_uuid(1))
    cookie = "cookie=%s/-1" % tf.cookie_text(
        tf.to_vif_cookie(int(switch.get("Interface", "vif1.0", "ofport"))))
    edits = []
    for n in range(SAMPLES):
        extra = [rule(False, "TCP", 1000 + n, "", "to")] if n % 2 == 0 else []
        wanted = _planned([stored(*(RULES + extra))])[tf.to_vif_cookie(1)]
        started = time.monotonic()
        x.VIF.remove_from_other_config(vif, tr.RULES_KEY)
        x.VIF.add_to_other_config(vif, tr.RULES_KEY, stored(*(RULES + extra)))
        if not wait_for(lambda w=wanted: _flow_count(switch, cookie) == w, timeout=30,
                        interval=0.02):
            raise RuntimeError("edit %d never reached the flows" % n)
        edits.append(time.monotonic() - started)

    # Xen Orchestra's add-rule through xsovs's plugin (the daemon applies it).
    host = x.host.get_by_uuid(builder.host_uuid("host1"))
    plugin_calls = []
    for n in range(PLUGIN_SAMPLES):
        args = {"bridge": "xenbr0", "mac": th.mac(2), "allow": "false", "protocol": "TCP",
                "ipRange": "10.%d.0.0/16" % n, "direction": "to", "port": "8080"}
        started = time.monotonic()
        x.host.call_plugin(host, th.XO_PLUGIN, "add-rule", args)
        plugin_calls.append(time.monotonic() - started)
    session.xenapi.session.logout()

    baseline_rules = PORTS * len(RULES) if os.environ.get("XSOVS_BENCH_FULL") \
        else BASELINE_RULES
    baseline, baseline_flows = _vendor_way(switch, baseline_rules)
    scaled = baseline * PORTS * len(RULES) / baseline_rules

    med, worst = statistics.median(edits), max(edits)
    p90 = sorted(edits)[int(len(edits) * 0.9) - 1]
    rows = [
        ("daemon interpreter", os.path.basename(os.path.dirname(os.path.dirname(python))), ""),
        ("%d ports x %d rules: cold start -> all flows" % (PORTS, len(RULES)), "%.2f s" % cold,
         "ok" if cold < TARGET_COLD else "OVER %.0f s" % TARGET_COLD),
        ("  flows installed (per port)", "%d (%d)" % (expected, per_port),
         "dispatch, MAC pin and floors; 1 per rule, 2 for one covering IPv6; %d shared"
         % shared),
        ("  XAPI calls by the daemon", "%d" % cold_calls, "event.from only"),
        ("XAPI rule edit -> flows, median / 90%% / max (%d)" % SAMPLES,
         "%.2f / %.2f / %.2f s" % (med, p90, worst),
         "ok" if med < TARGET_EDIT else "OVER %.1f s" % TARGET_EDIT),
        ("XO add-rule via sdncontroller.py, median (%d)" % PLUGIN_SAMPLES,
         "%.3f s" % statistics.median(plugin_calls), "plugin start + daemon applies"),
        ("baseline: vendor plugin's way, %d rules" % baseline_rules,
         "%.2f s, %d flows" % (baseline, baseline_flows),
         "6 ovs-vsctl + ovs-ofctl add-flow per rule"),
        ("  scaled to %d rules" % (PORTS * len(RULES)), "%.0f s" % scaled,
         "%.0fx the cold start" % (scaled / cold if cold else 0)),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print("  %-*s  %-18s %s" % (width, name, value, note))


def _vendor_way(switch, count):
    """What the vendor plugin runs for ``count`` VIF rules: its listing calls, one add-flow each."""
    db = "--db=unix:" + switch.socket
    target = "unix:%s/xenbr0.mgmt" % switch.rundir
    flows = 0
    started = time.monotonic()
    for index in range(count):
        n = index // len(RULES) + 1
        fields = RULES[index % len(RULES)]
        for args in (["br-to-parent", "xenbr0"], ["list-ports", "xenbr0"],
                     ["list-ports", "xenbr0"], ["get", "port", "xenbr0", "tag"],
                     ["--format=json", "list", "port"], ["--format=json", "list", "interface"]):
            switch.vsctl(db, *args)
        outgoing = fields["direction"] == "to"
        match = "%s,cookie=0x0,%s=%s,%s=%s" % (
            fields["protocol"].lower(), "dl_src" if outgoing else "dl_dst", th.mac(n),
            "nw_dst" if outgoing else "nw_src", fields["ipRange"] or "0.0.0.0/0")
        if "port" in fields:
            match += ",%s=%d" % ("tp_dst" if outgoing else "tp_src", fields["port"])
        switch.ofctl("-O", "OpenFlow11", "add-flow", target, "%s,actions=%s" % (
            match, "normal" if fields["allow"] else "drop"))
        flows += 1
    return time.monotonic() - started, flows


if __name__ == "__main__":
    main()
