"""``interface-reconfigure --session S --pif P up`` as XAPI runs it, once per PIF.

A host whose eth1 carries N VLAN networks: the XAPI simulator in a process
of its own, a real ovsdb-server with a dummy ovs-vswitchd, a fake root whose
programs exit at once.  Every call is the executable in a new process,
start-up and imports included.  Measured in one run:

- one VLAN's ``up`` with 10 and with 1000 VLANs on the NIC (every other
  VLAN's fake bridge already up, the network cache written); XAPI calls and
  OVSDB round trips counted on an in-process run of the same action;
- a one-by-one bring-up of 1000 VLAN PIFs.  All of it takes minutes on this
  machine, so by default a sample is run: the call that brings VLAN k+1 up
  with VLANs 1..k already up, for k = 0, 100, ..., 900, each standing for the
  100 calls around it (XSOVS_BENCH_FULL=1 runs all 1000 calls);
- start-up alone: ``interface-reconfigure --help`` and the import of each
  executable's module.

Target: t(1000 VLANs) / t(10 VLANs) <= 1.5.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench.hosts import Simulated, Switch, available, counted, fake_root, vlan_pool
from xsovs_common import paths
from xsovs_common.actions import interface_reconfigure
from xsovs_common.net import dbcache
from xsovs_common.xapi import session as xapi, network as xapi_network
from xsovs_dev.xapisim import REPO_ROOT, client

EXECUTABLE = str(REPO_ROOT / "libexec" / "interface-reconfigure")
SIZES = (10, 1000)
RUNS = 7
BRING_UP = 1000
STEP = 100
# What the executables import (xsovs_common.actions.commands).
MODULES = tuple("xsovs_common.actions.commands." + name for name in (
    "interface_reconfigure", "openvswitch_cfg_update", "openvswitch_boot",
    "openvswitch_pool_update"))


class Host:
    def __init__(self, workdir, vlans):
        self.vlans = vlans
        self.switch = Switch(workdir)
        self.builder = vlan_pool(1, vlans)
        self.host_uuid = self.builder.host_uuid("host1")
        self.fake = fake_root(workdir, self.host_uuid)
        self.sim = Simulated(workdir, self.builder.build())
        self.env = dict(os.environ, XSOVS_XAPI_URL=self.sim.url, OVS_RUNDIR=self.switch.ovs.rundir,
                        PYTHONPATH=str(REPO_ROOT))
        self.env.pop("XSOVS_DATAPATH_TYPE", None)
        # What XSOVS_XAPI_URL and OVS_RUNDIR give an executable, for in-process work.
        self.fake.configure(xapi_url=self.sim.url, ovs_rundir=self.switch.ovs.rundir)
        with xapi.connect(root=self.fake.root) as api:   # the cache a full rewrite writes
            dbcache.write(self.fake.file(paths.NETWORK_DBCACHE),
                          xapi_network.load(api, self.host_uuid))
        session = client.session(self.sim.url)
        session.xenapi.login_with_password("root", "")
        self.session = session._session

    def pif(self, tag):
        return self.builder.pif_ref("eth1", vlan=tag)

    def up_bridges(self, tags):
        """xenbr0, xenbr1 and the fake bridges of ``tags`` (not timed)."""
        self.switch.ovs.reset()
        args = ["add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
                "--", "add-br", "xenbr1", "--", "add-port", "xenbr1", "eth1"]
        for tag in tags:
            args += ["--", "add-br", "xapi%d" % tag, "xenbr1", str(tag)]
        self.switch.ovs.vsctl("--timeout=300", *args)

    def run(self, tag):
        """The executable, as XAPI runs it; returns seconds."""
        start = time.perf_counter()
        done = subprocess.run([sys.executable, EXECUTABLE, "--root-prefix", self.fake.path,
                               "--session", self.session, "--pif", self.pif(tag), "up"],
                              env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError("interface-reconfigure failed: %s" % done.stderr[-2000:])
        return elapsed

    def in_process(self, tag):
        """The same action in-process: (XAPI calls, OVSDB round trips)."""
        _, calls, rpcs = counted(lambda: interface_reconfigure.pif_action(
            self.fake.root, "up", session_ref=self.session, pif_ref=self.pif(tag)))
        return calls, rpcs

    def drop(self, tag):
        self.switch.ovs.vsctl("--if-exists", "del-br", "xapi%d" % tag)

    def close(self):
        self.sim.close()
        self.switch.close()


def _one_vlan(hosts):
    """Median seconds of VLAN N's up on each host (sizes interleaved), and its counts."""
    out = {}
    for host in hosts:
        host.up_bridges(range(1, host.vlans))
        host.drop(host.vlans)
        out[host.vlans] = {"times": [], "counts": host.in_process(host.vlans)}
    for _ in range(RUNS):
        for host in hosts:
            host.drop(host.vlans)
            out[host.vlans]["times"].append(host.run(host.vlans))
    for value in out.values():
        value["best"], value["median"] = min(value["times"]), statistics.median(value["times"])
    return out


