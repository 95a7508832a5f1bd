"""Traffic rules end to end: VMs in namespaces, real TCP, UDP and ICMP through a userspace switch.

A host namespace runs a userspace (netdev) Open vSwitch whose bridges
``interface-reconfigure`` builds from XAPI (the simulator): a NIC (xenbr0),
a VLAN on it (xapi2, a fake bridge) and an active-backup bond (xapi1).  Its
NICs are veths to a peer namespace, whose own userspace switch carries the
untagged network, VLAN 100 and the bond's far end.  A "VM" namespace per
network is plugged the way xenopsd plugs a VIF; ``ovs-xapi-sync`` enforces
the VIF's rules from XAPI, with nobody calling any plugin.  The peer listens
with ``nc`` and answers ``ping``.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

from tests.support import traffic_host as th
from tests.support.host_and_peer import PEER_VLAN_PORT, HostAndPeer
from tests.support.traffic_host import rule, stored
from xsovs_common.net import traffic_rules as tr
from xsovs_dev import netns, ovs
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.skips import need
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import SyncDaemon, make_root, wait_for
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

PEER = {"xenbr0": "192.0.2.1", "xapi2": "198.51.100.1", "xapi1": "203.0.113.1"}
SECOND_PEER = "192.0.2.2"
VMS = {1: ("xenbr0", "192.0.2.11"), 2: ("xapi2", "198.51.100.11"), 3: ("xapi1", "203.0.113.11")}
DENIED, ALLOWED = 5001, 5002
PYTHON = host_python()


def pool():
    b = PoolBuilder(other_config={tr.OF_FORMAT_KEY: tr.FORMAT_PLUGIN})
    b.host("host1", address="192.0.2.10")
    b.physical_pif("eth0", "xenbr0")
    b.vlan("eth0", 100, "xapi2")
    b.physical_pif("eth1", "xenbr1")
    b.physical_pif("eth2", "xenbr2")
    b.bond("bond0", ["eth1", "eth2"], "xapi1", mode="active-backup")
    return b


def tx_off(ns, device):
    """Checksums filled in by the sender: the userspace datapath forwards them as they are."""
    ns.run(["ethtool", "-K", device, "tx", "off"], check=False)


class Lab(HostAndPeer):
    def __init__(self, workdir):
        HostAndPeer.__init__(self, workdir)
        self.vms = {}
        self.procs = []

    def start(self):
        self.start_switches(3)
        for i in range(3):
            tx_off(self.host, "eth%d" % i)
            tx_off(self.peer, "p%d" % i)
        for device, addresses in (("pbr0", [PEER["xenbr0"], SECOND_PEER]),
                                  (PEER_VLAN_PORT, [PEER["xapi2"]]), ("pbr1", [PEER["xapi1"]])):
            for address in addresses:
                self.peer.run(["ip", "addr", "add", address + "/24", "dev", device])
            self.peer.run(["ip", "link", "set", device, "up"])
            tx_off(self.peer, device)
        for port in (DENIED, ALLOWED):
            self._serve(["nc", "-lk", str(port)])
            self._serve(["sh", "-c", "exec nc -ukl %d > %s" % (port, self.udp_log(port))])
        self.builder = pool()
        self.sim = Simulator(th.add_vms(self.builder.build(), self.builder,
                                        [(n, bridge, None) for n, (bridge, _) in VMS.items()]))
        self.sim.start()
        self.host_uuid = self.builder.host_uuid("host1")
        self.root = FakeRoot(os.path.join(self.workdir, "root"), host_uuid=self.host_uuid)
        for program in ("ip", "ethtool", "sysctl", "dhclient"):
            self.root.netns_program(program, self.host.name)
        self.root.stub_program("update-issue")
        for program in ("ovs-ofctl", "ovs-appctl"):
            self.root.link_program(program)
        make_root(self.root.path)
        self.session = client.session(self.sim.url)
        self.session.xenapi.login_with_password("root", "")
        self.x = self.session.xenapi
        for device, vlan in (("eth0", -1), ("eth0", 100), ("bond0", -1)):
            self.reconfigure(self.builder.pif_ref(device, host="host1", vlan=vlan))
        self.daemon = SyncDaemon(self.workdir, self.root.path, self.host_ovs, self.sim.url,
                                 python=PYTHON).start()
        for n, (_, address) in VMS.items():
            self.vms[n] = self.make_vm(n, address)
            self.plug(n, "vif%d.0" % n)
        return self

    def _serve(self, argv):
        self.procs.append(subprocess.Popen(["ip", "netns", "exec", self.peer.name] + argv,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def udp_log(self, port):
        return os.path.join(self.workdir, "udp-%d.log" % port)

    def reconfigure(self, pif):
        assert self.interface_reconfigure(self.root.path, "--session", self.session._session,
                                          "--pif", pif, "up",
                                          env={"XSOVS_XAPI_URL": self.sim.url}) == 0

    def make_vm(self, n, address):
        vm = netns.Namespace().create()
        netns.veth(self.host, "vif%d.0" % n, vm, "eth0")
        vm.run(["ip", "link", "set", "eth0", "down"])
        vm.run(["ip", "link", "set", "eth0", "address", th.mac(n)])
        vm.run(["ip", "link", "set", "eth0", "up"])
        vm.run(["ip", "addr", "add", address + "/24", "dev", "eth0"])
        tx_off(vm, "eth0")
        tx_off(self.host, "vif%d.0" % n)
        return vm

    def plug(self, n, dev):
        bridge = VMS[n][0]
        network = self.x.network.get_uuid(self.builder.network_ref(bridge))
        self.host_ovs.vsctl(*th.plug_argv(bridge, dev, n, network))

    def set_rules(self, n, value):
        ref = self.x.VIF.get_by_uuid(th.vif_uuid(n))
        self.x.VIF.remove_from_other_config(ref, tr.RULES_KEY)
        if value is not None:
            self.x.VIF.add_to_other_config(ref, tr.RULES_KEY, value)

    def wait_rules(self, n, value):
        """Set VIF n's rules in XAPI and wait until the switch enforces them."""
        self.set_rules(n, value)
        assert wait_for(lambda: self.enforced(n, value is not None), timeout=30), \
            self.daemon.log()

    def enforced(self, n, with_rules, port=None):
        """The daemon reports VIF n's port (``port``, else any) enforced and applied."""
        answer = self.daemon.appctl("traffic-rules/show")
        if answer.returncode != 0:
            return False
        report = json.loads(answer.stdout)
        ports = [p for p in report["ports"] if p["vif"] == th.vif_uuid(n)
                 and (port is None or p["port"] == port)]
        return bool(ports) and all(p["state"] == "enforced" and
                                   bool(p.get("rules")) == with_rules for p in ports) \
            and all(b["error"] is None for b in report["bridges"].values())

    # -- traffic ---------------------------------------------------------------------
    def tcp(self, n, address, port):
        return self.vms[n].run(["nc", "-z", "-w", "2", address, str(port)],
                               check=False).returncode == 0

    def udp(self, n, address, port):
        mark = "datagram-%d-%f" % (n, time.time())
        self.vms[n].run(["sh", "-c", "echo %s | nc -u -w 1 %s %d" % (mark, address, port)],
                        check=False)
        return bool(wait_for(lambda: mark in _read(self.udp_log(port)), timeout=1.5))

    def ping(self, n, address):
        return self.vms[n].run(["ping", "-c", "1", "-W", "1", address],
                               check=False).returncode == 0

    def peer_ping(self, source, address):
        return self.peer.run(["ping", "-c", "1", "-W", "1", "-I", source, address],
                             check=False).returncode == 0

    def stop(self):
        if getattr(self, "daemon", None):
            self.daemon.stop()
        for proc in self.procs:
            proc.kill()
            proc.wait()
        if getattr(self, "sim", None):
            self.sim.stop()
        self.stop_switches()
        leftovers = [netns.kill_processes(ns.name) for ns in
                     [self.host, self.peer] + list(self.vms.values())]
        for ns in [self.host, self.peer] + list(self.vms.values()):
            ns.delete()
        return [x for x in leftovers if x]


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    need(netns.unavailable_reason())
    need(ovs.available())
    for program in ("ping", "nc", "ethtool"):
        need(None if shutil.which(program) else "%s is not installed (make setup)" % program)
    the_lab = Lab(str(tmp_path_factory.mktemp("traffic-e2e")))
    try:
        yield the_lab.start()
    finally:
        leftovers = the_lab.stop()
    assert leftovers == [], "processes left running in the lab's namespaces"


