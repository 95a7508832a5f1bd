"""The traffic rules' end-to-end lab: a host, a peer and VMs in namespaces (see
tests/e2e/test_traffic_rules_e2e.py), plugged and driven as xenopsd and XAPI do."""

import json
import os
import subprocess
import time

from tests.support import traffic_host as th
from tests.support.host_and_peer import PEER_VLAN_PORT, HostAndPeer
from xsovs_common.net import traffic_rules as tr
from xsovs_dev import netns, toolstack
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import SyncDaemon, make_root, wait_for
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

PEER = {"xenbr0": "192.0.2.1", "xapi2": "198.51.100.1", "xapi1": "203.0.113.1"}
SECOND_PEER = "192.0.2.2"
PEER6, VM6 = "2001:db8::1", "2001:db8::11"          # on xenbr0's segment, with VM 1
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
        self.peer.run(["ip", "-6", "addr", "add", PEER6 + "/64", "dev", "pbr0", "nodad"])
        for port in (DENIED, ALLOWED):
            self._serve(["nc", "-lk", str(port)])
            self._serve(["nc", "-6", "-lk", str(port)])
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
        self.daemon = self.start_daemon()
        self.run = toolstack.host_runner(self.host_ovs.rundir, self.host.name)
        for n, (_, address) in VMS.items():
            self.vms[n] = self.make_vm(n, address)
            self.plug(n, "vif%d.0" % n)
        self.vms[1].run(["ip", "-6", "addr", "add", VM6 + "/64", "dev", "eth0", "nodad"])
        return self

    def start_daemon(self, xapi_url=None):
        """ovs-xapi-sync on the host, talking to the simulator (else to ``xapi_url``)."""
        return SyncDaemon(self.workdir, self.root.path, self.host_ovs, xapi_url or self.sim.url,
                          python=PYTHON).start()

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

    def plug(self, n, dev, locking=toolstack.UNLOCKED):
        """xenopsd's vif script for VIF n's device ``dev``: setup-vif-rules does the rest."""
        toolstack.vif_online(self.run, dev, *self._vif(n), locking=locking)

    def set_locking(self, n, dev, locking):
        """XAPI's locking mode for VIF n, and xenopsd running setup-vif-rules again."""
        ref = self.x.VIF.get_by_uuid(th.vif_uuid(n))
        self.x.VIF.set_ipv4_allowed(ref, list(locking.ipv4))
        self.x.VIF.set_locking_mode(ref, locking.mode)
        toolstack.set_locking_mode(self.run, dev, *self._vif(n), locking=locking)

    def _vif(self, n):
        bridge = VMS[n][0]
        network = self.x.network.get_uuid(self.builder.network_ref(bridge))
        return bridge, network, th.vif_uuid(n), th.vm_uuid(n), th.mac(n)

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
        """The daemon reports VIF n's port (``port``, else any) enforced and applied, on
        the port's current ofport (setup-vif-rules adds the port again: a new one)."""
        answer = self.daemon.appctl("traffic-rules/show")
        if answer.returncode != 0:
            return False
        report = json.loads(answer.stdout)
        ports = [p for p in report["ports"] if p["vif"] == th.vif_uuid(n)
                 and (port is None or p["port"] == port)]
        return bool(ports) and all(p["state"] == "enforced" and
                                   bool(p.get("rules")) == with_rules and
                                   str(p["ofport"]) == self.ofport(p["port"]) for p in ports) \
            and all(b["error"] is None for b in report["bridges"].values())

    def ofport(self, dev):
        try:
            return self.host_ovs.get("Interface", dev, "ofport").strip()
        except subprocess.CalledProcessError:
            return None

    # -- traffic ---------------------------------------------------------------------
    def tcp(self, n, address, port, source=None):
        argv = ["nc", "-z", "-w", "2"] + (["-s", source] if source else [])
        return self.vms[n].run(argv + [address, str(port)], check=False).returncode == 0

    def udp(self, n, address, port):
        mark = "datagram-%d-%f" % (n, time.time())
        self.vms[n].run(["sh", "-c", "echo %s | nc -u -w 1 %s %d" % (mark, address, port)],
                        check=False)
        return bool(wait_for(lambda: mark in _read(self.udp_log(port)), timeout=1.5))

    def ping(self, n, address):
        return self.vms[n].run(["ping", "-c", "1", "-W", "1", address],
                               check=False).returncode == 0

    def new_mac(self, n, mac):
        """The guest puts ``mac`` on its NIC; it and the peer forget their neighbours."""
        vm = self.vms[n]
        vm.run(["ip", "link", "set", "eth0", "address", mac])
        for ns in (vm, self.peer):
            ns.run(["ip", "neigh", "flush", "all"])

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
