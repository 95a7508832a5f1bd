"""The traffic rules in force, kept on disk so that a restart without XAPI still enforces them.

After each run with XAPI's records, ovs-xapi-sync writes (atomically, only
when it changed) the rules in force for every VIF port on this host: per VIF
its MAC, its network, the VIF's list and the network's list in force (last
good lists and plugin calls included), in XAPI's own form.  When the daemon
starts and XAPI cannot be reached, :func:`load` turns that file back into
records the daemon reads as XAPI's (:class:`StoredRecords`), so the flows go
back on a rebuilt bridge, a restarted ``ovs-vswitchd`` or a re-plugged port.
XAPI's records replace them as soon as they arrive.  A port whose VIF the
file does not name is held: its flows are left as they are.
"""

import json

from ..errors import InvalidValue
from ..log import log
from ..net import traffic_rules as tr
from ..paths import TRAFFIC_RULES_STATE
from ..system import files
from .cache import XapiCache

VERSION = 1


def snapshot(views):
    """The stored form of the ports' rules in force (``views`` of one run), as text."""
    vifs, networks = {}, {}
    for view in views:
        if not view.in_force or view.vif_uuid is None or view.network_uuid is None:
            continue
        vifs[view.vif_uuid] = {"MAC": view.mac, "network": view.network_uuid,
                               "rules": tr.render_rule_list(view.in_force[tr.SCOPE_VIF])}
        networks[view.network_uuid] = {
            "bridge": view.network_bridge,
            "rules": tr.render_rule_list(view.in_force[tr.SCOPE_NETWORK])}
    return json.dumps({"version": VERSION, "vifs": vifs, "networks": networks},
                      sort_keys=True, indent=1) + "\n"


def save(root, text):
    files.replace_if_changed(root.path(TRAFFIC_RULES_STATE), text, mode=0o600)


class StoredRecords(XapiCache):
    """XAPI's records as the file last kept them: read as XAPI's, marked ``stored``."""

    stored = True


def _network_ref(uuid):
    """A stored network's ref: a VIF names its network by ref, as in XAPI."""
    return "OpaqueRef:stored-network-" + uuid


def _records(data):
    """XAPI-like events for the stored VIFs, networks and the pool (the plugin's format)."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise InvalidValue("an unknown version (%r)" % (data.get("version")
                                                        if isinstance(data, dict) else data))
    events = [{"class": "pool", "ref": "stored:pool", "operation": "add",
               "snapshot": {"uuid": "stored", "other_config":
                            {tr.OF_FORMAT_KEY: tr.FORMAT_PLUGIN}}}]
    for uuid, net in sorted(data.get("networks", {}).items()):
        other = {tr.RULES_KEY: net["rules"]} if net.get("rules") else {}
        events.append({"class": "network", "ref": _network_ref(uuid), "operation": "add",
                       "snapshot": {"uuid": uuid, "bridge": net["bridge"],
                                    "other_config": other}})
    for uuid, vif in sorted(data.get("vifs", {}).items()):
        other = {tr.RULES_KEY: vif["rules"]} if vif.get("rules") else {}
        events.append({"class": "vif", "ref": "stored:vif:" + uuid, "operation": "add",
                       "snapshot": {"uuid": uuid, "MAC": vif.get("MAC") or "",
                                    "network": _network_ref(vif["network"]),
                                    "other_config": other}})
    return events


def load(root):
    """The stored records (:class:`StoredRecords`), or None when there are none usable."""
    path = root.path(TRAFFIC_RULES_STATE)
    try:
        text = files.read_text(path, default=None)
        if text is None:
            return None
        events = _records(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError, InvalidValue, OSError) as exc:
        log.warning("ignoring the stored traffic rules in %s: %s", path,
                    getattr(exc, "message", exc))
        return None
    records = StoredRecords()
    records.apply(events, reset=True)
    return records
