"""The *apply* step of ``update`` and ``set-manager``: carry an UpdatePlan out.

Firewall, management flows and CA file first, so a failure there changes
nothing in OVSDB; then ONE OVSDB transaction; the manager's old firewall
rules are closed last, and a failure there is reported, not raised.
"""

from .. import paths
from ..errors import Error
from ..log import log
from ..ovs import mgmt_flows, transaction
from ..system import files, firewall

FIREWALL_OWNER = "xsovs-manager"
# How long ovs-vswitchd may take to take in a committed transaction.
VSWITCHD_TIMEOUT = 30.0


def _open_firewall(root, helper, plan):
    if helper is not None:
        for rule in plan.firewall_open:
            firewall.xapi_port(helper, "open", rule)
        return []
    if not plan.firewall_open:
        return []
    added = firewall.open_rules(root, plan.firewall_open, FIREWALL_OWNER)
    return ["firewall opened for %s/%s" % (r.protocol, r.port) for r in added]


def _close_firewall(root, helper, plan):
    try:
        if helper is not None:
            for rule in plan.firewall_close:
                firewall.xapi_port(helper, "close", rule)
            # Rules of xsovs's own from before the helper was there have no use now.
            closed = firewall.close_rules(root, FIREWALL_OWNER)
        else:
            closed = firewall.close_rules(root, FIREWALL_OWNER, keep=plan.firewall_open)
    except Error as exc:
        log.warning("closing the manager's firewall rules failed: %s", exc.message)
        return ["closing the manager's firewall rules failed: %s" % exc.message]
    return ["firewall closed %d manager rule(s)" % closed] if closed else []


def apply_plan(root, connection, snapshot, plan):
    """Carry ``plan`` out (the order is in the module docstring); returns the
    notes and warnings of the firewall steps."""
    helper = firewall.xapi_helper(root)
    notes = _open_firewall(root, helper, plan)
    with mgmt_flows.around_transaction(root, plan.management_flows):
        if plan.delete_ca:
            if files.remove(root.path(paths.VSWITCHD_CACERT)):
                log.info("deleted %s", root.path(paths.VSWITCHD_CACERT))
        transaction.apply(connection, plan.changes, snapshot, timeout=VSWITCHD_TIMEOUT)
    return notes + _close_firewall(root, helper, plan)
