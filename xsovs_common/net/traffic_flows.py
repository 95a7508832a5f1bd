"""OpenFlow flows that enforce traffic rules on a VIF's own port, as plain data.

The rules (:mod:`.traffic_rules`: what they mean, which wins)
become flows on the bridge that carries the VIF's port -- for a VLAN, the
parent bridge, where the port is an access port -- in three places:

- **table 0, the dispatch flows**, above every other owner's flows:
  packets *from* the VM are those arriving on the VIF's port
  (``in_port``), so a guest that forges its source MAC is still caught;
  packets *to* the VM are those addressed to the VIF's MAC (``dl_dst``:
  OpenFlow matches before the switch picks the output port).  Each sets its
  bit of :data:`MARK_REGISTER` and hands the packet to its table.  A port
  with rules on traffic *to* it is also pinned to its VIF's MAC: a frame it
  sends from any other source MAC is dropped (:data:`FOREIGN_MAC_PRIORITY`),
  so the switch never learns another MAC on that port and unicast to it
  always meets the ``dl_dst`` dispatch.
- **table** :data:`TABLE_FROM_VIF` / :data:`TABLE_TO_VIF`: one flow per rule
  (two for a rule that covers IPv6 as well), OpenFlow priority
  ``RULE_PRIORITY + precedence``, so the first match in table order is the
  rule the documented precedence picks.  A deny drops; an allow -- and the
  lowest flow, for traffic no rule matches -- ``resubmit(,0)``: the packet
  goes through table 0 again, where the marked dispatch no longer matches,
  so the rest of the pipeline (the other direction's rules, XAPI's locking
  flows, Xen Orchestra's, the management flows, ``NORMAL``) decides as if
  xsovs were not there.  A packet passes only if every owner lets it pass.
  Above every rule, IPv6's neighbour and router discovery and multicast
  listener messages go on unjudged (:data:`UNJUDGED_ICMP6`, one group per
  bridge).

Flows are grouped by cookie so that one group is replaced on its own:
:data:`COOKIE_BASE` (``xstr`` in the top 32 bits) plus the port's ``ofport``
for the from-VM flows of one port, plus ``0x80000000`` and the lowest
``ofport`` among the ports having that MAC for the to-VM flows of one MAC,
plus :data:`SHARED_GROUP` for the bridge's unjudged ICMPv6.
Anything not in ``COOKIE_BASE/COOKIE_MASK`` is never deleted.
"""

import collections

from .. import validate
from . import traffic_rules as tr

COOKIE_BASE = 0x78737472 << 32        # "xstr": xsovs traffic rules
COOKIE_MASK = 0xffffffff << 32
TO_VIF_GROUP = 0x80000000
SHARED_GROUP = 0x40000000           # the bridge's flows of no port (above any ofport)
TABLE_FROM_VIF = 60
TABLE_TO_VIF = 61
DISPATCH_FROM_PRIORITY = 65502      # above Xen Orchestra's (at most 65000) and XAPI's
FOREIGN_MAC_PRIORITY = 65501        # a MAC-pinned port's frames from another MAC: dropped
DISPATCH_TO_PRIORITY = 65500
RULE_PRIORITY = 100
UNJUDGED_PRIORITY = RULE_PRIORITY + tr.PRECEDENCE_LEVELS     # above every rule
# IPv6's own plumbing, which no rule judges (net.traffic_rules), as OVN's predicates
# nd/nd_rs/nd_ra (code 0, hop limit 255), mldv1 (link-local source), mldv2 (to ff02::16).
UNJUDGED_ICMP6 = tuple(
    ["icmp6,icmp_type=%d,icmp_code=0,nw_ttl=255" % t for t in (133, 134, 135, 136)] +
    ["icmp6,ipv6_src=fe80::/10,icmp_type=%d" % t for t in (130, 131, 132)] +
    ["icmp6,ipv6_dst=ff02::16,icmp_type=143"])
IPV6_PROTOCOLS = {"ip": "ipv6", "tcp": "tcp6", "udp": "udp6", "icmp": "icmp6"}
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


SHARED_COOKIE = COOKIE_BASE | SHARED_GROUP


def is_ours(cookie):
    return cookie & COOKIE_MASK == COOKIE_BASE


