"""ovs-xapi-sync: how soon a change shows in OVSDB, and what it costs XAPI.

The daemon (Python 3.6 when .venv36 exists, as on dom0) runs against the
XAPI simulator and a real ovsdb-server.  Measured:
- latency from a XAPI change (a VIF's nicira-iface-id) to the new iface-id
  in OVSDB, and from a new vif port (added as the vif script does) to its
  iface-id: median and maximum of SAMPLES;
- 1000 VIF ports added in one transaction: time until every one carries
  iface-id (target: TARGET_1000 seconds);
- XAPI calls the daemon made in each phase (the simulator counts them).
Baselines from the same run: one ``ovs-vsctl get`` (the polling floor of the
latency figures), and the historical daemon's per-interface lookups
(VIF.get_by_uuid, VIF.get_record, VM.get_by_uuid, VM.get_record) for the
same 1000 VIFs through the real XenAPI client.
"""

import os
import statistics
import tempfile
import time

import XenAPI

from xsovs_dev import ovs as ovsmod
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import (NET0, VIF, SyncDaemon, historical_fixture,
                                     make_root, vif_script_add, vif_script_ids, wait_for)
from xsovs_dev.xapisim import Simulator

SAMPLES = 20
PORTS = 1000
TARGET_1000 = 5.0
TARGET_LATENCY = 1.0


def _uuid(n):
    return "00000000-0000-4000-8000-%012d" % n


def _fixture():
    fixture = historical_fixture()
    for n in range(PORTS):
        vm = "OpaqueRef:bench-vm-%d" % n
        fixture["VM"][vm] = {"uuid": _uuid(10 ** 6 + n), "other_config": {}}
        fixture["VIF"]["OpaqueRef:bench-vif-%d" % n] = {
            "uuid": _uuid(n), "VM": vm, "network": NET0, "device": "0",
            "other_config": {"nicira-iface-id": "lsp-%d" % n}}
    return fixture


def _iface_id(switch, name):
    try:
        return switch.vsctl("--no-wait", "get", "Interface", name,
                            "external-ids:iface-id").strip().strip('"')
    except Exception:
        return None


def _calls(sim):
    return sum(sim.api.calls.values())


def _median_max(values):
    return statistics.median(values), max(values)


def main():
    need = ovsmod.available()
    if need:
        print("skipped: %s" % need)
        return
    python = host_python()
    with tempfile.TemporaryDirectory(prefix="xsovs-bench-sync-") as tmp:
        switch = ovsmod.OvsInstance(os.path.join(tmp, "ovs")).start()
        sim = Simulator(_fixture())
        sim.start()
        daemon = SyncDaemon(tmp, make_root(os.path.join(tmp, "root")), switch, sim.url,
                            python=python).start()
        try:
            _measure(switch, sim, python)
        finally:
            daemon.stop()
            sim.stop()
            switch.stop()


