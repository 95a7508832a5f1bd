"""Pools of simulated hosts on one OVN deployment, for end-to-end tests and benchmarks.

- The **core** is a network namespace that routes between the hosts'
  management segments (one veth per host, a /24 each) and holds the OVN
  central (:mod:`.central`: NB and SB Raft clusters, ``ovn-northd``) on three
  addresses of its loopback.
- Each **host** is a :class:`~xsovs_dev.simhost.SimHost` booted as a real one
  (``openvswitch-boot``, the userspace datapath, a firewall that drops what it
  was not told to accept), its management bridge brought up by the real
  ``interface-reconfigure``; XAPI (one simulator per pool) runs the plugin's
  ``update``, which makes it a chassis and starts ``ovn-controller`` with the
  OVN package's ``ovn-ctl``; ``ovs-xapi-sync`` runs for it.
- Each **pool** has the OVN keys in its ``other_config`` and one private
  network (bridge ``xapi5``) that is a logical switch, the same switch in
  every pool (``xsovs:ovn-logical-switch``).  Its master (its first host)
  runs ``ovn-xapi-sync`` in its namespace, which writes the pool's switch and
  ports to the central's NB over the management network; the simulator also
  serves on a unix socket, which that namespace reaches.
- A **VM** is a namespace whose ``eth0`` is a veth to ``vifD.N`` on its host:
  xcp-networkd's ``create_bridge`` makes the network's bridge, xenopsd's vif
  script (setup-vif-rules) plugs the VIF (:mod:`xsovs_dev.toolstack`), with
  the VM and VIF records in XAPI.  Migrating it unplugs it the same way and
  plugs it on another host with a new domain id.
"""

import os
import subprocess
import sys
import time
import types

from xsovs_common import paths
from xsovs_common.net import ovn
from xsovs_dev import netns, toolstack
from xsovs_dev import ovs as ovsmod
from xsovs_dev.ovn.central import OvnCentral
from xsovs_dev.ovn_sync_run import OvnSyncDaemon
from xsovs_dev.simhost import SimHost
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import SyncDaemon, make_root
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTERFACE_RECONFIGURE = os.path.join(REPO, "libexec", "interface-reconfigure")
PLUGIN = "openvswitch-cfg-update"
NETWORK_BRIDGE = "xapi5"
LOGICAL_SWITCH = "shared"
CENTRAL_ADDRESSES = ["10.255.0.1", "10.255.0.2", "10.255.0.3"]
VM_MTU = 1400                      # room for Geneve's headers on a 1500-byte underlay
DEFAULT_POOLS = (("pool-a", ("host1", "host2")), ("pool-b", ("host3",)))


def no_tx_offload(ns, dev):
    """veth leaves checksums to offload, which the userspace datapath does not fill."""
    ns.run(["ethtool", "-K", dev, "tx", "off"], check=False)


class Host:
    """One simulated host of the lab, in pool ``pool``, management IP ``address``."""

    def __init__(self, lab, pool, name, index, simhost):
        self.lab, self.pool, self.name, self.index, self.sim = lab, pool, name, index, simhost
        self.address = "10.0.%d.2" % index
        self.gateway = "10.0.%d.1" % index
        self.uuid = simhost.uuid
        self.sync = None
        self.next_domid = 1

    @property
    def ns(self):
        return self.sim.ns

    def vsctl(self, *args):
        return self.sim.vsctl(*args)

    def run(self, argv, check=True, timeout=30):
        return self.sim.run(argv, check=check, timeout=timeout)

    def bridge_of(self, port):
        """The bridge holding ``port`` on this host, or ''."""
        try:
            return self.vsctl("port-to-br", port).strip()
        except subprocess.CalledProcessError:
            return ""


class Pool:
    """One XAPI pool: its simulator, its hosts, the OVN network's uuid."""

    def __init__(self, name, builder, hosts):
        self.name, self.builder, self.host_names = name, builder, hosts
        self.sim = None             # made once the central's remotes are known
        self.x = None
        self.nb_sync = None
        self.network_ref = builder.network_ref(NETWORK_BRIDGE)
        self.network_uuid = builder.tables["network"][self.network_ref]["uuid"]
        self.pool_ref = next(iter(builder.tables["pool"]))

    def login(self):
        self.session = client.session(self.sim.url)
        self.session.xenapi.login_with_password("root", "")
        self.x = self.session.xenapi


