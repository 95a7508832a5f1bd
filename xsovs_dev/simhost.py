"""A simulated host booted the way a real one is, for end-to-end tests and the demo.

A network namespace is the host's network; a private root is its file
system, where ``ovs-ctl`` and ``iptables`` are the real programs run inside
the namespace.  ``openvswitch-boot start`` then starts ovsdb-server and
ovs-vswitchd exactly as on a host: ovs-ctl gives ovsdb-server its remotes,
key, certificate and CA from the database (``db:Open_vSwitch,...``), so a
manager set in OVSDB is what ovsdb-server listens on or connects to.  The
userspace datapath forwards packets, so nothing needs a kernel module.
"""

import os
import subprocess
import sys
import time

from xsovs_common import paths
from xsovs_dev import netns, ovs
from xsovs_dev.fakeroot import FakeRoot

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = os.path.join(REPO, "libexec", "openvswitch-boot")


class SimHost:
    """One host: namespace ``ns``, private root at ``path``, identity ``host_uuid``."""

    def __init__(self, path, host_uuid, ns=None):
        self.ns = ns or netns.Namespace()
        self.fake = FakeRoot(path, host_uuid=host_uuid)
        self.uuid = host_uuid
        self.rundir = self.fake.file(paths.OVS_RUNDIR)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OVS_", "XSOVS_"))}
        self.env.update(PYTHONPATH=REPO, XSOVS_LOG="stderr", XSOVS_DATAPATH_TYPE="netdev")
        self._created_ns = ns is None

    def create(self):
        if self._created_ns:
            self.ns.create()
        self.fake.netns_program("ovs-ctl", self.ns.name)
        self.fake.netns_program("iptables", self.ns.name)
        self.fake.stub_program("modprobe")
        return self

    def boot(self, command="start", check=True, env=None):
        """``openvswitch-boot COMMAND`` on this host (``env``: more variables)."""
        result = subprocess.run([sys.executable, BOOT, "--root-prefix", self.fake.path, command],
                                env=dict(self.env, **(env or {})), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError("openvswitch-boot %s failed: %s" % (command, result.stderr))
        return result

    def vsctl(self, *args):
        return subprocess.run(
            ["ovs-vsctl", "--db=unix:" + os.path.join(self.rundir, "db.sock"), "--timeout=10"]
            + list(args), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True).stdout

    def get(self, table, record, column):
        return self.vsctl("get", table, record, column).strip()

    def run(self, argv, check=True, timeout=30):
        """A command inside the host's namespace."""
        return self.ns.run(argv, check=check, timeout=timeout)

    def daemons(self):
        """Processes whose command line names this host's root."""
        return ovs.processes_naming(self.fake.path + "/")

    def gone(self, timeout=30):
        """True once no process names this host's root (killed ones take a moment)."""
        deadline = time.time() + timeout
        while self.daemons():
            if time.time() > deadline:
                return False
            time.sleep(0.05)
        return True

    def destroy(self):
        """Stop the daemons, kill what is left, remove the namespace; True if all went."""
        try:
            SimHost.boot(self, "stop", check=False)
        finally:
            ovs.kill_daemons(self.rundir)
            netns.kill_processes(self.ns.name)
            if self._created_ns:
                self.ns.delete()
        return self.gone()
