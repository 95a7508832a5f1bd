"""The XAPI records ovn-xapi-sync needs, kept from what ``event.from`` delivers.

Only the fields the northbound sync reads are kept, as XAPI sent them, so
that a bad value is refused where its meaning is known (:mod:`.wanted`) and
its reason reaches ``status``.  Here a value is only made the type XAPI
gives it (text, a list of text), and text longer than XAPI would ever hold
for it is cut to nothing, so one huge value cannot grow the daemon.
"""

from ..net import ovn
from ..net import traffic_rules as tr
from ..sync.cache import RecordCache

# Event classes as event.from subscribes to them.
CLASSES = ["pool", "network", "VIF", "VM"]
# Event class -> (text fields, list fields, other_config keys) kept.
KEPT = {
    "pool": (("uuid",), (), ovn.POOL_KEYS + (tr.OF_FORMAT_KEY, tr.OF_METHOD_KEY)),
    "network": (("uuid", "default_locking_mode"), ("PIFs",),
                ovn.NETWORK_KEYS + (tr.RULES_KEY,)),
    "vif": (("uuid", "network", "VM", "MAC", "locking_mode"),
            ("ipv4_allowed", "ipv6_allowed"), (ovn.VIF_IFACE_ID, tr.RULES_KEY)),
    "vm": (("uuid",), (), ()),
}
MAX_TEXT = 4096           # bytes of one field or key kept
MAX_RULES = tr.MAX_LIST_BYTES   # a list of traffic rules may be long
MAX_ITEMS = 1024          # addresses in one allowed list


def _text(value, limit=MAX_TEXT):
    return value if isinstance(value, str) and len(value) <= limit else ""


def trim(cls, snapshot):
    """The kept part of a record snapshot (see KEPT), or None when it has no uuid."""
    if not isinstance(snapshot, dict) or not _text(snapshot.get("uuid")):
        return None
    texts, lists, keys = KEPT[cls]
    record = {name: _text(snapshot.get(name)) for name in texts}
    for name in lists:
        items = snapshot.get(name)
        items = items if isinstance(items, list) and len(items) <= MAX_ITEMS else []
        record[name] = [_text(item) for item in items]
    other_config = snapshot.get("other_config")
    other_config = other_config if isinstance(other_config, dict) else {}
    record["other_config"] = {
        key: _text(other_config[key], MAX_RULES if key == tr.RULES_KEY else MAX_TEXT)
        for key in keys if key in other_config}
    if cls == "vm":
        record["is_a_template"] = snapshot.get("is_a_template") is True
    return record


class OvnRecords(RecordCache):
    """pool, network, VIF and VM records by ref."""

    def __init__(self):
        RecordCache.__init__(self, KEPT, trim)

    def pool(self):
        """The pool's record (XAPI has exactly one), or None before the first batch."""
        pools = self.tables["pool"]
        return pools[min(pools)] if pools else None
