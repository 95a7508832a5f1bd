"""What the northbound database should hold for one pool, from its XAPI records.

:func:`wanted` turns the records (:class:`~.records.OvnRecords`) into plain
data: a logical switch per OVN network, a logical switch port per VIF of
such a network, and the ACLs of Xen Orchestra's traffic rules bound to
those ports (:mod:`.acls`).  What the XAPI keys mean -- which network is an
OVN network and its switch's name, a VIF's port name, addresses and port
security from XAPI's locking mode -- is :mod:`~xsovs_common.net.ovn`'s, the
one reader of them.  VIFs of templates and snapshots never run and get no
port.

Each value is checked there.  A bad one is *refused*: its reason goes to
the list ``status`` shows, and what it would have changed is *frozen* --
the rows already there for that network, VIF or rule list are left exactly
as they are, neither updated nor removed.  So is a value :mod:`.records`
did not keep (too long, not text): it is never read as an empty one.

A :class:`Memo` keeps what was worked out of each record between two
calls, so that after a change only the records that changed are read again.
"""

import collections

from . import acls
from .records import other_config_field, unkept
from ..errors import InvalidValue
from ..net import ovn
from ..net import traffic_rules as tr

Switch = collections.namedtuple("Switch", "name networks")
Port = collections.namedtuple(
    "Port", "name switch network vif vm addresses port_security enabled")
# refused: [(what, reason)]; frozen_networks, frozen_vifs: uuids whose rows stay as they
# are; frozen_rules: (VIF uuid, rule scope) whose ACLs stay as they are.
Wanted = collections.namedtuple(
    "Wanted", "switches ports acls refused frozen_networks frozen_vifs frozen_rules")
NOTHING = Wanted({}, {}, [], [], set(), set(), set())


class _Refused:
    def __init__(self, error):
        self.error = error


class Memo:
    """Results of pure functions of hashable arguments, kept from one :func:`wanted`
    to the next; what the last call did not ask for is dropped."""

    def __init__(self):
        self.kept, self.used = {}, {}

    def __call__(self, function, *args):
        key = (function, args)
        result = self.used.get(key, self.kept.get(key))
        if result is None:
            try:
                result = function(*args)
            except InvalidValue as exc:
                result = _Refused(exc)
        self.used[key] = result
        if isinstance(result, _Refused):
            raise result.error
        return result

    def sweep(self):
        self.kept, self.used = self.used, {}


def _logical_port(uuid, mac, mode, ip4, ip6, iface_id, network_uuid, default_mode):
    return ovn.logical_port(
        {"uuid": uuid, "MAC": mac, "locking_mode": mode, "ipv4_allowed": list(ip4),
         "ipv6_allowed": list(ip6), "other_config": {ovn.VIF_IFACE_ID: iface_id}},
        {"uuid": network_uuid, "default_locking_mode": default_mode})


RULES_FIELD = other_config_field(tr.RULES_KEY)
NETWORK_FIELDS = ("default_locking_mode", "PIFs") + tuple(
    other_config_field(key) for key in ovn.NETWORK_KEYS)
VIF_FIELDS = ("VM", "MAC", "locking_mode", "ipv4_allowed", "ipv6_allowed",
              other_config_field(ovn.VIF_IFACE_ID))
FORMAT_FIELDS = (other_config_field(tr.OF_FORMAT_KEY), other_config_field(tr.OF_METHOD_KEY))


def _check_kept(record, fields):
    """Raise InvalidValue when one of ``fields`` of ``record`` was not kept."""
    reason = unkept(record, fields)
    if reason is not None:
        raise InvalidValue(reason)


def nb_remote(pool):
    """The pool's NB remote(s) as one string, or None when unset; InvalidOvnConfig."""
    _check_kept(pool, (other_config_field(ovn.POOL_NB),))
    value = pool["other_config"].get(ovn.POOL_NB)
    if not value:
        return None
    return ovn.remote_text(ovn.remotes(value, ovn.POOL_NB, ovn.NB_PORT))


def _networks(records, refused, frozen):
    """OVN networks by ref: (network uuid, switch name); bad ones refused and frozen."""
    out = {}
    for ref, network in records.tables["network"].items():
        try:
            _check_kept(network, NETWORK_FIELDS)
            config = ovn.network_config(network)
        except InvalidValue as exc:
            refused.append(("network %s" % network["uuid"], exc.message))
            frozen.add(network["uuid"])
            continue
        if config is not None:
            out[ref] = (config.uuid, config.logical_switch)
    return out