def _matches(rule):
    """The packet matches of one rule (without the port), in ovs-ofctl's words: the IPv4
    one, and the IPv6 one when the rule covers IPv6 (any address, not ARP)."""
    outgoing = rule.direction == tr.FROM_VIF
    parts = []
    if rule.remote != tr.ANY:
        if rule.protocol == "arp":
            parts.append(("arp_tpa=" if outgoing else "arp_spa=") + rule.remote)
        else:
            parts.append(("nw_dst=" if outgoing else "nw_src=") + rule.remote)
    if rule.port is not None:
        parts.append(("tp_dst=%d" if outgoing else "tp_src=%d") % rule.port)
    protocols = [rule.protocol]
    if rule.covers_ipv6:
        protocols.append(IPV6_PROTOCOLS[rule.protocol])
    return tuple(",".join([protocol] + parts) for protocol in protocols)


def _group(cookie, table, bound, mark, dispatch_priority, rules, pinned_mac=None):
    """One port's (or MAC's) flows: dispatch, floor, rules; ``pinned_mac``: the port's
    frames from any other source MAC are dropped."""
    head = "cookie=%s," % cookie_text(cookie)
    dispatch = bound if pinned_mac is None else "%s,dl_src=%s" % (bound, pinned_mac)
    flows = [head + "table=0,priority=%d,%s,%s=0/%#x,actions=load:1->NXM_NX_%s[%d],"
             "resubmit(,%d)" % (dispatch_priority, dispatch, MARK_REGISTER, mark,
                                MARK_REGISTER.upper(), mark.bit_length() - 1, table)]
    if pinned_mac is not None:
        flows.append(head + "table=0,priority=%d,%s,%s=0/%#x,actions=drop"
                     % (FOREIGN_MAC_PRIORITY, bound, MARK_REGISTER, mark))
    flows.append(head + "table=%d,priority=0,%s,actions=resubmit(,0)" % (table, bound))
    for rule in rules:
        for match in _matches(rule):
            flows.append(head + "table=%d,priority=%d,%s,%s,actions=%s"
                         % (table, RULE_PRIORITY + tr.precedence(rule), bound, match,
                            "resubmit(,0)" if rule.allow else "drop"))
    return tuple(flows)


def _shared_group():
    head = "cookie=%s," % cookie_text(SHARED_COOKIE)
    return tuple(head + "table=%d,priority=%d,%s,actions=resubmit(,0)"
                 % (table, UNJUDGED_PRIORITY, match)
                 for table in (TABLE_FROM_VIF, TABLE_TO_VIF) for match in UNJUDGED_ICMP6)


SHARED_FLOWS = _shared_group()


def _ofport(value):
    return validate.integer(value, 1, MAX_OFPORT, what="ofport")


def bridge_flows(ports, memo=None):
    """``{cookie: flows}`` for the VIF ports of one bridge (``PortRules``, each with its rules
    in force in the order :func:`tr.in_force` gives them).

    A port without rules of a direction gets no flow of it, except that a
    port with rules on traffic to it always has its from-VM group, pinning it
    to its MAC; ports sharing a MAC (an HVM guest's vif and tap) share the
    to-VM flows of that MAC, with the rules of all of them.  A bridge with any
    group also has the shared one (:data:`SHARED_COOKIE`).  ``memo``, a dict
    kept by the caller, saves building the same group again.
    """
    memo = {} if memo is None else memo

    def group(kind, first, bound, rules):
        key = (kind, first, bound, rules)
        if key not in memo:
            if kind == tr.FROM_VIF:
                memo[key] = _group(from_vif_cookie(first), TABLE_FROM_VIF, "in_port=%d" % first,
                                   MARK_FROM, DISPATCH_FROM_PRIORITY, rules,
                                   pinned_mac=bound and validate.mac(bound))
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
        incoming = tuple(r for r in port.rules if r.direction == tr.TO_VIF)
        if outgoing or incoming:
            groups[from_vif_cookie(ofport)] = group(tr.FROM_VIF, ofport,
                                                    port.mac if incoming else None, outgoing)
        if incoming:
            if port.mac in by_mac:      # the same VIF's vif and tap, or a MAC shared
                first, rules = by_mac[port.mac]
                incoming = tuple(tr.in_force(rules + incoming, ()))
            else:
                first = ofport
            by_mac[port.mac] = (first, incoming)
    for mac, (first, rules) in by_mac.items():
        groups[to_vif_cookie(first)] = group(tr.TO_VIF, first, mac, rules)
    if groups:
        groups[SHARED_COOKIE] = SHARED_FLOWS
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
