"""Cross-host private networks end to end: two hosts, Xen Orchestra's controller, GRE and VXLAN.

Two simulated hosts share one management segment (a veth between their
namespaces), each booted by ``openvswitch-boot`` (userspace datapath, VXLAN
listed in TUNNEL_PROTOCOLS) behind a host firewall that drops what it was not
told to accept.  XAPI (the simulator) knows a pool-wide private network with a
``tunnel`` PIF on each host; ``interface-reconfigure`` brings up the
management bridge and the private network's bridge, as XAPI calls it.  A "VM"
namespace on each host is plugged into that bridge the way XAPI's vif script
plugs a VIF.  The plugin sets the pool's ``pssl`` manager; Xen Orchestra's
client then connects to both hosts over TLS, finds the bridge by
``xs-network-uuids`` and adds the tunnels exactly as it does.  The VMs ping
each other over GRE, then over VXLAN.
"""

import os
import shutil
import subprocess
import sys
import time

import pytest

from xsovs_common import paths
from xsovs_dev import netns, pki, sdn
from xsovs_dev import ovs as ovsmod
from xsovs_dev.simhost import SimHost
from xsovs_dev.xapi_sync_run import vif_script_add, vif_script_ids
from xsovs_dev.skips import need
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTERFACE_RECONFIGURE = os.path.join(REPO, "libexec", "interface-reconfigure")
PLUGIN = "openvswitch-cfg-update"
HOSTS = {"host1": "192.0.2.11", "host2": "192.0.2.12"}
VMS = {"host1": "10.99.0.1", "host2": "10.99.0.2"}
PRIVATE_BRIDGE = "xapi7"


def _pool():
    builder = PoolBuilder()
    for name, address in HOSTS.items():
        builder.host(name, address=address)
        builder.physical_pif("eth0", "xenbr0", management=True, ip=address + "/24")
        builder.tunnel("eth0", PRIVATE_BRIDGE, device="tunnel0")
    return builder


