"""The OVN northbound database through the ``ovs`` library's IDL.

A replica of the three tables the sync owns rows in, read as plain data
(:meth:`Northbound.read`: only the rows the IDL reported changed are
converted again), and a plan (:mod:`.plan`) written as ONE transaction,
committed without blocking the daemon's loop (:meth:`Northbound.begin`,
then :meth:`Northbound.status` on each turn).

The schema is the part of OVN's northbound schema the sync reads, carried
here: a pool master has no OVN package.  These columns exist since OVN's
first release, but the ACL action the sync writes for an allow rule,
``allow-stateless``, came with OVN 21.06.  So the schema the server has is
checked whenever the sync plans (:meth:`Northbound.schema_problem`, from the
server's own ``_Server`` database, which the IDL follows): a server that
cannot take what the sync writes is refused with that reason, rather than
sent transactions it would fail one after the other.  Enumerations are left
out of the carried schema, so rows of a newer OVN (another ACL action, say)
are still read.  The IDL follows the Raft leader of a clustered database and
reconnects by itself, waiting at most ``MAX_BACKOFF_MS`` between tries.
"""

import json
import uuid

from . import plan as nbplan
from ..sync import service

MIN_BACKOFF_MS = 1000      # the ovs library's floor
MAX_BACKOFF_MS = 4000
ACL_ACTIONS = ("allow-stateless", "drop")     # what acls.compile_rules writes
MIN_OVN = "21.06"                             # the first with allow-stateless

_STRING = {"type": "string"}
_MAP = {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}
_STRINGS = {"type": {"key": "string", "min": 0, "max": "unlimited"}}


def _refs(table):
    return {"type": {"key": {"type": "uuid", "refTable": table}, "min": 0, "max": "unlimited"}}


SCHEMA = {
    "name": "OVN_Northbound",
    "version": "5.0.0",
    "tables": {
        "Logical_Switch": {"isRoot": True, "columns": {
            "name": _STRING, "external_ids": _MAP,
            "ports": _refs("Logical_Switch_Port"), "acls": _refs("ACL")}},
        "Logical_Switch_Port": {"isRoot": False, "indexes": [["name"]], "columns": {
            "name": _STRING, "addresses": _STRINGS, "port_security": _STRINGS,
            "enabled": {"type": {"key": "boolean", "min": 0, "max": 1}},
            "external_ids": _MAP}},
        "ACL": {"isRoot": False, "columns": {
            "direction": _STRING, "priority": {"type": "integer"}, "match": _STRING,
            "action": _STRING, "external_ids": _MAP}},
    },
}
TABLES = {table: sorted(spec["columns"]) for table, spec in SCHEMA["tables"].items()}


def schema_problem(text):
    """Why a server whose NB schema is ``text`` (its JSON) cannot take what the sync
    writes, or None when it can."""
    fix = "upgrade the OVN central (its NB database and ovn-northd) to %s or later" % MIN_OVN
    try:
        schema = json.loads(text)
        version = str(schema.get("version", "?"))
        tables = schema["tables"]
    except (ValueError, TypeError, KeyError, AttributeError):
        return "its OVN_Northbound schema cannot be read; " + fix
    for table, columns in sorted(TABLES.items()):
        have = (tables.get(table) or {}).get("columns") or {}
        missing = [column for column in columns if column not in have]
        if missing:
            return "its NB schema %s has no %s %s; %s" % (version, table, ", ".join(missing),
                                                          fix)
    key = tables["ACL"]["columns"]["action"].get("type")
    enum = key.get("key", {}).get("enum") if isinstance(key, dict) else None
    if enum is not None:
        actions = set(enum[1]) if isinstance(enum, list) and enum[:1] == ["set"] else {enum}
        missing = [action for action in ACL_ACTIONS if action not in actions]
        if missing:
            return ("its NB schema %s (older than OVN %s) has no ACL action %s, which the "
                    "traffic rules need; %s" % (version, MIN_OVN, ", ".join(missing), fix))
    return None


def _uuids(rows):
    return tuple(sorted(str(row.uuid) for row in rows))


_CONVERT = {
    "Logical_Switch": lambda r: nbplan.NbSwitch(str(r.uuid), r.name, dict(r.external_ids),
                                                _uuids(r.ports), _uuids(r.acls)),
    "Logical_Switch_Port": lambda r: nbplan.NbPort(str(r.uuid), r.name, list(r.addresses),
                                                   list(r.port_security), list(r.enabled),
                                                   dict(r.external_ids)),
    "ACL": lambda r: nbplan.NbAcl(str(r.uuid), r.direction, r.priority, r.match, r.action,
                                  dict(r.external_ids)),
}


def _idl_class(ovs):
    """The library's Idl, noting which rows each update touched."""
    class Idl(ovs.db.idl.Idl):
        def notify(self, event, row, updates=None):
            self.touched.add((row._table.name, row.uuid))

    return Idl


