"""Xen Orchestra's traffic rules as plain data, with the one meaning xsovs gives them.

Xen Orchestra (XO) stores a VIF's or a network's rules in XAPI, under
``other_config:xo:sdn-controller:of-rules``: a JSON list whose items are JSON
strings of ``{allow, protocol, port, ipRange, direction}`` (network rules
also carry XO's ``cookie``).  This module turns those lists into
:class:`Rule` tuples, refusing anything malformed with the reason, and says
which rule wins; its parsers of one field serve the host plugin
``sdncontroller.py`` too, which takes one rule at a time as string arguments
(:mod:`.sdncontroller_args`).  It knows nothing of OpenFlow or OVN: the flow
compiler and the OVN ACL compiler both read the same rules and
:func:`precedence`.

**What a rule means** (one direction per :class:`Rule`; XO's ``from/to``
is two):

- ``direction`` ``to`` (:data:`FROM_VIF`): packets the VM sends through the
  VIF whose destination is in ``ipRange`` (and, for tcp/udp, whose
  destination port is ``port``).
- ``direction`` ``from`` (:data:`TO_VIF`): packets delivered to the VIF whose
  source is in ``ipRange`` (and source port ``port``).
- ``protocol``: ``ip`` (any IP packet), ``tcp``, ``udp``, ``icmp``; ``arp``
  compares the sender/target protocol address with ``ipRange``.
- ``ipRange``: an IPv4 address or CIDR; empty (in a stored list) means any
  address, IPv4 or IPv6 (:attr:`Rule.covers_ipv6`): ``ip`` is then every
  IPv6 packet too, ``tcp``/``udp`` those over IPv6 (the same port),
  ``icmp`` ICMPv6.  A rule with a range stays IPv4, and ``arp`` is IPv4's.
  IPv6's neighbour and router discovery and multicast listener messages
  (ICMPv6 130-136 and 143: OVN's ``nd``, ``nd_rs``, ``nd_ra``, ``mldv1``,
  ``mldv2``, which OVN passes ahead of every ACL) are judged by no rule,
  as no ``ip`` or ``icmp`` rule judges ARP.
- A network's rules are the rules of every VIF on that network, with the
  same meaning, below the VIF's own in precedence (next item).

**Which rule wins.**  Rules have no order in XO, so precedence comes from
the rules themselves: the most specific rule that matches decides, compared
field by field, the first difference winning -- the longer ``ipRange``
prefix; then a rule naming a port over one naming only a protocol, over
``ip``; then a VIF's rule over its network's; then deny over allow.
Traffic that no rule matches passes.  :func:`precedence` is that order as
an integer below :data:`PRECEDENCE_LEVELS` (396), so a compiler maps it
onto its own priorities (OpenFlow 0-65535, OVN ACLs 0-32767).

**Formats.**  XO's pool key ``xo:sdn-controller:of-format`` (else
``of-method``, else ``channel``) says how a VIF's list was written.  Lists
of the ``xapi-plugin`` format mean what is said above.  Lists of the older
``channel`` format (XO talking OpenFlow itself) are read as XO's own
migration to ``xapi-plugin`` translates them: ip and arp swap ``from`` and
``to``, icmp applies both ways, tcp and udp apply both ways with their port.
Network rules exist only in the ``xapi-plugin`` format.
"""

import collections
import functools
import json
import re

from .. import validate
from ..errors import InvalidValue

RULES_KEY = "xo:sdn-controller:of-rules"
OF_FORMAT_KEY = "xo:sdn-controller:of-format"
OF_METHOD_KEY = "xo:sdn-controller:of-method"
FORMAT_PLUGIN = "xapi-plugin"
FORMAT_CHANNEL = "channel"
FORMATS = (FORMAT_PLUGIN, FORMAT_CHANNEL)

FROM_VIF = "from-vif"      # XO's "to": the VM sends, ipRange is the destination
TO_VIF = "to-vif"          # XO's "from": the VM receives, ipRange is the source
DIRECTIONS = (FROM_VIF, TO_VIF)
SCOPE_VIF = "vif"
SCOPE_NETWORK = "network"
SCOPES = (SCOPE_VIF, SCOPE_NETWORK)
PROTOCOLS = ("tcp", "udp", "icmp", "ip", "arp")
PORT_PROTOCOLS = ("tcp", "udp")
ANY = "0.0.0.0/0"

MAX_LIST_BYTES = 256 * 1024    # one other_config value; 1000 rules take ~100 KiB
MAX_RULES = 1024               # XO rules per list (each may be two Rules)
# precedence(): prefix 0-32, then 3 levels of protocol, 2 scopes, 2 actions.
PRECEDENCE_LEVELS = 33 * 3 * 2 * 2


