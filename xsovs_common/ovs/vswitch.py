"""The Open_vSwitch database as this project sees it: read once, change once.

:class:`Snapshot` is one consistent read of everything callers need
(bridges -- fake bridges derived as ``ovs-vsctl`` derives them --, ports,
interfaces, managers, SSL), in one round trip.

:class:`ChangeSet` is a plan: a list of plain tuples in ``ovs-vsctl``'s
vocabulary (``add-br``, ``add-port``, ``set``, ``emer-reset``,
``set-manager``, ...) that prints like an ``ovs-vsctl`` command line and
compares with ``==``, so a dry run costs nothing.  :func:`apply` turns a plan
into RFC 7047 operations against a snapshot and commits them as ONE
transaction, then waits for ovs-vswitchd to take it in.  Anything the plan
refers to that does not exist fails before a byte is sent.
"""

from . import ovsdb
from ..errors import Error
from ..log import log
from ..system import waiting
from .ovsdb import NamedUuid, Uuid, as_list, optional

BRIDGE_COLUMNS = ("_uuid", "name", "ports", "fail_mode", "other_config", "external_ids",
                  "datapath_type", "controller")
PORT_COLUMNS = ("_uuid", "name", "interfaces", "tag", "fake_bridge", "bond_mode", "lacp",
                "bond_updelay", "bond_downdelay", "other_config", "external_ids", "mac")
INTERFACE_COLUMNS = ("_uuid", "name", "type", "ofport", "mac", "mtu_request", "options",
                     "other_config", "external_ids")
OPEN_VSWITCH_COLUMNS = ("_uuid", "bridges", "manager_options", "ssl", "next_cfg", "cur_cfg",
                        "external_ids", "other_config")

# Columns emer-reset empties on every Bridge (Open vSwitch's own list).
_EMER_RESET_BRIDGE_COLUMNS = ("controller", "fail_mode", "mirrors", "netflow", "sflow",
                              "ipfix", "flood_vlans")

FAKE_BRIDGE_KEY_PREFIX = "fake-bridge-"


class VswitchError(Error):
    code = "VSWITCH_CONFIG_MOD_FAILURE"


def _row(raw):
    return {column: ovsdb.from_datum(value) for column, value in raw.items()}


class Interface:
    def __init__(self, row):
        self.uuid = row["_uuid"]
        self.name = row["name"]
        self.type = row.get("type", "")
        self.ofport = optional(row.get("ofport"))
        self.mac = optional(row.get("mac"))
        self.mtu_request = optional(row.get("mtu_request"))
        self.options = row.get("options", {})
        self.other_config = row.get("other_config", {})
        self.external_ids = row.get("external_ids", {})


class Port:
    def __init__(self, row, interfaces):
        self.uuid = row["_uuid"]
        self.name = row["name"]
        self.interfaces = interfaces
        self.tag = optional(row.get("tag"))
        self.fake_bridge = bool(row.get("fake_bridge"))
        self.bond_mode = optional(row.get("bond_mode"))
        self.lacp = optional(row.get("lacp"))
        self.bond_updelay = row.get("bond_updelay", 0)
        self.bond_downdelay = row.get("bond_downdelay", 0)
        self.other_config = row.get("other_config", {})
        self.external_ids = row.get("external_ids", {})
        self.mac = optional(row.get("mac"))
        self.bridge = None    # the Bridge (real or fake) it belongs to

    @property
    def interface_names(self):
        return [iface.name for iface in self.interfaces]


