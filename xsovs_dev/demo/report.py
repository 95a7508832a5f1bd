"""The summary: what the booted host's switch holds, read with the real OVS tools.

Read with ``ovs-vsctl`` / ``ovs-ofctl`` / ``ip`` / ``iptables`` rather than
xsovs's own code, so the summary shows the state, not what xsovs believes.
"""

import json
import os
import re
import subprocess

from xsovs_common.ovs import mgmt_flows, ovsdb

from . import host as simhost


def _run(argv, env=None):
    return subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=30).stdout


class SwitchState:
    """One read of the host's OVSDB (ovs-vsctl) and of the host's namespace."""

    def __init__(self, sim):
        self.sim = sim
        self.rundir = sim.ovs_rundir

    def vsctl(self, *args):
        return _run(["ovs-vsctl", "--db=unix:" + os.path.join(self.rundir, "db.sock"),
                     "--timeout=10"] + list(args))

    def rows(self, table, columns):
        """[{column: value}] of ``table``, decoded from ovs-vsctl's JSON (OVSDB's own)."""
        listing = json.loads(self.vsctl("--format=json", "--data=json",
                                        "--columns=" + ",".join(columns), "list", table))
        return [dict(zip(listing["headings"], (ovsdb.from_datum(v) for v in row)))
                for row in listing["data"]]

    def host_path(self, path):
        """A path under the host root, as the host sees it."""
        prefix = self.sim.root.path
        return path[len(prefix):] if path and path.startswith(prefix + "/") else path

    def flows(self, bridge):
        """[(cookie, n_packets)] of every OpenFlow flow on ``bridge``."""
        target = "unix:" + os.path.join(self.rundir, bridge + ".mgmt")
        dump = _run(["ovs-ofctl", "dump-flows", target])
        return [(int(re.search(r"cookie=(\w+)", line).group(1), 16),
                 int(re.search(r"n_packets=(\d+)", line).group(1)))
                for line in dump.splitlines() if "actions=" in line]

    def addresses(self, device):
        shown = self.sim.host_ns.run(["ip", "-4", "-o", "addr", "show", "dev", device]).stdout
        return re.findall(r"inet (\S+)", shown)

    def default_route(self):
        return self.sim.host_ns.run(["ip", "route", "show", "default"]).stdout.strip()

    def firewall_rules(self):
        """{owner: ["gre", "udp/4789", ...]} of xsovs's rules (owner: their comment)."""
        rules = self.sim.host_ns.run(["iptables", "-S", "INPUT"]).stdout.splitlines()
        opened = {}
        for rule in rules:
            owner = re.search(r"--comment (xsovs-\S+)", rule)
            if owner is None:
                continue
            protocol = re.search(r"-p (\S+)", rule)
            port = re.search(r"--dport (\d+)", rule)
            opened.setdefault(owner.group(1), []).append(
                (protocol.group(1) if protocol else "?") + ("/" + port.group(1) if port else ""))
        return opened


def pool_description(sim):
    """What XAPI's data asks for, in a line: the demo's input."""
    store = sim.xapi.store
    pool = next(iter(store.all("pool").values()))
    controllers = ["%s %s:%s" % (c["protocol"], c["address"], c["port"])
                   for c in store.all("SDN_controller").values()]
    pifs = ["%s (%s, %s %s/%s)" % (p["device"], "management" if p["management"] else "",
                                   p["ip_configuration_mode"], p["IP"], p["netmask"])
            for p in store.all("PIF").values()]
    return ("XAPI's pool: one host, PIF %s on %s; SDN controller %s; fail mode %s"
            % (", ".join(pifs), simhost.BRIDGE, ", ".join(controllers) or "none",
               pool["other_config"].get("vswitch-controller-fail-mode", "standalone")))


def summary(sim, outcome):
    """The summary's lines, each read from the host as it is now."""
    state = SwitchState(sim)
    lines = ["", "The host now (read back with ovs-vsctl, ovs-ofctl, ip, iptables):"]
    only_management_flows = {}      # bridge -> its fail mode, when only our flows are on it

    def add(label, text):
        lines.append("  %-20s %s" % (label, text))

    ports = {p["_uuid"]: p["name"] for p in state.rows("Port", ["_uuid", "name"])}
    bridges = sorted(state.rows("Bridge", ["name", "ports", "fail_mode", "datapath_type",
                                           "external_ids", "other_config"]),
                     key=lambda b: b["name"])
    for bridge in bridges:
        name = bridge["name"]
        add("bridge " + name, "fail_mode %s, datapath %s, ports %s" % (
            ovsdb.optional(bridge["fail_mode"]) or "(none: standalone)",
            bridge["datapath_type"] or "system",
            ", ".join(sorted(ports[p] for p in ovsdb.as_list(bridge["ports"]) if p in ports))))
        add("  xs-network-uuids", bridge["external_ids"].get("xs-network-uuids", "(none)"))
        add("  address", "%s, MAC %s" % (", ".join(state.addresses(name)) or "(none)",
                                        bridge["other_config"].get("hwaddr", "(not set)")))
        flows = state.flows(name)
        ours = [n for cookie, n in flows if cookie == int(mgmt_flows.COOKIE, 16)]
        add("  flows", "%d management flows (cookie %s, %d packets), %d others"
            % (len(ours), mgmt_flows.COOKIE, sum(ours), len(flows) - len(ours)))
        if ours and len(ours) == len(flows):
            only_management_flows[name] = ovsdb.optional(bridge["fail_mode"])
    if not bridges:
        add("bridges", "(none)")
    add("default route", state.default_route() or "(none)")
    managers = state.rows("Manager", ["target", "is_connected"])
    add("manager", ", ".join(
        "%s (%s)" % (m["target"], "connected" if m["is_connected"]
                     else "not connected")
        for m in managers) or "(none)")
    if outcome.controller_databases is not None:
        add("controller session", "the controller on %s asked list_dbs over the host's "
            "session: %s" % (simhost.PEER_ADDRESS, ", ".join(outcome.controller_databases)))
    for row in state.rows("SSL", ["private_key", "certificate", "ca_cert",
                                  "bootstrap_ca_cert"]):
        key, cert = state.host_path(row["private_key"]), state.host_path(row["certificate"])
        add("SSL", "%s, CA %s%s" % (
            "key and certificate " + key if key == cert else "key %s, certificate %s"
            % (key, cert), state.host_path(row["ca_cert"]),
            " (bootstrap: the controller's CA is trusted on first use)"
            if row["bootstrap_ca_cert"] else ""))
    rules = state.firewall_rules()
    add("firewall", "open for tunnels: %s; for controllers: %s" % (
        ", ".join(sorted(rules.get("xsovs-tunnels", []))) or "(nothing)",
        ", ".join(sorted(rules.get("xsovs-manager", []))) or "(nothing)"))
    add("update", outcome.update_result or "(did not run)")
    add("ping " + simhost.PEER_ADDRESS, ", ".join(
        "%s %s" % (when, "ok" if ok else "FAILED") for when, ok, _ in outcome.pings))
    if len(outcome.pings) == 2 and all(ok for _, ok, _ in outcome.pings) \
            and only_management_flows.get(simhost.BRIDGE) == "secure":
        lines.append("  The host stayed reachable through the update: %s is in secure fail "
                     "mode, where only the management flows forward." % simhost.BRIDGE)
    return lines
