"""interface-reconfigure against a real ovsdb-server and a live dummy ovs-vswitchd.

The host is a fake root: stub programs (ip, ethtool, dhclient, sysctl,
update-issue) record their argv, the real ovs-ofctl talks to the dummy
switch.  XAPI is the simulator, through the real XenAPI client.  Rows are
read back with the real ovs-vsctl.
"""

import json
import os
import subprocess
import sys

import pytest

from xsovs_common import paths
from xsovs_common.actions.commands import interface_reconfigure
from xsovs_common.net import dbcache
from xsovs_common.ovs import transaction
from xsovs_common.ovs.changes import ChangeSet
from xsovs_common.ovs.snapshot import Snapshot
from xsovs_common.xapi import session as xapi, network as xapi_network
from xsovs_common.ovs.mgmt_flows import COOKIE
from xsovs_dev.skips import python36
from xsovs_dev.xapisim import PoolBuilder, Simulator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXECUTABLE = os.path.join(REPO, "libexec", "interface-reconfigure")
STUBS = ("ip", "ethtool", "dhclient", "sysctl", "update-issue")
HOST1 = "00000002-0000-4000-8000-000000000001"


def pool(bond_config=None, pool_config=None, attached=False):
    """host1: eth0 (management, static) with VLANs 100 and 101 and a tunnel; bond0 over
    eth1+eth2 with VLAN 200; eth3 (DHCP).  host2: eth0."""
    b = PoolBuilder(other_config=pool_config)
    b.host("host1")
    b.physical_pif("eth0", "xenbr0", management=True, ip="192.0.2.10/24",
                   gateway="192.0.2.1", dns="192.0.2.53", attached=attached)
    b.physical_pif("eth1", "xenbr1", attached=False)
    b.physical_pif("eth2", "xenbr2", attached=False)
    b.physical_pif("eth3", "xenbr3", mode="DHCP", attached=attached)
    b.bond("bond0", ["eth1", "eth2"], "xapi1", pif_other_config=bond_config or {},
           attached=attached)
    b.vlan("eth0", 100, "xapi2", attached=attached)
    b.vlan("eth0", 101, "xapi5", attached=attached)
    b.vlan("bond0", 200, "xapi3", ip="198.51.100.5/24", mode="Static", attached=attached)
    b.tunnel("eth0", "xapi4", attached=attached)
    b.host("host2")
    b.physical_pif("eth0", "xenbr0", management=True)
    return b


class Host:
    """A fake dom0: root, switch, XAPI simulator; runs interface-reconfigure."""

    def __init__(self, fake_root, ovs, sim, capsys):
        self.fake_root = fake_root
        self.ovs = ovs
        self.sim = sim
        self.capsys = capsys

    @property
    def root(self):
        return self.fake_root.root

    def run(self, *argv):
        """In-process, as the executable does; returns (status, stderr)."""
        status = interface_reconfigure.main(["--root-prefix", self.fake_root.path,
                                            "--no-syslog"] + list(argv))
        return status, self.capsys.readouterr().err

    def ok(self, *argv):
        status, err = self.run(*argv)
        assert status == 0, err
        return err

    def execute(self, *argv, python=sys.executable, env=None):
        """The executable in a subprocess, as XAPI runs it."""
        full_env = dict(self.ovs.env, XSOVS_XAPI_URL=self.sim.url, PYTHONPATH=REPO)
        full_env.pop("XSOVS_DATAPATH_TYPE", None)
        full_env.update(env or {})
        return subprocess.run([python, EXECUTABLE, "--root-prefix", self.fake_root.path,
                               "--no-syslog"] + list(argv), env=full_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)

    def session_args(self, device, vlan=-1):
        ref = self.sim.store.find("PIF", device=device, host=self.host_ref(),
                                  VLAN=vlan)[0]
        return ["--session", self.sim.login(), "--pif", ref]

    def host_ref(self):
        return self.sim.store.by_uuid("host", HOST1)

    def write_cache(self, edit=None):
        """The cache XAPI's data makes, optionally edited (HostNetwork -> None)."""
        with xapi.connect(root=self.root) as api:
            hn = xapi_network.load(api, HOST1)
        if edit:
            edit(hn)
        dbcache.write(self.fake_root.file(paths.NETWORK_DBCACHE), hn)
        return hn

    def net_uuid(self, bridge):
        return self.sim.store.field("network", self.sim.store.find("network", bridge=bridge)[0],
                                    "uuid")

    def mac(self, device, vlan=-1):
        ref = self.sim.store.find("PIF", device=device, host=self.host_ref(), VLAN=vlan)[0]
        return self.sim.store.field("PIF", ref, "MAC")

    # Reading the outcome.

    def get(self, table, record, column):
        return self.ovs.get(table, record, column)

    def bridges(self):
        return sorted(self.ovs.vsctl("list-br").split())

    def ports(self, bridge):
        return sorted(self.ovs.vsctl("list-ports", bridge).split())

    def switch_state(self):
        vsctl = self.ovs.vsctl
        return "\n".join([
            vsctl("show"),
            vsctl("--columns=name,fail_mode,other_config,external_ids,datapath_type",
                  "list", "Bridge"),
            vsctl("--columns=name,tag,fake_bridge,bond_mode,lacp,bond_updelay,"
                  "bond_downdelay,other_config,external_ids,mac", "list", "Port"),
            vsctl("--columns=name,type,mac,mtu_request", "list", "Interface")])

    def files(self):
        found = {}
        skip = {self.fake_root.calls_log, self.fake_root.file(paths.LOCK_FILE)}
        for directory, _, names in os.walk(self.fake_root.path):
            for name in names:
                path = os.path.join(directory, name)
                if path in skip or os.path.islink(path) or path.startswith(
                        self.fake_root.file("/sbin")):
                    continue
                with open(path) as handle:
                    found[os.path.relpath(path, self.fake_root.path)] = handle.read()
        return found

    def state(self):
        return self.switch_state(), self.files(), self.fake_root.calls()

    def calls(self, program):
        return [c[1:] for c in self.fake_root.calls(program)]

    def clear_calls(self):
        if os.path.exists(self.fake_root.calls_log):
            os.unlink(self.fake_root.calls_log)

    def flows(self, bridge):
        return [f for f in self.ovs.ofctl("--no-stats", "dump-flows", bridge).splitlines()
                if "cookie=" + COOKIE in f]


