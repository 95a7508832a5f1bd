"""What XAPI's data says OVS should hold for a bridge or a bond.

One place for the rules both interface-reconfigure (building bridges) and
the plugin (putting settings back after ``emer-reset``) apply, so the two
can never disagree: fail modes, in-band control, the networks a bridge
carries, a bridge's MAC, and a bond port's settings.
"""

from .. import validate
from ..errors import InvalidValue
from ..log import log
from ..ovs.changes import ChangeSet

FAIL_MODES = ("secure", "standalone")
DEFAULT_FAIL_MODE = "standalone"

FAIL_MODE_KEY = "vswitch-controller-fail-mode"
DISABLE_IN_BAND_KEY = "vswitch-disable-in-band"

BOND_DEFAULTS = {"mode": "balance-slb", "miimon": 100, "downdelay": 200, "updelay": 31000,
                 "use_carrier": True, "rebalance-interval": 1800000}
BOND_MODES = ("balance-slb", "active-backup", "lacp")
LACP_HASHING = {"src_mac": "balance-slb", "tcpudp_ports": "balance-tcp"}
# PIF other_config bond-* keys with a meaning here; any other bond-* key passes through.
_BOND_KEYS = ("bond-mode", "bond-hashing-algorithm", "bond-miimon", "bond-updelay",
              "bond-downdelay", "bond-use_carrier", "bond-rebalance-interval",
              "bond-lacp-time", "bond-lacp-fallback-ab")


def fail_mode(host_network, network_ref):
    """The network's fail mode if valid, else the pool's if valid, else standalone."""
    return fail_mode_of(host_network.network(network_ref), host_network.pool())


def fail_mode_of(network_record, pool_record):
    """:func:`fail_mode` from the two records themselves."""
    network_value = network_record.get("other_config", {}).get(FAIL_MODE_KEY)
    if network_value in FAIL_MODES:
        return network_value
    pool_value = pool_record.get("other_config", {}).get(FAIL_MODE_KEY)
    if pool_value in FAIL_MODES:
        return pool_value
    return DEFAULT_FAIL_MODE


class InBand:
    """The wanted ``other_config:disable-in-band``: a value, removal, or leave alone."""

    def __init__(self, value=None, invalid=None):
        self.value = value        # "true", "false", or None (remove the key)
        self.invalid = invalid    # the unusable XAPI value; the key is then left as it is


def disable_in_band(network_record):
    """An empty value means none, as XAPI's plugin reads it: the key goes."""
    raw = network_record.get("other_config", {}).get(DISABLE_IN_BAND_KEY)
    if raw is None or raw == "":
        return InBand()
    if raw in ("true", "false"):
        return InBand(raw)
    return InBand(invalid=raw)


def bridge_columns(host_network, network_ref):
    """Bridge-row settings for the bridge of ``network_ref``.

    Returns ``(values, invalid)``: ``values`` in ChangeSet.set form, and the
    unusable disable-in-band value (or None), which leaves the key alone.
    """
    values = {"fail_mode": fail_mode(host_network, network_ref)}
    in_band = disable_in_band(host_network.network(network_ref))
    if in_band.invalid is None:
        values["other_config:disable-in-band"] = in_band.value
    return values, in_band.invalid


# Port other_config keys computed from checked PIF keys: a raw pass-through may not override.
_SETTING_OF = {"bond-miimon-interval": "bond-miimon", "bond-detect-mode": "bond-use_carrier"}


def _int(other_config, key, low=0, high=2 ** 31 - 1):
    value = other_config.get(key)
    if value is None:
        return None
    try:
        return validate.integer(value, low, high, what=key)
    except InvalidValue as exc:
        log.warning("ignoring PIF other_config %s: %s", key, exc.message)
        return None


def _choice(other_config, key, choices):
    value = other_config.get(key)
    if value is None:
        return None
    if value not in choices:
        log.warning("ignoring PIF other_config %s=%r: expected one of %s",
                    key, value, ", ".join(choices))
        return None
    return value


def bond_port_columns(host_network, bond_pif):
    """Port-row settings of the bond of master PIF ``bond_pif``.

    Invalid values are logged and the default kept.
    """
    record = host_network.pif(bond_pif)
    other_config = record.get("other_config", {})
    mode = _choice(other_config, "bond-mode", BOND_MODES) or BOND_DEFAULTS["mode"]
    miimon = _int(other_config, "bond-miimon")
    updelay = _int(other_config, "bond-updelay")
    downdelay = _int(other_config, "bond-downdelay")
    use_carrier = _choice(other_config, "bond-use_carrier", ("0", "1", "true", "false"))
    rebalance = _int(other_config, "bond-rebalance-interval")
    columns = {
        "bond_updelay": BOND_DEFAULTS["updelay"] if updelay is None else updelay,
        "bond_downdelay": BOND_DEFAULTS["downdelay"] if downdelay is None else downdelay,
        "other_config:bond-miimon-interval": str(BOND_DEFAULTS["miimon"] if miimon is None
                                                 else miimon),
        "other_config:bond-detect-mode": "miimon" if use_carrier in ("0", "false")
                                         else "carrier",
    }
    if mode == "lacp":
        hashing = _choice(other_config, "bond-hashing-algorithm", tuple(LACP_HASHING)) or "src_mac"
        columns["bond_mode"] = LACP_HASHING[hashing]
        columns["lacp"] = "active"
        lacp_time = _choice(other_config, "bond-lacp-time", ("fast", "slow"))
        if lacp_time:
            columns["other_config:lacp-time"] = lacp_time
        fallback = _choice(other_config, "bond-lacp-fallback-ab", ("true", "false"))
        if fallback:
            columns["other_config:lacp-fallback-ab"] = fallback
    else:
        columns["bond_mode"] = mode
        columns["lacp"] = None
        columns["other_config:bond-rebalance-interval"] = str(
            BOND_DEFAULTS["rebalance-interval"] if rebalance is None else rebalance)
    for key, value in sorted(other_config.items()):
        target = "other_config:" + key
        if key.startswith("bond-") and key not in _BOND_KEYS:
            if target in columns:
                # bond-miimon-interval, bond-detect-mode, ...: the checked value stands.
                log.warning("ignoring PIF other_config %s=%r: set through %s", key, value,
                            _SETTING_OF.get(key, "its own key"))
                continue
            columns[target] = value
    mac = record.get("MAC")
    if mac:
        try:
            columns["mac"] = validate.mac(mac, what="bond MAC")
        except InvalidValue as exc:
            log.warning("bond %s: %s", record.get("device"), exc.message)
    return columns


