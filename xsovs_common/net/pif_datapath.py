"""A PIF's datapath: which PIF carries its traffic, on which bridge and NICs.

XenServer's rule: a PIF's traffic rides on its *datapath* PIF, itself or a
VLAN's slave; that PIF's bridge holds its NIC, a bond port over the bond's
slave NICs, or nothing (a tunnel).  :class:`Datapath` answers it for one PIF
with every name and MAC validated, so a plan built on it never carries a
value XAPI (or the cache) got wrong.
"""

from .. import validate
from .model import ModelError


def device_of(host_network, pif_ref):
    """The PIF's device name, checked to be an interface name."""
    return validate.interface_name(host_network.pif(pif_ref).get("device", ""),
                                   what="device of " + host_network.describe_pif(pif_ref))


def _mac(host_network, pif_ref):
    """The PIF's MAC in canonical form, or None when XAPI has none."""
    mac = host_network.pif(pif_ref).get("MAC", "")
    if not mac:
        return None
    return validate.mac(mac, what="MAC of " + host_network.describe_pif(pif_ref))


def _bridge(host_network, pif_ref, required=True):
    name = host_network.bridge(pif_ref)
    if not name:
        if required:
            raise ModelError("%s: its network has no bridge" % host_network.describe_pif(pif_ref),
                             params=[pif_ref])
        return ""
    return validate.interface_name(name, what="bridge of " + host_network.describe_pif(pif_ref))


def _alone_on_network(host_network, pif_ref):
    network = host_network.pif(pif_ref).get("network")
    host_network.network(network)
    pifs = host_network.pifs_on_network(network)
    if len(pifs) > 1:
        raise ModelError("network %s (bridge %s) has several PIFs on this host: %s" % (
            network, host_network.bridge(pif_ref) or "none",
            ", ".join(sorted(host_network.describe_pif(p) for p in pifs))), params=[network])


class Datapath:
    """A PIF's datapath, validated: bridges, NICs, MACs, tag."""

    def __init__(self, host_network, pif_ref):
        self.pif = pif_ref
        _alone_on_network(host_network, pif_ref)
        self.device = device_of(host_network, pif_ref)
        self.mac = _mac(host_network, pif_ref)
        self.vlan = None
        if host_network.is_vlan(pif_ref):
            self.vlan = host_network.vlan_tag(pif_ref)
            self.datapath_pif = host_network.vlan_slave(pif_ref)
            if host_network.is_vlan(self.datapath_pif):
                raise ModelError("VLAN %s rides on %s, itself a VLAN" % (
                    host_network.describe_pif(pif_ref),
                    host_network.describe_pif(self.datapath_pif)), params=[pif_ref])
            _alone_on_network(host_network, self.datapath_pif)
            device_of(host_network, self.datapath_pif)
            self.datapath_mac = _mac(host_network, self.datapath_pif)
            self.bridge = _bridge(host_network, pif_ref)
            self.datapath_bridge = _bridge(host_network, self.datapath_pif)
            if self.bridge == self.datapath_bridge:
                raise ModelError("VLAN %s has the bridge %s of its slave" % (
                    host_network.describe_pif(pif_ref), self.bridge), params=[pif_ref])
        else:
            self.datapath_pif = pif_ref
            self.datapath_mac = self.mac
            self.bridge = self.datapath_bridge = _bridge(
                host_network, pif_ref, required=host_network.is_bond_master(pif_ref)
                or host_network.is_tunnel_access(pif_ref))
        self.bonded = host_network.is_bond_master(self.datapath_pif)
        if self.bonded:
            self.nic_pifs = host_network.bond_slaves(self.datapath_pif)
            self.port = device_of(host_network, self.datapath_pif)
        elif host_network.is_tunnel_access(self.datapath_pif):
            self.nic_pifs = []
            self.port = None
        else:
            self.nic_pifs = [self.datapath_pif]
            self.port = device_of(host_network, self.datapath_pif)
        self.nics = [device_of(host_network, nic) for nic in self.nic_pifs]
        for nic in self.nic_pifs:
            if host_network.is_vlan(nic) or host_network.is_bond_master(nic):
                raise ModelError("bond %s has the slave %s, not a NIC" % (
                    host_network.describe_pif(self.datapath_pif),
                    host_network.describe_pif(nic)), params=[self.datapath_pif])

    @property
    def ip_device(self):
        return self.bridge or self.device
