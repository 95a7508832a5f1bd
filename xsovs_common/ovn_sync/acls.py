"""Xen Orchestra's traffic rules as OVN ACLs, bound to the logical port.

The rules are read with :mod:`~xsovs_common.net.traffic_rules`, which gives
them their one meaning: a network's rules are those of every VIF on it,
the most specific rule that matches decides (:func:`tr.precedence`), each
packet is judged alone, and traffic no rule matches passes.  Each rule in
force on a port becomes one ACL of the port's logical switch:

- a rule on what the VM sends (``from-vif``) is a ``from-lport`` ACL
  matching ``inport == "<port>"``; on what it receives (``to-vif``), a
  ``to-lport`` ACL matching ``outport == "<port>"``.  The port is the
  logical port's name, so a rule follows the VIF wherever it is bound and
  whatever MAC the guest puts on;
- ``ip`` is ``ip4``, ``tcp``/``udp`` are ``ip4 && tcp`` (with ``tcp.dst`` or,
  for received packets, ``tcp.src`` when the rule names a port), ``icmp`` is
  ``icmp4``, ``arp`` compares ``arp.tpa`` (sent) or ``arp.spa`` (received);
  the remote range is ``ip4.dst`` (sent) or ``ip4.src`` (received).  A rule
  with any address covers IPv6 too (:attr:`tr.Rule.covers_ipv6`): ``ip4``
  becomes ``ip`` (IPv4 or IPv6) and ``icmp4`` ``icmp`` (ICMP or ICMPv6), in
  the same ACL; OVN itself passes IPv6's neighbour discovery and multicast
  listener messages ahead of every ACL, as the rules' meaning says;
- allow is ``allow-stateless`` and deny is ``drop``: stateless, as the rules
  are; the priority is ``BASE_PRIORITY`` + the rule's precedence, so the
  most specific rule decides as it does in the flows.
"""

import collections

from ..net import traffic_rules as tr

BASE_PRIORITY = 1000        # + precedence (below tr.PRECEDENCE_LEVELS): 1000-1395

# ``port`` the logical port's name; ``source`` the rule's scope (vif or network).
Acl = collections.namedtuple("Acl", "port vif source direction priority match action")


def parse(text, scope, fmt=tr.FORMAT_PLUGIN):
    """The Rules of a stored list (none when the key is unset or empty); InvalidValue."""
    if not text:
        return ()
    return tr.parse_rule_list(text, scope, fmt)


def rule_match(rule, port):
    """The OVN match of one Rule on logical port ``port``."""
    sent = rule.direction == tr.FROM_VIF
    terms = ['%s == "%s"' % ("inport" if sent else "outport", port)]
    if rule.protocol == "arp":
        terms.append("arp")
        if rule.remote != tr.ANY:
            terms.append("arp.%s == %s" % ("tpa" if sent else "spa", rule.remote))
        return " && ".join(terms)
    both = rule.covers_ipv6
    terms.append(("icmp" if both else "icmp4") if rule.protocol == "icmp" else
                 ("ip" if both else "ip4"))
    if rule.protocol in tr.PORT_PROTOCOLS:
        terms.append(rule.protocol)
    if rule.remote != tr.ANY:
        terms.append("ip4.%s == %s" % ("dst" if sent else "src", rule.remote))
    if rule.port is not None:
        terms.append("%s.%s == %d" % (rule.protocol, "dst" if sent else "src", rule.port))
    return " && ".join(terms)


def compile_rules(vif_rules, network_rules, port):
    """The ACLs of the rules in force on a :class:`~.wanted.Port`."""
    return [Acl(port.name, port.vif, rule.scope,
                "from-lport" if rule.direction == tr.FROM_VIF else "to-lport",
                BASE_PRIORITY + tr.precedence(rule), rule_match(rule, port.name),
                "allow-stateless" if rule.allow else "drop")
            for rule in tr.in_force(vif_rules, network_rules)]
