"""The XAPI records ovn-xapi-sync needs, kept from what ``event.from`` delivers.

Only the fields the northbound sync reads are kept, as XAPI sent them, so
that a bad value is refused where its meaning is known (:mod:`.wanted`) and
its reason reaches ``status``.  Here a value is only checked to be of the
type XAPI gives it (text, a list of text) and no longer than XAPI would ever
hold for it, so one huge value cannot grow the daemon.  A value that fails
is not kept, and is never taken for an empty one: its field is named, with
the reason, in the record's ``unkept`` map, and :mod:`.wanted` refuses what
it would have said (an over-long rule list is not "no rules").
"""

from .. import validate
from ..errors import InvalidValue
from ..net import ovn
from ..net import traffic_rules as tr
from ..sync.cache import RecordCache

# Event classes as event.from subscribes to them.
CLASSES = ["pool", "network", "VIF", "VM"]
# Event class -> (text fields, list fields, other_config keys) kept.
KEPT = {
    "pool": (("uuid",), (), (ovn.POOL_NB, tr.OF_FORMAT_KEY, tr.OF_METHOD_KEY)),
    "network": (("uuid", "default_locking_mode"), ("PIFs",),
                ovn.NETWORK_KEYS + (tr.RULES_KEY,)),
    "vif": (("uuid", "network", "VM", "MAC", "locking_mode"),
            ("ipv4_allowed", "ipv6_allowed"), (ovn.VIF_IFACE_ID, tr.RULES_KEY)),
    "vm": (("uuid",), (), ()),
}
MAX_TEXT = 4096           # characters of one field or key kept
MAX_RULES = tr.MAX_LIST_BYTES   # characters: a list of traffic rules may be long
MAX_ITEMS = 1024          # addresses in one allowed list
UNKEPT = "unkept"          # record key: {field: reason} of values not kept


def other_config_field(key):
    """The name :func:`trim` gives an ``other_config`` key in ``unkept``."""
    return "other_config:" + key


def _keep(value, limit, what, unkept, field):
    """``value`` when it is text of at most ``limit`` characters, else "" and the
    reason in ``unkept``; an absent value (None) is "", as XAPI's empty one."""
    if value is None:
        return ""
    if isinstance(value, str) and len(value) <= limit:
        return value
    try:
        validate.text(value, limit, what=what)
    except InvalidValue as exc:
        unkept[field] = exc.message
    else:                            # more characters than bytes: cannot happen
        unkept[field] = "invalid %s: longer than %d characters" % (what, limit)
    return ""


def trim(cls, snapshot):
    """The kept part of a record snapshot (see KEPT), or None when it has no uuid."""
    if not isinstance(snapshot, dict):
        return None
    uuid = snapshot.get("uuid")
    if not (isinstance(uuid, str) and 0 < len(uuid) <= MAX_TEXT):
        return None
    texts, lists, keys = KEPT[cls]
    unkept = {}
    where = "%s %s" % (cls, uuid)
    record = {name: _keep(snapshot.get(name), MAX_TEXT, "%s %s" % (where, name), unkept, name)
              for name in texts}
    for name in lists:
        items = snapshot.get(name)
        if items is None:
            items = []
        elif not isinstance(items, list) or len(items) > MAX_ITEMS:
            unkept[name] = "invalid %s %s: not a list of at most %d items" % (
                where, name, MAX_ITEMS)
            items = []
        record[name] = [_keep(item, MAX_TEXT, "%s %s" % (where, name), unkept, name)
                        for item in items]
    other_config = snapshot.get("other_config")
    other_config = other_config if isinstance(other_config, dict) else {}
    record["other_config"] = {}
    for key in keys:
        if key in other_config:
            record["other_config"][key] = _keep(
                other_config[key], MAX_RULES if key == tr.RULES_KEY else MAX_TEXT,
                key if key == tr.RULES_KEY else "%s other_config:%s" % (where, key),
                unkept, other_config_field(key))
    if cls == "vm":
        record["is_a_template"] = snapshot.get("is_a_template") is True
    if unkept:
        record[UNKEPT] = unkept
    return record


def unkept(record, fields):
    """The reason why one of ``fields`` of a record was not kept, or None."""
    found = record.get(UNKEPT)
    if found:
        for field in fields:
            if field in found:
                return found[field]
    return None


class OvnRecords(RecordCache):
    """pool, network, VIF and VM records by ref."""

    def __init__(self):
        RecordCache.__init__(self, KEPT, trim)

    def pool(self):
        """The pool's record (XAPI has exactly one), or None before the first batch."""
        pools = self.tables["pool"]
        return pools[min(pools)] if pools else None
