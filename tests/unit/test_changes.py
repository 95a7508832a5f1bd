"""The change language, the one-read snapshot and the pending state, without ovsdb-server.

A small stand-in connection answers ``select``s from rows held per table, as
ovsdb-server would; everything else is the real code.
"""

import pytest

from xsovs_common.ovs import change_kinds, transaction
from xsovs_common.ovs.change_kinds import (AddBr, AddPort, BrSetExternalId, DelBr, DelPort,
                                           DelSsl, EmerReset, Set, SetManager, SetSsl)
from xsovs_common.ovs.changes import ChangeSet
from xsovs_common.ovs.snapshot import Snapshot
from xsovs_common.ovs.transaction import VswitchError

XENBR0, XAPI2, ETH0 = ("00000000-0000-4000-8000-%012d" % n for n in (1, 2, 3))
PORT0, PORT2, IFACE0, IFACE2, IFACE_ETH0 = ("00000000-0000-4000-8000-%012d" % n
                                            for n in (4, 5, 6, 7, 8))


def _uuid(value):
    return ["uuid", value]


def _map(values):
    return ["map", sorted(values.items())]


# xenbr0 with eth0 and the fake bridge xapi2 (VLAN 100); one manager.
ROWS = {
    "Open_vSwitch": [{"_uuid": _uuid("o"), "bridges": _uuid(XENBR0), "next_cfg": 1,
                      "cur_cfg": 1, "manager_options": ["set", []], "ssl": ["set", []],
                      "external_ids": _map({}), "other_config": _map({})}],
    "Bridge": [{"_uuid": _uuid(XENBR0), "name": "xenbr0",
                "ports": ["set", [_uuid(PORT0), _uuid(PORT2), _uuid(ETH0)]],
                "fail_mode": "secure", "other_config": _map({"hwaddr": "02:00:00:00:00:01",
                                                             "disable-in-band": "true"}),
                "external_ids": _map({}), "datapath_type": "", "controller": ["set", []]}],
    "Port": [
        {"_uuid": _uuid(PORT0), "name": "xenbr0", "interfaces": _uuid(IFACE0),
         "tag": ["set", []], "fake_bridge": False, "external_ids": _map({})},
        {"_uuid": _uuid(PORT2), "name": "xapi2", "interfaces": _uuid(IFACE2), "tag": 100,
         "fake_bridge": True, "external_ids": _map({"fake-bridge-xs-network-uuids": "n2"})},
        {"_uuid": _uuid(ETH0), "name": "eth0", "interfaces": _uuid(IFACE_ETH0),
         "tag": ["set", []], "fake_bridge": False, "external_ids": _map({})}],
    "Interface": [{"_uuid": _uuid(IFACE0), "name": "xenbr0", "type": "internal"},
                  {"_uuid": _uuid(IFACE2), "name": "xapi2", "type": "internal"},
                  {"_uuid": _uuid(IFACE_ETH0), "name": "eth0", "type": ""}],
    "Manager": [{"target": "ssl:192.0.2.5:6632"}],
    "SSL": [],
}


class Rows:
    """Answers each ``select`` with the rows of its table that match, its columns only."""

    def __init__(self, rows):
        self.rows = rows
        self.sent = []

    def transact(self, ops):
        self.sent.append(ops)
        return [{"rows": [self._columns(row, op["columns"]) for row in self.rows[op["table"]]
                          if all(self._matches(row, clause) for clause in op["where"])]}
                for op in ops]

    @staticmethod
    def _matches(row, clause):
        column, function, value = clause
        return (row.get(column) == value) == (function == "==")

    @staticmethod
    def _columns(row, columns):
        return {column: row[column] for column in columns if column in row}


def read(**kw):
    return Snapshot.read(Rows(ROWS), **kw)


def test_read_keys_each_result_by_its_table():
    snapshot = read()
    assert snapshot.real_bridges() == ["xenbr0"] and snapshot.fake_bridges() == ["xapi2"]
    assert snapshot.bridges["xapi2"].external_ids == {"xs-network-uuids": "n2"}
    assert snapshot.ports["eth0"].interface_names == ["eth0"]
    assert snapshot.managers == ["ssl:192.0.2.5:6632"] and snapshot.ssl is None
    assert snapshot.complete


def test_read_without_interfaces_sends_no_interface_select():
    connection = Rows(ROWS)
    snapshot = Snapshot.read(connection, interfaces=False)
    (ops,) = connection.sent
    assert "Interface" not in {op["table"] for op in ops}
    # The tables after Interface still land where they belong.
    assert snapshot.interfaces == {} and snapshot.managers == ["ssl:192.0.2.5:6632"]
    assert snapshot.ports["eth0"].interface_names == []


def test_focused_read_replaces_outlines_with_whole_rows():
    snapshot = read(focus={"xenbr0"}, tags={100})
    assert snapshot.bridges["xenbr0"].fail_mode == "secure"     # whole row
    assert snapshot.bridges["xapi2"].vlan == 100                # outline
    assert not snapshot.complete