def _measure(switch, sim, python):
    switch.vsctl("--no-wait", "add-br", "xenbr0", "--",
                 *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    if not wait_for(lambda: _iface_id(switch, "vif1.0") == "custom iface ID", timeout=30):
        raise RuntimeError("the daemon did not start working")

    floor = []
    for _ in range(SAMPLES):
        started = time.monotonic()
        _iface_id(switch, "vif1.0")
        floor.append(time.monotonic() - started)

    session = XenAPI.Session(sim.url)
    session.xenapi.login_with_password("root", "", "1.0", "xsovs-bench")
    xapi_latency = []
    before = _calls(sim)
    for n in range(SAMPLES):
        wanted = "changed-%d" % n
        started = time.monotonic()
        session.xenapi.VIF.set_other_config(VIF, {"nicira-iface-id": wanted})
        if not wait_for(lambda w=wanted: _iface_id(switch, "vif1.0") == w, timeout=30,
                        interval=0.005):
            raise RuntimeError("XAPI change %d never reached OVSDB" % n)
        xapi_latency.append(time.monotonic() - started)
    xapi_calls = _calls(sim) - before - SAMPLES    # less the benchmark's own setter calls

    port_latency = []
    before = _calls(sim)
    for n in range(SAMPLES):
        name = "vif%d.0" % (5000 + n)
        started = time.monotonic()
        switch.vsctl("--no-wait", *vif_script_add("xenbr0", name,
                                                   vif_script_ids(vif_uuid=_uuid(n))))
        if not wait_for(lambda p=name, n=n: _iface_id(switch, p) == "lsp-%d" % n, timeout=30,
                        interval=0.005):
            raise RuntimeError("port %s never got its iface-id" % name)
        port_latency.append(time.monotonic() - started)
    port_calls = _calls(sim) - before

    args = []
    for n in range(PORTS):
        args += vif_script_add("xenbr0", "vif%d.0" % (10000 + n),
                               vif_script_ids(vif_uuid=_uuid(n), vm_uuid=_uuid(10 ** 6 + n)))
    before = _calls(sim)
    started = time.monotonic()
    switch.vsctl("--no-wait", *args)
    added = time.monotonic() - started

    def all_bound():
        listing = switch.vsctl("--no-wait", "--columns=external_ids", "find", "Interface",
                               "external_ids:iface-status=active")
        return listing.count("iface-id=") >= PORTS + 1
    if not wait_for(all_bound, timeout=120, interval=0.05):
        raise RuntimeError("the %d ports never all got iface-id" % PORTS)
    bulk = time.monotonic() - started
    bulk_calls = _calls(sim) - before

    # Baseline: the historical daemon's four lookups per interface, same VIFs.
    before = _calls(sim)
    started = time.monotonic()
    x = session.xenapi
    for n in range(PORTS):
        vif = x.VIF.get_by_uuid(_uuid(n))
        x.VIF.get_record(vif)
        vm = x.VM.get_by_uuid(_uuid(10 ** 6 + n))
        x.VM.get_record(vm)
    historical = time.monotonic() - started
    historical_calls = _calls(sim) - before
    session.xenapi.session.logout()

    fmed, fmax = _median_max(floor)
    xmed, xmax = _median_max(xapi_latency)
    pmed, pmax = _median_max(port_latency)
    rows = [
        ("daemon interpreter", os.path.basename(os.path.dirname(os.path.dirname(python))), ""),
        ("ovs-vsctl get (polling floor), median / max", "%.3f / %.3f s" % (fmed, fmax), ""),
        ("XAPI change -> OVSDB, median / max (%d)" % SAMPLES, "%.3f / %.3f s" % (xmed, xmax),
         "ok" if xmax < TARGET_LATENCY else "OVER %.1f s" % TARGET_LATENCY),
        ("  XAPI calls by the daemon for %d changes" % SAMPLES, "%d" % xapi_calls,
         "one event.from per batch"),
        ("new vif port -> iface-id, median / max (%d)" % SAMPLES, "%.3f / %.3f s" % (pmed, pmax),
         "ok" if pmax < TARGET_LATENCY else "OVER %.1f s" % TARGET_LATENCY),
        ("  XAPI calls by the daemon for %d ports" % SAMPLES, "%d" % port_calls, ""),
        ("%d ports at once -> all carry iface-id" % PORTS, "%.2f s" % bulk,
         "ok" if bulk < TARGET_1000 else "OVER %.1f s" % TARGET_1000),
        ("  of which ovs-vsctl adding them", "%.2f s" % added, ""),
        ("  XAPI calls by the daemon", "%d" % bulk_calls, ""),
        ("baseline: historical lookups for %d VIFs" % PORTS, "%.2f s, %d calls"
         % (historical, historical_calls), "%.1fx the daemon's whole bulk time"
         % (historical / bulk if bulk else 0)),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print("  %-*s  %-18s %s" % (width, name, value, note))
