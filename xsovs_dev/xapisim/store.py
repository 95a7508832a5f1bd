"""The simulator's object store: fixture loading, defaults, back-references.

Records hold Python values (int, bool, str, list, dict); the wire forms XAPI
uses (int64 as decimal strings, booleans as booleans) are made on the way
out. Back-references (host.PIFs, network.PIFs, PIF.VLAN, PIF.bond_*_of, ...)
are never taken from a fixture: they are derived from the forward
references (PIF.host, PIF.network, Bond.master/slaves, VLAN.tagged_PIF/
untagged_PIF, tunnel.access_PIF/transport_PIF) after every write that could
change them, so a fixture or a test cannot make them inconsistent.
"""

import copy
import json
import threading
import uuid as uuidlib

from .schema import CLASSES, NULL_REF

_TRUE = {"true": True, "false": False}


def new_ref():
    """A fresh reference as XAPI makes them."""
    return "OpaqueRef:%s" % uuidlib.uuid4()


def coerce(cls, name, value, check=True):
    """Return value converted to the Python type of cls.name; ValueError if it can't be."""
    field = CLASSES[cls][name]
    kind = field.kind
    where = "%s.%s" % (cls, name)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("%s: expected an int, got %r" % (where, value))
        try:
            return int(value)
        except ValueError:
            raise ValueError("%s: expected an int, got %r" % (where, value)) from None
    if kind == "bool":
        if isinstance(value, str) and value.lower() in _TRUE:
            return _TRUE[value.lower()]
        if not isinstance(value, bool):
            raise ValueError("%s: expected a bool, got %r" % (where, value))
        return value
    if kind == "map":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError("%s: expected a map of strings, got %r" % (where, value))
        return dict(value)
    if kind in ("refs", "strings"):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError("%s: expected a list of strings, got %r" % (where, value))
        return list(value)
    if not isinstance(value, str):
        raise ValueError("%s: expected a string, got %r" % (where, value))
    if kind == "enum" and check and value not in field.arg:
        raise ValueError("%s: %r is not one of %s" % (where, value, ", ".join(field.arg)))
    if kind == "ref" and not value.startswith("OpaqueRef:"):
        raise ValueError("%s: %r is not an OpaqueRef" % (where, value))
    return value


def to_wire(cls, name, value):
    """A field's value as XAPI's XML-RPC carries it."""
    kind = CLASSES[cls][name].kind
    if kind == "int":
        return str(value)
    if kind in ("refs", "strings"):
        return list(value)
    if kind == "map":
        return dict(value)
    return value


def _sexpr_quote(s):
    return "'%s'" % s.replace("\\", "\\\\").replace("'", "\\'")


def string_form(cls, name, value):
    """A field's value as XAPI's database stores it (what where-filters compare)."""
    kind = CLASSES[cls][name].kind
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("refs", "strings"):
        return "(%s)" % " ".join(_sexpr_quote(v) for v in value)
    if kind == "map":
        return "(%s)" % " ".join(
            "(%s %s)" % (_sexpr_quote(k), _sexpr_quote(v)) for k, v in value.items()
        )
    return str(value)


