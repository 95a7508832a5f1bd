"""This host's network objects, whichever source they came from.

A :class:`HostNetwork` holds the records XAPI has for this host -- its PIFs
with their networks, Bonds, VLANs and tunnels, and the pool -- as plain
dicts keyed by XAPI ref, with the fields listed in :data:`SCHEMA` (the same
fields the network cache stores).  It answers the questions every part asks
in XenServer's own terms: a PIF's bridge, the PIF that carries its traffic
(its datapath), a bond's slaves, a VLAN's tag, the networks on a device.

Indexes are built once, so every question is a dict look-up: a host with
thousands of VLAN PIFs is answered as fast as one with three.
"""

import re

from .. import validate
from ..errors import Error

NULL_REF = validate.NULL_REF

# Field kinds: "str", "bool", ("list", item element name), "other_config".
SCHEMA = {
    "pif": (
        ("uuid", "str"), ("device", "str"), ("MAC", "str"), ("network", "str"),
        ("management", "bool"), ("VLAN", "str"), ("VLAN_master_of", "str"),
        ("VLAN_slave_of", ("list", "master")), ("bond_master_of", ("list", "slave")),
        ("bond_slave_of", "str"), ("tunnel_access_PIF_of", ("list", "pif")),
        ("tunnel_transport_PIF_of", ("list", "pif")), ("ip_configuration_mode", "str"),
        ("IP", "str"), ("netmask", "str"), ("gateway", "str"), ("DNS", "str"),
        ("ipv6_configuration_mode", "str"), ("IPv6", ("list", "address")),
        ("ipv6_gateway", "str"), ("primary_address_type", "str"),
        ("currently_attached", "bool"), ("other_config", "other_config"),
    ),
    "network": (
        ("uuid", "str"), ("bridge", "str"), ("MTU", "str"), ("PIFs", ("list", "PIF")),
        ("other_config", "other_config"),
    ),
    "bond": (("uuid", "str"), ("master", "str"), ("slaves", ("list", "slave"))),
    "vlan": (("uuid", "str"), ("tagged_PIF", "str"), ("untagged_PIF", "str"), ("tag", "str")),
    "tunnel": (("uuid", "str"), ("access_PIF", "str"), ("transport_PIF", "str")),
    "pool": (("other_config", "other_config"),),
}

# Values a record gets for a field an older cache (or XAPI) did not have.
DEFAULTS = {
    "pif": {"VLAN": "-1", "VLAN_master_of": NULL_REF, "bond_slave_of": NULL_REF,
            "ip_configuration_mode": "None", "ipv6_configuration_mode": "None",
            "primary_address_type": "IPv4", "management": False, "currently_attached": False},
    "network": {"MTU": "1500"},
    "bond": {}, "vlan": {"tag": "-1"}, "tunnel": {}, "pool": {},
}

_ETHTOOL_KEYS = tuple("ethtool-" + k for k in (
    "autoneg", "speed", "duplex", "rx", "tx", "sg", "tso", "ufo", "gso", "gro", "lro"))

# other_config keys kept per class: the ones something here reads.  Any
# other "bond-*" key is kept too (it passes through to OVS).
OTHER_CONFIG_KEYS = {
    "pif": ("domain", "peerdns", "defaultroute", "mtu", "static-routes",
            "vlan-bug-workaround") + _ETHTOOL_KEYS,
    "network": ("mtu", "static-routes", "vswitch-controller-fail-mode",
                "vswitch-disable-in-band") + _ETHTOOL_KEYS,
    "pool": ("vswitch-controller-fail-mode",),
    "bond": (), "vlan": (), "tunnel": (),
}
_SAFE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")


def keep_other_config(kind, other_config):
    """The other_config entries worth keeping for a ``kind`` record."""
    wanted = OTHER_CONFIG_KEYS[kind]
    return {key: value for key, value in other_config.items()
            if key in wanted or (kind == "pif" and key.startswith("bond-")
                                 and _SAFE_KEY.match(key))}


