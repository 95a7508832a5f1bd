"""OVN on a pool: a VIF plug until ovn-controller claims it; Xen Orchestra's meshes as the baseline.

One run, real parts: an OVN central (NB and SB Raft clusters, ovn-northd) on
loopback; three hosts, each a real ovsdb-server with a dummy ovs-vswitchd, a
fake root, ``ovs-xapi-sync`` and the real ``ovn-controller`` (started by the
plugin's ``update``, which XAPI -- the simulator -- runs); 100 OVN networks
and 1000 VIFs in XAPI, their logical switches and ports in NB.

Measured:
- chassis: ``update`` on three hosts until SB has them and their tunnels;
- 1000 VIFs: all but SAMPLES plugged at once (xenopsd's command, one per
  host) until every one is claimed (``ovn-installed`` on its interface),
  then SAMPLES plugged one by one with xenopsd's command: plug -> claimed,
  median and max;
- tunnel ports per host;
- a fourth host joining every network: ``update`` until its tunnels are up.

Baselines in the same run: SAMPLES VIFs plugged on a network without OVN,
until ``ovs-xapi-sync`` has written their ``iface-id`` (what a plug costs
without OVN); and Xen Orchestra's SDN controller over the same 100
networks: its star per network (one centre, a tunnel from each other host
and one back), built with its own OVSDB transactions over TLS
(:class:`xsovs_dev.sdn.XoClient`) on four hosts listening with ``pssl``:
tunnel ports per host, and a fourth host added to every network.
"""

import os
import statistics
import tempfile
import time

from xsovs_common import paths
from xsovs_common.net import ovn
from xsovs_common.ovs import ovsdb
from xsovs_dev import ovs as ovsmod
from xsovs_dev import pki, sdn, toolstack
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.ovn import central as centralmod
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import SyncDaemon, make_root, wait_for
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

HOSTS = 3
NETWORKS = 100
VIFS = 1000
SAMPLES = 20
PLUGIN = "openvswitch-cfg-update"


def _uuid(kind, n):
    return "%08x-0000-4000-8000-%012x" % (kind, n)


def _network(n):
    return _uuid(0xb0, n), "xapi%d" % (100 + n)


def _vif_network(n):
    """VIF n's network: one of the OVN networks, or (the baseline's VIFs, past VIFS) a
    network without OVN, number NETWORKS."""
    return _network(n % NETWORKS if n < VIFS else NETWORKS)


class Host:
    def __init__(self, workdir, number, sim_url):
        self.name = "host%d" % number
        self.uuid = _uuid(2, number)
        self.address = "192.0.2.%d" % (10 + number)
        self.fake = FakeRoot(os.path.join(workdir, self.name), host_uuid=self.uuid)
        self.fake.stub_program("iptables")
        self.fake.link_program("ovn-ctl")
        self.fake.link_program("ovn-controller")
        self.switch = ovsmod.OvsInstance(os.path.join(workdir, self.name, "ovs"),
                                         vswitchd="dummy").start()
        self.db = ovsdb.Connection(self.switch.socket)
        python = host_python()
        self.sync = SyncDaemon(self.fake.path, make_root(self.fake.path), self.switch, sim_url,
                               python=python)

    def count(self, table, where):
        (result,) = self.db.transact([ovsdb.op_select(table, ["_uuid"], where)])
        return len(result["rows"])

    def tunnels(self):
        return self.count("Interface", [["type", "==", "geneve"]])

    def claimed(self):
        return self.count("Interface", [["external_ids", "includes",
                                         ovsdb.to_datum({"ovn-installed": "true"})]])

    def has(self, dev, key, value):
        return self.count("Interface", [["name", "==", dev], ["external_ids", "includes",
                                        ovsdb.to_datum({key: value})]]) == 1

    def close(self):
        self.sync.stop()
        ovsmod.kill_daemons(self.fake.file(paths.OVN_RUNDIR))
        self.db.close()
        self.switch.stop()


def _fixture(central):
    builder = PoolBuilder(other_config={ovn.POOL_SB: central.sb_remote})
    for number in range(1, HOSTS + 2):
        builder.host("host%d" % number, uuid=_uuid(2, number), address="192.0.2.%d" % (10 + number))
        builder.physical_pif("eth0", "xenbr0", management=True,
                             ip="192.0.2.%d/24" % (10 + number))
    for n in range(NETWORKS):
        uuid, bridge = _network(n)
        builder.network(bridge, uuid=uuid, other_config={ovn.NETWORK_OVN: "true"})
    uuid, bridge = _network(NETWORKS)
    builder.network(bridge, uuid=uuid)
    fixture = builder.build()
    fixture.setdefault("VM", {})
    fixture.setdefault("VIF", {})
    for n in range(VIFS + SAMPLES):
        vm = "OpaqueRef:bench-vm-%d" % n
        fixture["VM"][vm] = {"uuid": _uuid(0xc0, n), "other_config": {}}
        fixture["VIF"]["OpaqueRef:bench-vif-%d" % n] = {
            "uuid": _uuid(0xd0, n), "VM": vm, "device": "0", "MAC": _mac(n),
            "network": builder.network_ref(_vif_network(n)[1])}
    return builder, fixture


