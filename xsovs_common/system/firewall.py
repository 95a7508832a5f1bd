"""The host firewall: the few holes xsovs needs, and nothing else.

Tunnels (GRE, VXLAN, Geneve, STT) and a listening OVSDB manager (``pssl``)
need inbound rules.  Each rule carries an iptables comment naming who owns
it (``xsovs-tunnels``, ``xsovs-manager``), so opening is idempotent (checked
with ``iptables -C`` first) and closing removes exactly the owner's rules.
XenServer's own rules live in ``RH-Firewall-1-INPUT`` when that chain
exists; ours go at its top, else at the top of ``INPUT``.

A host with XAPI's own helper, ``/etc/xapi.d/plugins/firewall-port``, gets
the manager's ports through it instead (``open|close PORT PROTOCOL``, as
XAPI's plugin does it): the helper saves the rule the way that host keeps
its firewall across reboots.  It does nothing when the port already is as
asked, so calling it on every update is safe.
"""

import collections
import os
import shlex

from . import process
from ..errors import InvalidValue

XENSERVER_CHAIN = "RH-Firewall-1-INPUT"
DEFAULT_CHAIN = "INPUT"

Rule = collections.namedtuple("Rule", "protocol port")

TUNNEL_RULES = {
    "gre": Rule("gre", None),
    "vxlan": Rule("udp", 4789),
    "geneve": Rule("udp", 6081),
    "stt": Rule("tcp", 7471),
}


# A listening OVSDB manager (pssl), and the OpenFlow channel a controller
# such as Xen Orchestra's opens to each bridge.
MANAGER_RULE = Rule("tcp", 6640)
OPENFLOW_RULE = Rule("tcp", 6653)
MANAGER_RULES = (MANAGER_RULE, OPENFLOW_RULE)


def xapi_helper(root):
    """XAPI's ``firewall-port`` helper when this host has it, else None."""
    path = root.program("firewall-port")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def xapi_port(helper, action, rule):
    """``firewall-port open|close PORT PROTOCOL``; a failure is raised."""
    process.run([helper, action, str(int(rule.port)), rule.protocol], timeout=60)


def _iptables(root, args, check=True):
    return process.run([root.program("iptables"), "-w"] + list(args), check=check, timeout=30)


def chain(root):
    """The chain our rules go in."""
    found = _iptables(root, ["-S", XENSERVER_CHAIN], check=False)
    return XENSERVER_CHAIN if found.returncode == 0 else DEFAULT_CHAIN


def _spec(rule, owner):
    if rule.protocol not in ("gre", "udp", "tcp"):
        raise InvalidValue("unknown firewall protocol %r" % (rule.protocol,),
                           params=["protocol", str(rule.protocol)])
    spec = ["-p", rule.protocol]
    if rule.port is not None:
        spec += ["--dport", str(int(rule.port))]
    return spec + ["-m", "comment", "--comment", owner, "-j", "ACCEPT"]


def is_open(root, rule, owner, in_chain=None):
    in_chain = in_chain or chain(root)
    return _iptables(root, ["-C", in_chain] + _spec(rule, owner), check=False).returncode == 0


def open_rules(root, rules, owner):
    """Make sure each rule is in place once; return the rules added now."""
    in_chain = chain(root)
    added = []
    for rule in rules:
        if not is_open(root, rule, owner, in_chain):
            _iptables(root, ["-I", in_chain, "1"] + _spec(rule, owner))
            added.append(rule)
    return added


def owned_rules(root, owner):
    """The ``iptables -S`` specs (without ``-A CHAIN``) of ``owner``'s rules."""
    in_chain = chain(root)
    listing = _iptables(root, ["-S", in_chain]).stdout
    specs = []
    for line in listing.splitlines():
        words = shlex.split(line)
        if words[:2] == ["-A", in_chain] and owner in _comments(words):
            specs.append(words[2:])
    return specs


def _comments(words):
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--comment"]


def close_rules(root, owner, keep=()):
    """Remove ``owner``'s rules, except those for ``keep``; return how many went."""
    in_chain = chain(root)
    kept = [_spec(rule, owner) for rule in keep]
    removed = 0
    for spec in owned_rules(root, owner):
        if any(_same(spec, k) for k in kept):
            continue
        _iptables(root, ["-D", in_chain] + spec)
        removed += 1
    return removed


def _same(listed, spec):
    """iptables -S prints extra words (``-m udp``); compare what matters."""
    def key(words):
        pairs = {}
        for i, word in enumerate(words[:-1]):
            if word in ("-p", "--dport", "--comment", "-j"):
                pairs[word] = words[i + 1]
        return pairs
    return key(listed) == key(spec)
