"""interface-reconfigure end to end: a simulated host in a network namespace.

The host namespace runs a userspace (netdev) Open vSwitch; its NICs are
veths to a peer namespace.  The kernel offers no VLAN, bond or bridge
devices, so the peer's side is a second userspace Open vSwitch: a bridge
with the untagged address and an internal port tagged 100 (the VLAN
interface), and a bridge over the two bond links.  dnsmasq serves DHCP on a
fourth link.  ip, ethtool, sysctl and dhclient run inside the host
namespace; packets are real.
"""

import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from tests.support.host_and_peer import PEER_VLAN_PORT, HostAndPeer
from xsovs_common import paths
from xsovs_common.net import dbcache
from xsovs_common.net.model import HostNetwork
from xsovs_dev import dnsmasq, netns, ovs
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.skips import need
from xsovs_dev.xapisim import PoolBuilder, Simulator

HOST_UUID = "5f1c8ab2-0c47-4a8e-9d0b-0000000000e2"
HOST_ADDRESS = "192.0.2.10"            # the management interface, on xenbr0
PEER_ADDRESSES = {"untagged": "192.0.2.1", "vlan": "198.51.100.1", "bond": "203.0.113.1",
                  "dhcp": "10.10.0.1"}


def _pif(ref, device, network, mac, **fields):
    record = {"uuid": "%s-0000-4000-8000-000000000000" % ref[-8:], "device": device,
              "MAC": mac, "network": network, "management": False, "VLAN": "-1",
              "VLAN_master_of": "OpaqueRef:NULL", "VLAN_slave_of": [], "bond_master_of": [],
              "bond_slave_of": "OpaqueRef:NULL", "tunnel_access_PIF_of": [],
              "tunnel_transport_PIF_of": [], "ip_configuration_mode": "None", "IP": "",
              "netmask": "", "gateway": "", "DNS": "", "ipv6_configuration_mode": "None",
              "IPv6": [], "ipv6_gateway": "", "primary_address_type": "IPv4",
              "currently_attached": False, "other_config": {}}
    record.update(fields)
    return ref, record


def host_network():
    """eth0 (management, static) + VLAN 100; bond0 (active-backup) over eth1/eth2; eth3 DHCP."""
    refs = {name: "OpaqueRef:%08d" % i for i, name in enumerate(
        ("eth0", "v100", "eth1", "eth2", "bond0", "eth3", "vlan100", "bond"), 1)}
    nets = {b: "OpaqueRef:net-%s" % b for b in ("xenbr0", "xapi2", "xenbr1", "xenbr2",
                                                 "xapi1", "xenbr3")}
    static = {"ip_configuration_mode": "Static", "netmask": "255.255.255.0"}
    pifs = dict([
        _pif(refs["eth0"], "eth0", nets["xenbr0"], "02:00:00:00:e2:00", management=True,
             IP="192.0.2.10", gateway=PEER_ADDRESSES["untagged"],
             VLAN_slave_of=[refs["vlan100"]], **static),
        _pif(refs["v100"], "eth0", nets["xapi2"], "02:00:00:00:e2:00", VLAN="100",
             VLAN_master_of=refs["vlan100"], IP="198.51.100.10", **static),
        _pif(refs["eth1"], "eth1", nets["xenbr1"], "02:00:00:00:e2:01",
             bond_slave_of=refs["bond"]),
        _pif(refs["eth2"], "eth2", nets["xenbr2"], "02:00:00:00:e2:02",
             bond_slave_of=refs["bond"]),
        _pif(refs["bond0"], "bond0", nets["xapi1"], "02:00:00:00:e2:01",
             bond_master_of=[refs["bond"]], IP="203.0.113.10",
             other_config={"bond-mode": "active-backup", "bond-downdelay": "0"}, **static),
        _pif(refs["eth3"], "eth3", nets["xenbr3"], "02:00:00:00:e2:03",
             ip_configuration_mode="DHCP"),
    ])
    networks = {}
    for bridge, ref in nets.items():
        pif = next(r for r, p in pifs.items() if p["network"] == ref)
        networks[ref] = {"uuid": "%08d-1111-4000-8000-000000000000" % len(networks),
                         "bridge": bridge, "MTU": "1500", "PIFs": [pif], "other_config": {}}
    bonds = {refs["bond"]: {"uuid": "b0", "master": refs["bond0"],
                            "slaves": [refs["eth1"], refs["eth2"]]}}
    vlans = {refs["vlan100"]: {"uuid": "v100", "tagged_PIF": refs["eth0"],
                               "untagged_PIF": refs["v100"], "tag": "100"}}
    return HostNetwork(pifs, networks, bonds, vlans, {}, {"OpaqueRef:pool": {
        "other_config": {}}})


