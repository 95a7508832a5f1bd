"""This host's network objects, read from XAPI in a constant number of calls.

Seven calls whatever the size of the pool: the host, its PIFs (filtered by
XAPI), then all networks, Bonds, VLANs, tunnels and pools, kept when they
touch one of this host's PIFs.  Per-object calls (what the historical code
did for tunnels and pools) would grow with the host.
"""

from . import validate
from .model import DEFAULTS, SCHEMA, HostNetwork, keep_other_config


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


def load(api, host_uuid, pool_records=None):
    """A :class:`HostNetwork` for the host ``host_uuid``, from XAPI ``api``.

    ``pool_records``: ``pool.get_all_records()`` when the caller has it already.
    """
    host_ref = validate.ref(api.host.get_by_uuid(host_uuid), what="host reference")
    pif_records = api.PIF.get_all_records_where('field "host"="%s"' % host_ref)
    pifs = {ref: _select("pif", rec) for ref, rec in pif_records.items()}

    networks = {}
    for ref, rec in api.network.get_all_records().items():
        mine = [p for p in rec.get("PIFs", ()) if p in pifs]
        if mine:
            networks[ref] = _select("network", rec)
            networks[ref]["PIFs"] = mine
    bonds = {ref: _select("bond", rec) for ref, rec in api.Bond.get_all_records().items()
             if rec.get("master") in pifs}
    vlans = {ref: _select("vlan", rec) for ref, rec in api.VLAN.get_all_records().items()
             if rec.get("untagged_PIF") in pifs}
    tunnels = {ref: _select("tunnel", rec) for ref, rec in api.tunnel.get_all_records().items()
               if rec.get("access_PIF") in pifs}
    if pool_records is None:
        pool_records = api.pool.get_all_records()
    pools = {ref: _select("pool", rec) for ref, rec in pool_records.items()}
    return HostNetwork(pifs, networks, bonds, vlans, tunnels, pools)