@pytest.fixture
def make_host(ovs, fake_root, monkeypatch, capsys):
    sims = []
    monkeypatch.delenv("XSOVS_DATAPATH_TYPE", raising=False)
    fake_root.write_inventory(HOST1)
    for name in STUBS:
        fake_root.stub_program(name)
    fake_root.link_program("ovs-ofctl")

    def make(builder=None):
        sim = Simulator((builder or pool()).build())
        sim.start()
        sims.append(sim)
        monkeypatch.setenv("XSOVS_XAPI_URL", sim.url)   # for the executable's start
        fake_root.configure(xapi_url=sim.url)            # for the test's own reads
        return Host(fake_root, ovs, sim, capsys)

    yield make
    for sim in sims:
        sim.stop()


@pytest.fixture
def host(make_host):
    return make_host()


def _ifcfg(host, device):
    return host.fake_root.read("/etc/sysconfig/network-scripts/ifcfg-" + device)


# Physical PIF, from the cache (boot) -----------------------------------------

def test_physical_up_and_down_from_the_cache(host):
    host.write_cache()
    host.ok("--force", "xenbr0", "up")
    assert host.bridges() == ["xenbr0"]
    assert host.ports("xenbr0") == ["eth0"]
    assert host.get("Bridge", "xenbr0", "fail_mode") == "standalone"
    assert host.get("Bridge", "xenbr0", "other_config:hwaddr") == '"%s"' % host.mac("eth0")
    assert host.get("Bridge", "xenbr0", "datapath_type") == "system"
    assert host.ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == \
        host.net_uuid("xenbr0")
    assert host.get("Interface", "eth0", "mtu_request") == "1500"
    assert host.get("Interface", "xenbr0", "mtu_request") == "1500"
    ifcfg = _ifcfg(host, "xenbr0")
    assert "IPADDR=192.0.2.10" in ifcfg and "DEVICE=xenbr0" in ifcfg
    assert ["link", "set", "dev", "eth0", "up"] in host.calls("ip")
    assert ["-K", "eth0", "gro", "off", "lro", "off"] in host.calls("ethtool")
    assert ["-4", "addr", "replace", "192.0.2.10/24", "broadcast", "+", "dev", "xenbr0"] \
        in host.calls("ip")
    assert host.calls("update-issue") == [[]]
    assert not host.fake_root.calls("dhclient")

    host.clear_calls()
    host.ok("--force", "xenbr0", "down")
    assert host.bridges() == []
    assert not host.fake_root.exists("/etc/sysconfig/network-scripts/ifcfg-xenbr0")
    assert ["link", "set", "dev", "eth0", "down"] in host.calls("ip")


def test_up_twice_is_harmless(host):
    host.write_cache()
    host.ok("--force", "xenbr0", "up")
    before = host.switch_state()
    host.ok("--force", "xenbr0", "up")
    assert host.switch_state() == before


def test_datapath_type_from_the_environment(host, monkeypatch):
    host.write_cache()
    monkeypatch.setenv("XSOVS_DATAPATH_TYPE", "netdev")
    host.ok("--force", "xenbr0", "up")
    assert host.get("Bridge", "xenbr0", "datapath_type") == "netdev"
    monkeypatch.setenv("XSOVS_DATAPATH_TYPE", "net dev")
    status, err = host.run("--force", "xenbr0", "up")
    assert status == 1 and "XSOVS_DATAPATH_TYPE" in err


# VLANs ------------------------------------------------------------------------

