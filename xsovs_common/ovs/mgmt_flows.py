"""Flows that keep a host reachable on a management bridge in secure mode.

A bridge in ``secure`` fail mode forwards nothing until its controller has
connected and programmed it, so the host would cut itself off from the very
controller it is about to reach.  Before that happens, the plugin (and
interface-reconfigure) install these flows on the management bridge:

- ARP requests arriving on the management NIC (each slave of a bond) go to
  the host (``arp,arp_op=1``: XAPI's plugin writes ``arp,nw_proto=1``, which
  ovs-ofctl reads as the same ARP opcode);
- traffic for the host's management MAC arriving there goes to the host;
- ARP and traffic from the host's MAC go out to the NIC (through the bond's
  own selection, ``NORMAL``, for a bond).

They sit at priority 0 with no timeout, as XAPI's plugin installs them: a
fallback, so any flow a controller or a traffic rule installs wins over them.
For a management interface on a VLAN the host's port is the fake bridge's
internal port: the tag is stripped on the way in and added on the way out.
Flows carry a cookie of their own so a later run replaces exactly them.
"""

import contextlib

from .. import validate
from . import openflow

COOKIE = "0x78736f7673"   # "xsovs"
PRIORITY = 0          # the lowest: whatever a controller installs wins


class ManagementPath:
    """What the flows are made of: bridge, NICs, the host's port, MAC, VLAN."""

    def __init__(self, bridge, nics, mac, host_port="LOCAL", vlan=None, bonded=False):
        self.bridge = validate.interface_name(bridge, what="management bridge")
        self.nics = [validate.interface_name(n, what="management NIC") for n in nics]
        self.mac = validate.mac(mac, what="management MAC")
        self.host_port = host_port if host_port == "LOCAL" else validate.interface_name(host_port)
        self.vlan = None if vlan is None else validate.vlan_tag(vlan)
        self.bonded = bonded

    def __eq__(self, other):
        return isinstance(other, ManagementPath) and vars(self) == vars(other)

    __hash__ = None

    def __repr__(self):
        return "ManagementPath(%r)" % vars(self)


def management_path(host_network):
    """The :class:`ManagementPath` of this host's management PIF, or None."""
    pif = host_network.management_pif()
    if pif is None:
        return None
    datapath = host_network.datapath_pif(pif)
    bonded = host_network.is_bond_master(datapath)
    if bonded:
        nics = [host_network.pif(s)["device"] for s in host_network.bond_slaves(datapath)]
    else:
        nics = [host_network.pif(datapath)["device"]]
    vlan = host_network.vlan_tag(pif) if host_network.is_vlan(pif) else None
    return ManagementPath(bridge=host_network.bridge(datapath), nics=nics,
                          mac=host_network.pif(datapath)["MAC"],
                          host_port=host_network.bridge(pif) if vlan is not None else "LOCAL",
                          vlan=vlan, bonded=bonded)


def flows(path):
    """The flow specs (without ``add``) for ``path``."""
    head = "cookie=%s,idle_timeout=0,priority=%d," % (COOKIE, PRIORITY)
    vlan_match = "dl_vlan=%d," % path.vlan if path.vlan is not None else ""
    to_host = ("strip_vlan,output:%s" % path.host_port) if path.vlan is not None \
        else "output:%s" % path.host_port if path.host_port != "LOCAL" else "LOCAL"
    result = []
    for nic in path.nics:
        result.append(head + "in_port=%s,%sarp,arp_op=1,actions=%s" % (nic, vlan_match, to_host))
        result.append(head + "in_port=%s,%sdl_dst=%s,actions=%s"
                      % (nic, vlan_match, path.mac, to_host))
    tag = "mod_vlan_vid:%d," % path.vlan if path.vlan is not None else ""
    out = "NORMAL" if path.bonded else "%soutput:%s" % (tag, path.nics[0])
    if path.bonded and path.vlan is not None:
        out = "mod_vlan_vid:%d,NORMAL" % path.vlan
    result.append(head + "in_port=%s,dl_src=%s,arp,actions=%s" % (path.host_port, path.mac, out))
    result.append(head + "in_port=%s,dl_src=%s,actions=%s" % (path.host_port, path.mac, out))
    return result


def install_times(bridge_ready, fail_mode_now, fail_mode_wanted="secure"):
    """When to install the flows around an OVSDB transaction: ``(before, after)``.

    Before, when the bridge and its ports exist already, so the host is never
    cut off; after, when the transaction creates them or changes the bridge's
    fail mode: ovs-vswitchd flushes a bridge's flows when its fail mode
    changes while it has no controller (seen with Open vSwitch 3.1).
    """
    return bridge_ready, (not bridge_ready) or fail_mode_now != fail_mode_wanted


def install(root, path):
    """Replace this project's flows on the management bridge with ``path``'s."""
    lines = ["delete cookie=%s/-1" % COOKIE] + ["add " + f for f in flows(path)]
    openflow.bundle(root, path.bridge, lines)


@contextlib.contextmanager
def around_transaction(root, path, before, after):
    """Install ``path``'s flows before the OVSDB transaction run inside, and/or after it.

    ``before`` / ``after`` as :func:`install_times` says; nothing with no ``path``.
    """
    if path is not None and before:
        install(root, path)
    yield
    if path is not None and after:
        install(root, path)
