"""OpenFlow flows that enforce traffic rules on a VIF's own port, as plain data.

The rules (:mod:`.traffic_rules`: what they mean, which wins)
become flows on the bridge that carries the VIF's port -- for a VLAN, the
parent bridge, where the port is an access port -- in three places:

- **table 0, two dispatch flows**, above every other owner's flows:
  packets *from* the VM are those arriving on the VIF's port
  (``in_port``), so a guest that forges its source MAC is still caught;
  packets *to* the VM are those addressed to the VIF's MAC (``dl_dst``:
  OpenFlow matches before the switch picks the output port).  Each sets its
  bit of :data:`MARK_REGISTER` and hands the packet to its table.
- **table** :data:`TABLE_FROM_VIF` / :data:`TABLE_TO_VIF`: one flow per rule,
  OpenFlow priority ``RULE_PRIORITY + precedence``, so the first match in
  table order is the rule the documented precedence picks.  A deny drops;
  an allow -- and the lowest flow, for traffic no rule matches --
  ``resubmit(,0)``: the packet goes through table 0 again, where the marked
  dispatch no longer matches, so the rest of the pipeline (the other
  direction's rules, XAPI's locking flows, Xen Orchestra's, the management
  flows, ``NORMAL``) decides as if xsovs were not there.  A packet passes
  only if every owner lets it pass.

Flows are grouped by cookie so that one group is replaced on its own:
:data:`COOKIE_BASE` (``xstr`` in the top 32 bits) plus the port's ``ofport``
for the from-VM flows of one port, plus ``0x80000000`` and the lowest
``ofport`` among the ports having that MAC for the to-VM flows of one MAC.
Anything not in ``COOKIE_BASE/COOKIE_MASK`` is never deleted.
"""

import collections

from .. import validate
from . import traffic_rules as tr

COOKIE_BASE = 0x78737472 << 32        # "xstr": xsovs traffic rules
COOKIE_MASK = 0xffffffff << 32
TO_VIF_GROUP = 0x80000000
TABLE_FROM_VIF = 60
TABLE_TO_VIF = 61
DISPATCH_FROM_PRIORITY = 65501      # above Xen Orchestra's (at most 65000) and XAPI's
DISPATCH_TO_PRIORITY = 65500
RULE_PRIORITY = 100
MARK_REGISTER = "reg14"
MARK_FROM, MARK_TO = 0x1, 0x2
MAX_OFPORT = 0xfeff                 # OFPP_MAX of OpenFlow 1.0

# One VIF's port on a bridge: its ofport, its VIF's MAC and the rules in force.
PortRules = collections.namedtuple("PortRules", "ofport mac rules")


def cookie_text(value):
    return "0x%016x" % value


ALL_COOKIES = "%s/%s" % (cookie_text(COOKIE_BASE), cookie_text(COOKIE_MASK))


def from_vif_cookie(ofport):
    return COOKIE_BASE | ofport


def to_vif_cookie(ofport):
    return COOKIE_BASE | TO_VIF_GROUP | ofport


def is_ours(cookie):
    return cookie & COOKIE_MASK == COOKIE_BASE


def _match(rule):
    """The packet match of one rule (without the port), in ovs-ofctl's words."""
    outgoing = rule.direction == tr.FROM_VIF
    parts = [rule.protocol]
    if rule.remote != tr.ANY:
        if rule.protocol == "arp":
            parts.append(("arp_tpa=" if outgoing else "arp_spa=") + rule.remote)
        else:
            parts.append(("nw_dst=" if outgoing else "nw_src=") + rule.remote)
    if rule.port is not None:
        parts.append(("tp_dst=%d" if outgoing else "tp_src=%d") % rule.port)
    return ",".join(parts)


def _group(cookie, table, bound, mark, dispatch_priority, rules):
    head = "cookie=%s," % cookie_text(cookie)
    flows = [head + "table=0,priority=%d,%s,%s=0/%#x,actions=load:1->NXM_NX_%s[%d],"
             "resubmit(,%d)" % (dispatch_priority, bound, MARK_REGISTER, mark,
                                MARK_REGISTER.upper(), mark.bit_length() - 1, table),
             head + "table=%d,priority=0,%s,actions=resubmit(,0)" % (table, bound)]
    for rule in rules:
        flows.append(head + "table=%d,priority=%d,%s,%s,actions=%s"
                     % (table, RULE_PRIORITY + tr.precedence(rule), bound, _match(rule),
                        "resubmit(,0)" if rule.allow else "drop"))
    return tuple(flows)