class ModelError(Error):
    """XAPI's data (or the cache) does not describe a usable configuration."""

    code = "XSOVS_BAD_CONFIGURATION"


def _is_ref(value):
    return bool(value) and value != NULL_REF


class HostNetwork:
    """This host's PIFs, networks, Bonds, VLANs, tunnels and pool."""

    def __init__(self, pifs, networks, bonds=None, vlans=None, tunnels=None, pools=None):
        self.pifs = pifs
        self.networks = networks
        self.bonds = bonds or {}
        self.vlans = vlans or {}
        self.tunnels = tunnels or {}
        self.pools = pools or {}
        self._pifs_by_network = {}
        for ref, rec in pifs.items():
            self._pifs_by_network.setdefault(rec.get("network"), []).append(ref)
        self._networks_by_bridge = {}
        for ref, rec in networks.items():
            self._networks_by_bridge.setdefault(rec.get("bridge"), []).append(ref)

    def updated(self, fresh):
        """A copy with ``fresh``'s records in place of these (and added); its pool.

        What keeps the cache right after an action that read only some objects.
        """
        merged = {}
        for attr in ("pifs", "networks", "bonds", "vlans", "tunnels"):
            merged[attr] = dict(getattr(self, attr))
            merged[attr].update(getattr(fresh, attr))
        return HostNetwork(pools=dict(fresh.pools) or dict(self.pools), **merged)

    # Records, with errors that name what is missing.

    def pif(self, ref):
        try:
            return self.pifs[ref]
        except KeyError:
            raise ModelError("unknown PIF %s (not a PIF of this host)" % ref, params=[ref])

    def network(self, ref):
        try:
            return self.networks[ref]
        except KeyError:
            raise ModelError("unknown network %s" % ref, params=[ref])

    def pifs_on_network(self, network_ref):
        return list(self._pifs_by_network.get(network_ref, ()))

    def networks_with_bridge(self, bridge):
        return list(self._networks_by_bridge.get(bridge, ()))

    def pifs_on_bridge(self, bridge):
        """This host's PIFs whose network has ``bridge`` (one, on a sound host)."""
        return [p for n in self.networks_with_bridge(bridge) for p in self.pifs_on_network(n)]

    def pif_by_bridge(self, bridge):
        """The one PIF of this host whose network has ``bridge``."""
        found = self.pifs_on_bridge(bridge)
        if not found:
            raise ModelError("no PIF of this host is on a network with bridge %s" % bridge,
                             params=[bridge])
        if len(found) > 1:
            raise ModelError("several PIFs of this host are on bridge %s: %s"
                             % (bridge, ", ".join(sorted(found))), params=[bridge])
        return found[0]

    def describe_pif(self, pif_ref):
        """A PIF as an administrator finds it in messages: uuid and device."""
        record = self.pif(pif_ref)
        return "PIF %s (%s)" % (record.get("uuid") or pif_ref, record.get("device") or "no device")

    def pool(self):
        """The pool record ({} when the source had none)."""
        return next(iter(self.pools.values())) if self.pools else {}

    def has_ip_configuration(self, pif_ref):
        """True when XAPI gives the PIF addresses: an IPv4 or IPv6 mode other than None."""
        record = self.pif(pif_ref)
        return any(str(record.get(mode) or "None").lower() != "none"
                   for mode in ("ip_configuration_mode", "ipv6_configuration_mode"))

    def management_pif(self):
        for ref, rec in self.pifs.items():
            if rec.get("management"):
                return ref
        return None

    # XenServer's structure.

    def bridge(self, pif_ref):
        return self.network(self.pif(pif_ref)["network"]).get("bridge", "")

    def is_vlan(self, pif_ref):
        return _is_ref(self.pif(pif_ref).get("VLAN_master_of"))

    def vlan_record(self, pif_ref):
        ref = self.pif(pif_ref).get("VLAN_master_of")
        if ref not in self.vlans:
            raise ModelError("VLAN PIF %s has no VLAN record %s" % (pif_ref, ref),
                             params=[pif_ref])
        return self.vlans[ref]

    def vlan_tag(self, pif_ref):
        """A VLAN PIF's tag (PIF.VLAN, else its VLAN record's), checked."""
        tag = self.pif(pif_ref).get("VLAN", "-1")
        if str(tag) == "-1" and self.is_vlan(pif_ref):
            tag = self.vlan_record(pif_ref).get("tag", "-1")
        return validate.vlan_tag(str(tag), what="VLAN tag of " + self.describe_pif(pif_ref))

    def vlan_slave(self, pif_ref):
        """The tagged PIF a VLAN PIF rides on."""
        slave = self.vlan_record(pif_ref).get("tagged_PIF")
        if slave not in self.pifs:
            raise ModelError("VLAN PIF %s: its slave PIF %s is not on this host"
                             % (pif_ref, slave), params=[pif_ref])
        return slave

    def is_bond_master(self, pif_ref):
        return any(_is_ref(b) for b in self.pif(pif_ref).get("bond_master_of") or ())

    def bond_record(self, pif_ref):
        for ref in self.pif(pif_ref).get("bond_master_of") or ():
            if ref in self.bonds:
                return self.bonds[ref]
        raise ModelError("bond PIF %s has no Bond record" % pif_ref, params=[pif_ref])

    def bond_slaves(self, pif_ref):
        """The slave PIFs of a bond master, in device order."""
        slaves = [s for s in self.bond_record(pif_ref).get("slaves", ()) if s in self.pifs]
        if not slaves:
            raise ModelError("bond PIF %s has no slaves on this host" % pif_ref,
                             params=[pif_ref])
        return sorted(slaves, key=lambda s: self.pifs[s].get("device", ""))

    def bond_master(self, slave_ref):
        bond = self.bonds.get(self.pif(slave_ref).get("bond_slave_of"))
        return bond.get("master") if bond else None

    def nic_holders(self, datapath_pif, nic_pifs):
        """The PIFs besides ``datapath_pif`` whose bridges hold the NICs ``nic_pifs``:
        a NIC's own PIF, and a bond over one of them (XenServer's one rule for what
        bringing a datapath up takes its NICs from)."""
        holders = []
        for nic in nic_pifs:
            for holder in (nic, self.bond_master(nic)):
                if holder in self.pifs and holder != datapath_pif and holder not in holders:
                    holders.append(holder)
        return holders

    def is_tunnel_access(self, pif_ref):
        return any(_is_ref(t) for t in self.pif(pif_ref).get("tunnel_access_PIF_of") or ())

    def datapath_pif(self, pif_ref):
        """The PIF whose bridge carries ``pif_ref``'s traffic (a VLAN's slave, else itself)."""
        return self.vlan_slave(pif_ref) if self.is_vlan(pif_ref) else pif_ref

    def vlan_pifs_on(self, pif_ref):
        """VLAN PIFs riding on ``pif_ref``."""
        return [v["untagged_PIF"] for v in self.vlans.values()
                if v.get("tagged_PIF") == pif_ref and v.get("untagged_PIF") in self.pifs]

    def network_uuids(self, pif_ref):
        """The uuids a PIF's bridge carries as ``xs-network-uuids``, checked.

        As current XAPI writes them: a bridge its own network's uuid; a
        VLAN's fake bridge its own network's, then its slave's.  Each bridge
        names at most two networks, so the total stays linear in the VLANs.
        """
        refs = [pif_ref] + ([self.vlan_slave(pif_ref)] if self.is_vlan(pif_ref) else [])
        return [validate.uuid(self.network(self.pif(ref)["network"]).get("uuid", ""),
                              what="uuid of the network of " + self.describe_pif(ref))
                for ref in refs]

    def other_config(self, pif_ref):
        """Settings merged pool -> network -> PIF, the later winning."""
        merged = dict(self.pool().get("other_config", {}))
        merged.update(self.network(self.pif(pif_ref)["network"]).get("other_config", {}))
        merged.update(self.pif(pif_ref).get("other_config", {}))
        return merged