class Northbound:
    """One NB remote (a comma list for a cluster) followed by an IDL."""

    def __init__(self, ovs, remote):
        self.ovs = ovs
        self.remote = remote
        helper = ovs.db.idl.SchemaHelper(schema_json=SCHEMA)
        for table, columns in TABLES.items():
            helper.register_columns(table, columns)
        self.idl = _idl_class(ovs)(remote, helper)
        self.idl.touched = set()
        self.plain = {table: {} for table in TABLES}     # table -> {uuid text: plain row}
        self.names = {table: {} for table in TABLES}     # table -> {UUID: uuid text}
        service.set_reconnect_backoff(self.idl, MIN_BACKOFF_MS, MAX_BACKOFF_MS)
        self.txn = None
        self.transactions = 0       # committed with changes, for status and tests
        self.error = None           # the server's reason for the last failed transaction
        self._schema_checked = (None, None)   # (the server's schema text, its problem)

    def connected(self):
        return service.connection_of(self.idl) is not None and self.idl.has_ever_connected()

    def server_schema(self):
        """The NB schema the server has (its JSON text), as its ``_Server`` database says,
        or None when that is not known (not connected; an ``ovs`` library too old to
        follow ``_Server``)."""
        tables = getattr(self.idl, "server_tables", None) or {}
        database = tables.get("Database")
        for row in (database.rows.values() if database is not None else ()):
            if getattr(row, "name", None) == SCHEMA["name"] and getattr(row, "schema", None):
                return row.schema[0]
        return None

    def schema_problem(self):
        """Why this server cannot take what the sync writes, or None (also when its
        schema is not known: its transactions then say)."""
        text = self.server_schema()
        if text is None:
            return None
        if self._schema_checked[0] != text:      # parsed once per schema, not per plan
            self._schema_checked = (text, schema_problem(text))
        return self._schema_checked[1]

    def read(self):
        """The replica as :class:`~.plan.Nb` plain data (the caller must not change it).

        A row is converted again when the IDL reported it changed or it is new
        (a reconnection replaces the replica without reporting what went)."""
        touched, self.idl.touched = self.idl.touched, set()
        for table, plain in self.plain.items():
            rows, names = self.idl.tables[table].rows, self.names[table]
            for gone in set(names) - set(rows):
                del plain[names.pop(gone)]
            again = {key for name, key in touched if name == table} | (set(rows) - set(names))
            for key in again:
                if key in rows:
                    names[key] = str(key)
                    plain[names[key]] = _CONVERT[table](rows[key])
        return nbplan.Nb(self.plain["Logical_Switch"], self.plain["Logical_Switch_Port"],
                         self.plain["ACL"])

    def begin(self, steps, comment):
        """Start the transaction of a plan's steps (see :meth:`status`)."""
        assert self.txn is None
        txn = self.ovs.db.idl.Transaction(self.idl)
        _Writer(self.idl, txn).write(steps)
        txn.add_comment(comment)
        self.txn = txn
        return self.status()

    def status(self):
        """The pending transaction's outcome: None while it is in flight, else the
        library's status (SUCCESS, UNCHANGED, TRY_AGAIN, ERROR, ...), once."""
        if self.txn is None:
            return None
        status = self.txn.commit()
        if status == self.ovs.db.idl.Transaction.INCOMPLETE:
            return None
        if status == self.ovs.db.idl.Transaction.SUCCESS:
            self.transactions += 1
        self.error = self.txn.get_error() if status == self.ovs.db.idl.Transaction.ERROR else None
        self.txn = None
        return status

    def wait(self, poller):
        self.idl.wait(poller)

    def close(self):
        if self.txn is not None:
            self.txn.abort()
            self.txn = None
        self.idl.close()


class _Writer:
    """A plan's steps as IDL calls: new rows first, then changes to existing ones."""

    def __init__(self, idl, txn):
        self.idl, self.txn = idl, txn
        self.new = {}

    def row(self, table, ref):
        if ref in self.new:
            return self.new[ref]
        return self.idl.tables[table].rows[uuid.UUID(ref)]

    def _insert(self, table, ref, columns):
        row = self.txn.insert(self.idl.tables[table])
        for column, value in sorted(columns.items()):
            setattr(row, column, value)
        if ref is not None:
            self.new[ref] = row
        return row

    def write(self, steps):
        inserted_acls = []
        for step in steps:
            if isinstance(step, nbplan.AddPort):
                self._insert("Logical_Switch_Port", step.ref, step.columns)
            elif isinstance(step, nbplan.AddAcl):
                inserted_acls.append((step.switch, self._insert("ACL", None, step.columns)))
        for step in steps:
            if isinstance(step, nbplan.AddSwitch):
                self._insert("Logical_Switch", step.ref,
                             {"name": step.name, "external_ids": step.external_ids})
        for step in steps:
            self._change(step)
        for switch, acl in inserted_acls:
            self.row("Logical_Switch", switch).addvalue("acls", acl)

    def _change(self, step):
        if isinstance(step, nbplan.AddPort):
            self.row("Logical_Switch", step.switch).addvalue("ports", self.new[step.ref])
        elif isinstance(step, nbplan.SetSwitchKey):
            row = self.row("Logical_Switch", step.switch)
            if step.value is None:
                row.delkey("external_ids", step.key)
            else:
                row.setkey("external_ids", step.key, step.value)
        elif isinstance(step, nbplan.DeleteSwitch):
            row = self.row("Logical_Switch", step.switch)
            for column in ("external_ids", "ports", "acls"):
                row.verify(column)
            row.delete()
        elif isinstance(step, nbplan.SetPort):
            row = self.row("Logical_Switch_Port", step.port)
            for column, value in sorted(step.columns.items()):
                if column == "external_ids":
                    service.set_keys(row, column, value)
                else:
                    setattr(row, column, value)
        elif isinstance(step, (nbplan.LinkPort, nbplan.UnlinkPort)):
            switch = self.row("Logical_Switch", step.switch)
            port = self.row("Logical_Switch_Port", step.port)
            if isinstance(step, nbplan.LinkPort):
                switch.addvalue("ports", port)
            else:
                switch.delvalue("ports", port)
        elif isinstance(step, nbplan.UnlinkAcl):
            self.row("Logical_Switch", step.switch).delvalue(
                "acls", self.row("ACL", step.acl))