class Store:
    """All records of one simulated pool, guarded by one lock.

    fixture: a dict in the fixture format (see the package docstring), a path
    to a JSON file holding one, or None for an empty pool.
    """

    def __init__(self, fixture=None):
        self.lock = threading.RLock()
        self.tables = {cls: {} for cls in CLASSES}
        self.absent = set()
        self._physical_explicit = set()
        self._uuids = {cls: {} for cls in CLASSES}
        # For event.from: a generation per write, and when each record was made and last
        # written ({(cls, ref): [created, modified]}); deletions as (cls, ref, created, deleted).
        self.generation = 0
        self.stats = {}
        self.deleted = []
        self.changed = threading.Condition(self.lock)
        self.stopping = False   # set while the server stops: waiting calls return
        if fixture is not None:
            self.load(fixture)
        else:
            self.add("pool", {})

    # -- loading --------------------------------------------------------
    def load(self, fixture):
        """Replace the contents with a fixture (dict or JSON path)."""
        if not isinstance(fixture, dict):
            with open(str(fixture)) as f:
                fixture = json.load(f)
        with self.lock:
            self.tables = {cls: {} for cls in CLASSES}
            self.absent = set()
            self._physical_explicit = set()
            seen = set()
            for cls, table in fixture.items():
                if cls not in CLASSES:
                    raise ValueError("fixture: unknown class %r" % cls)
                if table is None and cls == "SDN_controller":
                    self.absent.add(cls)
                    continue
                if not isinstance(table, dict):
                    raise ValueError("fixture: %s must map refs to records" % cls)
                for ref, rec in table.items():
                    if not ref.startswith("OpaqueRef:") or ref == NULL_REF or ref in seen:
                        raise ValueError("fixture: bad or duplicate ref %r in %s" % (ref, cls))
                    seen.add(ref)
                    self.tables[cls][ref] = self._make(cls, ref, rec)
            if not self.tables["pool"]:
                self.tables["pool"][new_ref()] = self._make("pool", None, {})
            self._check_refs()
            self._derive()
            gone = [key for key in self.stats if key[1] not in self.tables[key[0]]]
            for cls, ref in gone:
                self._touch(cls, ref, deleted=True)
            for cls, table in self.tables.items():
                for ref in table:
                    self._touch(cls, ref, created=True)

    def _make(self, cls, ref, rec):
        fields = CLASSES[cls]
        unknown = set(rec) - set(fields)
        if unknown:
            raise ValueError("fixture: %s has no field %s" % (cls, ", ".join(sorted(unknown))))
        out = {}
        for name, field in fields.items():
            given = name in rec and not (field.derived and not (cls == "pool" and name == "master"))
            out[name] = coerce(cls, name, rec[name]) if given else copy.deepcopy(field.default)
        if not out["uuid"]:
            out["uuid"] = str(uuidlib.uuid4())
        if cls == "PIF" and "physical" in rec and ref is not None:
            self._physical_explicit.add(ref)
        return out

    def _check_refs(self):
        """Every forward reference must point at an existing record of the right class."""
        for cls, table in self.tables.items():
            for ref, rec in table.items():
                for name, field in CLASSES[cls].items():
                    if field.derived or field.kind not in ("ref", "refs"):
                        continue
                    targets = [rec[name]] if field.kind == "ref" else rec[name]
                    for target in targets:
                        if target != NULL_REF and target not in self.tables[field.arg]:
                            raise ValueError(
                                "%s %s: %s points at unknown %s %s"
                                % (cls, ref, name, field.arg, target)
                            )

    def _derive(self):
        """Recompute every back-reference (and the uuid index) from forward refs."""
        t = self.tables
        for cls, table in t.items():
            derived = [(n, f.default) for n, f in CLASSES[cls].items() if f.derived]
            for rec in table.values():
                for name, default in derived:
                    if not (cls == "pool" and name == "master"):
                        rec[name] = copy.deepcopy(default)
        pifs = t["PIF"]
        for ref, pif in pifs.items():
            if pif["host"] in t["host"]:
                t["host"][pif["host"]]["PIFs"].append(ref)
            if pif["network"] in t["network"]:
                t["network"][pif["network"]]["PIFs"].append(ref)
        for ref, bond in t["Bond"].items():
            if bond["master"] in pifs:
                pifs[bond["master"]]["bond_master_of"].append(ref)
            for slave in bond["slaves"]:
                if slave in pifs:
                    pifs[slave]["bond_slave_of"] = ref
        for ref, vlan in t["VLAN"].items():
            if vlan["untagged_PIF"] in pifs:
                pifs[vlan["untagged_PIF"]]["VLAN_master_of"] = ref
                pifs[vlan["untagged_PIF"]]["VLAN"] = vlan["tag"]
            if vlan["tagged_PIF"] in pifs:
                pifs[vlan["tagged_PIF"]]["VLAN_slave_of"].append(ref)
        for ref, tun in t["tunnel"].items():
            if tun["access_PIF"] in pifs:
                pifs[tun["access_PIF"]]["tunnel_access_PIF_of"].append(ref)
            if tun["transport_PIF"] in pifs:
                pifs[tun["transport_PIF"]]["tunnel_transport_PIF_of"].append(ref)
        for ref, vif in t["VIF"].items():
            if vif["VM"] in t["VM"]:
                t["VM"][vif["VM"]]["VIFs"].append(ref)
            if vif["network"] in t["network"]:
                t["network"][vif["network"]]["VIFs"].append(ref)
        for ref, pif in pifs.items():
            if ref not in self._physical_explicit:
                pif["physical"] = not (
                    pif["VLAN_master_of"] != NULL_REF
                    or pif["bond_master_of"]
                    or pif["tunnel_access_PIF_of"]
                )
        first_host = next(iter(t["host"]), NULL_REF)
        for pool in t["pool"].values():
            if pool["master"] not in t["host"]:
                pool["master"] = first_host
        self._uuids = {
            cls: {rec["uuid"]: ref for ref, rec in table.items()} for cls, table in t.items()
        }

    def _touch(self, cls, ref, created=False, deleted=False):
        """Record a write for event.from and wake its waiters (caller holds the lock)."""
        self.generation += 1
        if deleted:
            stat = self.stats.pop((cls, ref), [0, 0])
            self.deleted.append((cls, ref, stat[0], self.generation))
        elif created:
            self.stats[(cls, ref)] = [self.generation, self.generation]
        else:
            self.stats.setdefault((cls, ref), [0, 0])[1] = self.generation
        self.changed.notify_all()

    def wake(self, stopping=None):
        """Wake every waiting event.from (the server stops, or sessions went)."""
        with self.changed:
            if stopping is not None:
                self.stopping = stopping
            self.changed.notify_all()

    # -- reading ----------------------------------------------------------
    def present(self, cls):
        """False for a class this XAPI lacks (fixture said null)."""
        return cls in CLASSES and cls not in self.absent

    def refs(self, cls):
        with self.lock:
            return list(self.tables[cls])

    def get(self, cls, ref):
        """A copy of one record; KeyError if there is none."""
        with self.lock:
            return copy.deepcopy(self.tables[cls][ref])

    def all(self, cls):
        """Copies of all records of a class, ref -> record."""
        with self.lock:
            return copy.deepcopy(self.tables[cls])

    def field(self, cls, ref, name):
        with self.lock:
            return copy.deepcopy(self.tables[cls][ref][name])

    def by_uuid(self, cls, uuid):
        """The ref of the record with this uuid; KeyError if none."""
        with self.lock:
            return self._uuids[cls][uuid]

    def find(self, cls, **match):
        """Refs of records whose fields equal all the given values."""
        with self.lock:
            return [
                ref
                for ref, rec in self.tables[cls].items()
                if all(rec[k] == v for k, v in match.items())
            ]

    def to_fixture(self):
        """The store as a fixture dict (derived fields included, harmlessly)."""
        with self.lock:
            out = copy.deepcopy(self.tables)
            for cls in self.absent:
                out[cls] = None
            return out

    # -- writing ----------------------------------------------------------
    def set(self, cls, ref, name, value, check=True):
        """Write one field as a pool administrator could (no XAPI validation).

        Types are still enforced (XAPI's database has them); check=False also
        lets an enum take a value outside the known set.
        """
        if CLASSES[cls][name].derived and not (cls == "pool" and name == "master"):
            raise ValueError("%s.%s is derived; set the forward reference instead" % (cls, name))
        value = coerce(cls, name, value, check=check)
        with self.lock:
            rec = self.tables[cls][ref]
            old = rec[name]
            rec[name] = value
            if cls == "PIF" and name == "physical":
                self._physical_explicit.add(ref)
            kind = CLASSES[cls][name].kind
            if kind in ("ref", "refs"):
                try:
                    self._check_refs()
                except ValueError:
                    rec[name] = old
                    raise
            if kind in ("ref", "refs") or name in ("uuid", "tag", "physical"):
                self._derive()
            self._touch(cls, ref)

    def add(self, cls, record, ref=None):
        """Create a record (defaults filled in); returns its ref."""
        with self.lock:
            ref = ref or new_ref()
            if any(ref in table for table in self.tables.values()):
                raise ValueError("ref %s already exists" % ref)
            self.tables[cls][ref] = self._make(cls, ref, record)
            try:
                self._check_refs()
            except ValueError:
                del self.tables[cls][ref]
                raise
            self._derive()
            self._touch(cls, ref, created=True)
            return ref

    def remove(self, cls, ref):
        """Destroy a record; dangling forward refs to it become OpaqueRef:NULL."""
        with self.lock:
            del self.tables[cls][ref]
            self._physical_explicit.discard(ref)
            for ocls, table in self.tables.items():
                for name, field in CLASSES[ocls].items():
                    if field.derived or field.arg != cls:
                        continue
                    for rec in table.values():
                        if field.kind == "ref" and rec[name] == ref:
                            rec[name] = NULL_REF
                        elif field.kind == "refs" and ref in rec[name]:
                            rec[name] = [r for r in rec[name] if r != ref]
            self._derive()
            self._touch(cls, ref, deleted=True)