def test_vlan_up_and_down_from_the_cache(host):
    host.write_cache()
    host.ok("--force", "xapi2", "up")
    host.ok("--force", "xapi5", "up")
    assert host.bridges() == ["xapi2", "xapi5", "xenbr0"]
    vsctl = host.ovs.vsctl
    assert vsctl("br-to-parent", "xapi2").strip() == "xenbr0"
    assert vsctl("br-to-vlan", "xapi2").strip() == "100"
    assert vsctl("br-to-vlan", "xapi5").strip() == "101"
    assert host.ports("xenbr0") == ["eth0"]
    # As XAPI writes them: a fake bridge names its network, then its parent's.
    assert vsctl("br-get-external-id", "xapi2", "xs-network-uuids").strip() == \
        host.net_uuid("xapi2") + ";" + host.net_uuid("xenbr0")
    assert vsctl("br-get-external-id", "xapi5", "xs-network-uuids").strip() == \
        host.net_uuid("xapi5") + ";" + host.net_uuid("xenbr0")
    assert vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == \
        host.net_uuid("xenbr0")
    # The VLAN's IP device has the datapath's MAC.
    assert host.get("Interface", "xapi2", "mac") == '"%s"' % host.mac("eth0")
    assert host.get("Interface", "xapi2", "type") == "internal"
    assert host.get("Port", "xapi2", "tag") == "100"
    assert "BOOTPROTO=none" in _ifcfg(host, "xapi2")

    # Down: another VLAN is up on the parent (its fake bridge exists), so the parent stays.
    host.clear_calls()
    host.ok("--force", "xapi2", "down")
    assert host.bridges() == ["xapi5", "xenbr0"]
    assert ["link", "set", "dev", "eth0", "down"] not in host.calls("ip")
    # The last VLAN down: the parent carries the management interface, so it stays too.
    host.ok("--force", "xapi5", "down")
    assert host.bridges() == ["xenbr0"]
    assert ["link", "set", "dev", "eth0", "down"] not in host.calls("ip")
    host.ok("--force", "xenbr0", "down")
    assert host.bridges() == []
    assert ["link", "set", "dev", "eth0", "down"] in host.calls("ip")


def test_vlan_replaces_a_stale_bridge_and_a_duplicate_tag(host):
    host.write_cache()
    host.ovs.vsctl("add-br", "xapi2", "--", "add-br", "xenbr0", "--", "add-port", "xenbr0",
                   "eth0", "--", "add-br", "old100", "xenbr0", "100")
    host.ok("--force", "xapi2", "up")
    assert host.bridges() == ["xapi2", "xenbr0"]
    assert host.ovs.vsctl("br-to-parent", "xapi2").strip() == "xenbr0"


def test_vlan_down_from_xapi_keeps_an_attached_parent(make_host):
    host = make_host(pool(attached=False))
    host.ok(*host.session_args("bond0", 200) + ["up"])
    bond0 = host.sim.store.find("PIF", device="bond0", host=host.host_ref(), VLAN=-1)[0]
    host.sim.store.set("PIF", bond0, "currently_attached", True)
    host.ok(*host.session_args("bond0", 200) + ["down"])
    assert host.bridges() == ["xapi1"]
    host.sim.store.set("PIF", bond0, "currently_attached", False)
    host.ok(*host.session_args("bond0", 200) + ["up"])
    host.ok(*host.session_args("bond0", 200) + ["down"])
    assert host.bridges() == []


def test_vlan_down_from_xapi_keeps_the_management_parent_xapi_calls_unattached(make_host):
    """eth0 is the management interface, with an address: in use, whatever
    currently_attached says."""
    host = make_host(pool(attached=False))
    host.ok(*host.session_args("eth0") + ["up"])
    host.ok(*host.session_args("eth0", 100) + ["up"])
    host.clear_calls()
    host.ok(*host.session_args("eth0", 100) + ["down"])
    assert host.bridges() == ["xenbr0"]
    assert ["link", "set", "dev", "eth0", "down"] not in host.calls("ip")
    assert not [c for c in host.calls("ip") if "xenbr0" in c and "flush" in c]


# Bonds ------------------------------------------------------------------------

BOND_CASES = {
    "balance-slb": ({}, "balance-slb", "[]"),
    "active-backup": ({"bond-mode": "active-backup"}, "active-backup", "[]"),
    "lacp-src_mac": ({"bond-mode": "lacp", "bond-hashing-algorithm": "src_mac"},
                     "balance-slb", "active"),
    "lacp-tcpudp_ports": ({"bond-mode": "lacp", "bond-hashing-algorithm": "tcpudp_ports",
                           "bond-lacp-time": "fast"}, "balance-tcp", "active"),
}