class Lab(HostAndPeer):
    def __init__(self, workdir):
        HostAndPeer.__init__(self, workdir)
        # `ip netns exec` shows /etc/netns/NS/* as /etc/*: dhclient-script's
        # resolv.conf stays inside the lab.
        self.etc = "/etc/netns/" + self.host.name
        os.makedirs(self.etc)
        with open(os.path.join(self.etc, "resolv.conf"), "w"):
            pass

    def start(self):
        self.start_switches(4)
        for device, address in (("pbr0", "untagged"), (PEER_VLAN_PORT, "vlan"),
                                ("pbr1", "bond"), ("p3", "dhcp")):
            self.peer.run(["ip", "addr", "add", PEER_ADDRESSES[address] + "/24", "dev",
                           device])
            self.peer.run(["ip", "link", "set", device, "up"])
        self.dhcp = dnsmasq.Dnsmasq(self.peer, "p3", ["10.10.0.50,10.10.0.60,255.255.255.0,1h"],
                                    self.workdir).start()
        self.root = FakeRoot(os.path.join(self.workdir, "root"), host_uuid=HOST_UUID)
        for program in ("ip", "ethtool", "sysctl", "dhclient"):
            self.root.netns_program(program, self.host.name)
        self.root.stub_program("update-issue")
        self.root.link_program("ovs-ofctl")
        dbcache.write(self.root.file(paths.NETWORK_DBCACHE), host_network())
        return self

    def stop(self):
        """Tear the lab down; returns the pids still running in its namespaces."""
        if hasattr(self, "dhcp"):
            self.dhcp.stop()
        self.stop_switches()
        leftovers = [netns.kill_processes(ns.name) for ns in (self.host, self.peer)]
        self.host.delete()
        self.peer.delete()
        shutil.rmtree(self.etc, ignore_errors=True)
        try:
            os.rmdir(os.path.dirname(self.etc))
        except OSError:
            pass                       # not empty: another test's namespace
        return leftovers

    # Acting and observing.

    def reconfigure(self, *argv, env=None):
        return self.interface_reconfigure(self.root.path, *argv, env=env)

    def pings(self, address, within=8.0):
        deadline = time.time() + within
        while True:
            if self.host.run(["ping", "-c", "1", "-W", "1", address], check=False) \
                    .returncode == 0:
                return True
            if time.time() > deadline:
                return False

    def links(self):
        return self.host.run(["ip", "-o", "link", "show"]).stdout

    def addresses(self, device):
        return self.host.run(["ip", "-4", "-o", "addr", "show", "dev", device]).stdout

    def bond_members(self):
        """{member: (enabled, active)} from ovs-vswitchd's bond/show."""
        text = subprocess.run(
            ["ovs-appctl", "-t", os.path.join(self.host_ovs.rundir, "ovs-vswitchd.ctl"),
             "bond/show", "bond0"], stdout=subprocess.PIPE, universal_newlines=True,
            check=True).stdout
        members = {}
        for block in re.split(r"\n(?=(?:member|slave) )", text):
            match = re.match(r"(?:member|slave) (\S+): (\w+)", block)
            if match:
                members[match.group(1)] = (match.group(2) == "enabled",
                                           "active member" in block or "active slave" in block)
        return members


