"""The kinds of OVSDB change, one class per ``ovs-vsctl`` command.

``add-br``, ``del-br``, ``add-port``, ``del-port``, ``set``,
``br-set-external-id``, ``emer-reset``, ``set-manager``, ``set-ssl``,
``del-ssl``: each holds its own fields, adds its own RFC 7047 operations to
a :class:`~xsovs_common.ovs.transaction.PendingState` and says itself as the
equivalent ``ovs-vsctl`` command, so a new kind is one class here (and one
builder of :class:`~xsovs_common.ovs.changes.ChangeSet`).
"""

from . import ovsdb
from .ovsdb import Uuid
from .snapshot import FAKE_BRIDGE_KEY_PREFIX
from .transaction import VswitchError

# Columns emer-reset empties on every Bridge (Open vSwitch's own list).
_EMER_RESET_BRIDGE_COLUMNS = ("controller", "fail_mode", "mirrors", "netflow", "sflow",
                              "ipfix", "flood_vlans")


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


class Change:
    """One change: ``kind`` is its ovs-vsctl command, ``fields`` its data.

    A kind defines ``operations(state)``, which adds its RFC 7047 operations
    to a PendingState, and says itself with :meth:`vsctl_command`.  A kind
    whose fields need no conversion takes them positionally from here.
    """

    kind = None
    fields = ()

    def __init__(self, *values):
        if len(values) != len(self.fields):
            raise TypeError("%s takes %s" % (type(self).__name__, ", ".join(self.fields)))
        for field, value in zip(self.fields, values):
            setattr(self, field, value)

    def _values(self):
        return tuple(getattr(self, field) for field in self.fields)

    def __eq__(self, other):
        return type(other) is type(self) and other._values() == self._values()

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(repr(v) for v in self._values()))

    def vsctl_command(self):
        """This change as the equivalent ovs-vsctl command (for humans only)."""
        return self.kind


class AddBr(Change):
    """A real bridge, or a fake one (``parent`` and ``vlan``)."""

    kind = "add-br"
    fields = ("name", "parent", "vlan", "datapath_type")

    def __init__(self, name, parent=None, vlan=None, datapath_type=None):
        self.name = name
        self.parent = parent
        self.vlan = vlan
        self.datapath_type = datapath_type

    def operations(self, state):
        name, parent, vlan = self.name, self.parent, self.vlan
        if name in state.bridges or name in state.port_uuid or name in state.ifaces:
            raise VswitchError("a bridge, port or interface named %s already exists" % name,
                               params=[name])
        if parent is None:
            iface_ref, port_ref, br_ref = (state.new_row_name("iface"),
                                           state.new_row_name("port"),
                                           state.new_row_name("bridge"))
            state.ops.append(ovsdb.op_insert("Interface", {"name": name, "type": "internal"},
                                             iface_ref))
            state.ops.append(ovsdb.op_insert("Port", {"name": name, "interfaces": [iface_ref]},
                                             port_ref))
            row = {"name": name, "ports": [port_ref]}
            if self.datapath_type:
                row["datapath_type"] = self.datapath_type
            state.ops.append(ovsdb.op_insert("Bridge", row, br_ref))
            state.ops.append(ovsdb.op_mutate("Open_vSwitch", [],
                                             [("bridges", "insert", [br_ref])]))
            state.bridges[name] = (None, None)
            state.bridge_uuid[name] = br_ref
            state.port_bridge[name] = name
            state.port_uuid[name] = port_ref
            state.port_ifaces[name] = [name]
            state.ifaces.add(name)
            return
        if parent not in state.bridges or state.bridges[parent][0] is not None:
            raise VswitchError("parent bridge %s of %s is not a real bridge" % (parent, name),
                               params=[parent])
        for other, (other_parent, other_vlan) in state.bridges.items():
            if other_parent == parent and other_vlan == vlan:
                raise VswitchError("bridge %s already has VLAN %d as %s" % (parent, vlan, other),
                                   params=[parent, str(vlan)])
        state.new_port(parent, name, (name,), {"fake_bridge": True, "tag": vlan},
                       {name: {"type": "internal"}})
        state.bridges[name] = (parent, vlan)
        state.port_bridge[name] = name

    def vsctl_command(self):
        text = "add-br %s" % self.name
        if self.parent:
            text += " %s %d" % (self.parent, self.vlan)
        if self.datapath_type:
            text += " -- set Bridge %s datapath_type=%s" % (self.name, self.datapath_type)
        return text


