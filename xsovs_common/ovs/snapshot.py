"""One consistent read of the Open_vSwitch database, in one round trip.

:class:`Snapshot` holds everything callers need -- bridges (fake bridges
derived as ``ovs-vsctl`` derives them), ports, interfaces, managers, SSL --
as :class:`Bridge`, :class:`Port` and :class:`Interface` views.
"""

from . import ovsdb
from .ovsdb import as_list, optional

BRIDGE_COLUMNS = ("_uuid", "name", "ports", "fail_mode", "other_config", "external_ids",
                  "datapath_type", "controller")
PORT_COLUMNS = ("_uuid", "name", "interfaces", "tag", "fake_bridge", "bond_mode", "lacp",
                "bond_updelay", "bond_downdelay", "other_config", "external_ids", "mac")
INTERFACE_COLUMNS = ("_uuid", "name", "type", "ofport", "mac", "mtu_request", "options",
                     "other_config", "external_ids")
OPEN_VSWITCH_COLUMNS = ("_uuid", "bridges", "manager_options", "ssl", "next_cfg", "cur_cfg",
                        "external_ids", "other_config")
# What a snapshot reads, table by table.
TABLES = (("Open_vSwitch", OPEN_VSWITCH_COLUMNS), ("Bridge", BRIDGE_COLUMNS),
          ("Port", PORT_COLUMNS), ("Interface", INTERFACE_COLUMNS),
          ("Manager", ("target",)),
          ("SSL", ("private_key", "certificate", "ca_cert", "bootstrap_ca_cert")))

FAKE_BRIDGE_KEY_PREFIX = "fake-bridge-"


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


class Snapshot:
    """One consistent read of the switch configuration."""

    def __init__(self, tables):
        """``tables``: table name -> the rows ovsdb-server sent (a missing table has none)."""
        rows = {table: [_row(raw) for raw in tables.get(table, ())] for table, _ in TABLES}
        ovs_rows, ssl_rows = rows["Open_vSwitch"], rows["SSL"]
        self.open_vswitch = ovs_rows[0] if ovs_rows else {}
        self.interfaces = {}
        by_uuid = {}
        for row in rows["Interface"]:
            iface = Interface(row)
            self.interfaces[iface.name] = iface
            by_uuid[iface.uuid] = iface
        self.ports = {}
        ports_by_uuid = {}
        for row in rows["Port"]:
            port = Port(row, [by_uuid[u] for u in as_list(row["interfaces"]) if u in by_uuid])
            self.ports[port.name] = port
            ports_by_uuid[port.uuid] = port
        self.bridges = {}
        for row in rows["Bridge"]:
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
        self.managers = sorted(row["target"] for row in rows["Manager"])
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
        ops, spans = [], {}
        for table, columns in TABLES:
            if table == "Interface" and not interfaces:
                continue
            start = len(ops)
            if focus is None or table not in outline:
                ops.append(ovsdb.op_select(table, columns))
            else:
                links, wheres = outline[table]
                ops.extend(ovsdb.op_select(table, links, where) for where in wheres)
                ops.extend(ovsdb.op_select(table, columns, ovsdb.where_name(name))
                           for name in sorted(focus))
            spans[table] = (start, len(ops))
        results = connection.transact(ops)
        tables = {}
        for table, (start, end) in spans.items():
            rows = {}
            for result in results[start:end]:
                for row in result["rows"]:
                    # A whole row replaces its outline.
                    rows[str(row["_uuid"][1]) if "_uuid" in row else len(rows)] = row
            tables[table] = list(rows.values())
        snapshot = cls(tables)
        snapshot.complete = focus is None or tags is None
        return snapshot

    def real_bridges(self):
        return sorted(name for name, br in self.bridges.items() if not br.is_fake)

    def fake_bridges(self, parent=None):
        return sorted(name for name, br in self.bridges.items()
                      if br.is_fake and (parent is None or br.parent.name == parent))

    def port_of_interface(self, iface_name):
        for port in self.ports.values():
            if iface_name in port.interface_names:
                return port
        return None