class Bridge:
    """A real bridge (a Bridge row) or a fake one (a VLAN view of a parent)."""

    def __init__(self, name, uuid=None, row=None, parent=None, vlan=None, port=None):
        row = row or {}
        self.name = name
        self.uuid = uuid
        self.parent = parent          # parent Bridge for a fake bridge
        self.vlan = vlan              # its tag, for a fake bridge
        self.fake_port = port         # the Port row that is the fake bridge
        self.fail_mode = optional(row.get("fail_mode"))
        self.other_config = row.get("other_config", {})
        self.datapath_type = row.get("datapath_type", "")
        self.controllers = as_list(row.get("controller", []))
        self.ports = []               # Ports of this bridge, the bridge's own port included
        if port is not None:
            # ovs-vsctl keeps a fake bridge's external ids on its Port, prefixed.
            self.external_ids = {
                key[len(FAKE_BRIDGE_KEY_PREFIX):]: value
                for key, value in port.external_ids.items()
                if key.startswith(FAKE_BRIDGE_KEY_PREFIX)}
        else:
            self.external_ids = row.get("external_ids", {})

    @property
    def is_fake(self):
        return self.parent is not None

    def port_names(self):
        """Ports other than the bridge's own internal port."""
        return [port.name for port in self.ports if port.name != self.name]


class Snapshot:
    """One consistent read of the switch configuration."""

    def __init__(self, results):
        ovs_rows, bridge_rows, port_rows, iface_rows, manager_rows, ssl_rows = \
            [[_row(r) for r in result["rows"]] for result in results]
        self.open_vswitch = ovs_rows[0] if ovs_rows else {}
        self.interfaces = {}
        by_uuid = {}
        for row in iface_rows:
            iface = Interface(row)
            self.interfaces[iface.name] = iface
            by_uuid[iface.uuid] = iface
        self.ports = {}
        ports_by_uuid = {}
        for row in port_rows:
            port = Port(row, [by_uuid[u] for u in as_list(row["interfaces"]) if u in by_uuid])
            self.ports[port.name] = port
            ports_by_uuid[port.uuid] = port
        self.bridges = {}
        for row in bridge_rows:
            bridge = Bridge(row["name"], row["_uuid"], row)
            self.bridges[bridge.name] = bridge
            ports = [ports_by_uuid[u] for u in as_list(row["ports"]) if u in ports_by_uuid]
            fakes = {}
            for port in ports:
                if port.fake_bridge and port.tag is not None and port.name not in self.bridges:
                    fake = Bridge(port.name, None, None, parent=bridge, vlan=port.tag, port=port)
                    fakes[port.tag] = fake
                    self.bridges[fake.name] = fake
            for port in ports:
                owner = fakes.get(port.tag, bridge) if port.tag is not None else bridge
                port.bridge = owner
                owner.ports.append(port)
        self.managers = sorted(row["target"] for row in manager_rows)
        self.ssl = ssl_rows[0] if ssl_rows else None
        self.complete = True   # every row is in it (see read's ``tags``)

    @classmethod
    def read(cls, connection, interfaces=True, focus=None, tags=None):
        """Read it all in one round trip.

        ``interfaces=False`` skips the Interface table (``.interfaces`` is
        then empty and ports list no interfaces): a third of the read on a
        host with 1000 bridges, for callers that change no port.

        ``focus``: names of the bridges, ports and interfaces the caller may
        change.  Those rows are read whole; every other row only as far as
        the structure goes (uuid, name, links, VLAN tag), a few bytes each.
        ``tags`` (with ``focus``) narrows that outline further: of the fake
        bridges only those with these VLAN tags, of the internal interfaces
        only the focused ones -- so one VLAN's action reads the same beside
        thousands of fake bridges as beside three.  Such a snapshot is not
        ``complete``: it does not list every fake bridge of a parent.
        """
        outline = {"Bridge": [("_uuid", "name", "ports"), []],
                   "Port": [("_uuid", "name", "interfaces", "tag", "fake_bridge"), []],
                   "Interface": [("_uuid", "name"), []]}
        if tags is not None:
            outline["Port"][1] = [[["fake_bridge", "==", False]]] + [
                [["tag", "==", tag]] for tag in sorted(tags)]
            outline["Interface"][1] = [[["type", "!=", "internal"]]]
        else:
            for table in outline.values():
                table[1] = [[]]
        tables = (("Open_vSwitch", OPEN_VSWITCH_COLUMNS), ("Bridge", BRIDGE_COLUMNS),
                  ("Port", PORT_COLUMNS), ("Interface", INTERFACE_COLUMNS),
                  ("Manager", ("target",)),
                  ("SSL", ("private_key", "certificate", "ca_cert", "bootstrap_ca_cert")))
        ops, spans = [], []
        for table, columns in tables:
            if table == "Interface" and not interfaces:
                spans.append(None)
                continue
            start = len(ops)
            if focus is None or table not in outline:
                ops.append(ovsdb.op_select(table, columns))
            else:
                links, wheres = outline[table]
                ops.extend(ovsdb.op_select(table, links, where) for where in wheres)
                ops.extend(ovsdb.op_select(table, columns, ovsdb.where_name(name))
                           for name in sorted(focus))
            spans.append((start, len(ops)))
        results = connection.transact(ops)
        merged = []
        for span in spans:
            if span is None:
                merged.append({"rows": []})
                continue
            rows = {}
            for result in results[span[0]:span[1]]:
                for row in result["rows"]:
                    # A whole row replaces its outline.
                    rows[str(row["_uuid"][1]) if "_uuid" in row else len(rows)] = row
            merged.append({"rows": list(rows.values())})
        snapshot = cls(merged)
        snapshot.complete = focus is None or tags is None
        return snapshot

    def real_bridges(self):
        return sorted(name for name, br in self.bridges.items() if not br.is_fake)

    def fake_bridges(self, parent=None):
        return sorted(name for name, br in self.bridges.items()
                      if br.is_fake and (parent is None or br.parent.name == parent))

    def bridge_of_interface(self, iface_name):
        """The Bridge whose port holds interface ``iface_name``, or None."""
        for port in self.ports.values():
            if iface_name in port.interface_names and port.bridge is not None:
                return port.bridge
        return None

    def port_of_interface(self, iface_name):
        for port in self.ports.values():
            if iface_name in port.interface_names:
                return port
        return None


