"""The *OVN chassis* step of ``update``, and its part of ``status``.

*read*: the pool's OVN keys (:mod:`~xsovs_common.net.ovn`, every value
checked), this host's tunnel endpoint from the model, its host name from XAPI
(one call, only while OVN is on), whether ``ovn-controller`` is installed and
running; then the plan of :mod:`~xsovs_common.net.ovn_chassis`.  ``update``
plans this before it changes anything, so a bad OVN key fails the whole
``update`` with its reason and nothing changes; it applies it after the
manager's transaction.  ``status`` shows the plan, or the error.
"""

from .. import validate
from ..errors import Error, InvalidValue
from ..net import ovn, ovn_chassis
from ..ovs import ovnctl
from ..system import hostconfig
from ..xapi import network as xapi_network


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


def apply(root, connection, snapshot, chassis):
    """The step's *apply*: firewall, one transaction, ovn-controller (see ovn_chassis)."""
    return ovn_chassis.apply(root, connection, snapshot, chassis)


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
    return report, chassis.is_empty()