class Vm:
    """A VM namespace with one VIF (XAPI records in its pool), plugged on ``host``."""

    def __init__(self, name, ip, mac, pool, vif_uuid, vm_uuid, vif_ref):
        self.name, self.ip, self.mac, self.pool = name, ip, mac, pool
        self.vif_uuid, self.vm_uuid, self.vif_ref = vif_uuid, vm_uuid, vif_ref
        self.ns = netns.Namespace(netns.unique("xovn-vm")).create()
        self.host = None
        self.dev = None

    def run(self, argv, check=True, timeout=30):
        return self.ns.run(argv, check=check, timeout=timeout)


class _InNamespace(OvnSyncDaemon):
    """ovn-xapi-sync run inside a host's network namespace."""

    def __init__(self, netns_name, *args, **kwargs):
        OvnSyncDaemon.__init__(self, *args, **kwargs)
        self.netns_name = netns_name

    def argv(self):
        return ["ip", "netns", "exec", self.netns_name] + OvnSyncDaemon.argv(self)


class Lab:
    """The whole deployment (see the module docstring); :meth:`close` removes it all."""

    def __init__(self, workdir, pools=DEFAULT_POOLS, encap_type="geneve"):
        self.workdir = os.path.abspath(workdir)
        self.encap_type = encap_type
        self.core = netns.Namespace(netns.unique("xovn-core"))
        self.central = None
        self.pools = {}
        self.hosts = {}
        self.vms = {}
        index = 0
        for number, (pool_name, host_names) in enumerate(pools, 1):
            # uuids and MACs unique across the pools: they meet in one OVN deployment.
            builder = PoolBuilder(name_label=pool_name)
            builder.pool(uuid="00000001-0000-4000-8000-0000000000%02x" % number)
            for host_name in host_names:
                index += 1
                address = "10.0.%d.2" % index
                builder.host(host_name, address=address,
                             uuid="00000002-0000-4000-8000-0000000000%02x" % index)
                builder.physical_pif("eth0", "xenbr0", management=True, ip=address + "/24",
                                     gateway="10.0.%d.1" % index,
                                     mac="02:00:00:00:01:%02x" % index)
            builder.network(NETWORK_BRIDGE, uuid="00000003-0000-4000-8000-0000000005%02x" % number,
                            other_config={ovn.NETWORK_OVN: "true",
                                          ovn.NETWORK_LOGICAL_SWITCH: LOGICAL_SWITCH})
            pool = Pool(pool_name, builder, host_names)
            self.pools[pool_name] = pool
            for number, host_name in enumerate(host_names):
                simhost = SimHost(os.path.join(self.workdir, host_name),
                                  builder.host_uuid(host_name))
                self.hosts[host_name] = Host(self, pool, host_name,
                                             index - len(host_names) + 1 + number, simhost)

    # -- bring-up -------------------------------------------------------------------
    def start(self):
        self.core.create()
        self.core.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        for address in CENTRAL_ADDRESSES:
            self.core.run(["ip", "addr", "add", address + "/32", "dev", "lo"])
        self.central = OvnCentral(os.path.join(self.workdir, "central"), netns=self.core,
                                  addresses=CENTRAL_ADDRESSES).start()
        for pool in self.pools.values():
            pool.builder.pool(other_config={ovn.POOL_SB: self.central.sb_remote,
                                            ovn.POOL_NB: self.central.nb_remote,
                                            ovn.POOL_ENCAP_TYPE: self.encap_type})
            pool.sim = Simulator(pool.builder.build())
            pool.sim.start(unix_path=os.path.join(self.workdir, pool.name + "-xapi.sock"))
            pool.login()
        for host in self.hosts.values():
            self._boot(host)
        for host in self.hosts.values():
            self.update(host)
        for pool in self.pools.values():
            self._start_nb_sync(pool, self.hosts[pool.host_names[0]])
        return self

    def _start_nb_sync(self, pool, master):
        """``ovn-xapi-sync`` on the pool's master: in its namespace, XAPI on the unix socket."""
        python = host_python()
        pool.nb_sync = _InNamespace(master.ns.name, os.path.join(self.workdir, pool.name + "-sync"),
                                    master.sim.fake.path, pool.sim.unix_path, python=python)
        pool.nb_sync.start()

    def _boot(self, host):
        sim, fake = host.sim, host.sim.fake
        sim.create()
        netns.veth(self.core, "h%d" % host.index, host.ns, "eth0")
        self.core.run(["ip", "addr", "add", host.gateway + "/24", "dev", "h%d" % host.index])
        no_tx_offload(self.core, "h%d" % host.index)
        no_tx_offload(host.ns, "eth0")
        for program in ("ip", "ethtool", "sysctl", "dhclient", "ovn-ctl"):
            fake.netns_program(program, host.ns.name)
        fake.link_program("ovn-controller")
        fake.stub_program("update-issue")
        fake.link_program("ovs-ofctl")
        pool = host.pool
        eth0 = pool.x.PIF.get_record(pool.builder.pif_ref("eth0", host=host.name))
        host.run(["ip", "link", "set", "eth0", "address", eth0["MAC"]])
        sim.boot("start")
        # A host firewall: what is not accepted is dropped (the plugin opens Geneve).
        host.run(["iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate",
                  "ESTABLISHED,RELATED", "-j", "ACCEPT"])
        host.run(["iptables", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT"])
        host.run(["iptables", "-P", "INPUT", "DROP"])
        sim.env.update(OVS_RUNDIR=sim.rundir)
        pool.sim.host_env[host.uuid] = {"XSOVS_ROOT": fake.path, "OVS_RUNDIR": sim.rundir,
                                        "XSOVS_DATAPATH_TYPE": "netdev"}
        self.reconfigure(host, "eth0")
        root = make_root(fake.path)
        switch = types.SimpleNamespace(
            rundir=sim.rundir, socket=os.path.join(sim.rundir, "db.sock"),
            env=dict(sim.env, OVS_RUNDIR=sim.rundir))
        python = host_python()
        host.sync = SyncDaemon(fake.path, root, switch, pool.sim.url, python=python).start()

    def reconfigure(self, host, device):
        """``interface-reconfigure --session --pif up``, as XAPI runs it."""
        pool = host.pool
        env = dict(host.sim.env, XSOVS_XAPI_URL=pool.sim.url)
        pif = pool.builder.pif_ref(device, host=host.name)
        result = subprocess.run(
            [sys.executable, INTERFACE_RECONFIGURE, "--root-prefix", host.sim.fake.path,
             "--session", pool.session._session, "--pif", pif, "up"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            timeout=120)
        if result.returncode != 0:
            raise RuntimeError("interface-reconfigure on %s: %s" % (host.name, result.stderr))

    def update(self, host):
        """XAPI runs the plugin's ``update`` on ``host``; its answer."""
        pool = host.pool
        return pool.x.host.call_plugin(pool.builder.host_ref(host.name), PLUGIN, "update", {})

    # -- VMs ----------------------------------------------------------------------------
    def vm(self, name, ip, host, mac=None):
        """A VM with one VIF on the OVN network, started on ``host``."""
        host = self.hosts[host] if isinstance(host, str) else host
        pool = host.pool
        number = len(self.vms) + 1
        mac = mac or "02:aa:00:00:00:%02x" % number
        store = pool.sim.store
        vm_ref = store.add("VM", {"name_label": name, "power_state": "Running"})
        vif_ref = store.add("VIF", {"VM": vm_ref, "network": pool.network_ref, "device": "0",
                                    "MAC": mac})
        vm = Vm(name, ip, mac, pool, store.field("VIF", vif_ref, "uuid"),
                store.field("VM", vm_ref, "uuid"), vif_ref)
        self.vms[name] = vm
        self.plug(vm, host)
        return vm

    def plug(self, vm, host):
        """Start ``vm`` on ``host``: its NIC, xcp-networkd's bridge, xenopsd's plug."""
        host = self.hosts[host] if isinstance(host, str) else host
        domid = host.next_domid
        host.next_domid += 1
        dev = "vif%d.0" % domid
        netns.veth(host.ns, dev, vm.ns, "eth0")
        vm.run(["ip", "link", "set", "eth0", "down"])
        vm.run(["ip", "link", "set", "eth0", "address", vm.mac, "mtu", str(VM_MTU)])
        vm.run(["ip", "addr", "replace", vm.ip + "/24", "dev", "eth0"])
        vm.run(["ip", "link", "set", "eth0", "up"])
        no_tx_offload(vm.ns, "eth0")
        no_tx_offload(host.ns, dev)
        host.vsctl(*toolstack.create_bridge(NETWORK_BRIDGE, vm.pool.network_uuid))
        toolstack.vif_online(self._runner(host), dev, NETWORK_BRIDGE, vm.pool.network_uuid,
                             vm.vif_uuid, vm.vm_uuid, vm.mac)
        vm.host, vm.dev = host, dev
        store = vm.pool.sim.store       # as XAPI records a start or a migration
        vm_ref = store.field("VIF", vm.vif_ref, "VM")
        store.set("VM", vm_ref, "resident_on", vm.pool.builder.host_ref(host.name))
        store.set("VM", vm_ref, "domid", domid)
        store.set("VIF", vm.vif_ref, "currently_attached", True)

    @staticmethod
    def _runner(host):
        return toolstack.host_runner(host.sim.rundir, host.ns.name)

    def unplug(self, vm):
        """xenopsd's unplug, then the domain's NIC goes."""
        host = vm.host
        toolstack.vif_remove(self._runner(host), vm.dev)
        host.run(["ip", "link", "del", vm.dev], check=False)
        vm.host = vm.dev = None

    def migrate(self, vm, host):
        """Unplug on its host, plug on ``host`` with a new domain id, same VIF."""
        self.unplug(vm)
        self.plug(vm, host)

    # -- looking --------------------------------------------------------------------------
    def chassis_of(self, vm):
        """The SB Chassis name (a host uuid) that binds ``vm``'s port, or ''."""
        chassis = self.central.sbctl("--bare", "--columns=chassis", "find", "Port_Binding",
                                     "logical_port=" + vm.vif_uuid).strip()
        if not chassis:
            return ""
        return self.central.sbctl("--bare", "--columns=name", "list", "Chassis",
                                  chassis).strip()

    def encap_ips(self):
        """{chassis name: (encap type, IP)} from the SB."""
        found = {}
        for line in self.central.sbctl("--bare", "--columns=chassis_name,type,ip", "--format=csv",
                                       "--data=bare", "--no-headings", "list",
                                       "Encap").splitlines():
            name, kind, ip = line.split(",")
            found[name] = (kind, ip)
        return found

    def pings(self, src, dst, within=20.0):
        """True once ``src`` gets an answer from ``dst`` (VM names), within ``within`` s."""
        deadline = time.monotonic() + within
        while True:
            if self.vms[src].run(["ping", "-c", "1", "-W", "1", self.vms[dst].ip],
                                 check=False).returncode == 0:
                return True
            if time.monotonic() > deadline:
                return False

    # -- teardown -------------------------------------------------------------------------
    def close(self):
        """Stop and remove everything; the names of hosts that left processes behind."""
        left = []
        for pool in self.pools.values():
            if pool.nb_sync is not None:
                pool.nb_sync.stop()
        for host in self.hosts.values():
            if host.sync is not None:
                host.sync.stop()
        for pool in self.pools.values():
            try:
                if pool.x is not None:
                    pool.x.session.logout()
            except Exception:
                pass
            if pool.sim is not None:
                pool.sim.stop()
        for vm in self.vms.values():
            vm.ns.delete()
        for host in self.hosts.values():
            ovsmod.kill_daemons(host.sim.fake.file(paths.OVN_RUNDIR))
            if not host.sim.destroy():
                left.append(host.name)
        if self.central is not None:
            self.central.stop()
        netns.kill_processes(self.core.name)
        self.core.delete()
        return left
