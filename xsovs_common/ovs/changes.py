"""The change language: OVSDB changes as plain data, in ``ovs-vsctl``'s words.

A :class:`ChangeSet` is a plan: a list of changes, one class per kind of
change (:mod:`.change_kinds`), built in ``ovs-vsctl``'s order of arguments.
It prints like an ``ovs-vsctl`` command line and compares with ``==``, so a
dry run costs nothing; :mod:`.transaction` checks it and commits it as one
transaction.
"""

from .change_kinds import (AddBr, AddPort, BrSetExternalId, DelBr, DelPort, DelSsl, EmerReset,
                           Set, SetManager, SetSsl)


class ChangeSet:
    """A plan of OVSDB changes: a list of :class:`~.change_kinds.Change`, in order."""

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
        return "\n".join(change.vsctl_command() for change in self.changes)

    def __repr__(self):
        return "ChangeSet(%r)" % self.changes

    def extend(self, other):
        self.changes.extend(other.changes if isinstance(other, ChangeSet) else other)

    # Builders, in ovs-vsctl's order of arguments.

    def add_br(self, name, parent=None, vlan=None, datapath_type=None):
        self.changes.append(AddBr(name, parent, vlan, datapath_type))

    def del_br(self, name):
        self.changes.append(DelBr(name))

    def add_port(self, bridge, port, interfaces=None, port_columns=None, iface_columns=None):
        self.changes.append(AddPort(bridge, port, interfaces, port_columns, iface_columns))

    def del_port(self, port):
        self.changes.append(DelPort(port))

    def set(self, table, record, values):
        if values:
            self.changes.append(Set(table, record, values))

    def br_set_external_id(self, bridge, key, value):
        self.changes.append(BrSetExternalId(bridge, key, value))

    def emer_reset(self):
        self.changes.append(EmerReset())

    def set_manager(self, targets):
        self.changes.append(SetManager(targets))

    def set_ssl(self, private_key, certificate, ca_cert, bootstrap=True):
        self.changes.append(SetSsl(private_key, certificate, ca_cert, bootstrap))

    def del_ssl(self):
        self.changes.append(DelSsl())
