"""Flows that keep a host reachable on a management bridge in secure mode.

A bridge in ``secure`` fail mode forwards nothing until its controller has
connected and programmed it, so the host would cut itself off from the very
controller it is about to reach.  Before that happens, the plugin (and
interface-reconfigure) install these flows on the management bridge, as the
plan of :mod:`xsovs_common.net.management` says -- its path (bridge, NICs,
MAC, the host's port, VLAN; every name validated) and when:

- ARP requests arriving on the management NIC (each slave of a bond) go to
  the host (``arp,arp_op=1``: XAPI's plugin writes ``arp,nw_proto=1``, which
  ovs-ofctl reads as the same ARP opcode);
- traffic for the host's management MAC arriving there goes to the host;
- ARP and traffic from the host's MAC go out to the NIC (through the bond's
  own selection, ``NORMAL``, for a bond).

They sit at priority 0 with no timeout, as XAPI's plugin installs them: a
fallback, so any flow a controller or a traffic rule installs wins over them.
For a management interface on a VLAN the host's port is the fake bridge's
internal port: the tag is stripped on the way in and added on the way out.
Flows carry a cookie of their own so a later run replaces exactly them, and
so that :func:`installed` reads exactly them back: ``update`` installs them
only when they are missing or its transaction may flush them.
"""

import contextlib
import re

from . import openflow
from ..errors import Error
from ..log import log

COOKIE = "0x78736f7673"   # "xsovs"
PRIORITY = 0          # the lowest: whatever a controller installs wins


def flows(path):
    """The flow specs (without ``add``) for ``path``."""
    head = "cookie=%s,idle_timeout=0,priority=%d," % (COOKIE, PRIORITY)
    vlan_match = "dl_vlan=%d," % path.vlan if path.vlan is not None else ""
    to_host = ("strip_vlan,output:%s" % path.host_port) if path.vlan is not None \
        else "output:%s" % path.host_port if path.host_port != "LOCAL" else "LOCAL"
    result = []
    for nic in path.nics:
        result.append(head + "in_port=%s,%sarp,arp_op=1,actions=%s" % (nic, vlan_match, to_host))
        result.append(head + "in_port=%s,%sdl_dst=%s,actions=%s"
                      % (nic, vlan_match, path.mac, to_host))
    tag = "mod_vlan_vid:%d," % path.vlan if path.vlan is not None else ""
    out = "NORMAL" if path.bonded else "%soutput:%s" % (tag, path.nics[0])
    if path.bonded and path.vlan is not None:
        out = "mod_vlan_vid:%d,NORMAL" % path.vlan
    result.append(head + "in_port=%s,dl_src=%s,arp,actions=%s" % (path.host_port, path.mac, out))
    result.append(head + "in_port=%s,dl_src=%s,actions=%s" % (path.host_port, path.mac, out))
    return result


def installed(root, bridge):
    """This project's flows on ``bridge`` as ovs-ofctl prints them (port names), or
    None when they cannot be read (then they count as missing)."""
    try:
        return openflow.dump_flows(root, bridge, "cookie=%s/-1" % COOKIE, names=True,
                                   any_version=True)
    except Error as exc:
        log.warning("cannot read the management flows of %s: %s", bridge, exc.message)
        return None


# What a dump shows that is no part of what a flow matches or does.
_NOT_COMPARED = ("idle_timeout=0", "reset_counts")
# The VLAN actions as a dump in OpenFlow 1.1 and later prints them, in the words
# the flows are written in (OpenFlow 1.0's); a set_field carries the present bit.
_ACTION_WORDS = (
    (re.compile(r"\bpop_vlan\b"), lambda m: "strip_vlan"),
    (re.compile(r"\bpush_vlan:0x8100,set_vlan_vid:(\d+)"), lambda m: "mod_vlan_vid:" + m.group(1)),
    (re.compile(r"\bpush_vlan:0x8100,set_field:(\d+)->vlan_vid"),
     lambda m: "mod_vlan_vid:%d" % (int(m.group(1)) & 0xfff)),
)


def _match_fields(text):
    return [field for field in text.replace(",", " ").split()
            if not field.startswith("cookie=") and field not in _NOT_COMPARED]


def _canonical(flow):
    """A flow as (match fields, actions), whichever way it is written: ours
    (``add`` form) or ovs-ofctl's dump (``--names``; quoted names, fields in its
    order, no ``idle_timeout=0``; from OpenFlow 1.1 on ``reset_counts`` and the
    VLAN actions in that version's words)."""
    text = " ".join(flow.replace('"', "").split())
    match, _, actions = text.replace(" actions=", ",actions=").partition(",actions=")
    for pattern, words in _ACTION_WORDS:
        actions = pattern.sub(words, actions)
    return tuple(sorted(_match_fields(match))), actions.strip()


def in_place(path, dumped):
    """Whether ``dumped`` (:func:`installed`) are exactly ``path``'s flows.

    Anything else -- one missing, one more, one that differs, a form this
    comparison does not know -- reads as not in place, so they are installed
    again: never left out.
    """
    if dumped is None:
        return False
    return sorted(map(_canonical, dumped)) == sorted(map(_canonical, flows(path)))


def install(root, path):
    """Replace this project's flows on the management bridge with ``path``'s: in one
    bundle, or one by one where the bridge speaks no version with bundles."""
    new = flows(path)
    try:
        openflow.bundle(root, path.bridge,
                        ["delete cookie=%s/-1" % COOKIE] + ["add " + f for f in new])
    except Error as exc:
        log.info("no bundle on %s (%s): flows one by one", path.bridge, exc.message)
        _install_one_by_one(root, path.bridge, new)


def _install_one_by_one(root, bridge, new):
    """The new flows first -- one of the same match and priority is replaced in
    place, so flows that stay never go away -- then the stale ones of ours."""
    openflow.flow_mods(root, bridge, ["add " + f for f in new])
    wanted = set(map(_canonical, new))
    dumped = openflow.dump_flows(root, bridge, "cookie=%s/-1" % COOKIE, names=True,
                                 any_version=True)
    stale = [line for line in dumped if _canonical(line) not in wanted]
    if stale:
        openflow.flow_mods(root, bridge, [
            "delete_strict cookie=%s/-1,%s" % (COOKIE, ",".join(_match_fields(
                line.replace('"', "").split(" actions=")[0]))) for line in stale])


@contextlib.contextmanager
def around_transaction(root, plan):
    """Install the flows of ``plan`` (a flows plan: ``path``, ``before``, ``after``)
    before the OVSDB transaction run inside, and/or after it; nothing for None."""
    if plan is not None and plan.before:
        install(root, plan.path)
    yield
    if plan is not None and plan.after:
        install(root, plan.path)