def _vif_format(records, refused):
    """How the pool's VIF rule lists are written, or None (refused) when the pool says
    nonsense: then no VIF's rules are read."""
    pool = records.pool() or {"uuid": "", "other_config": {}}
    try:
        _check_kept(pool, FORMAT_FIELDS)
        return tr.of_format(pool["other_config"])
    except InvalidValue as exc:
        refused.append(("pool %s" % pool["uuid"], exc.message))
        return None


def _rules(memo, record, scope, fmt, refused):
    """The Rules of a VIF's or network's list, or None (refused) when it is bad."""
    if fmt is None:
        return None
    try:
        _check_kept(record, (RULES_FIELD,))
        return memo(acls.parse, record["other_config"].get(tr.RULES_KEY, ""), scope, fmt)
    except InvalidValue as exc:
        refused.append(("%s %s" % ("VIF" if scope == tr.SCOPE_VIF else "network",
                                   record["uuid"]), exc.message))
        return None


def _candidates(memo, records, networks, frozen_networks, refused, frozen_vifs):
    """[(LogicalPort, VIF record, VM record or None)] of the VIFs on OVN networks."""
    out = []
    for vif in records.tables["vif"].values():
        reason = unkept(vif, ("network",))      # on which network: cannot tell
        if reason is not None:
            refused.append(("VIF %s" % vif["uuid"], reason))
            frozen_vifs.add(vif["uuid"])
            continue
        network = records.tables["network"].get(vif["network"])
        if network is not None and network["uuid"] in frozen_networks:
            frozen_vifs.add(vif["uuid"])
            continue
        if vif["network"] not in networks:
            continue
        vm = records.tables["vm"].get(vif["VM"])
        if vm is not None and vm["is_a_template"]:
            continue
        try:
            _check_kept(vif, VIF_FIELDS)
            out.append((memo(_logical_port, vif["uuid"], vif["MAC"], vif["locking_mode"],
                             tuple(vif["ipv4_allowed"]), tuple(vif["ipv6_allowed"]),
                             vif["other_config"].get(ovn.VIF_IFACE_ID, ""), network["uuid"],
                             network["default_locking_mode"]), vif, vm))
        except InvalidValue as exc:
            refused.append(("VIF %s" % vif["uuid"], exc.message))
            frozen_vifs.add(vif["uuid"])
    return sorted(out, key=lambda candidate: candidate[0].name)


def wanted(records, memo=None):
    """The NB content of this pool (see the module docstring), as a :class:`Wanted`;
    ``memo`` (a :class:`Memo`) when the caller keeps one between calls."""
    memo = Memo() if memo is None else memo
    refused, frozen_networks, frozen_vifs, frozen_rules = [], set(), set(), set()
    networks = _networks(records, refused, frozen_networks)
    switches = {}
    for uuid, name in sorted(networks.values()):
        switches.setdefault(name, []).append(uuid)
    network_rules = {ref: _rules(memo, records.tables["network"][ref], tr.SCOPE_NETWORK,
                                 tr.FORMAT_PLUGIN, refused) for ref in networks}
    fmt = _vif_format(records, refused)
    candidates = _candidates(memo, records, networks, frozen_networks, refused, frozen_vifs)
    users = collections.Counter(lport.name for lport, _, _ in candidates)
    ports, rules = {}, []
    for lport, vif, vm in candidates:
        if users[lport.name] > 1:
            refused.append(("VIF %s" % vif["uuid"], "logical port name %r is that of %d VIFs"
                            % (lport.name, users[lport.name])))
            frozen_vifs.add(vif["uuid"])
            continue
        uuid, switch = networks[vif["network"]]
        port = ports[lport.name] = Port(lport.name, switch, uuid, vif["uuid"],
                                        vm["uuid"] if vm else "", tuple(lport.addresses),
                                        tuple(lport.port_security), lport.enabled)
        own = _rules(memo, vif, tr.SCOPE_VIF, fmt, refused)
        theirs = network_rules[vif["network"]]
        for scope, parsed in ((tr.SCOPE_VIF, own), (tr.SCOPE_NETWORK, theirs)):
            if parsed is None:
                frozen_rules.add((vif["uuid"], scope))
        if own or theirs:
            rules.extend(memo(acls.compile_rules, own or (), theirs or (), port))
    memo.sweep()
    return Wanted({name: Switch(name, tuple(uuids)) for name, uuids in switches.items()},
                  ports, rules, sorted(refused), frozen_networks, frozen_vifs, frozen_rules)