class ChangeSet:
    """A plan of OVSDB changes; plain data in ovs-vsctl's words.

    Each change is a tuple: ``("add-br", name, parent, vlan, datapath_type)``,
    ``("del-br", name)``, ``("add-port", bridge, port, (ifaces...),
    {port columns}, {iface: {iface columns}})``, ``("del-port", port)``,
    ``("set", table, record, {column or column:key: value})`` (a value of
    None removes the key or clears the column), ``("br-set-external-id",
    bridge, key, value-or-None)``, ``("emer-reset",)``, ``("set-manager",
    (targets...))``, ``("set-ssl", key, cert, ca, bootstrap)``, ``("del-ssl",)``.
    """

    def __init__(self, changes=None):
        self.changes = list(changes or [])

    def __len__(self):
        return len(self.changes)

    def __iter__(self):
        return iter(self.changes)

    def __eq__(self, other):
        return isinstance(other, ChangeSet) and self.changes == other.changes

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __str__(self):
        return "\n".join(describe(change) for change in self.changes)

    def __repr__(self):
        return "ChangeSet(%r)" % self.changes

    def extend(self, other):
        self.changes.extend(other.changes if isinstance(other, ChangeSet) else other)

    # Builders, so callers never spell the tuples by hand.

    def add_br(self, name, parent=None, vlan=None, datapath_type=None):
        self.changes.append(("add-br", name, parent, vlan, datapath_type))

    def del_br(self, name):
        self.changes.append(("del-br", name))

    def add_port(self, bridge, port, interfaces=None, port_columns=None, iface_columns=None):
        interfaces = tuple(interfaces or (port,))
        self.changes.append(("add-port", bridge, port, interfaces, dict(port_columns or {}),
                             {k: dict(v) for k, v in (iface_columns or {}).items()}))

    def del_port(self, port):
        self.changes.append(("del-port", port))

    def set(self, table, record, values):
        if values:
            self.changes.append(("set", table, record, dict(values)))

    def br_set_external_id(self, bridge, key, value):
        self.changes.append(("br-set-external-id", bridge, key, value))

    def emer_reset(self):
        self.changes.append(("emer-reset",))

    def set_manager(self, targets):
        self.changes.append(("set-manager", tuple(targets)))

    def set_ssl(self, private_key, certificate, ca_cert, bootstrap=True):
        self.changes.append(("set-ssl", private_key, certificate, ca_cert, bool(bootstrap)))

    def del_ssl(self):
        self.changes.append(("del-ssl",))