def deny_port_rules():
    return stored(rule(False, "TCP", DENIED, "", "to"))


def passes(check):
    """``check`` succeeds (the switch revalidates its cached flows within moments)."""
    return bool(wait_for(check, timeout=8, interval=0.2))


def blocked(check):
    """``check`` fails, and again once more: a deny that holds, not a lost packet."""
    return bool(wait_for(lambda: not check(), timeout=8, interval=0.2)) and not check()


@pytest.mark.parametrize("n", sorted(VMS), ids=[VMS[n][0] for n in sorted(VMS)])
def test_a_denied_tcp_port_fails_and_an_allowed_one_passes(lab, n):
    peer = PEER[VMS[n][0]]
    assert passes(lambda: lab.tcp(n, peer, ALLOWED)), "no path to the peer"
    assert lab.tcp(n, peer, DENIED)
    lab.wait_rules(n, deny_port_rules())
    assert blocked(lambda: lab.tcp(n, peer, DENIED))
    assert passes(lambda: lab.tcp(n, peer, ALLOWED))
    lab.wait_rules(n, None)
    assert passes(lambda: lab.tcp(n, peer, DENIED))


def test_udp_icmp_and_ip_ranges(lab):
    lab.wait_rules(1, stored(rule(False, "UDP", DENIED, "192.0.2.1", "to"),
                             rule(False, "ICMP", None, SECOND_PEER, "to"),
                             rule(False, "ICMP", None, SECOND_PEER, "from")))
    assert blocked(lambda: lab.udp(1, PEER["xenbr0"], DENIED))
    assert passes(lambda: lab.udp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.ping(1, SECOND_PEER))                 # the range denied
    assert passes(lambda: lab.ping(1, PEER["xenbr0"]))               # outside it
    assert blocked(lambda: lab.peer_ping(SECOND_PEER, VMS[1][1]))    # into the VM, from it
    assert passes(lambda: lab.peer_ping(PEER["xenbr0"], VMS[1][1]))
    lab.wait_rules(1, None)
    assert passes(lambda: lab.ping(1, SECOND_PEER))


