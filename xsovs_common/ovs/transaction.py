"""Changes into one OVSDB transaction: checked, committed, taken in by ovs-vswitchd.

:class:`PendingState` is the switch as the transaction so far leaves it;
each change of :mod:`xsovs_common.ovs.changes` adds its RFC 7047 operations
against it, so an operation finds a row inserted earlier in the same
transaction, and anything a change refers to that does not exist fails
before a byte is sent.  :func:`apply` commits the operations as ONE
transaction and waits for ovs-vswitchd to take it in.
"""

from . import ovsdb
from ..errors import Error
from ..log import log
from ..system import waiting
from .ovsdb import NamedUuid


class VswitchError(Error):
    code = "VSWITCH_CONFIG_MOD_FAILURE"


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


class PendingState:
    """The switch as the operations so far leave it, and those operations.

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

    def new_row_name(self, prefix):
        """A named-uuid for a row this transaction inserts."""
        self._names += 1
        return NamedUuid("%s%d" % (prefix, self._names))

    def real_bridge(self, bridge):
        """The real bridge holding ``bridge``'s ports, and the VLAN tag to use."""
        if bridge not in self.bridges:
            raise VswitchError("no bridge named %s" % bridge, params=[bridge])
        parent, vlan = self.bridges[bridge]
        return (parent, vlan) if parent else (bridge, None)

    def new_port(self, bridge, name, ifaces, port_columns, iface_columns):
        real, vlan = self.real_bridge(bridge)
        if name in self.port_uuid:
            raise VswitchError("a port named %s already exists" % name, params=[name])
        iface_refs = []
        for iface in ifaces:
            if iface in self.ifaces:
                raise VswitchError("an interface named %s already exists" % iface,
                                   params=[iface])
            ref = self.new_row_name("iface")
            row = _insert_row(iface_columns.get(iface, {}))
            row["name"] = iface
            self.ops.append(ovsdb.op_insert("Interface", row, ref))
            iface_refs.append(ref)
            self.ifaces.add(iface)
        port_ref = self.new_row_name("port")
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

    def drop_port(self, name):
        real, _ = self.real_bridge(self.port_bridge[name])
        self.ops.append(ovsdb.op_mutate("Bridge", ovsdb.where_name(real),
                                        [("ports", "delete", [self.port_uuid[name]])]))
        self.forget_port(name)

    def forget_port(self, name):
        del self.port_bridge[name]
        self.port_uuid.pop(name, None)
        self.ifaces.difference_update(self.port_ifaces.pop(name, ()))

    def forget_bridge(self, name):
        for port, owner in list(self.port_bridge.items()):
            if owner == name:
                self.forget_port(port)
        del self.bridges[name]


def operations(changes, snapshot):
    """The RFC 7047 operations of ``changes`` against ``snapshot``."""
    state = PendingState(snapshot)
    for change in changes:
        add_operations = getattr(change, "operations", None)
        if not callable(add_operations):
            raise VswitchError("unknown change %r" % (change,), params=[repr(change)])
        add_operations(state)
    return state.ops


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
    log.info("OVSDB: %s", " -- ".join(c.vsctl_command() for c in changes)[:2000])
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