class DelBr(Change):
    """A bridge and its ports; a real bridge takes its fake bridges with it."""

    kind = "del-br"
    fields = ("name",)

    def operations(self, state):
        name = self.name
        if name not in state.bridges:
            return
        parent, _ = state.bridges[name]
        if parent is not None:
            for port, owner in list(state.port_bridge.items()):
                if owner == name:
                    state.drop_port(port)
            del state.bridges[name]
            return
        for child, (child_parent, _) in list(state.bridges.items()):
            if child_parent == name:
                state.forget_bridge(child)
        state.forget_bridge(name)
        uuid = state.bridge_uuid.pop(name)
        # Ports and interfaces go with the bridge: OVSDB collects unreferenced rows.
        state.ops.append(ovsdb.op_mutate("Open_vSwitch", [], [("bridges", "delete", [uuid])]))
        if isinstance(uuid, Uuid):
            state.ops.append(ovsdb.op_delete("Flow_Sample_Collector_Set",
                                             [["bridge", "==", ["uuid", str(uuid)]]]))

    def vsctl_command(self):
        return "--if-exists del-br %s" % self.name


class AddPort(Change):
    """A port of ``interfaces`` (several make a bond), with its and their columns."""

    kind = "add-port"
    fields = ("bridge", "port", "interfaces", "port_columns", "iface_columns")

    def __init__(self, bridge, port, interfaces=None, port_columns=None, iface_columns=None):
        self.bridge = bridge
        self.port = port
        self.interfaces = tuple(interfaces or (port,))
        self.port_columns = dict(port_columns or {})
        self.iface_columns = {k: dict(v) for k, v in (iface_columns or {}).items()}

    def operations(self, state):
        state.new_port(self.bridge, self.port, self.interfaces, self.port_columns,
                       self.iface_columns)

    def vsctl_command(self):
        if self.interfaces == (self.port,):
            text = "add-port %s %s" % (self.bridge, self.port)
        else:
            text = "add-bond %s %s %s" % (self.bridge, self.port, " ".join(self.interfaces))
        text += "".join(" " + _assignment(c, v) for c, v in sorted(self.port_columns.items()))
        for iface, cols in sorted(self.iface_columns.items()):
            if cols:
                text += " -- set Interface %s %s" % (
                    iface, " ".join(_assignment(c, v) for c, v in sorted(cols.items())))
        return text


class DelPort(Change):
    kind = "del-port"
    fields = ("port",)

    def operations(self, state):
        if self.port in state.port_bridge and self.port not in state.bridges:
            state.drop_port(self.port)

    def vsctl_command(self):
        return "--if-exists del-port %s" % self.port


class Set(Change):
    """``{column or column:key: value}`` on one record; None removes the key or clears."""

    kind = "set"
    fields = ("table", "record", "values")

    def __init__(self, table, record, values):
        self.table = table
        self.record = record
        self.values = dict(values)

    def _where(self, state):
        table, record = self.table, self.record
        if table == "Open_vSwitch":
            return []
        if table == "Bridge":
            if record not in state.bridges or state.bridges[record][0] is not None:
                raise VswitchError("no real bridge named %s" % record, params=[record])
        elif table == "Port":
            if record not in state.port_uuid:
                raise VswitchError("no port named %s" % record, params=[record])
        elif table == "Interface":
            if record not in state.ifaces:
                raise VswitchError("no interface named %s" % record, params=[record])
        else:
            raise VswitchError("cannot set %s records" % table, params=[table])
        return ovsdb.where_name(record)

    def operations(self, state):
        where = self._where(state)
        whole = {}
        mutations = []
        for column, value in sorted(self.values.items()):
            if ":" in column:
                column, key = column.split(":", 1)
                mutations.append((column, "delete", [key]))
                if value is not None:
                    mutations.append((column, "insert", {key: value}))
            else:
                whole[column] = value
        if whole:
            state.ops.append(ovsdb.op_update(self.table, where, whole))
        if mutations:
            state.ops.append(ovsdb.op_mutate(self.table, where, mutations))

    def vsctl_command(self):
        table, record, values = self.table, self.record, self.values
        sets = [_assignment(c, v) for c, v in sorted(values.items()) if v is not None]
        parts = ["set %s %s %s" % (table, record, " ".join(sets))] if sets else []
        for column in sorted(c for c, v in values.items() if v is None):
            if ":" in column:
                col, key = column.split(":", 1)
                parts.append("remove %s %s %s %s" % (table, record, col, _quote(key)))
            else:
                parts.append("clear %s %s %s" % (table, record, column))
        return " -- ".join(parts)