class Rule(collections.namedtuple("Rule", "allow protocol remote port direction scope cookie")):
    """One direction of one XO rule.

    ``allow`` bool; ``protocol`` one of :data:`PROTOCOLS`; ``remote`` the
    canonical IPv4 CIDR of ``ipRange`` (``0.0.0.0/0`` for any address, IPv6
    included); ``port`` an
    int (tcp/udp only) or None for every port; ``direction`` one of
    :data:`DIRECTIONS`; ``scope`` one of :data:`SCOPES`; ``cookie`` XO's
    cookie of a network rule (``0x...``) or None -- informational, never a
    flow's cookie.
    """

    __slots__ = ()

    @property
    def prefix_length(self):
        return int(self.remote.split("/")[1])

    @property
    def covers_ipv6(self):
        """Any address and a protocol IPv6 has: the rule judges IPv6 as well."""
        return self.remote == ANY and self.protocol != "arp"

    def xo_fields(self):
        """The rule in XO's words (one direction), for reports."""
        fields = {"allow": self.allow, "protocol": self.protocol,
                  "ipRange": "" if self.remote == ANY else self.remote,
                  "direction": "to" if self.direction == FROM_VIF else "from"}
        if self.port is not None:
            fields["port"] = self.port
        if self.cookie is not None:
            fields["cookie"] = self.cookie
        return fields

    def same_match(self, other):
        """Same packets on the same kind of target, whatever the action."""
        return self[1:5] == other[1:5] and self.scope == other.scope


# -- the fields of one rule -------------------------------------------------------

def _fail(what, value, why):
    text = "invalid %s %r: %s" % (what, value, why)
    raise InvalidValue(text, params=[what, str(value)])


def parse_allow(value, what="allow"):
    """A boolean, or ``true``/``false`` in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    _fail(what, value, "expected true or false")


def parse_protocol(value, what="protocol"):
    if not isinstance(value, str) or value.lower() not in PROTOCOLS:
        _fail(what, value, "expected one of " + ", ".join(PROTOCOLS))
    return value.lower()


def parse_direction(value, what="direction"):
    """``to``, ``from``, ``from/to`` or ``to/from`` (any case): a tuple of DIRECTIONS."""
    parts = value.lower().split("/") if isinstance(value, str) else []
    if not parts or any(p not in ("to", "from") for p in parts) or len(set(parts)) != len(parts):
        _fail(what, value, "expected to, from, from/to or to/from")
    return tuple(d for d, word in ((FROM_VIF, "to"), (TO_VIF, "from")) if word in parts)


def parse_ip_range(value, what="ipRange", empty_ok=True):
    """An IPv4 address or CIDR, as canonical ``NETWORK/PREFIX``; empty means any."""
    if not isinstance(value, str):
        _fail(what, value, "not a string")
    if value == "":
        if empty_ok:
            return ANY
        _fail(what, value, "empty")
    address, slash, prefix = value.partition("/")
    try:
        address = validate.ip_address(address, version=4, what=what)
    except InvalidValue:
        _fail(what, value, "not an IPv4 address or CIDR")
    if slash and not (re.match(r"^[0-9]{1,2}\Z", prefix) and int(prefix) <= 32):
        _fail(what, value, "prefix length not within 0-32")
    length = int(prefix) if slash else 32
    number = 0
    for octet in address.split("."):
        number = number * 256 + int(octet)
    number &= (0xffffffff << (32 - length)) & 0xffffffff
    network = ".".join(str((number >> shift) & 0xff) for shift in (24, 16, 8, 0))
    return "%s/%d" % (network, length)


def parse_port(value, what="port"):
    """A transport port 0-65535, as a number or decimal text."""
    return validate.integer(value, 0, 65535, what=what)


def parse_cookie(value, what="cookie"):
    """``0x`` and 1-16 hex digits, normalised as the vendor plugin does: ``0x01Ff`` is ``0x1ff``."""
    match = re.match(r"^0x0*([0-9a-fA-F]{1,16})\Z", value) if isinstance(value, str) else None
    if match is None:
        _fail(what, value, "expected 0x and 1-16 hexadecimal digits")
    return "0x" + match.group(1).lower()


def make_rules(allow, protocol, remote, port, directions, scope, cookie=None):
    """The :class:`Rule` of each direction, checking that the fields fit together."""
    if scope not in SCOPES:
        raise ValueError("unknown scope %r" % (scope,))
    if port is not None and protocol not in PORT_PROTOCOLS:
        _fail("port", port, "only tcp and udp rules take a port, not %s" % protocol)
    return tuple(Rule(allow, protocol, remote, port, d, scope, cookie) for d in directions)


# -- stored lists -----------------------------------------------------------------

def of_format(pool_other_config):
    """How the pool's VIF lists are written: ``of-format``, else ``of-method``, else channel."""
    other = pool_other_config or {}
    value = other.get(OF_FORMAT_KEY) or other.get(OF_METHOD_KEY) or FORMAT_CHANNEL
    if value not in FORMATS:
        _fail("pool other_config:" + OF_FORMAT_KEY, value, "expected one of " + ", ".join(FORMATS))
    return value


