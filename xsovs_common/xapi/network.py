"""This host's network objects, read from XAPI in a constant number of calls.

:func:`load` reads all of this host's objects in seven calls whatever the
size of the host or the pool: the host, its PIFs, then the networks, VLANs,
Bonds and tunnels through ``get_all_records_where`` queries keyed on the
refs those PIFs name (``field "_ref"="A" or ...``, ``field "master"=...``),
and the pool.  Records of other hosts are never sent.  What remains of the
pool's size: a network record lists the PIFs of every host on it (64 refs
on a network that spans a 64-host pool), and XAPI evaluates each query over
its whole table on its side.

:func:`load_pif` reads only what one PIF's ``up`` or ``down`` needs -- the
PIF, its network, its VLAN/Bond/tunnel, the PIFs under it and their
networks, this host's other PIFs on those networks, the management and
IP-configured PIFs (default route, DNS, management flows) -- in a bounded
number of rounds of the same queries, however many other PIFs the host has.

Every ref placed into a query is first checked to be ``OpaqueRef:<uuid>``,
so nothing XAPI hands back can change a query's meaning.
"""

import re

from ..errors import InvalidValue
from ..net.model import DEFAULTS, NULL_REF, SCHEMA, HostNetwork, ModelError, keep_other_config

_QUERY_REF = re.compile(
    r"^OpaqueRef:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# XAPI's classes as the model files them.
_KINDS = (("network", "network", "networks"), ("VLAN", "vlan", "vlans"),
          ("Bond", "bond", "bonds"), ("tunnel", "tunnel", "tunnels"))


def query_ref(ref, what="reference"):
    """``ref`` if it is ``OpaqueRef:<uuid>`` (safe inside a query), else InvalidValue."""
    if not isinstance(ref, str) or not _QUERY_REF.match(ref):
        raise InvalidValue("XAPI gave a malformed %s %r (expected OpaqueRef:<uuid>)"
                           % (what, ref), params=[what, str(ref)])
    return ref


def _any(field, refs):
    """``field "F"="A" or field "F"="B" ...`` over checked refs ('false' when none)."""
    terms = ['field "%s"="%s"' % (field, query_ref(r, what=field + " reference"))
             for r in sorted(refs)]
    return " or ".join(terms) or "false"


def _select(kind, record):
    kept = dict(DEFAULTS[kind])
    for field, ftype in SCHEMA[kind]:
        if field not in record:
            continue   # older XAPI (no MTU, no IPv6): the model's defaults apply
        value = record[field]
        if ftype == "other_config":
            value = keep_other_config(kind, value)
        elif ftype == "str":
            value = str(value)
        elif ftype == "bool":
            value = bool(value)
        else:
            value = [str(v) for v in value]
        kept[field] = value
    return kept


class _Reader:
    """Collects records by ref, class by class, in as few queries as it can."""

    def __init__(self, api, host_ref):
        self.api = api
        self.host_ref = query_ref(host_ref, what="host reference")
        self.pifs = {}
        self.networks, self.vlans, self.bonds, self.tunnels = {}, {}, {}, {}
        self.raw_networks = {}

    def where(self, cls, expr):
        return getattr(self.api, cls).get_all_records_where(expr)

    def add_pifs(self, records):
        new = []
        for ref, rec in records.items():
            query_ref(ref, what="PIF reference")
            if ref not in self.pifs and rec.get("host") == self.host_ref:
                self.pifs[ref] = _select("pif", rec)
                new.append(ref)
        return new

    def read_objects(self, pif_refs, vlan_refs=()):
        """Networks, VLANs, Bonds and tunnels the PIFs ``pif_refs`` name; returns the
        PIF refs those records name in turn."""
        wanted = {"network": set(), "VLAN": set(vlan_refs), "Bond": set(), "tunnel": set()}
        for ref in pif_refs:
            rec = self.pifs[ref]
            wanted["network"].add(rec.get("network"))
            wanted["VLAN"].add(rec.get("VLAN_master_of"))
            wanted["Bond"].update(rec.get("bond_master_of") or ())
            wanted["Bond"].add(rec.get("bond_slave_of"))
            wanted["tunnel"].update(rec.get("tunnel_access_PIF_of") or ())
        named = set()
        for cls, kind, attr in _KINDS:
            have = getattr(self, attr)
            refs = {r for r in wanted[cls] if r and r != NULL_REF and r not in have}
            if not refs:
                continue
            for ref, rec in self.where(cls, _any("_ref", refs)).items():
                if ref not in refs:
                    continue
                if cls == "network":
                    self.raw_networks[ref] = rec
                    have[ref] = _select(kind, rec)
                    continue
                have[ref] = _select(kind, rec)
                if cls == "VLAN":
                    named.update((rec.get("tagged_PIF"), rec.get("untagged_PIF")))
                elif cls == "Bond":
                    named.add(rec.get("master"))
                    named.update(rec.get("slaves") or ())
        return {r for r in named if r and r != NULL_REF and r not in self.pifs}

    def read_pifs(self, refs, networks):
        """PIFs ``refs``, and this host's PIFs on the networks ``networks``."""
        terms = []
        if refs:
            terms.append(_any("_ref", refs))
        if networks:
            # Not the PIFs read already: a NIC's record lists all its VLANs.
            terms.append('(field "host"="%s" and (%s) and (not (%s)))' % (
                self.host_ref, _any("network", networks), _any("_ref", self.pifs)))
        if not terms:
            return []
        return self.add_pifs(self.where("PIF", " or ".join(terms)))

    def host_network(self, pool_records):
        # A network lists every host's PIFs: keep this host's.
        for ref, rec in self.raw_networks.items():
            self.networks[ref]["PIFs"] = [p for p in rec.get("PIFs", ()) if p in self.pifs]
        pools = {ref: _select("pool", rec) for ref, rec in pool_records.items()}
        return HostNetwork(self.pifs, self.networks, self.bonds, self.vlans, self.tunnels,
                           pools)


def host_ref(api, host_uuid):
    return query_ref(api.host.get_by_uuid(host_uuid), what="host reference")


def load(api, host_uuid, pool_records=None):
    """A :class:`HostNetwork` of all of host ``host_uuid``'s objects, from XAPI ``api``.

    ``pool_records``: ``pool.get_all_records()`` when the caller has it already.
    """
    reader = _Reader(api, host_ref(api, host_uuid))
    reader.add_pifs(reader.where("PIF", 'field "host"="%s"' % reader.host_ref))
    pifs = reader.pifs
    keyed = (
        ("network", "_ref", {rec.get("network") for rec in pifs.values()}),
        ("VLAN", "untagged_PIF", {ref for ref, rec in pifs.items()
                                  if rec.get("VLAN_master_of") not in ("", NULL_REF)}),
        ("Bond", "master", {ref for ref, rec in pifs.items() if rec.get("bond_master_of")}),
        ("tunnel", "access_PIF", {ref for ref, rec in pifs.items()
                                  if rec.get("tunnel_access_PIF_of")}),
    )
    for (cls, field, keys), (_, kind, attr) in zip(keyed, _KINDS):
        keys.discard(NULL_REF)
        keys.discard("")
        if not keys:
            continue
        have = getattr(reader, attr)
        for ref, rec in reader.where(cls, _any(field, keys)).items():
            if cls == "network":
                reader.raw_networks[ref] = rec
            elif rec.get(field) not in pifs:
                continue
            have[ref] = _select(kind, rec)
    if pool_records is None:
        pool_records = api.pool.get_all_records()
    return reader.host_network(pool_records)


# What a PIF action reads besides the PIF's own objects: the management PIF
# (management flows, default route) and the PIFs with an IP configuration
# (XAPI's candidates for the default route and DNS).  Parenthesised: in
# XAPI's language ``not`` reaches to the end of the expression.
_HOST_PIFS = ('field "management"="true" or (not field "ip_configuration_mode"="None")'
              ' or (not field "ipv6_configuration_mode"="None")')


def load_pif(api, host_uuid, pif_ref, pif_record=None, action="up", pool_records=None):
    """A :class:`HostNetwork` holding what an ``up`` or ``down`` of ``pif_ref`` reads.

    ``pif_record``: ``PIF.get_record(pif_ref)`` when the caller has read it.
    ``down`` also reads the VLANs riding on the PIF's datapath (whether one is
    still attached decides whether its bridge stays); ``up`` those on NICs it
    takes from other bridges (their fake bridges go too).
    """
    reader = _Reader(api, host_ref(api, host_uuid))
    query_ref(pif_ref, what="PIF reference")
    if pif_record is None:
        pif_record = api.PIF.get_record(pif_ref)
    if not reader.add_pifs({pif_ref: pif_record}):
        return HostNetwork({}, {})    # another host's PIF: the caller says so
    new = reader.add_pifs(reader.where("PIF", '(field "host"="%s") and (%s)'
                                       % (reader.host_ref, _HOST_PIFS)))
    new = [pif_ref] + new
    vlans_of = set()
    # Rounds, as deep as XenServer's structure: a VLAN's slave, a bond's slaves,
    # the bonds those NICs are in, the VLANs on bridges that go.
    while True:
        networks = {reader.pifs[r].get("network") for r in new} - set(reader.networks)
        named = reader.read_objects(new, vlans_of)
        networks = {n for n in networks if n in reader.networks}
        new = reader.read_pifs(named, networks)
        if not new:
            vlans_of = _riding_vlans(reader, pif_ref, action) - set(reader.vlans)
            if not vlans_of:
                break
    if pool_records is None:
        pool_records = api.pool.get_all_records()
    return reader.host_network(pool_records)


def _riding_vlans(reader, pif_ref, action):
    """VLAN refs riding on the PIFs whose bridges the action may remove."""
    host_network = HostNetwork(reader.pifs, reader.networks, reader.bonds, reader.vlans,
                               reader.tunnels)
    try:
        datapath_pif = host_network.datapath_pif(pif_ref)
    except (ModelError, InvalidValue):   # the plan reports what is wrong with the PIF
        return set()
    if action == "down":
        holders = [datapath_pif]
    else:
        nics = [datapath_pif]
        if host_network.is_bond_master(datapath_pif) and _has_slaves(host_network, datapath_pif):
            nics = host_network.bond_slaves(datapath_pif)
        holders = host_network.nic_holders(datapath_pif, nics)
    return {vlan for holder in holders
            for vlan in host_network.pif(holder).get("VLAN_slave_of") or ()
            if vlan and vlan != NULL_REF}


def _has_slaves(host_network, datapath_pif):
    try:
        return bool(host_network.bond_slaves(datapath_pif))
    except ModelError:
        return False