def _quote(value):
    text = str(value)
    if text and all(c.isalnum() or c in "-_.:/@" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _assignment(column, value):
    if isinstance(value, dict):
        body = ",".join("%s=%s" % (_quote(k), _quote(v)) for k, v in sorted(value.items()))
        return "%s={%s}" % (column, body)
    if isinstance(value, (list, tuple)):
        return "%s=[%s]" % (column, ",".join(_quote(v) for v in value))
    if isinstance(value, bool):
        return "%s=%s" % (column, "true" if value else "false")
    return "%s=%s" % (column, _quote(value))


def describe(change):
    """One change as the equivalent ovs-vsctl command (for humans only)."""
    op = change[0]
    if op == "add-br":
        _, name, parent, vlan, dp_type = change
        text = "add-br %s" % name + (" %s %d" % (parent, vlan) if parent else "")
        return text + (" -- set Bridge %s datapath_type=%s" % (name, dp_type) if dp_type else "")
    if op in ("del-br", "del-port"):
        return "--if-exists %s %s" % (op, change[1])
    if op == "add-port":
        _, bridge, port, ifaces, port_cols, iface_cols = change
        if tuple(ifaces) == (port,):
            text = "add-port %s %s" % (bridge, port)
        else:
            text = "add-bond %s %s %s" % (bridge, port, " ".join(ifaces))
        text += "".join(" " + _assignment(c, v) for c, v in sorted(port_cols.items()))
        for iface, cols in sorted(iface_cols.items()):
            if cols:
                text += " -- set Interface %s %s" % (
                    iface, " ".join(_assignment(c, v) for c, v in sorted(cols.items())))
        return text
    if op == "set":
        _, table, record, values = change
        sets = [_assignment(c, v) for c, v in sorted(values.items()) if v is not None]
        parts = ["set %s %s %s" % (table, record, " ".join(sets))] if sets else []
        for column in sorted(c for c, v in values.items() if v is None):
            if ":" in column:
                col, key = column.split(":", 1)
                parts.append("remove %s %s %s %s" % (table, record, col, _quote(key)))
            else:
                parts.append("clear %s %s %s" % (table, record, column))
        return " -- ".join(parts)
    if op == "br-set-external-id":
        _, bridge, key, value = change
        return "br-set-external-id %s %s%s" % (
            bridge, key, "" if value is None else " " + _quote(value))
    if op == "set-manager":
        return ("set-manager " + " ".join(change[1])) if change[1] else "del-manager"
    if op == "set-ssl":
        _, key, cert, ca, bootstrap = change
        return "%sset-ssl %s %s %s" % ("--bootstrap " if bootstrap else "", key, cert, ca)
    return " ".join(str(part) for part in change)


def _insert_row(values):
    """A new row's columns from ``set``-style values (``column:key`` merged into maps)."""
    row = {}
    for column, value in values.items():
        if value is None:
            continue
        if ":" in column:
            column, key = column.split(":", 1)
            row.setdefault(column, {})[key] = value
        else:
            row[column] = value
    return row


class _Translator:
    """Turns changes into RFC 7047 operations, tracking the pending state.

    Rows are addressed by name (Bridge, Port and Interface names are indexed),
    so an operation also finds a row inserted earlier in the same transaction.
    """

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.ops = []
        self._names = 0
        # bridge name -> (parent name or None, vlan)
        self.bridges = {name: ((br.parent.name if br.parent else None), br.vlan)
                        for name, br in snapshot.bridges.items()}
        self.bridge_uuid = {name: br.uuid for name, br in snapshot.bridges.items()
                            if not br.is_fake}
        # port name -> owning bridge (real or fake), row uuid, interface names
        self.port_bridge = {name: port.bridge.name for name, port in snapshot.ports.items()
                            if port.bridge is not None}
        self.port_uuid = {name: port.uuid for name, port in snapshot.ports.items()}
        self.port_ifaces = {name: port.interface_names for name, port in snapshot.ports.items()}
        self.ifaces = set(snapshot.interfaces)

    def _name(self, prefix):
        self._names += 1
        return NamedUuid("%s%d" % (prefix, self._names))

    def _real(self, bridge):
        """The real bridge holding ``bridge``'s ports, and the VLAN tag to use."""
        if bridge not in self.bridges:
            raise VswitchError("no bridge named %s" % bridge, params=[bridge])
        parent, vlan = self.bridges[bridge]
        return (parent, vlan) if parent else (bridge, None)

    def _new_port(self, bridge, name, ifaces, port_columns, iface_columns):
        real, vlan = self._real(bridge)
        if name in self.port_uuid:
            raise VswitchError("a port named %s already exists" % name, params=[name])
        iface_refs = []
        for iface in ifaces:
            if iface in self.ifaces:
                raise VswitchError("an interface named %s already exists" % iface,
                                   params=[iface])
            ref = self._name("iface")
            row = _insert_row(iface_columns.get(iface, {}))
            row["name"] = iface
            self.ops.append(ovsdb.op_insert("Interface", row, ref))
            iface_refs.append(ref)
            self.ifaces.add(iface)
        port_ref = self._name("port")
        row = _insert_row(port_columns)
        row.update(name=name, interfaces=iface_refs)
        if vlan is not None:
            row["tag"] = vlan
        self.ops.append(ovsdb.op_insert("Port", row, port_ref))
        self.ops.append(ovsdb.op_mutate("Bridge", ovsdb.where_name(real),
                                        [("ports", "insert", [port_ref])]))
        self.port_bridge[name] = bridge
        self.port_uuid[name] = port_ref
        self.port_ifaces[name] = list(ifaces)

    def _drop_port(self, name):
        real, _ = self._real(self.port_bridge[name])
        self.ops.append(ovsdb.op_mutate("Bridge", ovsdb.where_name(real),
                                        [("ports", "delete", [self.port_uuid[name]])]))
        self._forget_port(name)

    def _forget_port(self, name):
        del self.port_bridge[name]
        self.port_uuid.pop(name, None)
        self.ifaces.difference_update(self.port_ifaces.pop(name, ()))

    def _forget_bridge(self, name):
        for port, owner in list(self.port_bridge.items()):
            if owner == name:
                self._forget_port(port)
        del self.bridges[name]

    def add_br(self, name, parent, vlan, datapath_type):
        if name in self.bridges or name in self.port_uuid or name in self.ifaces:
            raise VswitchError("a bridge, port or interface named %s already exists" % name,
                               params=[name])
        if parent is None:
            iface_ref, port_ref, br_ref = (self._name("iface"), self._name("port"),
                                           self._name("bridge"))
            self.ops.append(ovsdb.op_insert("Interface", {"name": name, "type": "internal"},
                                            iface_ref))
            self.ops.append(ovsdb.op_insert("Port", {"name": name, "interfaces": [iface_ref]},
                                            port_ref))
            row = {"name": name, "ports": [port_ref]}
            if datapath_type:
                row["datapath_type"] = datapath_type
            self.ops.append(ovsdb.op_insert("Bridge", row, br_ref))
            self.ops.append(ovsdb.op_mutate("Open_vSwitch", [],
                                            [("bridges", "insert", [br_ref])]))
            self.bridges[name] = (None, None)
            self.bridge_uuid[name] = br_ref
            self.port_bridge[name] = name
            self.port_uuid[name] = port_ref
            self.port_ifaces[name] = [name]
            self.ifaces.add(name)
            return
        if parent not in self.bridges or self.bridges[parent][0] is not None:
            raise VswitchError("parent bridge %s of %s is not a real bridge" % (parent, name),
                               params=[parent])
        for other, (other_parent, other_vlan) in self.bridges.items():
            if other_parent == parent and other_vlan == vlan:
                raise VswitchError("bridge %s already has VLAN %d as %s" % (parent, vlan, other),
                                   params=[parent, str(vlan)])
        self._new_port(parent, name, (name,), {"fake_bridge": True, "tag": vlan},
                       {name: {"type": "internal"}})
        self.bridges[name] = (parent, vlan)
        self.port_bridge[name] = name

    def del_br(self, name):
        if name not in self.bridges:
            return
        parent, _ = self.bridges[name]
        if parent is not None:
            for port, owner in list(self.port_bridge.items()):
                if owner == name:
                    self._drop_port(port)
            del self.bridges[name]
            return
        for child, (child_parent, _) in list(self.bridges.items()):
            if child_parent == name:
                self._forget_bridge(child)
        self._forget_bridge(name)
        uuid = self.bridge_uuid.pop(name)
        # Ports and interfaces go with the bridge: OVSDB collects unreferenced rows.
        self.ops.append(ovsdb.op_mutate("Open_vSwitch", [], [("bridges", "delete", [uuid])]))
        if isinstance(uuid, Uuid):
            self.ops.append(ovsdb.op_delete("Flow_Sample_Collector_Set",
                                            [["bridge", "==", ["uuid", str(uuid)]]]))

    def add_port(self, bridge, port, ifaces, port_columns, iface_columns):
        self._new_port(bridge, port, ifaces, port_columns, iface_columns)

    def del_port(self, port):
        if port in self.port_bridge and port not in self.bridges:
            self._drop_port(port)

    def set(self, table, record, values):
        if table == "Open_vSwitch":
            where = []
        elif table == "Bridge":
            if record not in self.bridges or self.bridges[record][0] is not None:
                raise VswitchError("no real bridge named %s" % record, params=[record])
            where = ovsdb.where_name(record)
        elif table == "Port":
            if record not in self.port_uuid:
                raise VswitchError("no port named %s" % record, params=[record])
            where = ovsdb.where_name(record)
        elif table == "Interface":
            if record not in self.ifaces:
                raise VswitchError("no interface named %s" % record, params=[record])
            where = ovsdb.where_name(record)
        else:
            raise VswitchError("cannot set %s records" % table, params=[table])
        whole = {}
        mutations = []
        for column, value in sorted(values.items()):
            if ":" in column:
                column, key = column.split(":", 1)
                mutations.append((column, "delete", [key]))
                if value is not None:
                    mutations.append((column, "insert", {key: value}))
            else:
                whole[column] = value
        if whole:
            self.ops.append(ovsdb.op_update(table, where, whole))
        if mutations:
            self.ops.append(ovsdb.op_mutate(table, where, mutations))

    def br_set_external_id(self, bridge, key, value):
        if bridge not in self.bridges:
            raise VswitchError("no bridge named %s" % bridge, params=[bridge])
        if self.bridges[bridge][0] is None:
            self.set("Bridge", bridge, {"external_ids:" + key: value})
        else:
            self.set("Port", bridge, {"external_ids:" + FAKE_BRIDGE_KEY_PREFIX + key: value})

    def emer_reset(self):
        self.ops.append(ovsdb.op_update("Open_vSwitch", [],
                                        {"manager_options": [], "ssl": None}))
        self.ops.append(ovsdb.op_update("Bridge", [],
                                        {c: None for c in _EMER_RESET_BRIDGE_COLUMNS}))
        # Every other_config key of every Bridge goes, but hwaddr.
        keys = set()
        for bridge in self.snapshot.bridges.values():
            if not bridge.is_fake:
                keys.update(bridge.other_config)
        keys.discard("hwaddr")
        if keys:
            self.ops.append(ovsdb.op_mutate("Bridge", [],
                                            [("other_config", "delete", sorted(keys))]))
        self.ops.append(ovsdb.op_update("Port", [], {"other_config": {}}))
        self.ops.append(ovsdb.op_update("Interface", [], {"ingress_policing_rate": 0,
                                                          "ingress_policing_burst": 0}))
        self.ops.append(ovsdb.op_delete("Flow_Sample_Collector_Set", []))

    def set_manager(self, targets):
        refs = []
        for target in targets:
            ref = self._name("manager")
            self.ops.append(ovsdb.op_insert("Manager", {"target": target}, ref))
            refs.append(ref)
        self.ops.append(ovsdb.op_update("Open_vSwitch", [], {"manager_options": refs}))

    def set_ssl(self, private_key, certificate, ca_cert, bootstrap):
        ref = self._name("ssl")
        self.ops.append(ovsdb.op_insert("SSL", {"private_key": private_key,
                                                "certificate": certificate,
                                                "ca_cert": ca_cert,
                                                "bootstrap_ca_cert": bool(bootstrap)}, ref))
        self.ops.append(ovsdb.op_update("Open_vSwitch", [], {"ssl": [ref]}))

    def del_ssl(self):
        self.ops.append(ovsdb.op_update("Open_vSwitch", [], {"ssl": None}))

    def translate(self, change):
        method = getattr(self, change[0].replace("-", "_"), None)
        if method is None or change[0].startswith("_") or change[0] == "translate":
            raise VswitchError("unknown change %r" % (change,), params=[change[0]])
        method(*change[1:])


def operations(changes, snapshot):
    """The RFC 7047 operations of ``changes`` against ``snapshot``."""
    translator = _Translator(snapshot)
    for change in changes:
        translator.translate(change)
    return translator.ops


def check(changes, snapshot):
    """Raise what :func:`apply` would refuse in ``changes``, sending nothing.

    Planners call it before any other step of an action (links, files,
    flows), so a change OVSDB would refuse fails while nothing has moved.
    """
    operations(changes, snapshot)


def apply(connection, changes, snapshot, wait=True, timeout=None, comment=None):
    """Commit ``changes`` as one transaction; wait for ovs-vswitchd if asked.

    Nothing is sent when ``changes`` is empty.  With ``wait``, the
    transaction also bumps ``next_cfg`` and this returns once ovs-vswitchd has
    reconfigured (``cur_cfg`` caught up), or raises after ``timeout``.
    """
    changes = list(changes)
    if not changes:
        return
    ops = operations(changes, snapshot)
    if comment:
        ops.append({"op": "comment", "comment": comment})
    if wait:
        ops.append(ovsdb.op_mutate("Open_vSwitch", [], [("next_cfg", "+=", 1)]))
        ops.append(ovsdb.op_select("Open_vSwitch", ("next_cfg",)))
    log.info("OVSDB: %s", " -- ".join(describe(c) for c in changes)[:2000])
    results = connection.transact(ops)
    if wait:
        target = results[len(ops) - 1]["rows"][0]["next_cfg"]
        wait_for_vswitchd(connection, target, timeout)


def wait_for_vswitchd(connection, target, timeout=None):
    """Block until ovs-vswitchd reports ``cur_cfg >= target``.

    Each wait is an RFC 7047 ``wait`` operation: ovsdb-server answers as soon
    as ``cur_cfg`` moves, so nothing polls and no time is lost between
    ovs-vswitchd finishing and this noticing it.
    """
    timeout = connection.timeout if timeout is None else timeout
    deadline = waiting.Deadline(timeout)
    rows = connection.transact([ovsdb.op_select("Open_vSwitch", ("cur_cfg",))])[0]["rows"]
    while True:
        current = rows[0]["cur_cfg"] if rows else None
        if current is not None and current >= target:
            return
        remaining = deadline.remaining()
        if remaining <= 0 or current is None:
            raise VswitchError("ovs-vswitchd did not apply the configuration within %ss "
                               "(is it running?)" % timeout, params=["cur_cfg", str(target)])
        # Within the connection's own timeout, so the server answers before it expires.
        wait_ms = int(min(remaining, connection.timeout / 2.0) * 1000)
        wait = {"op": "wait", "timeout": wait_ms, "table": "Open_vSwitch",
                "where": [], "columns": ["cur_cfg"], "until": "!=",
                "rows": [{"cur_cfg": current}]}
        try:
            rows = connection.transact(
                [wait, ovsdb.op_select("Open_vSwitch", ("cur_cfg",))])[1]["rows"]
        except ovsdb.OvsdbError as exc:
            if exc.params[:1] != ["timed out"]:
                raise
            rows = [{"cur_cfg": current}]     # no change before the deadline


def connect(root, timeout=ovsdb.DEFAULT_TIMEOUT):
    """A connection to this host's ovsdb-server, found as ovs-vsctl finds it."""
    return ovsdb.Connection(root.ovsdb_socket(), timeout=timeout)