def _channel_directions(protocol, directions):
    """XO's translation of a channel-format rule's directions (see the module docstring)."""
    if protocol in ("ip", "arp"):
        swapped = {TO_VIF if d == FROM_VIF else FROM_VIF for d in directions}
        return tuple(d for d in DIRECTIONS if d in swapped)
    return DIRECTIONS


def rules_of_item(fields, scope, fmt=FORMAT_PLUGIN):
    """The Rules of one stored XO rule (a decoded JSON object)."""
    if not isinstance(fields, dict):
        raise InvalidValue("a rule is not a JSON object", params=["rule", repr(fields)[:80]])
    for key in ("allow", "protocol", "direction"):
        if key not in fields:
            raise InvalidValue("a rule has no %s" % key, params=["rule", key])
    allow = parse_allow(fields["allow"])
    protocol = parse_protocol(fields["protocol"])
    directions = parse_direction(fields["direction"])
    remote = parse_ip_range(fields.get("ipRange", "") if fields.get("ipRange") is not None else "")
    port = fields.get("port")
    port = None if port is None or port == "" else parse_port(port)
    cookie = fields.get("cookie")
    cookie = None if cookie is None or scope != SCOPE_NETWORK else parse_cookie(cookie)
    if fmt == FORMAT_CHANNEL and scope == SCOPE_VIF:
        directions = _channel_directions(protocol, directions)
        if protocol not in PORT_PROTOCOLS:
            port = None   # XO's translation drops it
    return make_rules(allow, protocol, remote, port, directions, scope, cookie)


def parse_rule_list(value, scope, fmt=FORMAT_PLUGIN):
    """All Rules of a stored list (the ``of-rules`` value), in XO's order, without duplicates.

    Raises :class:`InvalidValue` naming the first bad item and why; a list is
    taken whole or not at all.
    """
    if scope not in SCOPES:
        raise ValueError("unknown scope %r" % (scope,))
    if fmt not in FORMATS:
        raise ValueError("unknown format %r" % (fmt,))
    validate.text(value, MAX_LIST_BYTES, what=RULES_KEY)
    try:
        items = json.loads(value)
    except ValueError as exc:
        _fail(RULES_KEY, value[:60], "not JSON (%s)" % exc)
    if not isinstance(items, list):
        _fail(RULES_KEY, value[:60], "not a JSON list")
    if len(items) > MAX_RULES:
        _fail(RULES_KEY, "%d rules" % len(items), "more than %d rules" % MAX_RULES)
    result = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, str):
                raise InvalidValue("not a JSON string of a rule", params=["rule", repr(item)[:60]])
            try:
                fields = json.loads(item)
            except ValueError as exc:
                raise InvalidValue("not JSON (%s)" % exc, params=["rule", item[:60]])
            rules = rules_of_item(fields, scope, fmt)
        except InvalidValue as exc:
            raise InvalidValue("%s: rule %d (%s): %s" % (RULES_KEY, index + 1, _short(item),
                                                          exc.message),
                               params=[RULES_KEY, str(index + 1)])
        for rule in rules:
            if rule not in result:
                result.append(rule)
    return tuple(result)


def _short(item):
    text = item if isinstance(item, str) else json.dumps(item)
    return text if len(text) <= 100 else text[:97] + "..."


def render_rule_list(rules):
    """The stored form of ``rules`` (xapi-plugin format), as XO writes it; None when empty.

    Each Rule becomes one XO rule of one direction; XO keys in XO's order.
    """
    items = []
    for rule in rules:
        fields = rule.xo_fields()
        ordered = collections.OrderedDict()
        for key in ("allow", "protocol", "port", "ipRange", "direction", "cookie"):
            if key in fields:
                ordered[key] = fields[key]
        items.append(json.dumps(ordered, separators=(",", ":")))
    return json.dumps(items) if items else None


# -- precedence -------------------------------------------------------------------

def specificity(rule):
    """0 for ``ip``; 1 for a protocol; 2 for a protocol and a port."""
    if rule.protocol == "ip":
        return 0
    return 2 if rule.port is not None else 1


@functools.lru_cache(maxsize=65536)   # thousands of ports share a few rules
def precedence(rule):
    """The rule's rank, 0 to PRECEDENCE_LEVELS - 1; the higher decides first.

    Prefix length, then specificity, then scope (VIF over network), then
    action (deny over allow): equal ranks mean the same match and action
    class, so two rules of one rank never disagree.
    """
    rank = rule.prefix_length * 3 + specificity(rule)
    rank = rank * 2 + (1 if rule.scope == SCOPE_VIF else 0)
    return rank * 2 + (0 if rule.allow else 1)


def in_force(vif_rules, network_rules):
    """The rules that apply to one VIF, highest precedence first, without duplicates.

    Ties keep XO's order (VIF list first): they are the same match and
    action class, so their order changes nothing.
    """
    seen = set()
    ordered = []
    for rule in tuple(vif_rules) + tuple(network_rules):
        if rule not in seen:
            seen.add(rule)
            ordered.append(rule)
    return sorted(ordered, key=precedence, reverse=True)