@pytest.mark.parametrize("case", sorted(BOND_CASES))
def test_bond_modes_from_xapi(make_host, case):
    config, bond_mode, lacp = BOND_CASES[case]
    host = make_host(pool(bond_config=dict(config, **{"bond-updelay": "500"})))
    host.ok(*host.session_args("bond0") + ["up"])
    assert host.bridges() == ["xapi1"]
    assert host.ports("xapi1") == ["bond0"]
    assert sorted(host.ovs.vsctl("list-ifaces", "xapi1").split()) == ["eth1", "eth2"]
    assert host.get("Port", "bond0", "bond_mode") == bond_mode
    assert host.get("Port", "bond0", "lacp") == lacp
    assert host.get("Port", "bond0", "bond_updelay") == "500"
    assert host.get("Port", "bond0", "bond_downdelay") == "200"
    assert host.get("Port", "bond0", "mac") == '"%s"' % host.mac("bond0")
    other = host.get("Port", "bond0", "other_config")
    assert 'bond-miimon-interval="100"' in other and "bond-detect-mode=carrier" in other
    assert ("bond-rebalance-interval" in other) == (lacp == "[]")
    if case == "lacp-tcpudp_ports":
        assert "lacp-time=fast" in other
    assert host.get("Bridge", "xapi1", "other_config:hwaddr") == '"%s"' % host.mac("bond0")
    for nic in ("eth1", "eth2"):
        assert ["link", "set", "dev", nic, "up"] in host.calls("ip")
        assert host.get("Interface", nic, "mtu_request") == "1500"
    # The cache now holds what XAPI said.
    cached = dbcache.read(host.fake_root.file(paths.NETWORK_DBCACHE))
    assert sorted(r["device"] for r in cached.pifs.values()) == \
        ["bond0", "bond0", "eth0", "eth0", "eth0", "eth1", "eth2", "eth3", "tunnel0"]

    host.ok(*host.session_args("bond0") + ["down"])
    assert host.bridges() == []
    for nic in ("eth1", "eth2"):
        assert ["link", "set", "dev", nic, "down"] in host.calls("ip")


def test_bond_settings_follow_xapi_on_the_next_up(host):
    host.ok(*host.session_args("bond0") + ["up"])
    bond = host.sim.store.find("PIF", device="bond0", host=host.host_ref(), VLAN=-1)[0]
    host.sim.store.set("PIF", bond, "other_config", {"bond-mode": "active-backup"})
    host.ok(*host.session_args("bond0") + ["up"])
    assert host.get("Port", "bond0", "bond_mode") == "active-backup"


def test_bond_and_its_nics_take_each_others_place(host):
    host.write_cache()
    host.ok("--force", "xenbr1", "up")
    host.ok("--force", "xenbr2", "up")
    assert host.bridges() == ["xenbr1", "xenbr2"]
    assert host.fake_root.exists("/etc/sysconfig/network-scripts/ifcfg-xenbr1")

    host.ok("--force", "xapi1", "up")
    assert host.bridges() == ["xapi1"]
    # The NICs' bridges went with their IP configuration.
    assert not host.fake_root.exists("/etc/sysconfig/network-scripts/ifcfg-xenbr1")
    assert not host.fake_root.exists("/etc/sysconfig/network-scripts/ifcfg-xenbr2")

    host.clear_calls()
    host.ok("--force", "xenbr1", "up")
    assert host.bridges() == ["xenbr1"]
    assert host.ports("xenbr1") == ["eth1"]
    assert ["link", "set", "dev", "eth2", "down"] in host.calls("ip")


def test_vlan_on_a_bond(host):
    host.write_cache()
    host.ok("--force", "xapi3", "up")
    assert host.bridges() == ["xapi1", "xapi3"]
    assert host.ovs.vsctl("br-to-parent", "xapi3").strip() == "xapi1"
    assert host.ovs.vsctl("br-to-vlan", "xapi3").strip() == "200"
    assert host.ports("xapi1") == ["bond0"]
    assert host.get("Interface", "xapi3", "mac") == '"%s"' % host.mac("bond0")
    assert "IPADDR=198.51.100.5" in _ifcfg(host, "xapi3")
    host.ok("--force", "xapi3", "down")
    assert host.bridges() == []


# Tunnel -------------------------------------------------------------------------

def test_tunnel_bridge(host):
    host.write_cache()
    host.ok("--force", "xapi4", "up")
    assert host.bridges() == ["xapi4"]
    assert host.ports("xapi4") == []
    assert host.ovs.vsctl("br-get-external-id", "xapi4", "xs-network-uuids").strip() == \
        host.net_uuid("xapi4")
    host.ok("--force", "xapi4", "down")
    assert host.bridges() == []


# Fail modes, management flows, --management ----------------------------------------

def test_secure_management_bridge_keeps_the_host_reachable(make_host):
    host = make_host(pool(pool_config={"vswitch-controller-fail-mode": "secure"}))
    host.write_cache()
    host.ok("--force", "xenbr0", "up")
    assert host.get("Bridge", "xenbr0", "fail_mode") == "secure"
    flows = host.flows("xenbr0")
    assert any("arp" in f and "actions=LOCAL" in f for f in flows)
    # Up again (flows first, the bridge exists): the same flows, not twice as many.
    host.ok("--force", "xenbr0", "up")
    assert sorted(host.flows("xenbr0")) == sorted(flows)
    # A secure bridge that is not the management one gets none.
    host.ok("--force", "xenbr3", "up")
    assert host.get("Bridge", "xenbr3", "fail_mode") == "secure"
    assert host.flows("xenbr3") == []


def test_flows_survive_a_standalone_bridge_turning_secure(make_host):
    """ovs-vswitchd flushes flows when a bridge's fail mode changes: they go in again after."""
    host = make_host(pool())
    host.write_cache()
    host.ok("--force", "xenbr0", "up")
    assert host.get("Bridge", "xenbr0", "fail_mode") == "standalone"
    assert not [f for f in host.flows("xenbr0") if COOKIE in f]

    def secure(hn):
        hn.pool()["other_config"]["vswitch-controller-fail-mode"] = "secure"
    host.write_cache(edit=secure)
    host.ok("--force", "xenbr0", "up")
    assert host.get("Bridge", "xenbr0", "fail_mode") == "secure"
    ours = [f for f in host.flows("xenbr0") if COOKIE in f]
    assert len(ours) == 4 and any("arp" in f and "actions=LOCAL" in f for f in ours)