def port_other_config(columns):
    """Only the other_config entries of Port columns (what emer-reset wipes)."""
    return {k: v for k, v in columns.items() if k.startswith("other_config:")}


def bridge_settings(host_network, snapshot):
    """``[(bridge, values, invalid)]`` for every real bridge in ``snapshot``
    carrying one of this host's networks, by name: what :func:`bridge_columns`
    says for it.  A fake (VLAN) bridge has no Bridge row and follows its parent.
    """
    settings = []
    for name in snapshot.real_bridges():
        pifs = host_network.pifs_on_bridge(name)
        if pifs:
            values, bad = bridge_columns(host_network, host_network.pif(pifs[0])["network"])
            settings.append((name, values, bad))
    return settings


def bond_settings(host_network, snapshot):
    """``[(port, columns)]``: the other_config settings of every bond of this
    host whose port is in ``snapshot`` (what ``emer-reset`` wipes from it)."""
    settings = []
    for pif_ref in sorted(host_network.pifs):
        if not host_network.is_bond_master(pif_ref) or host_network.is_vlan(pif_ref):
            continue
        port = host_network.pif(pif_ref).get("device")
        if port in snapshot.ports:
            settings.append((port, port_other_config(bond_port_columns(host_network, pif_ref))))
    return settings


def _differing(row, values):
    """``values`` without the columns (``column`` or ``column:key``) ``row`` holds already."""
    kept = {}
    for column, value in values.items():
        name, _, key = column.partition(":")
        current = getattr(row, name).get(key) if key else getattr(row, name)
        if current != value:
            kept[column] = value
    return kept


def settings_changes(host_network, snapshot, after_reset):
    """The bridge and bond settings XAPI's data defines, as changes to ``snapshot``.

    For every real bridge in ``snapshot`` carrying one of this host's
    networks: fail mode and disable-in-band; for every bond of this host
    whose port exists: the bond's other_config settings.  A bridge XAPI does
    not know is left alone; a fake bridge has no Bridge row and follows its
    parent.  ``after_reset``: ``emer-reset`` wipes them in the same
    transaction, so every value is put back (a removal has nothing left to
    remove); otherwise only what differs from ``snapshot`` changes.
    Returns ``(changes, invalid)`` where ``invalid`` maps bridge -> unusable value.
    """
    changes = ChangeSet()
    invalid = {}
    for name, values, bad in bridge_settings(host_network, snapshot):
        if after_reset:
            values = {k: v for k, v in values.items() if v is not None}
        else:
            values = _differing(snapshot.bridges[name], values)
        changes.set("Bridge", name, values)
        if bad is not None:
            invalid[name] = bad
    for port, columns in bond_settings(host_network, snapshot):
        if not after_reset:
            columns = _differing(snapshot.ports[port], columns)
        changes.set("Port", port, columns)
    return changes, invalid


NETWORK_UUIDS_KEY = "xs-network-uuids"


def network_uuids(host_network, bridge):
    """The ``xs-network-uuids`` a bridge of this host should carry, or None.

    As XAPI's own network daemon writes it: a real bridge carries its
    network's uuid, a fake (VLAN) bridge ``VLAN-network;parent-network``.
    A controller that looks a network up by an exact match on the Bridge
    table (``external_ids includes {xs-network-uuids: UUID}``, as Xen
    Orchestra does) finds it; the historical form, every network of a NIC on
    each of its bridges, matched nothing on a NIC with VLANs and grew the
    database as N x N for N VLANs.
    """
    pifs = host_network.pifs_on_bridge(bridge)
    if not pifs:
        return None
    return ";".join(host_network.network_uuids(pifs[0]))


def network_uuid_changes(host_network, snapshot):
    """Set ``xs-network-uuids`` on every bridge in ``snapshot`` that is this host's.

    A stored value that differs in any way -- the historical full list, a
    malformed or huge one -- is replaced, never parsed or trusted.
    """
    changes = ChangeSet()
    for name in sorted(snapshot.bridges):
        wanted = network_uuids(host_network, name)
        if wanted is not None and \
                snapshot.bridges[name].external_ids.get(NETWORK_UUIDS_KEY) != wanted:
            changes.br_set_external_id(name, NETWORK_UUIDS_KEY, wanted)
    return changes