class BrSetExternalId(Change):
    """An external id of a bridge; a fake bridge keeps it on its Port, prefixed."""

    kind = "br-set-external-id"
    fields = ("bridge", "key", "value")

    def operations(self, state):
        if self.bridge not in state.bridges:
            raise VswitchError("no bridge named %s" % self.bridge, params=[self.bridge])
        if state.bridges[self.bridge][0] is None:
            change = Set("Bridge", self.bridge, {"external_ids:" + self.key: self.value})
        else:
            change = Set("Port", self.bridge,
                         {"external_ids:" + FAKE_BRIDGE_KEY_PREFIX + self.key: self.value})
        change.operations(state)

    def vsctl_command(self):
        return "br-set-external-id %s %s%s" % (
            self.bridge, self.key, "" if self.value is None else " " + _quote(self.value))


class EmerReset(Change):
    """What ``ovs-vsctl emer-reset`` clears: managers, SSL, controllers and more."""

    kind = "emer-reset"

    def operations(self, state):
        state.ops.append(ovsdb.op_update("Open_vSwitch", [],
                                         {"manager_options": [], "ssl": None}))
        state.ops.append(ovsdb.op_update("Bridge", [],
                                         {c: None for c in _EMER_RESET_BRIDGE_COLUMNS}))
        # Every other_config key of every Bridge goes, but hwaddr.
        keys = set()
        for bridge in state.snapshot.bridges.values():
            if not bridge.is_fake:
                keys.update(bridge.other_config)
        keys.discard("hwaddr")
        if keys:
            state.ops.append(ovsdb.op_mutate("Bridge", [],
                                             [("other_config", "delete", sorted(keys))]))
        state.ops.append(ovsdb.op_update("Port", [], {"other_config": {}}))
        state.ops.append(ovsdb.op_update("Interface", [], {"ingress_policing_rate": 0,
                                                           "ingress_policing_burst": 0}))
        state.ops.append(ovsdb.op_delete("Flow_Sample_Collector_Set", []))


class SetManager(Change):
    """The OVSDB managers, all of them (none: ``del-manager``)."""

    kind = "set-manager"
    fields = ("targets",)

    def __init__(self, targets):
        self.targets = tuple(targets)

    def operations(self, state):
        refs = []
        for target in self.targets:
            ref = state.new_row_name("manager")
            state.ops.append(ovsdb.op_insert("Manager", {"target": target}, ref))
            refs.append(ref)
        state.ops.append(ovsdb.op_update("Open_vSwitch", [], {"manager_options": refs}))

    def vsctl_command(self):
        return ("set-manager " + " ".join(self.targets)) if self.targets else "del-manager"


class SetSsl(Change):
    kind = "set-ssl"
    fields = ("private_key", "certificate", "ca_cert", "bootstrap")

    def __init__(self, private_key, certificate, ca_cert, bootstrap=True):
        self.private_key = private_key
        self.certificate = certificate
        self.ca_cert = ca_cert
        self.bootstrap = bool(bootstrap)

    def operations(self, state):
        ref = state.new_row_name("ssl")
        state.ops.append(ovsdb.op_insert("SSL", {"private_key": self.private_key,
                                                 "certificate": self.certificate,
                                                 "ca_cert": self.ca_cert,
                                                 "bootstrap_ca_cert": self.bootstrap}, ref))
        state.ops.append(ovsdb.op_update("Open_vSwitch", [], {"ssl": [ref]}))

    def vsctl_command(self):
        return "%sset-ssl %s %s %s" % ("--bootstrap " if self.bootstrap else "",
                                       self.private_key, self.certificate, self.ca_cert)


class DelSsl(Change):
    kind = "del-ssl"

    def operations(self, state):
        state.ops.append(ovsdb.op_update("Open_vSwitch", [], {"ssl": None}))
