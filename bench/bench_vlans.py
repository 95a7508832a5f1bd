"""The plugin's ``update`` on a NIC with thousands of VLANs, and in a 64-host pool.

A real ovsdb-server with a dummy ovs-vswitchd holds xenbr0 (eth0), xenbr1
(eth1) and one fake bridge per VLAN network on eth1; the XAPI simulator, a
process of its own as XAPI is, holds the pool.  Measured in one run:

- ``update`` with nothing to change at 1000 and 4000 VLANs (best of
  several runs, in-process; the median is shown too), once through ``host.call_plugin`` at 1000
  (plugin process start-up included), and the database file's size after it
  (compacted: the data, not the log).  At 1000 the host first carries the
  historical ``xs-network-uuids`` (every network of eth1 on each bridge,
  N x N uuids): the first ``update`` converts it.
- the same host, 250 VLANs, alone and as one of 64 such hosts.

Targets: succeeds at both sizes; <= 0.8 s at 1000; t(4000)/t(1000) <= 4.5;
the file grows linearly (size(4000)/size(1000) <= 4.5); the pool at most
1.5x the host alone.
"""

import os
import shutil
import statistics
import tempfile
import time

from bench.hosts import Simulated, Switch, available, counted, fake_root, vlan_pool
from xsovs_common.actions import cfg_update
from xsovs_common.net import netconfig
from xsovs_common.ovs import transaction
from xsovs_common.ovs.changes import ChangeSet
from xsovs_common.ovs.snapshot import Snapshot
from xsovs_common.xapi import session as xapi, network as xapi_network
from xsovs_dev.xapisim import client

SIZES = (1000, 4000)
RUNS = 5
POOL_HOSTS, POOL_VLANS, POOL_RUNS = 64, 250, 7


class Host:
    """One simulated host: its switch, fake root and a simulator per fixture."""

    def __init__(self, workdir, vlans):
        self.workdir = workdir
        self.vlans = vlans
        self.switch = Switch(workdir)
        self.switch.fill(vlans)
        self.builder = vlan_pool(1, vlans)
        self.host_uuid = self.builder.host_uuid("host1")
        self.fake = fake_root(workdir, self.host_uuid)
        self.fake.configure(ovs_rundir=self.switch.ovs.rundir)   # OVS_RUNDIR of the plugin
        self.sims = []

    def serve(self, builder):
        """Point the root's XAPI (XSOVS_XAPI_URL) at a simulator of ``builder``'s pool."""
        sim = Simulated(self.workdir, builder.build(),
                        env={"XSOVS_ROOT": self.fake.path, "OVS_RUNDIR": self.switch.ovs.rundir})
        self.sims.append(sim)
        self.fake.configure(xapi_url=sim.url)
        return sim

    def update(self):
        with xapi.connect(root=self.fake.root) as api:      # login and logout are not update's
            start = time.perf_counter()
            value, calls, rpcs = counted(lambda: cfg_update.update(self.fake.root, api))
            return value, time.perf_counter() - start, calls, rpcs

    def call_plugin(self, sim):
        session = client.session(sim.url)
        session.xenapi.login_with_password("root", "")
        try:
            host = session.xenapi.host.get_by_uuid(self.host_uuid)
            start = time.perf_counter()
            value = session.xenapi.host.call_plugin(host, "openvswitch-cfg-update", "update",
                                                    {})
            return value, time.perf_counter() - start
        finally:
            session.xenapi.session.logout()

    def historical_ids(self):
        """What the historical scripts left: every network of eth1 on each of its bridges."""
        with xapi.connect(root=self.fake.root) as api:
            hn = xapi_network.load(api, self.host_uuid)
        bridges = ["xenbr1"] + ["xapi%d" % tag for tag in range(1, self.vlans + 1)]
        value = ";".join(hn.networks[hn.networks_with_bridge(b)[0]]["uuid"] for b in bridges)
        with transaction.connect(self.fake.root, timeout=120) as connection:
            snapshot = Snapshot.read(connection)
            changes = ChangeSet()
            for name in sorted(snapshot.bridges):
                if name != "xenbr0":
                    changes.br_set_external_id(name, netconfig.NETWORK_UUIDS_KEY, value)
            transaction.apply(connection, changes, snapshot, timeout=120)

    def close(self):
        for sim in self.sims:
            sim.close()
        self.switch.close()