def test_management_option_moves_gateway_and_dns(host):
    host.ok(*host.session_args("eth3") + ["--management", "up"])
    network = host.fake_root.read(paths.SYSCONFIG_NETWORK)
    assert "GATEWAYDEV=xenbr3" in network and "DNSDEV=xenbr3" in network
    assert host.calls("dhclient")
    # The cache keeps XAPI's management PIF.
    cached = dbcache.read(host.fake_root.file(paths.NETWORK_DBCACHE))
    assert cached.pif(cached.management_pif())["device"] == "eth0"


def test_thousands_of_vlans_keep_one_uuid_per_bridge(host):
    """3794 VLANs on eth0: the historical full list (~140 KB, beyond one argv string)
    left by an older tool is replaced by the bridge's own network uuid."""
    def many_vlans(hn):
        eth0 = next(r for r, p in hn.pifs.items() if p["device"] == "eth0"
                    and not hn.is_vlan(r))
        for tag in range(300, 4094):
            pif, net, vlan = ("OpaqueRef:p%d" % tag, "OpaqueRef:n%d" % tag,
                              "OpaqueRef:v%d" % tag)
            hn.pifs[pif] = dict(hn.pifs[eth0], uuid="%08d-0000-4000-8000-000000000000" % tag,
                                network=net, management=False, VLAN=str(tag),
                                VLAN_master_of=vlan, VLAN_slave_of=[],
                                ip_configuration_mode="None")
            hn.networks[net] = {"uuid": "%08d-1111-4000-8000-000000000000" % tag,
                                "bridge": "xapi%d" % tag, "MTU": "1500", "PIFs": [pif],
                                "other_config": {}}
            hn.vlans[vlan] = {"uuid": vlan, "tagged_PIF": eth0, "untagged_PIF": pif,
                              "tag": str(tag)}
    hn = host.write_cache(many_vlans)
    old_list = ";".join(n["uuid"] for n in hn.networks.values())
    assert len(old_list) > 128 * 1024
    with transaction.connect(host.root) as connection:
        changes = ChangeSet()
        changes.add_br("xenbr0")
        changes.br_set_external_id("xenbr0", "xs-network-uuids", old_list)
        transaction.apply(connection, changes, Snapshot.read(connection))
    host.ok("--force", "xenbr0", "up")
    host.ok("--force", "xapi300", "up")
    assert host.ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == \
        host.net_uuid("xenbr0")
    assert host.ovs.vsctl("br-get-external-id", "xapi300", "xs-network-uuids").strip() == \
        "00000300-1111-4000-8000-000000000000;" + host.net_uuid("xenbr0")


# --force rewrite, rewrite ---------------------------------------------------------

def test_force_rewrite_writes_a_one_pif_cache(host):
    old = host.write_cache()
    host.ok("--force", "xenbr0", "rewrite", "--device=eth0", "--mac=52:54:00:AB:CD:EF",
            "--mode=static", "--ip=203.0.113.7", "--netmask=24", "--gateway=203.0.113.1")
    cached = dbcache.read(host.fake_root.file(paths.NETWORK_DBCACHE))
    assert len(cached.pifs) == 1 and len(cached.networks) == 1
    ref, pif = next(iter(cached.pifs.items()))
    assert (pif["device"], pif["MAC"], pif["management"], pif["ip_configuration_mode"],
            pif["IP"], pif["netmask"], pif["gateway"]) == \
        ("eth0", "52:54:00:ab:cd:ef", True, "Static", "203.0.113.7", "255.255.255.0",
         "203.0.113.1")
    # The PIF and network keep their identities from the old cache.
    assert ref in old.pifs and pif["uuid"] == old.pifs[ref]["uuid"]
    assert cached.networks[pif["network"]]["uuid"] == host.net_uuid("xenbr0")

    host.ok("--force", "xenbr0", "up")
    assert "IPADDR=203.0.113.7" in _ifcfg(host, "xenbr0")
    assert host.get("Bridge", "xenbr0", "other_config:hwaddr") == '"52:54:00:ab:cd:ef"'


def test_force_rewrite_dhcp_without_an_old_cache(host):
    host.ok("--force", "xenbr9", "rewrite", "--device=eth9", "--mac=52:54:00:00:00:09",
            "--mode=dhcp")
    cached = dbcache.read(host.fake_root.file(paths.NETWORK_DBCACHE))
    pif = next(iter(cached.pifs.values()))
    assert (pif["device"], pif["ip_configuration_mode"]) == ("eth9", "DHCP")
    assert cached.networks[pif["network"]]["bridge"] == "xenbr9"


@pytest.mark.parametrize("option,value", [
    ("--mac", "52:54:00:00:00"), ("--ip", "203.0.113.300"), ("--netmask", "255.0.255.0"),
    ("--gateway", "gw"), ("--device", "eth0 x")])
