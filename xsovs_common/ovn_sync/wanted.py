"""What the northbound database should hold for one pool, from its XAPI records.

:func:`wanted` turns the records (:class:`~.records.OvnRecords`) into plain
data: a logical switch per OVN network (``other_config:xsovs:ovn`` true,
named by ``xsovs:ovn-logical-switch``, else the network uuid), a logical
switch port per VIF of such a network (named by the VIF's
``nicira-iface-id``, else its uuid; VIFs of templates and snapshots never
run and get none), and the ACLs of Xen Orchestra's traffic rules bound to
those ports (:mod:`.acls`).

Each value is checked here.  A bad one is *refused*: its reason goes to
the list ``status`` shows, and what it would have changed is *frozen* --
the rows already there for that network or VIF are left exactly as they
are, neither updated nor removed.

Port security follows XAPI's locking mode as xenopsd applies it: the VIF's
``locking_mode``, or for ``network_default`` the network's
``default_locking_mode``:

- ``locked``: the guest may send only from the VIF's MAC and the addresses
  of ``ipv4_allowed`` / ``ipv6_allowed`` (``port_security``).  With no
  address allowed XAPI lets only DHCP and ARP probes out, which is what
  ``MAC 0.0.0.0/32`` allows;
- ``unlocked``: anything; the port also takes ``unknown`` destinations, as
  the guest may bridge other MACs;
- ``disabled``: nothing: the port is disabled (``enabled`` false).
"""

import collections

from . import acls
from .records import IFACE_ID_KEY, LOGICAL_SWITCH_KEY, OVN_KEY, RULES_KEY
from .. import validate
from ..errors import InvalidValue

LOCKING_MODES = ("locked", "unlocked", "disabled")
NO_ADDRESS = "0.0.0.0/32"      # port security allowing only DHCP and ARP probes
MAX_NAME_BYTES = 255

Switch = collections.namedtuple("Switch", "name networks")
Port = collections.namedtuple(
    "Port", "name switch network vif vm addresses port_security enabled")
# refused: [(what, reason)]; frozen_networks, frozen_vifs: uuids whose rows stay as they
# are; frozen_rules: (vif uuid, source) whose ACLs stay as they are.
Wanted = collections.namedtuple(
    "Wanted", "switches ports acls refused frozen_networks frozen_vifs frozen_rules")


def port_name(value, what="logical switch port name"):
    """A name that can stand quoted in an ACL's match: printable, no quote or backslash."""
    validate.text(value, MAX_NAME_BYTES, what=what)
    if not value or '"' in value or "\\" in value:
        raise InvalidValue("invalid %s %r: 1-%d printable bytes without \" or \\"
                           % (what, value, MAX_NAME_BYTES), params=[what, value])
    return value


def nb_remote(value, what="xsovs:ovn-nb"):
    """The NB remote(s): a comma list of tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH."""
    validate.text(value, 4096, what=what)
    remotes = value.split(",")
    for remote in remotes:
        kind, _, rest = remote.partition(":")
        if kind == "unix" and rest.startswith("/"):
            continue
        host, _, port = rest.rpartition(":")
        if kind not in ("tcp", "ssl") or not host:
            raise InvalidValue("invalid %s %r: expected tcp:HOST:PORT, ssl:HOST:PORT or "
                               "unix:PATH, comma-separated" % (what, value), params=[what, value])
        validate.port(port, what="%s port" % what)
        validate.host(host[1:-1] if host.startswith("[") else host, what="%s host" % what)
    return value


def switch_name(value, what="logical switch name"):
    return port_name(value, what)


def ovn_enabled(value, what="xsovs:ovn"):
    if value in ("", None):
        return False
    return validate.boolean(value, what=what)


def effective_locking_mode(vif, network):
    """XAPI's locking mode of a VIF, its network's default resolving network_default."""
    mode = vif["locking_mode"]
    if mode == "network_default":
        mode = network["default_locking_mode"]
    return validate.choice(mode, LOCKING_MODES, what="locking mode")