def _size(workdir, vlans):
    """One size, set up alone (two big switches side by side slow each other)."""
    host = Host(os.path.join(workdir, "v%d" % vlans), vlans)
    out = {}
    try:
        sim = host.serve(host.builder)
        if vlans == SIZES[0]:
            host.historical_ids()
            out["historical_bytes"] = host.switch.compacted_size()
        value, out["first"], out["first_calls"], out["first_rpcs"] = host.update()
        assert value.startswith("network cache rewritten"), value
        times = []
        for _ in range(RUNS):
            value, seconds, out["calls"], out["rpcs"] = host.update()
            assert value == cfg_update.NO_CHANGE, value
            times.append(seconds)
        out["update"], out["median"] = min(times), statistics.median(times)
        out["bytes"] = host.switch.compacted_size()
        if vlans == SIZES[0]:
            value, out["plugin"] = host.call_plugin(sim)
            assert value == cfg_update.NO_CHANGE, value
        return out
    finally:
        host.close()


def _pool(workdir):
    host = Host(os.path.join(workdir, "pool"), POOL_VLANS)
    try:
        alone = vlan_pool(1, POOL_VLANS)
        pool = vlan_pool(POOL_HOSTS, POOL_VLANS)
        assert pool.host_uuid("host1") == alone.host_uuid("host1")
        urls = {}
        for name, builder in (("alone", alone), ("pool", pool)):
            urls[name] = host.serve(builder).url
        host.fake.configure(xapi_url=urls["alone"])
        host.update()    # sets the ids: from now on nothing to change
        times = {"alone": [], "pool": []}
        counts = {}
        for _ in range(POOL_RUNS):   # interleaved: a busy machine slows both alike
            for name in ("alone", "pool"):
                host.fake.configure(xapi_url=urls[name])
                value, seconds, calls, rpcs = host.update()
                assert value == cfg_update.NO_CHANGE, value
                times[name].append(seconds)
                counts[name] = (calls, rpcs)
        return {name: (min(t), counts[name], statistics.median(t)) for name, t in times.items()}
    finally:
        host.close()


def _verdict(ok):
    return "met" if ok else "MISSED"


def main():
    reason = available()
    if reason:
        print("skipped: " + reason)
        return
    workdir = tempfile.mkdtemp(prefix="bench-vlans-")
    try:
        small, big = (_size(workdir, n) for n in SIZES)
        pool = _pool(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    a, b = SIZES
    print("update on a host whose eth1 carries N VLAN networks (load average %.1f)"
          % os.getloadavg()[0])
    print("  N=%d: historical xs-network-uuids in OVSDB: %.1f MB; first update converts "
          "them in %.2f s (%d XAPI calls, %d OVSDB round trips)"
          % (a, small["historical_bytes"] / 1e6, small["first"], small["first_calls"],
             small["first_rpcs"]))
    for n, r in ((a, small), (b, big)):
        print("  N=%d: nothing to change %.3f s (best of %d, median %.3f s; %d XAPI calls, "
              "%d OVSDB round trips); OVSDB file %.2f MB"
              % (n, r["update"], RUNS, r["median"], r["calls"], r["rpcs"], r["bytes"] / 1e6))
    print("  N=%d through host.call_plugin (plugin start-up included): %.3f s"
          % (a, small["plugin"]))
    print("  target <= 0.8 s at %d: %.3f s: %s" % (a, small["update"],
                                                    _verdict(small["update"] <= 0.8)))
    ratio = big["update"] / small["update"]
    print("  target t(%d)/t(%d) <= 4.5: %.2f: %s" % (b, a, ratio, _verdict(ratio <= 4.5)))
    growth = big["bytes"] / float(small["bytes"])
    print("  OVSDB file grows linearly: size(%d)/size(%d) = %.2f (x%d VLANs): %s"
          % (b, a, growth, b // a, _verdict(growth <= 4.5)))
    alone, (pool_s, (calls, rpcs), pool_median) = pool["alone"], pool["pool"]
    print("update, nothing to change, %d VLANs (best of %d; median): host alone %.3f s (%.3f; "
          "%d XAPI calls, %d OVSDB round trips); one of %d hosts %.3f s (%.3f; %d XAPI calls, "
          "%d OVSDB round trips)" % (POOL_VLANS, POOL_RUNS, alone[0], alone[2], alone[1][0],
                                     alone[1][1], POOL_HOSTS, pool_s, pool_median, calls, rpcs))
    ratio = pool_s / alone[0]
    print("  target pool/alone <= 1.5: %.2f: %s" % (ratio, _verdict(ratio <= 1.5)))
