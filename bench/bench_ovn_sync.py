"""ovn-xapi-sync: 1000 VIFs on 100 OVN networks over 3 hosts, into a real NB ovsdb-server.

The daemon (Python 3.6 when .venv36 exists, as on dom0) runs against the XAPI
simulator.  Measured:
- first convergence: from the daemon's start until NB holds every switch,
  port and ACL (its status says in step), with the NB transactions it made
  and the XAPI calls;
- a XAPI change reaching NB (a locked VIF's allowed address, as XAPI's own
  message sets it): median and p99 of SAMPLES, seen by an IDL monitoring NB
  in this process;
- the daemon's memory (peak and current resident size) once in step.
Baseline from the same run: the same NB content written by ``ovn-nbctl``, one
command per object (a switch, a port with its addresses and port security,
an ACL), into a fresh NB server; and one such command's latency.
"""

import os
import statistics
import subprocess
import tempfile
import time

from xsovs_common.ovn_sync import nb as northbound
from xsovs_dev import ovn_nb
from xsovs_dev.ovn_sync_run import OvnSyncDaemon, db_size, nb_state
from xsovs_dev.pythons import DOM0_PYTHON, host_python
from xsovs_dev.xapi_sync_run import make_root, wait_for
from xsovs_dev.xapisim import PoolBuilder, Simulator

HOSTS = 3
NETWORKS = 100
VIFS = 1000
SAMPLES = 100
RULES = ['{"allow":false,"protocol":"tcp","port":22,"ipRange":"","direction":"from"}',
         '{"allow":true,"protocol":"icmp","ipRange":"10.0.0.0/8","direction":"from/to"}']