def test_each_kind_says_itself_as_ovs_vsctl():
    plan = ChangeSet([
        AddBr("xenbr1", datapath_type="netdev"), AddBr("xapi3", "xenbr1", 200),
        DelBr("xapi9"), AddPort("xenbr1", "eth1", iface_columns={"eth1": {"mtu_request": 9000}}),
        DelPort("eth9"), Set("Port", "eth1", {"tag": 5, "other_config:a b": None}),
        BrSetExternalId("xapi3", "xs-network-uuids", "a;b"), BrSetExternalId("xapi3", "k", None),
        EmerReset(), SetManager([]), SetManager(["ptcp:6640"]), SetSsl("/k", "/c", "/ca"),
        SetSsl("/k", "/c", "/ca", bootstrap=False), DelSsl()])
    assert str(plan).splitlines() == [
        "add-br xenbr1 -- set Bridge xenbr1 datapath_type=netdev",
        "add-br xapi3 xenbr1 200",
        "--if-exists del-br xapi9",
        "add-port xenbr1 eth1 -- set Interface eth1 mtu_request=9000",
        "--if-exists del-port eth9",
        'set Port eth1 tag=5 -- remove Port eth1 other_config "a b"',
        'br-set-external-id xapi3 xs-network-uuids "a;b"',
        "br-set-external-id xapi3 k",
        "emer-reset", "del-manager", "set-manager ptcp:6640",
        "--bootstrap set-ssl /k /c /ca", "set-ssl /k /c /ca", "del-ssl"]


def test_a_kind_is_one_class_with_its_own_fields():
    kinds = {cls.kind: cls for cls in vars(change_kinds).values()
             if isinstance(cls, type) and issubclass(cls, change_kinds.Change)
             and cls is not change_kinds.Change}
    assert sorted(kinds) == ["add-br", "add-port", "br-set-external-id", "del-br", "del-port",
                             "del-ssl", "emer-reset", "set", "set-manager", "set-ssl"]
    # Same fields, other kind: not the same change.
    assert DelBr("eth0") != DelPort("eth0") and DelBr("eth0") == DelBr("eth0")
    assert repr(AddBr("xapi3", "xenbr1", 200)) == "AddBr('xapi3', 'xenbr1', 200, None)"
    assert AddPort("xenbr0", "eth1").interfaces == ("eth1",)


def test_changes_become_operations_against_the_pending_state():
    snapshot = read()
    ops = transaction.operations([AddBr("xapi3", "xenbr0", 200),
                                  BrSetExternalId("xapi3", "xs-network-uuids", "n3"),
                                  BrSetExternalId("xenbr0", "xs-network-uuids", "n0")],
                                 snapshot)
    # The fake bridge is a tagged internal port of its parent; its ids live on that
    # port, prefixed, found by name although the port is only being inserted.
    inserted = [op for op in ops if op["op"] == "insert" and op["table"] == "Port"]
    assert inserted[0]["row"]["tag"] == 200 and inserted[0]["row"]["fake_bridge"] is True
    ids = [(op["table"], op["where"], op["mutations"]) for op in ops
           if op["op"] == "mutate" and op["mutations"][0][0] == "external_ids"]
    assert ids == [
        ("Port", [["name", "==", "xapi3"]],
         [["external_ids", "delete", ["set", ["fake-bridge-xs-network-uuids"]]],
          ["external_ids", "insert", ["map", [["fake-bridge-xs-network-uuids", "n3"]]]]]),
        ("Bridge", [["name", "==", "xenbr0"]],
         [["external_ids", "delete", ["set", ["xs-network-uuids"]]],
          ["external_ids", "insert", ["map", [["xs-network-uuids", "n0"]]]]])]


def test_emer_reset_keeps_hwaddr_only():
    (dropped,) = [op for op in transaction.operations([EmerReset()], read())
                  if op["op"] == "mutate"]
    assert dropped["mutations"] == [["other_config", "delete", ["set", ["disable-in-band"]]]]


@pytest.mark.parametrize("change, why", [
    (AddBr("xapi2", "xenbr0", 300), "already exists"),
    (AddBr("xapi4", "xenbr0", 100), "already has VLAN 100 as xapi2"),
    (AddBr("xapi4", "xapi2", 5), "is not a real bridge"),
    (AddPort("xenbr9", "eth5"), "no bridge named xenbr9"),
    (AddPort("xenbr0", "eth5", ["eth0"]), "an interface named eth0 already exists"),
    (Set("Bridge", "xapi2", {"fail_mode": "secure"}), "no real bridge named xapi2"),
    (Set("Controller", "x", {"target": "tcp:192.0.2.1"}), "cannot set Controller records"),
    (BrSetExternalId("xenbr9", "k", "v"), "no bridge named xenbr9"),
    (("add-br", "xenbr1"), "unknown change"),
])
def test_a_change_the_state_cannot_take_is_refused(change, why):
    with pytest.raises(VswitchError, match=why):
        transaction.check([change], read())
