"""The XAPI records ovs-xapi-sync needs, kept from what ``event.from`` delivers.

Only the fields the daemon uses are kept (uuid, a network's bridge and whether
it has a PIF, a VIF's MAC and network, a few ``other_config`` keys), so the
whole pool's VIFs and VMs cost little memory, and no record is ever fetched
again: an
``add``/``mod`` event replaces a record with its snapshot, a ``del`` drops
it.  Every kept value is checked (bounded, valid UTF-8 text) when it
arrives; a bad one is dropped with one log line, as if XAPI did not have
it -- except Xen Orchestra's traffic rules, kept as they are so that a bad
list is refused (and shown) where it is read, never mistaken for no list.
"""

from .. import validate
from ..errors import InvalidValue
from ..log import log
from ..net import ovn
from ..net.netconfig import DISABLE_IN_BAND_KEY, FAIL_MODE_KEY, FAIL_MODES
from ..net.traffic_rules import OF_FORMAT_KEY, OF_METHOD_KEY, RULES_KEY

# Event class -> the other_config keys kept for it.
KEPT = {
    "network": ("nicira-bridge-id", FAIL_MODE_KEY, DISABLE_IN_BAND_KEY, RULES_KEY)
    + ovn.NETWORK_KEYS,
    "vif": ("nicira-iface-id", "neutron-port-uuid", RULES_KEY),
    "vm": ("nicira-vm-id",),
    "pool": (FAIL_MODE_KEY, OF_FORMAT_KEY, OF_METHOD_KEY) + ovn.POOL_KEYS,
}
# Kept whole whatever they hold: net.traffic_rules checks them, and refuses with a reason.
RAW_KEYS = (RULES_KEY,)
# Event classes as event.from subscribes to them.
CLASSES = ["network", "VIF", "VM", "pool"]
MAX_VALUE_BYTES = 255
# A pool's OVN remotes may list up to 16 members (net.ovn checks the rest).
LONGER = {ovn.POOL_SB: 2048, ovn.POOL_NB: 2048}
_CHOICES = {FAIL_MODE_KEY: FAIL_MODES, DISABLE_IN_BAND_KEY: ("true", "false")}


def trim(cls, snapshot):
    """The kept part of a record snapshot, or None when it is unusable."""
    if not isinstance(snapshot, dict):
        return None
    uuid = snapshot.get("uuid", "")
    try:
        validate.text(uuid, MAX_VALUE_BYTES, what="%s uuid" % cls)
    except InvalidValue as exc:
        log.warning("skipping a %s record: %s", cls, exc.message)
        return None
    record = {"uuid": uuid, "other_config": {}}
    if cls == "network":
        bridge = snapshot.get("bridge", "")
        record["bridge"] = bridge if isinstance(bridge, str) else ""
        # Only whether it has a PIF is read (an OVN network must have none: net.ovn),
        # so the first is kept, not the pool's every PIF of it.
        pifs = snapshot.get("PIFs", [])
        if not isinstance(pifs, list):
            log.warning("skipping network %s: PIFs %r is not a list", uuid, pifs)
            return None
        record["PIFs"] = [str(ref) for ref in pifs[:1]]
    if cls == "vif":
        for field, check in (("MAC", validate.mac), ("network", validate.ref)):
            try:
                record[field] = check(snapshot.get(field, ""), what="VIF %s %s" % (uuid, field))
            except InvalidValue as exc:
                record[field] = None
                if snapshot.get(field):
                    log.warning("ignoring %s", exc.message)
    other_config = snapshot.get("other_config")
    if not isinstance(other_config, dict):
        other_config = {}
    for key in KEPT[cls]:
        if key not in other_config:
            continue
        value = other_config[key]
        if key in RAW_KEYS:
            record["other_config"][key] = value
            continue
        what = "%s %s other_config:%s" % (cls, uuid, key)
        try:
            validate.text(value, LONGER.get(key, MAX_VALUE_BYTES), what=what)
        except InvalidValue as exc:
            log.warning("skipping %s", exc.message)
            continue
        if key in _CHOICES and value not in _CHOICES[key]:
            # Kept: the rules then leave the OVSDB setting as it is.
            log.warning("ignoring %s=%r: expected one of %s", what, value,
                        ", ".join(_CHOICES[key]))
        record["other_config"][key] = value
    return record


class RecordCache:
    """Records by event class and ref, kept from ``event.from`` batches.

    ``classes`` are the event classes kept (lower case); ``trim(cls,
    snapshot)`` says what is kept of a snapshot: a plain dict, or None to
    drop it.  A subclass may index records (:meth:`_reindex`,
    :meth:`_unindex`).  ``generation`` moves with every batch that changed
    something, so a reader can tell whether its last plan is still current.
    """

    def __init__(self, classes, trim):
        self.classes = tuple(classes)
        self.trim = trim
        self.ready = False     # True once a full snapshot ("" token) arrived
        self.tables = {cls: {} for cls in self.classes}
        self.generation = 0    # bumped by every batch that changed something
        self._clear_index()

    def _clear_index(self):
        pass

    def _reindex(self, cls, ref, record):
        pass

    def _unindex(self, cls, ref, record):
        pass

    def apply(self, events, reset=False):
        """Take one event.from batch; ``reset`` means it holds everything."""
        if reset:
            self.tables = {cls: {} for cls in self.classes}
            self._clear_index()
        changed = reset
        for event in events:
            cls = str(event.get("class", "")).lower()
            ref = event.get("ref")
            if cls not in self.tables or not isinstance(ref, str):
                continue
            old = self.tables[cls].pop(ref, None)
            if old is not None:
                self._unindex(cls, ref, old)
            record = None
            if event.get("operation") in ("add", "mod"):
                record = self.trim(cls, event.get("snapshot"))
            if record is not None:
                self.tables[cls][ref] = record
                self._reindex(cls, ref, record)
            changed = changed or old != record
        if reset:
            self.ready = True
        if changed:
            self.generation += 1
        return changed


class XapiCache(RecordCache):
    """network, VIF, VM and pool records by ref, with the lookups the rules need."""

    def __init__(self):
        RecordCache.__init__(self, KEPT, trim)

    def _clear_index(self):
        self._index = {}       # (cls, key) -> ref; key a uuid, or a bridge name

    def _keys(self, cls, record):
        keys = [(cls, record["uuid"])]
        if cls == "network" and record.get("bridge"):
            keys.append(("bridge", record["bridge"]))
        return keys

    def _reindex(self, cls, ref, record):
        for key in self._keys(cls, record):
            self._index[key] = ref

    def _unindex(self, cls, ref, record):
        for key in self._keys(cls, record):
            if self._index.get(key) == ref:
                del self._index[key]
                if key[0] == "bridge":   # another network may carry the same name
                    for other, rec in self.tables["network"].items():
                        if rec.get("bridge") == key[1]:
                            self._index[key] = other
                            break

    def _get(self, table, key):
        ref = self._index.get(key)
        return self.tables[table].get(ref) if ref is not None else None

    def network_of_bridge(self, name):
        return self._get("network", ("bridge", name))

    def vif(self, uuid):
        return self._get("vif", ("vif", uuid))

    def network(self, ref):
        return self.tables["network"].get(ref)

    def network_by_uuid(self, uuid):
        return self._get("network", ("network", uuid))

    def vm(self, uuid):
        return self._get("vm", ("vm", uuid))

    def pool(self):
        pools = self.tables["pool"]
        return pools[min(pools)] if pools else {}