def port_columns(vif, network):
    """(addresses, port_security, enabled) of a VIF's logical port; InvalidValue when bad."""
    mac = validate.mac(vif["MAC"], what="MAC")
    ip4 = sorted(set(validate.ip_address(a, 4, what="ipv4_allowed")
                     for a in vif["ipv4_allowed"]))
    ip6 = sorted(set(validate.ip_address(a, 6, what="ipv6_allowed")
                     for a in vif["ipv6_allowed"]))
    mode = effective_locking_mode(vif, network)
    address = " ".join([mac] + ip4 + ip6)
    if mode == "unlocked":
        return (address, "unknown"), (), True
    if mode == "disabled":
        return (address,), (), False
    return (address,), (address if ip4 or ip6 else mac + " " + NO_ADDRESS,), True


def _networks(records, refused, frozen):
    """OVN networks by ref: (network uuid, switch name), bad ones refused and frozen."""
    out = {}
    for ref, network in records.tables["network"].items():
        other = network["other_config"]
        what = "network %s" % network["uuid"]
        try:
            if not ovn_enabled(other.get(OVN_KEY), what="other_config:" + OVN_KEY):
                continue
            name = other.get(LOGICAL_SWITCH_KEY) or network["uuid"]
            out[ref] = (network["uuid"], switch_name(
                name, what="other_config:" + LOGICAL_SWITCH_KEY))
        except InvalidValue as exc:
            refused.append((what, exc.message))
            frozen.add(network["uuid"])
    return out


def wanted(records):
    """The NB content of this pool (see the module docstring), as a :class:`Wanted`."""
    refused, frozen_networks, frozen_vifs, frozen_rules = [], set(), set(), set()
    networks = _networks(records, refused, frozen_networks)
    switches = {}
    for uuid, name in sorted(networks.values()):
        switches.setdefault(name, []).append(uuid)
    network_rules = {}
    for ref in networks:
        network = records.tables["network"][ref]
        try:
            network_rules[ref] = acls.parse(network["other_config"].get(RULES_KEY, ""))
        except InvalidValue as exc:
            refused.append(("network %s" % network["uuid"], exc.message))
            network_rules[ref] = None
    candidates = []
    by_name = collections.defaultdict(list)
    for vif in records.tables["vif"].values():
        network = records.tables["network"].get(vif["network"])
        if network is not None and network["uuid"] in frozen_networks:
            frozen_vifs.add(vif["uuid"])
            continue
        if vif["network"] not in networks:
            continue
        vm = records.tables["vm"].get(vif["VM"])
        if vm is not None and vm["is_a_template"]:
            continue
        what = "VIF %s" % vif["uuid"]
        try:
            name = port_name(vif["other_config"].get(IFACE_ID_KEY) or vif["uuid"],
                             what="other_config:" + IFACE_ID_KEY)
            columns = port_columns(vif, network)
        except InvalidValue as exc:
            refused.append((what, exc.message))
            frozen_vifs.add(vif["uuid"])
            continue
        by_name[name].append(vif["uuid"])
        candidates.append((name, vif, vm, columns))
    ports, rules = {}, []
    for name, vif, vm, columns in sorted(candidates, key=lambda c: c[0]):
        if len(by_name[name]) > 1:
            refused.append(("VIF %s" % vif["uuid"], "logical port name %r is also that of VIF %s"
                            % (name, ", ".join(u for u in by_name[name] if u != vif["uuid"]))))
            frozen_vifs.add(vif["uuid"])
            continue
        uuid, switch = networks[vif["network"]]
        addresses, security, enabled = columns
        ports[name] = Port(name, switch, uuid, vif["uuid"], vm["uuid"] if vm else "",
                           addresses, security, enabled)
        try:
            own = acls.parse(vif["other_config"].get(RULES_KEY, ""))
        except InvalidValue as exc:
            refused.append(("VIF %s" % vif["uuid"], exc.message))
            own = None
        for source, parsed in (("vif", own), ("network", network_rules[vif["network"]])):
            if parsed is None:
                frozen_rules.add((vif["uuid"], source))
            else:
                rules.extend(acls.compile_rules(parsed, ports[name], source))
    return Wanted({name: Switch(name, tuple(uuids)) for name, uuids in switches.items()},
                  ports, rules, sorted(refused), frozen_networks, frozen_vifs, frozen_rules)
