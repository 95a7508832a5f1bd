"""The *OVN chassis* step of ``update``, and its part of ``status``.

*read*: the pool's OVN keys (:mod:`~xsovs_common.net.ovn`, every value
checked), this host's tunnel endpoint from the model, its host name from XAPI
(one call, only while OVN is on), whether ``ovn-controller`` is installed and
running; then the plan of :mod:`~xsovs_common.net.ovn_chassis`.  *apply*:
firewall, then ONE OVSDB transaction, then ``ovn-controller`` (``ovn-ctl``);
the reverse order to turn OVN off.

The step fails alone: ``update`` plans it before it changes anything, and
when it cannot be planned (a bad OVN key, no tunnel endpoint yet: a DHCP
lease still to come) or applied, the other steps still run and this one
changes nothing; ``update`` then fails with the step's reason and what the
other steps did (:func:`not_applied`), so XAPI's log, the caller and the
plugin's log all see it.  ``status`` shows the plan, or the error, and the
networks whose OVN keys are refused (``ovs-xapi-sync`` leaves their VIFs
where they are).
"""

from .. import validate
from ..errors import Error, InvalidValue
from ..log import log
from ..net import ovn, ovn_chassis
from ..ovs import ovnctl, transaction
from ..ovs.tls import SslFiles
from ..system import firewall, hostconfig
from ..xapi import network as xapi_network
from .update_apply import VSWITCHD_TIMEOUT


def facts(api, root, state, config, current_ids):
    """This host's :data:`ovn_chassis.Facts`.  While OVN is off, only a host that
    was a chassis of xsovs's is looked at (is ovn-controller to be stopped?)."""
    if not config.enabled:
        if current_ids.get(ovn_chassis.OWNER_KEY) != "true":
            return ovn_chassis.Facts(state.host_uuid, None, None, None, None, None)
        return ovn_chassis.Facts(state.host_uuid, None, None, None, ovnctl.missing(root),
                                 ovnctl.running(root))
    missing = ovnctl.missing(root)
    running = ovnctl.running(root) if missing is None else False
    ref = xapi_network.host_ref(api, state.host_uuid)
    try:
        hostname = validate.hostname(api.host.get_hostname(ref), what="XAPI host name")
    except InvalidValue:
        hostname = state.host_uuid         # a chassis needs a name; the uuid is one
    return ovn_chassis.Facts(state.host_uuid, hostname,
                             ovn_chassis.encap_ip(state.host_network, config),
                             hostconfig.datapath_type(root), missing, running)


def plan(api, root, state, snapshot):
    """The :class:`ovn_chassis.ChassisPlan`; raises ``InvalidOvnConfig`` on a bad key."""
    config = ovn.pool_config(state.pool.get("other_config"))
    current_ids = snapshot.open_vswitch.get("external_ids") or {}
    return ovn_chassis.plan(config, facts(api, root, state, config, current_ids), current_ids,
                            snapshot.ssl)


def _firewall(root, helper, action, rules):
    if helper is not None:
        for rule in rules:
            firewall.xapi_port(helper, action, rule)
        return len(rules)
    if action == "open":
        return len(firewall.open_rules(root, rules, ovn_chassis.FIREWALL_OWNER))
    return firewall.close_rules(root, ovn_chassis.FIREWALL_OWNER, keep=rules)


def apply(root, connection, snapshot, chassis):
    """Carry ``chassis`` out; returns its notes (what changed)."""
    helper = firewall.xapi_helper(root)
    notes = list(chassis.notes)
    if chassis.config.enabled:
        if _firewall(root, helper, "open", chassis.firewall_open):
            notes.append("firewall opened for %s" % ", ".join(
                "%s/%s" % (r.protocol, r.port) for r in chassis.firewall_open))
        if chassis.firewall_close and helper is None:
            _firewall(root, helper, "close", chassis.firewall_open)
        transaction.apply(connection, chassis.changes, snapshot, timeout=VSWITCHD_TIMEOUT)
        if chassis.controller == "start":
            ovnctl.start_controller(root, SslFiles(*(root.path(p) for p in chassis.ssl[:3]),
                                                   bootstrap=False))
        return notes
    if chassis.controller == "stop":
        ovnctl.stop_controller(root)
    transaction.apply(connection, chassis.changes, snapshot, timeout=VSWITCHD_TIMEOUT)
    if chassis.firewall_close:
        closing = [] if helper is None else [firewall.TUNNEL_RULES[t]
                                             for t in ovn.ENCAP_UDP_PORTS]
        if _firewall(root, helper, "close", closing):
            notes.append("firewall closed for OVN's encapsulation")
    log.debug("OVN chassis plan applied: %s", notes)
    return notes


def not_applied(error, summary, applying=False):
    """The failure ``update`` answers when this step failed alone: the step's own code
    and parameters, its reason, and what the other steps did (``summary``);
    ``applying``: it failed while being applied, not planned (it may have done a part)."""
    step = ("the OVN chassis step failed while applied" if applying
            else "the OVN chassis step changed nothing")
    log.error("%s: %s", step, error.message)
    return Error("%s; %s; the other steps of update ran: %s" % (error.message, step, summary),
                 params=list(error.params), code=error.code)


def refused_networks(api):
    """``[{"what", "reason"}]`` of the networks whose OVN keys are refused (say
    ``xsovs:ovn=true`` on a network with PIFs): ``ovs-xapi-sync`` leaves their VIFs
    where they are, as ``ovn-xapi-sync`` refuses them."""
    refused = []
    for record in api.network.get_all_records().values():
        other_config = record.get("other_config") or {}
        if not any(key in other_config for key in ovn.NETWORK_KEYS):
            continue
        try:
            ovn.network_config(record)
        except InvalidValue as exc:
            refused.append({"what": "network %s" % record.get("uuid"), "reason": exc.message})
    return sorted(refused, key=lambda r: r["what"])


def status(api, root, state, snapshot):
    """``(dict, in_step)`` for ``status``'s ``ovn`` entry."""
    try:
        chassis = plan(api, root, state, snapshot)
    except Error as exc:
        return {"error": exc.error_description()}, False
    ids = snapshot.open_vswitch.get("external_ids") or {}
    if not chassis.config.enabled and chassis.is_empty() \
            and ids.get(ovn_chassis.OWNER_KEY) != "true":
        return {"enabled": False}, True         # OVN is not this host's business
    report = chassis.as_dict(root)
    report["current"] = {k: ids[k] for k in ("system-id", "hostname")
                         + ovn_chassis.OWNED_KEYS if k in ids}
    if chassis.config.enabled:
        report["refused"] = refused_networks(api)
    return report, chassis.is_empty()