class Pinger:
    """Pings an address from a namespace, one ping after another, while the block
    runs: ``answers`` holds one bool per ping."""

    def __init__(self, ns, address):
        self.ns = ns
        self.address = address
        self.answers = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        while not self._stop.is_set() or not self.answers:
            result = self.ns.run(["ping", "-c", "1", "-W", "2", self.address], check=False)
            self.answers.append(result.returncode == 0)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    need(netns.unavailable_reason())
    need(ovs.available())
    need(dnsmasq.unavailable_reason())
    for program in ("ping", "ovs-appctl"):
        need(None if shutil.which(program) else "%s is not installed (make setup)" % program)
    the_lab = Lab(str(tmp_path_factory.mktemp("ifr-e2e")))
    try:
        yield the_lab.start()
    finally:
        leftovers = the_lab.stop()
    assert leftovers == [[], []], "processes left running in the lab's namespaces"


def test_management_bridge_and_vlan_from_the_cache(lab):
    assert lab.reconfigure("--force", "xenbr0", "up") == 0
    assert lab.pings(PEER_ADDRESSES["untagged"])
    assert "192.0.2.10/24" in lab.addresses("xenbr0")
    routes = lab.host.run(["ip", "route", "show", "default"]).stdout
    assert "via 192.0.2.1 dev xenbr0" in routes

    assert lab.reconfigure("--force", "xapi2", "up") == 0
    assert lab.pings(PEER_ADDRESSES["vlan"])
    assert "198.51.100.10/24" in lab.addresses("xapi2")
    # The VLAN's IP device carries the datapath PIF's MAC.
    assert "02:00:00:00:e2:00" in lab.host.run(["ip", "link", "show", "xapi2"]).stdout
    assert lab.pings(PEER_ADDRESSES["untagged"])       # the untagged network still works

    assert lab.reconfigure("--force", "xapi2", "down") == 0
    assert lab.reconfigure("--force", "xenbr0", "down") == 0
    assert lab.host_ovs.vsctl("list-br").split() == []
    links = lab.links()
    assert "xenbr0" not in links and "xapi2" not in links
    assert not lab.pings(PEER_ADDRESSES["untagged"], within=0)


def test_active_backup_bond_survives_losing_its_active_link(lab):
    assert lab.reconfigure("--force", "xapi1", "up") == 0
    assert lab.pings(PEER_ADDRESSES["bond"])
    members = lab.bond_members()
    assert sorted(members) == ["eth1", "eth2"]
    active = [m for m, (_, is_active) in members.items() if is_active]
    assert len(active) == 1
    peer_link = "p" + active[0][-1]
    lab.peer.run(["ip", "link", "set", peer_link, "down"])
    try:
        deadline = time.time() + 5
        while lab.bond_members()[active[0]][0] and time.time() < deadline:
            time.sleep(0.1)
        assert not lab.bond_members()[active[0]][0]
        # The userspace datapath moves its cached flows to the new member within ~5 s.
        assert lab.pings(PEER_ADDRESSES["bond"], within=15)
        assert [m for m, (_, is_active) in lab.bond_members().items() if is_active] == \
            [m for m in ("eth1", "eth2") if m != active[0]]
    finally:
        lab.peer.run(["ip", "link", "set", peer_link, "up"])
    assert lab.reconfigure("--force", "xapi1", "down") == 0
    assert lab.host_ovs.vsctl("list-br").split() == []
    assert "xapi1" not in lab.links()


def test_dhcp_gives_the_bridge_its_address(lab):
    assert lab.reconfigure("--force", "xenbr3", "up") == 0
    shown = lab.addresses("xenbr3")
    assert re.search(r"inet 10\.10\.0\.(5\d|60)/24", shown), shown
    assert lab.pings(PEER_ADDRESSES["dhcp"])
    pid = int(lab.root.read("/var/run/dhclient-xenbr3.pid"))
    assert lab.reconfigure("--force", "xenbr3", "down") == 0
    running = netns.run(["ip", "netns", "pids", lab.host.name]).stdout.split()
    assert str(pid) not in running          # down stopped the bridge's dhclient
    assert lab.host_ovs.vsctl("list-br").split() == []
    assert "xenbr3" not in lab.links()