def _bring_up(host, full):
    """(total seconds, calls run, how) of VLANs 1..BRING_UP brought up one by one."""
    if full:
        host.up_bridges(())
        start = time.perf_counter()
        for tag in range(1, BRING_UP + 1):
            host.run(tag)
        return time.perf_counter() - start, BRING_UP, "all %d calls run" % BRING_UP
    total, samples = 0.0, []
    for k in range(0, BRING_UP, STEP):
        host.up_bridges(range(1, k + 1))
        seconds = host.run(k + 1)
        samples.append(seconds)
        total += seconds * STEP
    return total, len(samples), ("estimated from %d calls (VLAN k+1 up with k up, k = 0, %d, "
                                 "..., %d), each standing for %d; per call %.3f .. %.3f s"
                                 % (len(samples), STEP, BRING_UP - STEP, STEP, min(samples),
                                    max(samples)))


def _startup():
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, EXECUTABLE, "--help"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    imports = {}
    for module in MODULES:
        best = None
        for _ in range(3):
            done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import " + module],
                                  env=env, check=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, universal_newlines=True)
            total = sum(int(line.split("|")[1]) for line in done.stderr.splitlines()
                        if line.startswith("import time:") and line.split("|")[2].strip()
                        == module)
            best = total if best is None else min(best, total)
        imports[module] = best / 1e3
    return statistics.median(times), imports


def main():
    reason = available()
    if reason:
        print("skipped: " + reason)
        return
    full = os.environ.get("XSOVS_BENCH_FULL") == "1"
    workdir = tempfile.mkdtemp(prefix="bench-pif-up-")
    hosts = []
    try:
        for n in SIZES:
            hosts.append(Host(os.path.join(workdir, "h%d" % n), n))
        one = _one_vlan(hosts)
        for host in hosts[:-1]:
            host.close()
        hosts = hosts[-1:]
        total, ran, how = _bring_up(hosts[0], full)
        help_seconds, imports = _startup()
    finally:
        for host in hosts:
            host.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print("interface-reconfigure --session S --pif VLAN up, as XAPI runs it (load average %.1f)"
          % os.getloadavg()[0])
    for n in SIZES:
        r = one[n]
        print("  %4d VLANs on eth1: %.3f s (best of %d, median %.3f s; %d XAPI calls, %d OVSDB "
              "round trips)" % (n, r["best"], RUNS, r["median"], r["counts"][0], r["counts"][1]))
    ratio = one[SIZES[1]]["best"] / one[SIZES[0]]["best"]
    print("  target t(%d)/t(%d) <= 1.5: %.2f: %s"
          % (SIZES[1], SIZES[0], ratio, "met" if ratio <= 1.5 else "MISSED"))
    print("  one-by-one bring-up of %d VLAN PIFs: %.0f s (%s)" % (BRING_UP, total, how))
    print("start-up: interface-reconfigure --help %.3f s (median of 5, process included)"
          % help_seconds)
    for module, ms in imports.items():
        print("  import %-36s %5.1f ms" % (module, ms))