def _mac(n):
    return "02:bb:00:00:%02x:%02x" % (n >> 8, n & 255)


def _logical_ports(central):
    args = []
    for n in range(NETWORKS):
        args += ["--", "ls-add", _network(n)[0]]
    for n in range(VIFS):
        switch, vif = _network(n % NETWORKS)[0], _uuid(0xd0, n)
        args += ["--", "lsp-add", switch, vif, "--", "lsp-set-addresses", vif, _mac(n)]
    central.nbctl(*args, timeout=120)


def _plug_args(host_index, vifs):
    """xenopsd's plug commands for ``vifs`` (VIF numbers), as one ovs-vsctl call."""
    args = [toolstack.VIF_TIMEOUT]
    for n in vifs:
        uuid, bridge = _vif_network(n)
        args += toolstack.plug_vif(bridge, "vif%d.0" % (n + 1), uuid, _uuid(0xd0, n),
                                   _uuid(0xc0, n), _mac(n))[1:]
    return args


def _bridges_args():
    args = [toolstack.NETWORKD_TIMEOUT]
    for n in range(NETWORKS + 1):
        args += toolstack.create_bridge(_network(n)[1], _network(n)[0])[1:]
    return args


def _median_max(values):
    return statistics.median(values), max(values)


def _plug_until_iface_id(members, n, times):
    """Plug VIF ``n`` as xenopsd does and wait for ovs-xapi-sync's iface-id on it; the
    time taken goes to ``times``.  Returns (host, port name, start time)."""
    host = members[n % HOSTS]
    dev = "vif%d.0" % (n + 1)
    started = time.monotonic()
    host.switch.vsctl(*_plug_args(n % HOSTS, [n]))
    if not wait_for(lambda: host.has(dev, "iface-id", _uuid(0xd0, n)),
                    timeout=60, interval=0.005):
        raise RuntimeError("%s never got its iface-id" % dev)
    times.append(time.monotonic() - started)
    return host, dev, started


def measure_ovn(workdir, rows):
    central = centralmod.OvnCentral(os.path.join(workdir, "central")).start()
    builder, fixture = _fixture(central)
    sim = Simulator(fixture)
    sim.start()
    hosts = []
    try:
        session = client.session(sim.url)
        session.xenapi.login_with_password("root", "")
        x = session.xenapi
        for number in range(1, HOSTS + 2):
            host = Host(workdir, number, sim.url)
            hosts.append(host)
            sim.host_env[host.uuid] = {"XSOVS_ROOT": host.fake.path,
                                       "OVS_RUNDIR": host.switch.rundir}
            host.switch.vsctl(*_bridges_args())
        _logical_ports(central)
        members, joiner = hosts[:HOSTS], hosts[HOSTS]

        calls = sum(sim.api.calls.values())
        started = time.monotonic()
        for host in members:
            x.host.call_plugin(builder.host_ref(host.name), PLUGIN, "update", {})
        if not wait_for(lambda: all(h.tunnels() == HOSTS - 1 for h in members), timeout=120):
            raise RuntimeError("the chassis never saw each other")
        rows.append(("OVN: 3 hosts made chassis (update) until tunnels are up",
                     "%.2f s" % (time.monotonic() - started),
                     "%d XAPI calls" % (sum(sim.api.calls.values()) - calls)))

        for host in members:
            host.sync.start()
        bulk = VIFS - SAMPLES
        started = time.monotonic()
        for index, host in enumerate(members):
            host.switch.vsctl(*_plug_args(index, [n for n in range(bulk) if n % HOSTS == index]))
        if not wait_for(lambda: sum(h.claimed() for h in members) == bulk, timeout=600,
                        interval=0.1):
            raise RuntimeError("the %d VIFs were never all claimed (%d)"
                               % (bulk, sum(h.claimed() for h in members)))
        rows.append(("OVN: %d VIFs plugged at once -> all claimed" % bulk,
                     "%.2f s" % (time.monotonic() - started), "%d networks" % NETWORKS))

        latency, moved = [], []
        for n in range(bulk, VIFS):
            # ovs-xapi-sync writes iface-id and moves the port in one transaction.
            host, dev, started = _plug_until_iface_id(members, n, moved)
            if not wait_for(lambda h=host, d=dev: h.has(d, "ovn-installed", "true"),
                            timeout=60, interval=0.005):
                raise RuntimeError("%s never claimed" % dev)
            latency.append(time.monotonic() - started)
        plain = []
        for n in range(VIFS, VIFS + SAMPLES):
            _plug_until_iface_id(members, n, plain)
        med, top = _median_max(latency)
        base, _ = _median_max(plain)
        rows.append(("OVN: one VIF plug -> claimed, median / max (%d)" % SAMPLES,
                     "%.3f / %.3f s" % (med, top), "at %d VIFs; %.1fx the baseline's median"
                     % (VIFS, med / base)))
        mmed, mtop = _median_max(moved)
        rows.append(("  of which plug -> on br-int with iface-id (ovs-xapi-sync)",
                     "%.3f / %.3f s" % (mmed, mtop), ""))
        rows.append(("baseline: a VIF plug on a network without OVN -> iface-id",
                     "%.3f / %.3f s" % (base, max(plain)), "ovs-xapi-sync alone, same hosts"))
        rows.append(("OVN: tunnel ports per host", " ".join(str(h.tunnels()) for h in members),
                     "one per other chassis, whatever the networks"))

        calls = sum(sim.api.calls.values())
        started = time.monotonic()
        x.host.call_plugin(builder.host_ref(joiner.name), PLUGIN, "update", {})
        if not wait_for(lambda: all(h.tunnels() == HOSTS for h in hosts), timeout=120):
            raise RuntimeError("the fourth host never joined")
        joined = time.monotonic() - started
        rows.append(("OVN: a 4th host joins all %d networks (update)" % NETWORKS,
                     "%.2f s" % joined, "%d XAPI calls, 1 OVSDB transaction"
                     % (sum(sim.api.calls.values()) - calls)))
        session.xenapi.session.logout()
        return joined
    finally:
        for host in hosts:
            host.close()
        sim.stop()
        central.stop()