def _ofport(value):
    return validate.integer(value, 1, MAX_OFPORT, what="ofport")


def bridge_flows(ports, memo=None):
    """``{cookie: flows}`` for the VIF ports of one bridge (``PortRules``, each with its rules
    in force in the order :func:`tr.in_force` gives them).

    A port without rules of a direction gets no flow of it; ports sharing a
    MAC (an HVM guest's vif and tap) share the to-VM flows of that MAC, with
    the rules of all of them.  ``memo``, a dict kept by the caller, saves
    building the same group again.
    """
    memo = {} if memo is None else memo

    def group(kind, first, bound, rules):
        key = (kind, first, bound, rules)
        if key not in memo:
            if kind == tr.FROM_VIF:
                memo[key] = _group(from_vif_cookie(first), TABLE_FROM_VIF, "in_port=%d" % first,
                                   MARK_FROM, DISPATCH_FROM_PRIORITY, rules)
            else:
                memo[key] = _group(to_vif_cookie(first), TABLE_TO_VIF,
                                   "dl_dst=" + validate.mac(bound), MARK_TO,
                                   DISPATCH_TO_PRIORITY, rules)
        return memo[key]

    groups = {}
    by_mac = collections.OrderedDict()
    for port in sorted(ports, key=lambda p: p.ofport):
        ofport = _ofport(port.ofport)
        outgoing = tuple(r for r in port.rules if r.direction == tr.FROM_VIF)
        if outgoing:
            groups[from_vif_cookie(ofport)] = group(tr.FROM_VIF, ofport, None, outgoing)
        incoming = tuple(r for r in port.rules if r.direction == tr.TO_VIF)
        if incoming:
            if port.mac in by_mac:      # the same VIF's vif and tap, or a MAC shared
                first, rules = by_mac[port.mac]
                incoming = tuple(tr.in_force(rules + incoming, ()))
            else:
                first = ofport
            by_mac[port.mac] = (first, incoming)
    for mac, (first, rules) in by_mac.items():
        groups[to_vif_cookie(first)] = group(tr.TO_VIF, first, mac, rules)
    return groups


UNKNOWN = None   # the flows of a group are on the switch but not known here


def bundle_lines(installed, desired, keep=(), reset=False):
    """The ``ovs-ofctl --bundle add-flows`` lines taking a bridge from ``installed`` to ``desired``.

    ``installed`` and ``desired`` map cookies to flows (``UNKNOWN`` when not
    known).  Changed groups are deleted and added again, gone groups deleted,
    same groups left; cookies in ``keep`` are left whatever they hold.
    ``reset`` (state unknown: the daemon started, ``ovs-vswitchd`` restarted,
    the fail mode changed) deletes every flow of ours first -- all of them at
    once when nothing is kept, else each group ``installed`` names.
    """
    lines = []
    if reset and not keep:
        lines.append("delete cookie=" + ALL_COOKIES)
        installed = {}
    for cookie in sorted(installed):
        if cookie in keep or (not reset and installed[cookie] is not UNKNOWN
                              and desired.get(cookie) == installed[cookie]):
            continue
        lines.append("delete cookie=%s/-1" % cookie_text(cookie))
    for cookie in sorted(desired):
        if cookie in keep:
            continue
        if not reset and cookie in installed and installed[cookie] is not UNKNOWN \
                and installed[cookie] == desired[cookie]:
            continue
        lines.extend("add " + flow for flow in desired[cookie])
    return lines


def cookies_in_dump(lines):
    """The cookies of ours in ``ovs-ofctl dump-flows`` output lines."""
    found = set()
    for line in lines:
        for field in line.replace(" ", ",").split(","):
            if field.startswith("cookie="):
                try:
                    value = int(field[len("cookie="):], 16)
                except ValueError:
                    continue
                if is_ours(value):
                    found.add(value)
    return found