class Pool:
    def __init__(self, workdir):
        self.workdir = workdir
        self.builder = _pool()
        self.sim = Simulator(self.builder.build())
        self.hosts = {name: SimHost(os.path.join(workdir, name), self.builder.host_uuid(name))
                      for name in HOSTS}
        self.vms = {}
        self.x = None

    def start(self):
        self.sim.start()
        for host in self.hosts.values():
            host.create()
        workdir = self.workdir
        netns.veth(self.hosts["host1"].ns, "eth0", self.hosts["host2"].ns, "eth0")
        certs = os.path.join(workdir, "certs")
        self.pool_ca = pki.CA(certs, "sdn-controller")
        self.xo_leaf = self.pool_ca.issue("xo-server")
        self.session = client.session(self.sim.url)
        self.session.xenapi.login_with_password("root", "")
        self.x = self.session.xenapi
        self.network_uuid = self.x.network.get_uuid(self.builder.network_ref(PRIVATE_BRIDGE))
        for name, host in self.hosts.items():
            self._boot(name, host, certs)

    def _boot(self, name, host, certs):
        fake = host.fake
        with open(pki.self_signed(certs, name).pem) as handle:
            fake.write(paths.XAPI_SSL_PEM, handle.read(), mode=0o600)
        with open(self.pool_ca.cert) as handle:
            fake.write(paths.SDN_CONTROLLER_CA, handle.read())
        fake.write(paths.SYSCONFIG_OPENVSWITCH, "TUNNEL_PROTOCOLS=vxlan\n")
        for program in ("ip", "ethtool", "sysctl", "dhclient"):
            fake.netns_program(program, host.ns.name)
        fake.stub_program("update-issue")
        fake.link_program("ovs-ofctl")
        eth0 = self.x.PIF.get_record(self.builder.pif_ref("eth0", host=name))
        host.run(["ip", "link", "set", "eth0", "address", eth0["MAC"]])
        host.boot("start")
        # A host firewall: what is not accepted is dropped.
        host.run(["iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate",
                  "ESTABLISHED,RELATED", "-j", "ACCEPT"])
        host.run(["iptables", "-P", "INPUT", "DROP"])
        host.env.update(OVS_RUNDIR=host.rundir)
        self.sim.host_env[host.uuid] = {"XSOVS_ROOT": fake.path, "OVS_RUNDIR": host.rundir,
                                        "XSOVS_DATAPATH_TYPE": "netdev"}

    def reconfigure(self, name, pif_device):
        host = self.hosts[name]
        env = dict(host.env, XSOVS_XAPI_URL=self.sim.url)
        pif = self.builder.pif_ref(pif_device, host=name)
        result = subprocess.run(
            [sys.executable, INTERFACE_RECONFIGURE, "--root-prefix", host.fake.path,
             "--session", self.session._session, "--pif", pif, "up"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            timeout=120)
        assert result.returncode == 0, result.stderr

    def plug_vm(self, name):
        """A VM namespace with eth0, plugged as XAPI's vif script plugs vif1.0."""
        host = self.hosts[name]
        vm = netns.Namespace().create()
        self.vms[name] = vm
        netns.veth(host.ns, "vif1.0", vm, "eth0")
        vm.run(["ip", "addr", "add", VMS[name] + "/24", "dev", "eth0"])
        mac = vm.run(["cat", "/sys/class/net/eth0/address"]).stdout.strip()
        ids = vif_script_ids(self.network_uuid, "vif-uuid-%s" % name, "vm-uuid-%s" % name, mac)
        host.vsctl(*vif_script_add(PRIVATE_BRIDGE, "vif1.0", ids))
        return ids["xs-vif-uuid"]

    def xo(self, name, via):
        """Xen Orchestra's client for host ``name``, connecting from ``via``'s namespace."""
        return sdn.XoClient(HOSTS[name], self.xo_leaf.key, self.xo_leaf.cert, self.pool_ca.cert,
                            netns=self.hosts[via].ns.name)

    def pings(self, src, dst, within=15.0):
        deadline = time.time() + within
        while time.time() < deadline:
            if self.vms[src].run(["ping", "-c", "1", "-W", "1", VMS[dst]],
                                 check=False).returncode == 0:
                return True
        return False

    def close(self):
        left = []
        try:
            if self.x is not None:
                self.x.session.logout()
        finally:
            self.sim.stop()
            for vm in self.vms.values():
                vm.delete()
            for host in self.hosts.values():
                if not host.destroy():
                    left.append(host.uuid)
        assert left == [], "processes left behind on %s" % left


@pytest.fixture
def pool(netns_ok, tmp_path):
    need(ovsmod.available())
    need(None if shutil.which("ping") else "ping is not installed (make setup)")
    need(pki.unavailable_reason())
    the_pool = Pool(str(tmp_path))
    try:
        the_pool.start()
        yield the_pool
    finally:
        the_pool.close()


def tunnel_ports(host):
    names = host.vsctl("list-ports", PRIVATE_BRIDGE).split()
    return [n for n in names if n.startswith(PRIVATE_BRIDGE + "_port")]


def test_vms_on_two_hosts_ping_over_gre_and_vxlan(pool):
    for name in HOSTS:
        pool.reconfigure(name, "eth0")        # the management bridge, with its address
        pool.reconfigure(name, "tunnel0")     # the private network's bridge
    assert pool.hosts["host1"].run(["ping", "-c", "1", "-W", "2", HOSTS["host2"]],
                                   check=False).returncode != 0, \
        "the firewall lets pings in: it would prove nothing"
    for host in pool.hosts.values():
        ids = host.get("Bridge", PRIVATE_BRIDGE, "external_ids")
        assert 'xs-network-uuids="%s"' % pool.network_uuid in ids
    vifs = {name: pool.plug_vm(name) for name in HOSTS}

    # Xen Orchestra introduces its pssl controller; XAPI updates every host.
    pool.x.SDN_controller.introduce("pssl", "", "0")
    for name, host in pool.hosts.items():
        result = pool.x.host.call_plugin(pool.builder.host_ref(name), PLUGIN, "update", {})
        assert "Successfully set controller to pssl:6640" in result
        rules = host.run(["iptables", "-S", "INPUT"]).stdout
        assert "--dport 6640" in rules and "-p gre" in rules and "--dport 4789" in rules

    # Each host reached over the segment, through its firewall, by TLS.
    for name, via in (("host1", "host2"), ("host2", "host1")):
        assert pool.xo(name, via).ofport_for_vif(vifs[name]) > 0
    assert not pool.pings("host1", "host2", within=2)

    # GRE, key = the VNI.
    for name, other in (("host1", "host2"), ("host2", "host1")):
        port = pool.xo(name, via=other).add_tunnel(pool.network_uuid, HOSTS[other], "gre", 42)
        iface = pool.hosts[name].vsctl("get", "Port", port, "interfaces").strip("[] \n")
        options = pool.hosts[name].get("Interface", iface, "options")
        assert options == '{key="42", remote_ip="%s"}' % HOSTS[other]
    assert pool.pings("host1", "host2") and pool.pings("host2", "host1")

    # VXLAN instead: the GRE ports go, as Xen Orchestra resets a network.
    for host in pool.hosts.values():
        for port in tunnel_ports(host):
            host.vsctl("del-port", PRIVATE_BRIDGE, port)
    assert not pool.pings("host1", "host2", within=2)
    for name, other in (("host1", "host2"), ("host2", "host1")):
        port = pool.xo(name, via=other).add_tunnel(pool.network_uuid, HOSTS[other], "vxlan",
                                                   4242)
        iface = pool.hosts[name].vsctl("get", "Port", port, "interfaces").strip("[] \n")
        assert pool.hosts[name].get("Interface", iface, "type") == "vxlan"
    assert pool.pings("host1", "host2") and pool.pings("host2", "host1")