def measure_mesh(workdir, rows):
    """Xen Orchestra's star per network, centre host1, on four hosts listening with pssl."""
    certs = os.path.join(workdir, "certs")
    pool_ca = pki.CA(certs, "sdn-controller")
    xo = pool_ca.issue("xo-server")
    switches = []
    try:
        ports = centralmod.free_ports(HOSTS + 1)
        for number in range(HOSTS + 1):
            leaf = pki.self_signed(certs, "mesh-host%d" % number)
            switch = ovsmod.OvsInstance(
                os.path.join(workdir, "mesh%d" % number), vswitchd="dummy",
                remotes=["pssl:%d:127.0.0.1" % ports[number]],
                ssl=(leaf.key, leaf.cert, pool_ca.cert)).start()
            switch.vsctl(*_bridges_args())
            switches.append(switch)
        clients = [sdn.XoClient("127.0.0.1", xo.key, xo.cert, pool_ca.cert, port=port)
                   for port in ports]
        centre, members = clients[0], clients[1:HOSTS]

        def join(member, address):
            for n in range(NETWORKS):
                uuid = _network(n)[0]
                member.add_tunnel(uuid, "192.0.2.11", "vxlan", 1000 + n)
                centre.add_tunnel(uuid, address, "vxlan", 1000 + n)

        for index, member in enumerate(members):
            join(member, "192.0.2.%d" % (12 + index))

        def tunnels(switch):
            return switch.vsctl("--bare", "--columns=name", "find", "Interface",
                                "type=vxlan").split()
        rows.append(("XO mesh: tunnel ports per host", " ".join(
            str(len(tunnels(s))) for s in switches[:HOSTS]), "centre host1: one per network "
            "and other host"))
        started = time.monotonic()
        join(clients[HOSTS], "192.0.2.14")
        joined = time.monotonic() - started
        rows.append(("XO mesh: a 4th host joins all %d networks" % NETWORKS, "%.2f s" % joined,
                     "%d TLS sessions, %d OVSDB transactions" % (2 * NETWORKS, 2 * NETWORKS)))
        rows.append(("XO mesh: tunnel ports per host after", " ".join(
            str(len(tunnels(s))) for s in switches), ""))
        return joined
    finally:
        for switch in switches:
            switch.stop()


def main():
    reason = ovsmod.available() or centralmod.available() or pki.unavailable_reason()
    if reason:
        print("skipped: %s" % reason)
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="xsovs-bench-ovn-") as tmp:
        ovn_join = measure_ovn(os.path.join(tmp, "ovn"), rows)
        mesh_join = measure_mesh(os.path.join(tmp, "mesh"), rows)
    rows.append(("adding a host: XO mesh / OVN", "%.1fx" % (mesh_join / ovn_join), ""))
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print("  %-*s  %-18s %s" % (width, name, value, note))