def test_force_rewrite_refuses_malformed_values(host, option, value):
    """A bad value is a usage error (2), like a bad --mode, and changes nothing."""
    host.write_cache()
    before = host.files()
    args = {"--device": "eth0", "--mac": "52:54:00:00:00:01", "--ip": "203.0.113.7",
            "--netmask": "255.255.255.0", "--gateway": "203.0.113.1"}
    args[option] = value
    status, err = host.run("--force", "xenbr0", "rewrite", "--mode=static",
                           *["%s=%s" % kv for kv in sorted(args.items())])
    assert status == 2 and option in err and "Traceback" not in err
    assert host.files() == before


def test_rewrite_from_xapi(host):
    host.ovs.vsctl("add-br", "xenbr0")
    result = host.execute("rewrite")
    assert result.returncode == 0, result.stderr
    assert host.ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == \
        host.net_uuid("xenbr0")
    assert host.fake_root.exists(paths.NETWORK_DBCACHE)
    assert host.execute("rewrite-configuration").returncode == 0
    assert host.sim.session_count("login") == 0    # logged out


# As XAPI runs it: a subprocess, exit codes -----------------------------------------

def test_session_and_pif_from_xapi_writes_the_cache(host):
    args = host.session_args("eth0")
    result = host.execute(*args + ["up"])
    assert result.returncode == 0, result.stderr
    assert "--session <session>" in result.stderr and args[1] not in result.stderr
    assert host.bridges() == ["xenbr0"]
    cached = dbcache.read(host.fake_root.file(paths.NETWORK_DBCACHE))
    assert len(cached.pifs) == 9          # host1's only
    assert all(not p["currently_attached"] for p in cached.pifs.values())
    result = host.execute(*host.session_args("eth0") + ["down"])
    assert result.returncode == 0, result.stderr
    assert host.bridges() == []


def test_pif_uuid_logs_in_locally(host):
    ref = host.sim.store.find("PIF", device="eth3", host=host.host_ref())[0]
    result = host.execute("--pif-uuid", host.sim.store.field("PIF", ref, "uuid"), "up")
    assert result.returncode == 0, result.stderr
    assert host.bridges() == ["xenbr3"]
    assert host.sim.session_count("login") == 0
    assert host.calls("dhclient")


def test_under_python_36(host):
    host.write_cache()
    result = host.execute("--force", "xapi3", "up", python=python36())
    assert result.returncode == 0, result.stderr
    assert host.bridges() == ["xapi1", "xapi3"]
    assert host.execute("--force", "xapi3", "down", python=python36()).returncode == 0
    assert host.bridges() == []


def test_usage_errors_exit_2(host):
    for argv in (["up"], ["--force", "xenbr0"], ["--session", "OpaqueRef:x", "up"],
                 ["--frobnicate", "up"]):
        result = host.execute(*argv)
        assert result.returncode == 2, argv
        assert result.stderr.startswith("interface-reconfigure: ")
    result = host.execute("--help")
    assert result.returncode == 0 and "--force BRIDGE up|down" in result.stdout


# Bad input: exit 1, a message naming the object, and nothing changed ------------------

def _pif_of(hn, device, vlan=False):
    return next(r for r, p in hn.pifs.items() if p["device"] == device
                and hn.is_vlan(r) == vlan)


def _set_pif(device, field, value, vlan=False):
    def edit(hn):
        hn.pifs[_pif_of(hn, device, vlan)][field] = value
    return edit


def _drop_vlan_slave(hn):
    del hn.pifs[_pif_of(hn, "bond0")]


def _no_bond_slaves(hn):
    for bond in hn.bonds.values():
        bond["slaves"] = []


def _two_pifs_one_network(hn):
    hn.pifs[_pif_of(hn, "eth3")]["network"] = hn.pifs[_pif_of(hn, "eth0")]["network"]


def _vlan_tag(tag):
    def edit(hn):
        for ref in hn.pifs:
            if hn.is_vlan(ref) and hn.pifs[ref]["device"] == "eth0":
                hn.pifs[ref]["VLAN"] = tag
                hn.vlans[hn.pifs[ref]["VLAN_master_of"]]["tag"] = tag
    return edit


def _bridge_named(bridge, name):
    """A network whose bridge has the name of an interface already in OVSDB."""
    def edit(hn):
        hn.networks[hn.networks_with_bridge(bridge)[0]]["bridge"] = name
    return edit


BAD_CACHES = {
    "vlan without slave": (_drop_vlan_slave, "xapi3", "slave PIF"),
    "bond without slaves": (_no_bond_slaves, "xapi1", "has no slaves"),
    "two PIFs on one network": (_two_pifs_one_network, "xenbr0", "several PIFs"),
    "unknown mode": (_set_pif("eth0", "ip_configuration_mode", "Bogus"), "xenbr0",
                     "ip_configuration_mode"),
    "malformed IP": (_set_pif("eth0", "IP", "192.0.2.300"), "xenbr0", "IP of PIF"),
    "malformed netmask": (_set_pif("eth0", "netmask", "255.0.255.0"), "xenbr0", "netmask"),
    "malformed gateway": (_set_pif("eth0", "gateway", "192.0.2"), "xenbr0", "gateway"),
    "malformed MAC": (_set_pif("eth0", "MAC", "52:54:00:zz:00:01"), "xenbr0", "MAC of PIF"),
    "malformed VLAN MAC": (_set_pif("eth0", "MAC", "nope"), "xapi2", "MAC of PIF"),
    "VLAN tag out of range": (_vlan_tag("4095"), "xapi2", "not -1 or a tag"),
    "bridge named like a NIC": (_bridge_named("xapi1", "eth0"), "eth0", "already exists"),
}


