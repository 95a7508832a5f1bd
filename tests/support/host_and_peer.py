"""A host namespace whose NICs lead to a peer namespace, each with a userspace Open vSwitch.

For the end-to-end tests of what ``interface-reconfigure`` builds: the
host's NICs ``ethN`` are veths to the peer's ``pN``.  The kernel offers no
VLAN, bond or bridge devices, so the peer's side is a second userspace
switch: ``pbr0`` over ``p0`` with an internal port ``pv100`` tagged 100
(the far end of VLAN 100), and ``pbr1`` over ``p1`` and ``p2`` (the far
end of a bond).  ``interface-reconfigure`` runs in this process, on the
host's switch, as its executable would.
"""

import os

from xsovs_common.actions.commands import interface_reconfigure
from xsovs_dev import netns, ovs

PEER_VLAN_PORT = "pv100"


class HostAndPeer:
    """The two namespaces (``host``, ``peer``) and their switches (``host_ovs``, ``peer_ovs``)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.host = netns.Namespace().create()
        self.peer = netns.Namespace().create()
        self.instances = []

    def start_switches(self, links):
        """``links`` NICs, both switches, and the peer's bridges."""
        for i in range(links):
            netns.veth(self.host, "eth%d" % i, self.peer, "p%d" % i)
        self.host_ovs = self._switch("host-ovs", self.host)
        self.peer_ovs = self._switch("peer-ovs", self.peer)
        self.peer_ovs.vsctl(
            "add-br", "pbr0", "--", "set", "Bridge", "pbr0", "datapath_type=netdev",
            "--", "add-port", "pbr0", "p0",
            "--", "add-port", "pbr0", PEER_VLAN_PORT, "tag=100", "--", "set", "Interface",
            PEER_VLAN_PORT, "type=internal",
            "--", "add-br", "pbr1", "--", "set", "Bridge", "pbr1", "datapath_type=netdev",
            "--", "add-port", "pbr1", "p1", "--", "add-port", "pbr1", "p2")

    def _switch(self, name, ns):
        instance = ovs.OvsInstance(os.path.join(self.workdir, name), vswitchd="netdev",
                                   netns=ns.name)
        self.instances.append(instance)
        return instance.start()

    def interface_reconfigure(self, root_path, *argv, env=None):
        """``interface-reconfigure --root-prefix ROOT ARGV...`` on the host's switch (netdev
        bridges); its exit status.  ``env``: more of the environment it reads."""
        saved = dict(os.environ)
        os.environ.update(OVS_RUNDIR=self.host_ovs.rundir, XSOVS_DATAPATH_TYPE="netdev")
        os.environ.update(env or {})
        try:
            return interface_reconfigure.main(["--root-prefix", root_path, "--no-syslog"]
                                              + list(argv))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def stop_switches(self):
        for instance in self.instances:
            instance.stop()