def _management_bridge_is_whole(lab):
    """xenbr0 with its address and the default route, the host answering through it."""
    assert "xenbr0" in lab.host_ovs.vsctl("list-br").split()
    assert HOST_ADDRESS + "/24" in lab.addresses("xenbr0")
    routes = lab.host.run(["ip", "route", "show", "default"]).stdout
    assert "via 192.0.2.1 dev xenbr0" in routes
    assert lab.pings(PEER_ADDRESSES["untagged"])


def test_a_vlan_down_from_the_cache_never_takes_the_management_bridge(lab):
    """xenbr0 carries the management interface: taking its VLAN down leaves it, and
    the host answers all along; a VLAN up that must make xenbr0 again gives it back
    its address and default route."""
    assert lab.reconfigure("--force", "xenbr0", "up") == 0
    assert lab.reconfigure("--force", "xapi2", "up") == 0
    assert lab.pings(PEER_ADDRESSES["vlan"])
    with Pinger(lab.peer, HOST_ADDRESS) as pinger:
        assert lab.reconfigure("--force", "xapi2", "down") == 0
    assert all(pinger.answers), pinger.answers
    assert lab.host_ovs.vsctl("list-br").split() == ["xenbr0"]
    _management_bridge_is_whole(lab)

    # The parent gone (as an earlier version's VLAN down left it): the VLAN's up
    # makes it again, whole.
    lab.host_ovs.vsctl("del-br", "xenbr0")
    assert not lab.pings(PEER_ADDRESSES["untagged"], within=0)
    assert lab.reconfigure("--force", "xapi2", "up") == 0
    _management_bridge_is_whole(lab)
    assert lab.pings(PEER_ADDRESSES["vlan"])

    assert lab.reconfigure("--force", "xapi2", "down") == 0
    assert lab.reconfigure("--force", "xenbr0", "down") == 0
    assert lab.host_ovs.vsctl("list-br").split() == []


def test_a_vlan_down_through_xapi_never_takes_the_management_bridge(lab):
    """The same with XAPI's --session/--pif, where XAPI does not (yet) say the
    management PIF is attached: being the management interface keeps its bridge."""
    mac = host_network().pifs["OpaqueRef:00000001"]["MAC"]     # eth0's, as the peer knows it
    builder = (PoolBuilder().host("host1", uuid=HOST_UUID)
               .physical_pif("eth0", "xenbr0", mac=mac, management=True,
                             ip=HOST_ADDRESS + "/24", gateway=PEER_ADDRESSES["untagged"],
                             attached=False)
               .vlan("eth0", 100, "xapi2", mac=mac, ip="198.51.100.10/24", mode="Static"))
    eth0, vlan = builder.pif_ref("eth0"), builder.pif_ref("eth0", vlan=100)
    cache = lab.root.file(paths.NETWORK_DBCACHE)
    with open(cache) as handle:
        saved = handle.read()      # the other tests' cache: XAPI's run rewrites it
    try:
        with Simulator(builder.build()) as sim:
            env = {"XSOVS_XAPI_URL": sim.url}
            session = sim.login()
            for pif in (eth0, vlan):
                assert lab.reconfigure("--session", session, "--pif", pif, "up", env=env) == 0
            assert lab.pings(PEER_ADDRESSES["vlan"])
            with Pinger(lab.peer, HOST_ADDRESS) as pinger:
                assert lab.reconfigure("--session", session, "--pif", vlan, "down",
                                       env=env) == 0
            assert all(pinger.answers), pinger.answers
            assert lab.host_ovs.vsctl("list-br").split() == ["xenbr0"]
            _management_bridge_is_whole(lab)
            sim.store.set("PIF", vlan, "currently_attached", False)    # as XAPI does after
            assert lab.reconfigure("--session", session, "--pif", eth0, "down", env=env) == 0
            assert lab.host_ovs.vsctl("list-br").split() == []
    finally:
        with open(cache, "w") as handle:
            handle.write(saved)
