"""The plugin's ``update`` on a host with 1000 bridges and 1000 XAPI networks.

A real ovsdb-server with a dummy ovs-vswitchd holds 1000 bridges (one NIC
each); the XAPI simulator holds the host's 1000 PIFs and networks.  Measured
in one run:

- ``update`` with nothing to change, in-process (median of several runs),
  and once through ``host.call_plugin`` as XAPI runs it (process start-up,
  imports and the plugin protocol included).  The simulator runs in a
  process of its own, as XAPI does on a host;
- the OVSDB round trips and XAPI calls of one ``update`` at 10 and at 1000
  bridges (they must be the same: nothing per bridge);
- the historical per-bridge approach: ``ovs-vsctl list-br``, then for each
  bridge ``br-to-parent``, ``get Bridge B other_config:disable-in-band`` and
  ``get Bridge B fail_mode`` as separate runs.  3000 runs take minutes, so
  by default a sample of bridges is run and the per-bridge cost
  extrapolated to all of them (the sample's time is printed);
  ``XSOVS_BENCH_FULL=1`` runs every bridge.

Targets: no-change ``update`` <= 0.5 s; >= 20x the per-bridge approach.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bench.hosts import Counter
from xsovs_common import paths
from xsovs_common.actions import cfg_update
from xsovs_common.ovs import ovsdb
from xsovs_common.xapi import session as xapi
from xsovs_dev import ovs as ovsmod
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.xapisim import REPO_ROOT, PoolBuilder, client

BRIDGES = 1000
SAMPLE = 20
RUNS = 7
TARGET_SECONDS = 0.5
TARGET_RATIO = 20.0


def _pool(bridges):
    builder = PoolBuilder().host("host1")
    builder.physical_pif("eth0", "xenbr0", management=True, ip="192.0.2.10/24")
    for n in range(1, bridges):
        builder.physical_pif("eth%d" % n, "xenbr%d" % n)
    return builder, builder.build()


def _fill_ovsdb(instance, bridges):
    args = []
    for n in range(bridges):
        args += ["--", "add-br", "xenbr%d" % n, "--", "add-port", "xenbr%d" % n, "eth%d" % n]
    instance.vsctl("--timeout=120", *args[1:])


class Host:
    """A simulated host: XAPI simulator, OVSDB with ``bridges`` bridges, a fake root."""

    def __init__(self, workdir, bridges):
        self.bridges = bridges
        builder, fixture = _pool(bridges)
        self.host_uuid = builder.host_uuid("host1")
        self.host_ref = builder.host_ref("host1")
        self.ovs = ovsmod.OvsInstance(os.path.join(workdir, "ovs"), vswitchd="dummy").start()
        _fill_ovsdb(self.ovs, bridges)
        self.fake = FakeRoot(os.path.join(workdir, "root"), host_uuid=self.host_uuid)
        # A shell stub: the firewall's iptables runs cost what they cost on a host.
        self.fake.write(paths.PROGRAMS["iptables"], "#!/bin/sh\nexit 0\n", mode=0o755)
        # XAPI is a process of its own on a host: so is the simulator here.
        fixture_path = os.path.join(workdir, "pool.json")
        with open(fixture_path, "w") as handle:
            json.dump(fixture, handle)
        env = dict(os.environ, XSOVS_ROOT=self.fake.path, OVS_RUNDIR=self.ovs.rundir,
                   PYTHONPATH=str(REPO_ROOT))
        # XAPI runs the plugin by current XAPI's name, as a host has it.
        self.sim = subprocess.Popen([sys.executable, "-m", "xsovs_dev.xapisim", fixture_path,
                                     "--plugin-dir", self.fake.install_plugin()],
                                    env=env, stdout=subprocess.PIPE, universal_newlines=True)
        self.url = self.sim.stdout.readline().strip()
        # What XSOVS_XAPI_URL and OVS_RUNDIR give the plugin, for in-process work.
        self.fake.configure(xapi_url=self.url, ovs_rundir=self.ovs.rundir)

    def update(self):
        with xapi.connect(root=self.fake.root) as api:
            return cfg_update.update(self.fake.root, api)

    def counted_update(self):
        """update(), with its OVSDB round trips and XAPI calls counted and timed."""
        with xapi.connect(root=self.fake.root) as api:      # login and logout are not update's
            with Counter(ovsdb.Connection, "call") as rpc, Counter(xapi.Api, "call") as calls:
                start = time.perf_counter()
                result = cfg_update.update(self.fake.root, api)
                total = time.perf_counter() - start
        return result, rpc, calls, total

    def timed(self, call):
        """``call(xenapi)`` on a fresh session; returns (its value, seconds)."""
        session = client.session(self.url)
        session.xenapi.login_with_password("root", "")
        try:
            start = time.perf_counter()
            value = call(session.xenapi)
            return value, time.perf_counter() - start
        finally:
            session.xenapi.session.logout()

    def call_plugin(self):
        return self.timed(lambda x: x.host.call_plugin(self.host_ref, "openvswitch-cfg-update",
                                                       "update", {}))

    def set_controller(self, address):
        """pool.set_vswitch_controller: XAPI runs update (emer-reset and all) on the host."""
        self.timed(lambda x: x.pool.set_vswitch_controller(address))
        return self.ovs.vsctl("get-manager").strip()

    def close(self):
        self.sim.terminate()
        self.sim.wait()
        self.sim.stdout.close()
        self.ovs.stop()


def _per_bridge(instance, bridges):
    """The historical loop: one ovs-vsctl run per query per bridge; returns seconds."""
    vsctl = [shutil.which("ovs-vsctl"), "--db=unix:" + instance.socket, "--timeout=10"]

    def run(*args):
        return subprocess.run(vsctl + list(args), env=instance.env, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True).stdout

    start = time.perf_counter()
    names = run("list-br").split()
    for name in names[:bridges]:
        run("br-to-parent", name)
        run("get", "Bridge", name, "other_config:disable-in-band")
        run("get", "Bridge", name, "fail_mode")
    return time.perf_counter() - start, len(names)


def _measure(workdir, bridges, full):
    host = Host(os.path.join(workdir, "h%d" % bridges), bridges)
    try:
        start = time.perf_counter()
        host.update()
        out = {"first": time.perf_counter() - start}
        result, rpc, calls, _ = host.counted_update()
        assert result == cfg_update.NO_CHANGE, result
        out.update(rpcs=rpc.count, calls=calls.count)
        if bridges < BRIDGES:
            return out
        runs = []
        for _ in range(RUNS):
            result, rpc, calls, total = host.counted_update()
            assert result == cfg_update.NO_CHANGE, result
            runs.append((total, calls.seconds, rpc.seconds))
        runs.sort()
        out["update"], out["xapi_seconds"], out["ovsdb_seconds"] = runs[len(runs) // 2]
        value, out["plugin"] = host.call_plugin()
        assert value == cfg_update.NO_CHANGE, value
        start = time.perf_counter()
        assert host.set_controller("192.0.2.5") == "ssl:192.0.2.5:6632"
        out["reset"] = time.perf_counter() - start
        sample = bridges if full else SAMPLE
        seconds, listed = _per_bridge(host.ovs, sample)
        out["baseline_sample"] = sample
        out["baseline_measured"] = seconds
        out["baseline"] = seconds * listed / float(sample)
        return out
    finally:
        host.close()


def main():
    reason = ovsmod.available()
    if reason:
        print("skipped: " + reason)
        return
    full = os.environ.get("XSOVS_BENCH_FULL") == "1"
    workdir = tempfile.mkdtemp(prefix="bench-update-")
    try:
        small = _measure(workdir, 10, full)
        big = _measure(workdir, BRIDGES, full)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = big["baseline"] / big["update"]
    how = ("all %d bridges" % BRIDGES if big["baseline_sample"] >= BRIDGES else
           "%d of %d bridges measured (%.1f s), extrapolated"
           % (big["baseline_sample"], BRIDGES, big["baseline_measured"]))
    rows = [
        ("first update (sets ids, fail modes)", "%.3f s" % big["first"], ""),
        ("update, nothing to change (median of %d)" % RUNS, "%.3f s" % big["update"],
         "target <= %.1f s: %s" % (TARGET_SECONDS,
                                   "met" if big["update"] <= TARGET_SECONDS else "MISSED")),
        ("  of which waiting for XAPI's %d answers" % big["calls"], "%.3f s" % big["xapi_seconds"],
         "the simulator, a Python process, serves them"),
        ("  of which the OVSDB read", "%.3f s" % big["ovsdb_seconds"], ""),
        ("  same, through host.call_plugin", "%.3f s" % big["plugin"],
         "plugin process start-up included"),
        ("pool.set_vswitch_controller (emer-reset)", "%.3f s" % big["reset"],
         "every bridge's settings restored, ovs-vswitchd caught up"),
        ("OVSDB round trips at 10 / %d bridges" % BRIDGES,
         "%d / %d" % (small["rpcs"], big["rpcs"]),
         "constant" if small["rpcs"] == big["rpcs"] else "NOT CONSTANT"),
        ("XAPI calls at 10 / %d bridges" % BRIDGES, "%d / %d" % (small["calls"], big["calls"]),
         "constant" if small["calls"] == big["calls"] else "NOT CONSTANT"),
        ("per-bridge ovs-vsctl runs (historical)", "%.1f s" % big["baseline"], how),
        ("ratio", "%.0fx" % ratio,
         "target >= %.0fx: %s" % (TARGET_RATIO, "met" if ratio >= TARGET_RATIO else "MISSED")),
    ]
    width = max(len(r[0]) for r in rows)
    print("update with %d bridges in OVSDB and %d networks in XAPI (load average %.1f)"
          % (BRIDGES, BRIDGES, os.getloadavg()[0]))
    for label, value, note in rows:
        print("  %-*s  %10s  %s" % (width, label, value, note))