def test_an_allow_punches_through_a_wider_deny_and_other_owners_still_decide(lab):
    lab.wait_rules(1, stored(rule(False, "IP", None, "", "to"),
                             rule(True, "TCP", ALLOWED, "192.0.2.0/24", "to"),
                             rule(True, "ARP", None, "", "to")))
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    assert blocked(lambda: lab.ping(1, PEER["xenbr0"]))
    # Another owner's deny (XAPI's locking flows' cookie) still holds for what xsovs allows.
    target = "unix:%s/xenbr0.mgmt" % lab.host_ovs.rundir
    ofport = lab.host_ovs.get("Interface", "vif1.0", "ofport")
    lab.host_ovs.ofctl("add-flow", target, "cookie=0x1,priority=4000,in_port=%s,tcp,tp_dst=%d,"
                       "actions=drop" % (ofport, ALLOWED))
    try:
        assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    finally:
        lab.host_ovs.ofctl("del-flows", target, "cookie=0x1/-1")
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    lab.wait_rules(1, None)


def test_a_spoofed_mac_is_still_denied(lab):
    lab.wait_rules(1, deny_port_rules())
    vm = lab.vms[1]
    vm.run(["ip", "link", "set", "eth0", "address", "02:aa:bb:cc:dd:ee"])
    try:
        assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
        assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    finally:
        vm.run(["ip", "link", "set", "eth0", "address", th.mac(1)])
    lab.wait_rules(1, None)


def test_rules_hold_after_migration_and_vswitchd_restart(lab):
    lab.wait_rules(1, deny_port_rules())
    calls = len(lab.sim.plugin_calls)
    # Migrated back under another domain id: xenopsd unplugs vif1.0, plugs vif9.0.
    lab.host_ovs.vsctl(*th.unplug_argv("vif1.0"))
    lab.host.run(["ip", "link", "set", "vif1.0", "down"])
    lab.host.run(["ip", "link", "set", "vif1.0", "name", "vif9.0"])
    lab.host.run(["ip", "link", "set", "vif9.0", "up"])
    lab.plug(1, "vif9.0")
    assert wait_for(lambda: lab.enforced(1, True, port="vif9.0"), timeout=30)
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    # ovs-vswitchd restarts: its flow tables come back empty; the daemon notices.
    lab.host_ovs.stop_vswitchd()
    lab.host_ovs.start_vswitchd()
    with open(os.path.join(lab.host_ovs.rundir, "ovs-vswitchd.pid")) as handle:
        pid = int(handle.read())

    def reinstalled():
        answer = lab.daemon.appctl("traffic-rules/show")
        return answer.returncode == 0 and json.loads(answer.stdout)["vswitchd_pid"] == pid \
            and lab.enforced(1, True)
    assert wait_for(reinstalled, timeout=30)
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    assert len(lab.sim.plugin_calls) == calls           # no plugin call: XAPI's data alone
    lab.wait_rules(1, None)
