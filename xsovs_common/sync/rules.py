"""What ovs-xapi-sync keeps true in OVSDB, as a plan of plain data.

Given the XAPI records (:class:`~xsovs_common.sync.cache.XapiCache`) and the
rows of OVSDB's Bridge, Port and Interface tables, :func:`plan` returns only
the differences: ``{(table, row uuid): {column: value}}`` where a map
column's value is ``{key: value or None}`` (None removes the key) and
``fail_mode`` is a string.  Nothing else is touched.

- A bridge XAPI knows (its network's ``bridge`` is the bridge's name; a fake
  bridge is a Port row and has its own network) gets ``bridge-id``: the
  network's ``nicira-bridge-id``, else its uuid.  A real bridge also gets
  ``fail_mode`` (network's, else pool's, else standalone) and
  ``other_config:disable-in-band`` (the network's ``vswitch-disable-in-band``;
  removed when unset).  Bridges XAPI does not know are left alone, and so is
  the management bridge's fail mode: the plugin's ``update`` sets it, with the
  flows that keep the host reachable when it turns secure
  (:mod:`.plugin_update` runs it when XAPI's data changes it).
- ``vifD.N`` and ``tapD.N`` interfaces: the tap gets its vif's four vif-script
  keys; both get ``iface-status`` (the tap ``active`` and the vif
  ``inactive`` while both exist, else ``active``), ``iface-id`` (the VIF's
  ``nicira-iface-id``, else the VIF uuid), ``vm-id`` (the VM's
  ``nicira-vm-id``, else the VM uuid) and ``neutron-port-uuid`` (the VIF's
  key of that name, else ``nicira-iface-id``, when either is set).  A VIF or
  VM XAPI no longer has leaves the keys as they are (the uuid as default
  when there are none yet).
"""

import collections
import re

from ..net.netconfig import disable_in_band, fail_mode_of

Row = collections.namedtuple("Row", "uuid name external_ids other_config fail_mode")

VIF_SCRIPT_KEYS = ("attached-mac", "xs-network-uuid", "xs-vif-uuid", "xs-vm-uuid")
_VIF_NAME = re.compile(r"^(vif|tap)([0-9]+\.[0-9]+)\Z")


def row(uuid, name, external_ids=None, other_config=None, fail_mode=None):
    return Row(uuid, name, dict(external_ids or {}), dict(other_config or {}), fail_mode)


def _set(changes, key, column, name, value, current):
    if current.get(name) != value:
        changes.setdefault(key, {}).setdefault(column, {})[name] = value


def bridge_id(network):
    return network["other_config"].get("nicira-bridge-id") or network["uuid"]


def bridge_changes(cache, bridges, fake_bridges, changes, management_bridge=None):
    for br in bridges:
        network = cache.network_of_bridge(br.name)
        if network is None:
            continue
        key = ("Bridge", br.uuid)
        _set(changes, key, "external_ids", "bridge-id", bridge_id(network), br.external_ids)
        wanted = fail_mode_of(network, cache.pool())
        if br.fail_mode != wanted and br.name != management_bridge:
            changes.setdefault(key, {})["fail_mode"] = wanted
        in_band = disable_in_band(network)
        if in_band.invalid is None:
            _set(changes, key, "other_config", "disable-in-band", in_band.value,
                 br.other_config)
    for port in fake_bridges:
        network = cache.network_of_bridge(port.name)
        if network is not None:
            _set(changes, ("Port", port.uuid), "external_ids", "bridge-id",
                 bridge_id(network), port.external_ids)


def _xapi_id(record, key, default, current):
    """A record's id key, else its uuid; with no record, what is there, else ``default``."""
    if record is None:
        return current if current is not None else default
    return record["other_config"].get(key) or record["uuid"]


def interface_changes(cache, interfaces, changes):
    by_name = {iface.name: iface for iface in interfaces}
    for iface in interfaces:
        match = _VIF_NAME.match(iface.name)
        if match is None:
            continue
        kind, dev = match.groups()
        vif = by_name.get("vif" + dev)
        tap = by_name.get("tap" + dev)
        key = ("Interface", iface.uuid)
        ids = dict(iface.external_ids)
        if kind == "tap" and vif is not None:
            for name in VIF_SCRIPT_KEYS:
                value = vif.external_ids.get(name)
                _set(changes, key, "external_ids", name, value, ids)
                if value is None:
                    ids.pop(name, None)
                else:
                    ids[name] = value
        status = "inactive" if kind == "vif" and tap is not None else "active"
        _set(changes, key, "external_ids", "iface-status", status, ids)
        vif_uuid = ids.get("xs-vif-uuid")
        if vif_uuid:
            record = cache.vif(vif_uuid)
            _set(changes, key, "external_ids", "iface-id",
                 _xapi_id(record, "nicira-iface-id", vif_uuid, ids.get("iface-id")), ids)
            if record is not None:
                other = record["other_config"]
                neutron = other.get("neutron-port-uuid") or other.get("nicira-iface-id")
                _set(changes, key, "external_ids", "neutron-port-uuid", neutron, ids)
        vm_uuid = ids.get("xs-vm-uuid")
        if vm_uuid:
            _set(changes, key, "external_ids", "vm-id",
                 _xapi_id(cache.vm(vm_uuid), "nicira-vm-id", vm_uuid, ids.get("vm-id")), ids)


def plan(cache, bridges, fake_bridges, interfaces, management_bridge=None):
    """Every change OVSDB needs (see the module docstring); ``{}`` when in step.
    ``management_bridge``: the real bridge of the management interface, if any."""
    changes = {}
    bridge_changes(cache, bridges, fake_bridges, changes, management_bridge)
    interface_changes(cache, interfaces, changes)
    return changes


def count(changes):
    """How many columns and keys a plan writes (for the log)."""
    total = 0
    for columns in changes.values():
        for value in columns.values():
            total += len(value) if isinstance(value, dict) else 1
    return total