def fixture(remote):
    """The pool: VMs spread over the hosts, each VIF on network n % NETWORKS; every
    third VIF locked with an address; network rules on every tenth network."""
    b = PoolBuilder(other_config={"xsovs:ovn-nb": remote,
                                  "xo:sdn-controller:of-format": "xapi-plugin"})
    for h in range(HOSTS):
        b.host("host%d" % h)
    for n in range(NETWORKS):
        other = {"xsovs:ovn": "true"}
        if n % 10 == 0:
            other["xo:sdn-controller:of-rules"] = _rules(RULES[:1])
        b.network("xapi%d" % n, other_config=other)
    for v in range(VIFS):
        if v % 2 == 0:
            b.vm("vm%d" % (v // 2), host="host%d" % (v // 2 % HOSTS))
        locked = v % 3 == 0
        b.vif("vm%d" % (v // 2), "xapi%d" % (v % NETWORKS), device=str(v % 2),
              locking_mode="locked" if locked else "network_default",
              ipv4_allowed=["10.%d.%d.%d" % (v >> 16 & 255, v >> 8 & 255, v & 255)]
              if locked else [],
              other_config={"xo:sdn-controller:of-rules": _rules(RULES)} if v % 5 == 0 else {})
    return b


def _rules(items):
    import json
    return json.dumps(items)


def _calls(sim):
    return sum(sim.api.calls.values())


def _memory(pid):
    out = {}
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) / 1024.0
    return out


class Watcher:
    """An IDL on NB in this process: sees the sync's writes as they commit."""

    def __init__(self, ovs, remote):
        self.ovs = ovs
        self.nb = northbound.Northbound(ovs, remote)
        wait_for(lambda: self._run() and self.nb.idl.has_ever_connected(), timeout=30)

    def _run(self):
        self.nb.idl.run()
        return True

    def port_security(self, name):
        self.nb.idl.run()
        for row in self.nb.idl.tables["Logical_Switch_Port"].rows.values():
            if row.name == name:
                return sorted(row.port_security)
        return None

    def until(self, name, wanted, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.port_security(name) == wanted:
                return True
            poller = self.ovs.poller.Poller()
            self.nb.idl.wait(poller)
            poller.timer_wait(50)
            poller.block()
        return False


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure_sync(tmp, python):
    server = ovn_nb.NbServer(os.path.join(tmp, "nb")).start()
    b = fixture(server.remote)
    sim = Simulator(b.build())
    sim.start()
    daemon = OvnSyncDaemon(os.path.join(tmp, "sync"), make_root(os.path.join(tmp, "root")),
                           sim.url, python=python)
    try:
        size = db_size(server)
        started = time.monotonic()
        daemon.start()
        status = wait_for(lambda: _ready(daemon), timeout=600, interval=0.05)
        first = time.monotonic() - started
        assert status, daemon.log()[-2000:]
        state = nb_state(server)
        figures = {"first": first, "transactions": status["nb"]["transactions"],
                   "xapi_calls": _calls(sim), "bytes": db_size(server) - size,
                   "switches": len(state["switches"]), "ports": len(state["ports"]),
                   "acls": len(state["acls"]), "memory": _memory(daemon.proc.pid)}
        figures.update(_changes(b, sim, server, status))
        figures["memory_after"] = _memory(daemon.proc.pid)
        return figures, state
    finally:
        daemon.stop()
        sim.stop()
        server.stop()


def _ready(daemon):
    status = daemon.status()
    return status if status and status["in_step"] else None


def _changes(b, sim, server, status):
    import ovs.poller  # noqa: F401  (the library, as the daemon has it)
    import ovs.db.idl  # noqa: F401
    import ovs
    watcher = Watcher(ovs, server.remote)
    session = sim.login()
    vifs = sorted(ref for ref, vif in b.tables["VIF"].items() if vif["locking_mode"] == "locked")
    latencies = []
    calls = _calls(sim)
    for n in range(SAMPLES):
        ref = vifs[(n * 7919) % len(vifs)]
        record = sim.store.get("VIF", ref)
        name = record["uuid"]
        address = "192.0.2.%d" % (n % 250 + 1)
        wanted = ["%s %s" % (record["MAC"], address)]
        t0 = time.monotonic()
        sim.call("VIF.set_ipv4_allowed", session, ref, [address])
        assert watcher.until(name, wanted), (name, watcher.port_security(name))
        latencies.append(time.monotonic() - t0)
    watcher.nb.close()
    return {"latencies": latencies, "change_calls": _calls(sim) - calls - SAMPLES}


def measure_baseline(tmp, state):
    """The same content by ovn-nbctl, one command (one transaction) per object."""
    server = ovn_nb.NbServer(os.path.join(tmp, "baseline")).start()
    try:
        nbctl = ["ovn-nbctl", "--db=unix:" + server.socket]
        commands = []
        for name in sorted(state["switches"]):
            commands.append(["ls-add", name])
        for name, rows in sorted(state["switches"].items()):
            for port in rows[0]["ports"]:
                spec = state["ports"][port]
                commands.append(["lsp-add", name, port])
                commands.append(["lsp-set-addresses", port] + spec["addresses"])
                if spec["port_security"]:
                    commands.append(["lsp-set-port-security", port] + spec["port_security"])
        for direction, priority, match, action in state["acls"]:
            switch = next(name for name, rows in state["switches"].items()
                          if match in rows[0]["acls"])
            commands.append(["acl-add", switch, direction, str(priority), match, action])
        started = time.monotonic()
        for command in commands:
            subprocess.run(nbctl + command, check=True, stdout=subprocess.DEVNULL)
        total = time.monotonic() - started
        latencies = []
        port = sorted(state["ports"])[0]
        for n in range(20):
            t0 = time.monotonic()
            subprocess.run(nbctl + ["lsp-set-port-security", port,
                                    "02:00:00:00:00:01 192.0.2.%d" % (n + 1)],
                           check=True, stdout=subprocess.DEVNULL)
            latencies.append(time.monotonic() - t0)
        baseline_state = nb_state(server)
        same = (sorted(baseline_state["ports"]) == sorted(state["ports"])
                and baseline_state["acls"] == state["acls"])
        return {"total": total, "commands": len(commands), "latencies": latencies,
                "same": same}
    finally:
        server.stop()


def main():
    reason = ovn_nb.available()
    if reason:
        print("skipped: %s" % reason)
        return
    python = host_python()
    with tempfile.TemporaryDirectory(prefix="xsovs-bench-ovn-") as tmp:
        sync, state = measure_sync(tmp, python)
        base = measure_baseline(tmp, state)
    lat = sync["latencies"]
    print("pool: %d hosts, %d OVN networks, %d VIFs; NB: %d switches, %d ports, %d ACLs "
          "(daemon on %s)" % (HOSTS, NETWORKS, VIFS, sync["switches"], sync["ports"],
                              sync["acls"], "Python 3.6" if python == DOM0_PYTHON else "Python 3"))
    print("first convergence     %7.2f s   %d NB transaction(s), %d XAPI call(s), "
          "%d bytes of NB log" % (sync["first"], sync["transactions"], sync["xapi_calls"],
                                  sync["bytes"]))
    print("  baseline ovn-nbctl  %7.2f s   %d NB transactions (one command per object; "
          "same content: %s)" % (base["total"], base["commands"], base["same"]))
    print("  ratio               %7.1fx faster, %dx fewer transactions" % (
        base["total"] / sync["first"], base["commands"] // max(1, sync["transactions"])))
    print("XAPI change -> NB     median %.3f s, p99 %.3f s over %d changes "
          "(the sync's own XAPI calls: %d event.from)" % (
              statistics.median(lat), _percentile(lat, 0.99), len(lat), sync["change_calls"]))
    print("  baseline: one ovn-nbctl command: median %.3f s" % statistics.median(
        base["latencies"]))
    print("memory                peak %.1f MiB, resident %.1f MiB in step; %.1f MiB after "
          "the changes" % (sync["memory"]["VmHWM"], sync["memory"]["VmRSS"],
                           sync["memory_after"]["VmRSS"]))