@pytest.mark.parametrize("case", sorted(BAD_CACHES))
def test_bad_cache_changes_nothing(host, case):
    edit, bridge, message = BAD_CACHES[case]
    host.write_cache()
    host.ok("--force", "xenbr1", "up")     # something to keep
    host.ok("--force", "xenbr0", "up")
    host.write_cache(edit)
    before = host.state()
    # Taking an address down needs no address, mode, netmask or gateway; a bridge
    # that cannot be created is not there to take down.
    up_only = case.startswith(("unknown mode", "malformed IP", "malformed netmask",
                               "malformed gateway", "bridge named like a NIC"))
    for action in ("up",) if up_only else ("up", "down"):
        status, err = host.run("--force", bridge, action)
        assert status == 1, (action, err)
        assert message in err
    assert host.state() == before


def test_unknown_bridge_and_damaged_cache(host):
    host.write_cache()
    host.ok("--force", "xenbr0", "up")
    before = host.state()
    status, err = host.run("--force", "xenbr7", "up")
    assert status == 1 and "xenbr7" in err
    cache = host.fake_root.file(paths.NETWORK_DBCACHE)
    with open(cache) as handle:
        text = handle.read()
    with open(cache, "w") as handle:
        handle.write(text[:len(text) // 2])
    before = (before[0], host.files(), before[2])
    status, err = host.run("--force", "xenbr0", "down")
    assert status == 1 and cache in err and "damaged" in err
    assert host.state() == before


def test_a_damaged_cache_names_the_recovery_and_the_recovery_works(host):
    """At boot, from a damaged cache: the error says how to write a new one, and it works."""
    host.write_cache()
    cache = host.fake_root.file(paths.NETWORK_DBCACHE)
    with open(cache) as handle:
        text = handle.read()
    with open(cache, "w") as handle:
        handle.write(text[:len(text) // 2])
    status, err = host.run("--force", "xenbr0", "up")
    assert status == 1 and "damaged" in err
    assert "while XAPI runs, 'interface-reconfigure rewrite'" in err
    assert "'interface-reconfigure --force xenbr0 rewrite --device=NIC --mac=MAC " \
        "--mode=dhcp|static [--ip=IP --netmask=MASK [--gateway=GW]]'" in err
    assert "xenbr0" not in host.bridges()
    # The recovery it names, without XAPI, then the same --force up again.
    host.ok("--force", "xenbr0", "rewrite", "--device=eth0", "--mac=" + host.mac("eth0"),
            "--mode=static", "--ip=192.0.2.10", "--netmask=255.255.255.0",
            "--gateway=192.0.2.1")
    host.ok("--force", "xenbr0", "up")
    assert "xenbr0" in host.bridges() and host.ports("xenbr0") == ["eth0"]
    assert "IPADDR=192.0.2.10" in _ifcfg(host, "xenbr0")


def test_bad_xapi_input_changes_nothing(host):
    host.ok(*host.session_args("eth1") + ["up"])
    before = host.state()
    # A PIF of another host.
    other = host.sim.store.find("PIF", device="eth0", host=host.sim.store.by_uuid(
        "host", "00000002-0000-4000-8000-000000000002"))[0]
    result = host.execute("--session", host.sim.login(), "--pif", other, "up")
    assert result.returncode == 1
    assert "not on this host" in result.stderr and "00000002-0000-4000-8000-000000000002" \
        in result.stderr
    # A PIF XAPI does not know.
    result = host.execute("--session", host.sim.login(), "--pif", "OpaqueRef:nope", "up")
    assert result.returncode == 1 and "HANDLE_INVALID" in result.stderr
    # An unknown PIF uuid, a malformed one.
    result = host.execute("--pif-uuid", "00000003-0000-4000-8000-0000000000ff", "up")
    assert result.returncode == 1 and "UUID_INVALID" in result.stderr
    result = host.execute("--pif-uuid", "not-a-uuid", "up")     # a usage error
    assert result.returncode == 2 and "--pif-uuid" in result.stderr
    # XAPI data that fails validation.
    eth0 = host.sim.store.find("PIF", device="eth0", host=host.host_ref(), VLAN=-1)[0]
    host.sim.store.set("PIF", eth0, "IP", "192.0.2.999")
    result = host.execute(*host.session_args("eth0") + ["up"])
    assert result.returncode == 1 and "IP of PIF" in result.stderr
    assert host.state() == before


def test_linux_bridge_backend_is_refused(host):
    host.write_cache()
    host.fake_root.write(paths.NETWORK_CONF, "bridge\n")
    before = host.state()
    result = host.execute("--force", "xenbr0", "up")
    assert result.returncode == 1 and "Linux bridge" in result.stderr
    assert host.state() == before
    host.fake_root.write(paths.NETWORK_CONF, "vswitch\n")
    assert host.execute("--force", "xenbr0", "up").returncode == 0


# --session/--pif: the PIF's own objects, and the cache kept right ----------------

def _full_cache(host):
    with xapi.connect(root=host.root) as api:
        return dbcache.render(xapi_network.load(api, HOST1))


@pytest.mark.parametrize("with_old_cache", [True, False])
def test_pif_actions_leave_the_cache_a_full_rewrite_writes(make_host, with_old_cache):
    """Each call reads only its PIF's objects; with nothing else changed in XAPI the
    cache it leaves is what a full rewrite writes (attached PIFs included)."""
    host = make_host(pool(attached=True))
    if with_old_cache:
        host.write_cache()
    for device, vlan in (("eth0", 100), ("bond0", 200), ("eth3", -1), ("tunnel0", -1),
                         ("eth0", 101), ("bond0", 200)):
        host.ok(*host.session_args(device, vlan) + ["up"])
        assert host.fake_root.read(paths.NETWORK_DBCACHE) == _full_cache(host), (device, vlan)
    host.ok(*host.session_args("eth0", 101) + ["down"])
    assert host.fake_root.read(paths.NETWORK_DBCACHE) == _full_cache(host)


def test_pif_action_refreshes_what_it_read_and_keeps_the_rest(make_host):
    builder = pool()
    builder.physical_pif("eth4", "xenbr4", host="host1")
    host = make_host(builder)
    host.write_cache()
    store = host.sim.store
    eth3 = store.find("PIF", device="eth3", host=host.host_ref())[0]
    eth4 = store.find("PIF", device="eth4", host=host.host_ref())[0]
    store.set("PIF", eth3, "other_config", {"mtu": "9000"})
    store.set("PIF", eth4, "other_config", {"mtu": "1400"})
    host.ok(*host.session_args("eth3") + ["up"])
    cached = dbcache.read(host.fake_root.file(paths.NETWORK_DBCACHE))
    assert cached.pif(eth3)["other_config"] == {"mtu": "9000"}    # read: fresh
    assert cached.pif(eth4)["other_config"] == {}                 # not read: as it was


def test_one_pif_reads_the_same_however_many_vlans(make_host):
    """XAPI calls and records read by one VLAN's up do not grow with the VLANs beside it."""
    seen = []
    for vlans in (3, 60):
        builder = pool()
        for tag in range(1000, 1000 + vlans):
            builder.vlan("eth3", tag, "xapi%d" % tag, host="host1")
        host = make_host(builder)
        host.write_cache()
        methods, records = [], []
        original = xapi.Api.call

        def call(self, method, *args, original=original, methods=methods, records=records):
            value = original(self, method, *args)
            methods.append(method)
            if method.endswith("get_all_records_where"):
                records.extend(value)
            return value
        xapi.Api.call = call
        try:
            host.ok(*host.session_args("eth3", 1000) + ["up"])
        finally:
            xapi.Api.call = original
        seen.append((methods, len(records)))
    assert seen[0] == seen[1]


def _rows(host):
    """Every bridge's, port's and interface's settings and place, in no row order."""
    state = []
    for table, columns in (("Bridge", "name,fail_mode,other_config,external_ids,datapath_type"),
                           ("Port", "name,tag,fake_bridge,bond_mode,lacp,other_config,"
                                    "external_ids,mac"),
                           ("Interface", "name,type,mac,mtu_request")):
        listed = json.loads(host.ovs.vsctl("--format=json", "--columns=" + columns, "list",
                                           table))
        state += sorted(json.dumps([table] + row) for row in listed["data"])
    for bridge in host.bridges():
        state.append((bridge, host.ovs.vsctl("br-to-parent", bridge).strip(),
                      host.ovs.vsctl("br-to-vlan", bridge).strip(), host.ports(bridge),
                      sorted(host.ovs.vsctl("list-ifaces", bridge).split())))
    return state


def test_reading_only_the_pifs_objects_plans_what_reading_everything_plans(make_host):
    """Through XAPI (the PIF's objects, a focused OVSDB read) and from the whole cache,
    the same steps leave the same switch and run the same commands -- also when a
    bond takes NICs whose bridges carry fake bridges."""
    builder = pool()
    builder.vlan("eth1", 300, "xapi9", host="host1")
    host = make_host(builder)
    steps = (("eth1", -1, "xenbr1"), ("eth1", 300, "xapi9"), ("eth2", -1, "xenbr2"),
             ("bond0", -1, "xapi1"), ("bond0", 200, "xapi3"), ("eth0", 101, "xapi5"),
             ("eth1", -1, "xenbr1"))
    outcomes = []
    for via in ("cache", "xapi"):
        host.ovs.reset()
        host.write_cache()
        host.clear_calls()
        for device, vlan, bridge in steps:
            if via == "cache":
                host.ok("--force", bridge, "up")
            else:
                host.ok(*host.session_args(device, vlan) + ["up"])
        outcomes.append((_rows(host), host.calls("ip")))
    assert outcomes[0] == outcomes[1]
    assert "xapi9" not in host.bridges()    # went with xenbr1 when bond0 took eth1
