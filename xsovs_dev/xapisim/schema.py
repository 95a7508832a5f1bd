"""The slice of XAPI's data model the simulator serves.

One table says, per class and field, the type, XAPI's default, whether the
API may write it (XAPI's RW fields) and whether the loader derives it from
the other side of a relation. Everything else (loader, marshalling, method
dispatch) is driven by this table, so adding a field is one line here.
"""

from collections import namedtuple

NULL_REF = "OpaqueRef:NULL"

# kind: "string" | "int" | "bool" | "map" | "ref" | "refs" | "strings" | "enum"
# arg: the target class for ref/refs, the allowed values for enum
Field = namedtuple("Field", "kind arg default rw derived")


def _f(kind, default, arg=None, rw=False, derived=False):
    return Field(kind, arg, default, rw, derived)


def _s(default="", rw=False):
    return _f("string", default, rw=rw)


def _map(rw=True):
    return _f("map", {}, rw=rw)


IP_MODES = ("None", "DHCP", "Static")
IPV6_MODES = ("None", "DHCP", "Static", "Autoconf")
VIF_LOCKING_MODES = ("network_default", "locked", "unlocked", "disabled")
NETWORK_LOCKING_MODES = ("unlocked", "disabled")

CLASSES = {
    "pool": {
        "uuid": _s(),
        "name_label": _s(rw=True),
        "name_description": _s(rw=True),
        "master": _f("ref", NULL_REF, "host", derived=True),
        "vswitch_controller": _s(),
        "other_config": _map(),
    },
    "host": {
        "uuid": _s(),
        "name_label": _s(rw=True),
        "name_description": _s(rw=True),
        "hostname": _s(),
        "address": _s(),
        "API_version_major": _f("int", 2),
        "API_version_minor": _f("int", 21),
        "PIFs": _f("refs", [], "PIF", derived=True),
        "other_config": _map(),
    },
    "PIF": {
        "uuid": _s(),
        "host": _f("ref", NULL_REF, "host"),
        "device": _s(),
        "MAC": _s(),
        "network": _f("ref", NULL_REF, "network"),
        "management": _f("bool", False),
        "physical": _f("bool", True),
        "VLAN": _f("int", -1, derived=True),
        "VLAN_master_of": _f("ref", NULL_REF, "VLAN", derived=True),
        "VLAN_slave_of": _f("refs", [], "VLAN", derived=True),
        "bond_master_of": _f("refs", [], "Bond", derived=True),
        "bond_slave_of": _f("ref", NULL_REF, "Bond", derived=True),
        "tunnel_access_PIF_of": _f("refs", [], "tunnel", derived=True),
        "tunnel_transport_PIF_of": _f("refs", [], "tunnel", derived=True),
        "ip_configuration_mode": _f("enum", "None", IP_MODES),
        "IP": _s(),
        "netmask": _s(),
        "gateway": _s(),
        "DNS": _s(),
        "currently_attached": _f("bool", False),
        "ipv6_configuration_mode": _f("enum", "None", IPV6_MODES),
        "IPv6": _f("strings", []),
        "ipv6_gateway": _s(),
        "primary_address_type": _f("enum", "IPv4", ("IPv4", "IPv6")),
        "MTU": _f("int", 1500),
        "other_config": _map(),
    },
    "network": {
        "uuid": _s(),
        "name_label": _s(rw=True),
        "name_description": _s(rw=True),
        "bridge": _s(),
        "MTU": _f("int", 1500, rw=True),
        "PIFs": _f("refs", [], "PIF", derived=True),
        "VIFs": _f("refs", [], "VIF", derived=True),
        "default_locking_mode": _f("enum", "unlocked", NETWORK_LOCKING_MODES),
        "other_config": _map(),
    },
    "VM": {
        "uuid": _s(),
        "name_label": _s(rw=True),
        "is_control_domain": _f("bool", False),
        "is_a_template": _f("bool", False),
        "power_state": _f("enum", "Halted", ("Halted", "Paused", "Running", "Suspended")),
        "resident_on": _f("ref", NULL_REF, "host"),
        "domid": _f("int", -1),
        "VIFs": _f("refs", [], "VIF", derived=True),
        "other_config": _map(),
    },
    "VIF": {
        "uuid": _s(),
        "device": _s(),
        "network": _f("ref", NULL_REF, "network"),
        "VM": _f("ref", NULL_REF, "VM"),
        "MAC": _s(),
        "MTU": _f("int", 1500),
        "currently_attached": _f("bool", False),
        "locking_mode": _f("enum", "network_default", VIF_LOCKING_MODES),
        "ipv4_allowed": _f("strings", []),
        "ipv6_allowed": _f("strings", []),
        "other_config": _map(),
    },
    "Bond": {
        "uuid": _s(),
        "master": _f("ref", NULL_REF, "PIF"),
        "slaves": _f("refs", [], "PIF"),
        "mode": _f("enum", "balance-slb", ("balance-slb", "active-backup", "lacp")),
        "other_config": _map(),
    },
    "VLAN": {
        "uuid": _s(),
        "tagged_PIF": _f("ref", NULL_REF, "PIF"),
        "untagged_PIF": _f("ref", NULL_REF, "PIF"),
        "tag": _f("int", -1),
        "other_config": _map(),
    },
    "tunnel": {
        "uuid": _s(),
        "access_PIF": _f("ref", NULL_REF, "PIF"),
        "transport_PIF": _f("ref", NULL_REF, "PIF"),
        "protocol": _f("enum", "gre", ("gre", "vxlan"), rw=True),
        "status": _f("map", {"active": "false"}, rw=True),
        "other_config": _map(),
    },
    "SDN_controller": {
        "uuid": _s(),
        "protocol": _f("enum", "ssl", ("ssl", "pssl")),
        "address": _s(),
        "port": _f("int", 0),
    },
}

# Classes that have a get_by_name_label message in XAPI.
BY_NAME_LABEL = ("host", "network")
