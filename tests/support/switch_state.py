"""A Snapshot built from a short description (no ovsdb-server needed).

    snapshot({"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {"xapi2": 100},
                         "fail_mode": "secure"}})

builds the rows ovsdb-server would send for that switch: each bridge with its
own internal port, the listed ports (a list of interfaces; several make a
bond), and fake bridges (a tagged internal port with ``fake_bridge``).
"""

import itertools

from xsovs_common.ovs.snapshot import Snapshot

_ids = itertools.count(1)


def _uuid():
    return ["uuid", "00000000-0000-4000-8000-%012d" % next(_ids)]


def _map(values):
    return ["map", [[k, v] for k, v in sorted((values or {}).items())]]


def _opt(value):
    return ["set", []] if value is None else value


def snapshot(bridges):
    """``bridges``: name -> {"ports", "fakes", "fail_mode", "other_config",
    "external_ids", "port_other_config": {port: {...}}, "tags": {port: tag}}."""
    bridge_rows, port_rows, iface_rows = [], [], []

    def port(name, ifaces, tag=None, fake=False, other_config=None, external_ids=None,
             iface_type=""):
        iface_uuids = []
        for iface in ifaces:
            uuid = _uuid()
            iface_rows.append({"_uuid": uuid, "name": iface, "type": iface_type,
                               "ofport": 1, "mac": ["set", []], "mtu_request": ["set", []],
                               "options": _map({}), "other_config": _map({}),
                               "external_ids": _map({})})
            iface_uuids.append(uuid)
        uuid = _uuid()
        port_rows.append({"_uuid": uuid, "name": name, "interfaces": ["set", iface_uuids],
                          "tag": _opt(tag), "fake_bridge": fake, "bond_mode": ["set", []],
                          "lacp": ["set", []], "bond_updelay": 0, "bond_downdelay": 0,
                          "other_config": _map(other_config),
                          "external_ids": _map(external_ids), "mac": ["set", []]})
        return uuid

    for name, spec in bridges.items():
        ports = [port(name, [name], iface_type="internal")]
        port_oc = spec.get("port_other_config", {})
        tags = spec.get("tags", {})
        for pname, ifaces in spec.get("ports", {}).items():
            ports.append(port(pname, ifaces, tag=tags.get(pname),
                              other_config=port_oc.get(pname)))
        for fake, tag in spec.get("fakes", {}).items():
            ports.append(port(fake, [fake], tag=tag, fake=True, iface_type="internal"))
        bridge_rows.append({"_uuid": _uuid(), "name": name, "ports": ["set", ports],
                            "fail_mode": _opt(spec.get("fail_mode")),
                            "other_config": _map(spec.get("other_config")),
                            "external_ids": _map(spec.get("external_ids")),
                            "datapath_type": spec.get("datapath_type", ""),
                            "controller": ["set", []]})
    ovs_row = {"_uuid": _uuid(), "bridges": ["set", [b["_uuid"] for b in bridge_rows]]}
    return Snapshot({"Open_vSwitch": [ovs_row], "Bridge": bridge_rows, "Port": port_rows,
                     "Interface": iface_rows})
