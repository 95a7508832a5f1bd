"""The demo's simulated host: namespaces, NIC, host root, XAPI, and their teardown.

Everything a run creates is named after its tag (``xsovs-demo-<pid>``) and
lives under one temporary directory, and :meth:`SimulatedHost.teardown`
removes it all whatever state the build or the boot reached.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from xsovs_common import paths
from xsovs_common.net import dbcache
from xsovs_common.xapi import network as xapi_network
from xsovs_dev import netns, ovs, pki, sdn
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.pythons import host_python
from xsovs_dev.xapisim import REPO_ROOT, PoolBuilder, Simulator, client

HOST_ADDRESS = "192.0.2.10"
PEER_ADDRESS = "192.0.2.1"
PREFIX_LEN = 24
NIC = "eth0"
PEER_NIC = "peer0"
NIC_MAC = "02:78:73:00:00:10"
BRIDGE = "xenbr0"
CONTROLLER_PORT = 6632
FAIL_MODE = "secure"
TUNNEL_PROTOCOLS = "vxlan"
HOST_UUID = "5f1c8ab2-0c47-4a8e-9d0b-00000000de30"

# Real programs the host code runs, each run inside the host's namespace.
NETNS_PROGRAMS = ("ovs-ctl", "ip", "sysctl", "ethtool", "iptables", "ovs-ofctl")
# Programs a XenServer host has that mean nothing here: they do nothing.
NO_OP_PROGRAMS = ("modprobe", "update-issue")

# AF_UNIX socket paths (the OVSDB socket under the host root) fit in 107 bytes.
SOCKET_PATH_MAX = 107
LIBEXEC = os.path.join(str(REPO_ROOT), "libexec")
def tmpdir_problem():
    """Why $TMPDIR cannot hold the host root (its sockets' paths too long), or None."""
    longest = os.path.join(tempfile.gettempdir(), "xsovs-demo-%d-xxxxxxxx" % os.getpid(),
                           "root" + paths.OVS_RUNDIR, "ovs-vswitchd.99999.ctl")
    if len(longest.encode()) > SOCKET_PATH_MAX:
        return ("the temporary directory %s is too long a path: the host's sockets under it "
                "would exceed %d bytes (set TMPDIR=/tmp)"
                % (tempfile.gettempdir(), SOCKET_PATH_MAX))
    return None


def pool_fixture(fail_mode=FAIL_MODE, controller=True):
    """A one-host pool: eth0 the static management PIF on xenbr0; the peer is the
    controller (``controller``), the pool's fail mode ``fail_mode`` (None: unset)."""
    other_config = {"vswitch-controller-fail-mode": fail_mode} if fail_mode else {}
    builder = PoolBuilder(name_label="demo pool", other_config=other_config)
    builder.host("demo-host", uuid=HOST_UUID, address=HOST_ADDRESS)
    builder.physical_pif(NIC, BRIDGE, management=True, mac=NIC_MAC,
                         ip="%s/%d" % (HOST_ADDRESS, PREFIX_LEN), gateway=PEER_ADDRESS)
    if controller:
        builder.sdn_controller(protocol="ssl", address=PEER_ADDRESS, port=CONTROLLER_PORT)
    return builder.build()


class SimulatedHost:
    """One XenServer host in a namespace: its NIC to a peer, its root, its XAPI (simulated)."""

    def __init__(self, tag=None, python=None, fixture=None):
        self.tag = tag or "xsovs-demo-%d" % os.getpid()
        self.python = python or host_python()
        self.workdir = None
        self.host_ns = netns.Namespace(self.tag + "-host")
        self.peer_ns = netns.Namespace(self.tag + "-peer")
        self.root = None
        self.controller = None          # sdn.ActiveController on the peer
        self.controller_ca = None
        self.xapi = Simulator(fixture or pool_fixture())
        self.xapi.python = self.python

    # -- build ------------------------------------------------------------------

    def build(self):
        """Namespaces, the NIC, the host root, and the cache the previous boot left."""
        self.workdir = tempfile.mkdtemp(prefix=self.tag + "-")
        self.host_ns.create()
        self.peer_ns.create()
        netns.veth(self.host_ns, NIC, self.peer_ns, PEER_NIC)
        self.host_ns.run(["ip", "link", "set", NIC, "address", NIC_MAC])
        self.peer_ns.run(["ip", "addr", "add", "%s/%d" % (PEER_ADDRESS, PREFIX_LEN),
                          "dev", PEER_NIC])
        self.root = FakeRoot(os.path.join(self.workdir, "root"))
        self.root.write_inventory(HOST_UUID, management_interface=BRIDGE)
        self.root.write(paths.SYSCONFIG_OPENVSWITCH,
                        "CONTROLLER_PORT=%d\nTUNNEL_PROTOCOLS='%s'\n"
                        % (CONTROLLER_PORT, TUNNEL_PROTOCOLS))
        for name in NETNS_PROGRAMS:
            self.root.netns_program(name, self.host_ns.name)
        for name in NO_OP_PROGRAMS:
            self.root.stub_program(name)
        self.xapi.host_env[HOST_UUID] = self.env(base={})
        self._write_previous_cache()
        self._certificates_and_controller()

    def _certificates_and_controller(self):
        """XAPI's own key and certificate on the host; a controller listening on the peer.

        The controller sends its CA with its certificate, so the host can
        bootstrap it (trust on first use) as an active ssl manager does.
        """
        certs = os.path.join(self.workdir, "certs")
        host_pem = pki.self_signed(certs, "demo-host")
        with open(host_pem.pem) as handle:
            self.root.write(paths.XAPI_SSL_PEM, handle.read(), mode=0o600)
        self.controller_ca = pki.CA(certs, "controller")
        leaf = self.controller_ca.issue("controller")
        self.controller = sdn.ActiveController(leaf.chain_with(self.controller_ca), leaf.key,
                                               address=PEER_ADDRESS, port=CONTROLLER_PORT,
                                               netns=self.peer_ns.name).start()

    def _write_previous_cache(self):
        """The network cache as the previous boot's XAPI left it (the simulator's data)."""
        self.xapi.start()
        try:
            session = client.session(self.xapi.url)
            session.xenapi.login_with_password("root", "")
            try:
                network = xapi_network.load(session.xenapi, HOST_UUID)
            finally:
                session.xenapi.session.logout()
        finally:
            self.xapi.stop()
        dbcache.write(self.cache, network)

    @property
    def cache(self):
        return self.root.file(paths.NETWORK_DBCACHE)

    def damage_cache(self):
        """Cut the cache in half, as a power cut during a write without fsync could."""
        with open(self.cache, "rb") as handle:
            data = handle.read()
        with open(self.cache, "wb") as handle:
            handle.write(data[:len(data) // 2])

    # -- running the host's programs ----------------------------------------------

    @property
    def ovs_rundir(self):
        return self.root.file(paths.OVS_RUNDIR)

    def env(self, base=None, **extra):
        """The environment a host gives its programs: its root, its switch, stderr logs."""
        if base is None:
            base = {k: v for k, v in os.environ.items()
                    if not k.startswith(("OVS_", "XSOVS_", "PYTHON"))}
        env = dict(base)
        env.update(XSOVS_ROOT=self.root.path, XSOVS_LOG="stderr",
                   XSOVS_DATAPATH_TYPE="netdev", PYTHONPATH=str(REPO_ROOT),
                   OVS_RUNDIR=self.ovs_rundir,
                   OVS_DBDIR=self.root.file(paths.OVS_DBDIR),
                   OVS_LOGDIR=self.root.file(paths.OVS_LOGDIR))
        env.update(extra)
        return env

    def run_libexec(self, program, args, timeout, **env):
        """Run ``libexec/PROGRAM ARGS`` as the host would; returns the CompletedProcess."""
        argv = [self.python, os.path.join(LIBEXEC, program)] + list(args)
        return subprocess.run(argv, env=self.env(**env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout)

    def start_xapi(self):
        """XAPI comes up: the simulator serves again; returns its URL."""
        return self.xapi.start()

    def manager_connected(self):
        """True when ovsdb-server reports its manager connected (ovs-vsctl's view)."""
        result = subprocess.run(
            ["ovs-vsctl", "--db=unix:" + os.path.join(self.ovs_rundir, "db.sock"),
             "--timeout=10", "--bare", "--columns=is_connected", "list", "Manager"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            timeout=30)
        return result.returncode == 0 and result.stdout.split() == ["true"]

    def ping_peer(self, within=8.0):
        """(ok, ping's last output): ICMP from the host's namespace to the peer."""
        deadline = time.monotonic() + within
        while True:
            result = self.host_ns.run(["ping", "-c", "1", "-W", "1", PEER_ADDRESS],
                                      check=False)
            if result.returncode == 0 or time.monotonic() > deadline:
                return result.returncode == 0, (result.stdout + result.stderr).strip()

    # -- teardown --------------------------------------------------------------

    def teardown(self):
        """Remove everything, whatever was built; returns what could not be removed."""
        problems = []
        if self.controller is not None:
            self.controller.stop()
        self.xapi.stop()
        if self.root is not None:
            ovs.kill_daemons(self.ovs_rundir)
        for ns in (self.host_ns, self.peer_ns):
            left = _kill_namespace(ns.name)
            if left:
                problems.append("processes %s still in namespace %s" % (left, ns.name))
            ns.delete()
        if self.workdir is not None:
            left = _kill_naming(self.workdir)
            if left:
                problems.append("processes %s still use %s" % (left, self.workdir))
            shutil.rmtree(self.workdir, ignore_errors=True)
            if os.path.exists(self.workdir):
                problems.append("could not remove " + self.workdir)
        return problems


def _until_none(find, timeout=5.0):
    """SIGKILL what ``find()`` lists until it lists nothing; returns what stayed."""
    deadline = time.monotonic() + timeout
    while True:
        pids = find()
        if not pids or time.monotonic() > deadline:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)


def _kill_namespace(name):
    """Kill every process in namespace ``name`` (ovs-ctl's daemons and monitors...)."""
    return _until_none(lambda: netns.pids(name))


def _kill_naming(directory):
    """Kill every live process whose command line names ``directory``."""
    return _until_none(lambda: ovs.processes_naming(directory))
