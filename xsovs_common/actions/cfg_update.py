"""The plugin's actions: update, set-manager, emergency_reset, status, rewrite.

Each action reads everything first -- XAPI (this host's network, the pool,
the SDN controller) and then OVSDB (one :class:`~xsovs_common.ovs.snapshot.Snapshot`)
-- checks it (:mod:`update_read`), turns it into an
:class:`~xsovs_common.actions.update_plan.UpdatePlan` (plain data: an OVSDB
change set, the CA file to delete, management flows, firewall holes;
:mod:`update_plan`), applies the plan (:mod:`update_apply`) and reports one
line.  A failed read or a bad value therefore never
leads to an ``emer-reset`` or any other change, and ``status`` is the same
plan, printed instead of applied.

``update`` -- run by XAPI at its start and whenever the pool's controller
changes -- takes these steps, named so the code below can refer to them:

1. *read*: XAPI (this host's network, its one pool, the manager XAPI wants),
   then OVSDB (one snapshot), then, where the management bridge is or turns
   secure, its flows of xsovs.  A failed read or a bad value changes nothing.
2. *rewrite*: the network cache and every bridge's ``xs-network-uuids``,
   from what was read; a failure is logged and named in the result, and the
   other steps still run.
3. *manager*: when OVSDB's manager, or its SSL set-up, is not what XAPI
   wants: ``emer-reset``, and set the manager with SSL as
   :func:`controller.ssl_files` says for that kind (an active ``ssl``
   manager bootstraps its CA, a listening ``pssl`` one trusts the pool's SDN
   controller CA), or remove manager and SSL.  The firewall opens what the
   manager needs (6640 for ``pssl``, 6653 for the OpenFlow channel) and
   closes the rest.
4. *restore*: after that reset, put back every setting it wiped that XAPI's
   data defines (fail modes, disable-in-band, bond settings), in the same
   transaction.
5. *bridge settings*: without a reset, bring each bridge's fail mode and
   disable-in-band, and each bond's settings, in line with XAPI's data.
6. *management flows*: whenever the management bridge ends up secure, with
   a controller or without: flows that keep the host reachable, put in
   before the change when they are missing, and again after a change to that
   bridge (ovs-vswitchd may flush them then); in place and left alone, they
   need nothing.
7. *apply*: firewall, flows and CA file first, then ONE OVSDB transaction;
   the manager's old firewall rules are closed last.
8. *OVN chassis* (:mod:`update_ovn`): planned with *read*, applied last:
   this host as a chassis of the pool's OVN deployment, or taken back from
   it.  It fails alone: when it cannot be planned (a bad OVN key, no tunnel
   endpoint yet) or applied, the other steps still run, it changes nothing,
   and ``update`` then fails with its reason, naming what the others did.
9. *report*: one line of what changed, or exactly :data:`NO_CHANGE`.

``set-manager`` takes the same steps but *rewrite* and *bridge settings*;
``status`` (:mod:`update_status`) takes *read*, then prints the plan of
*manager* to *management flows* instead of applying it.
"""

from .. import bulk, paths
from . import rewrite, update_ovn, update_status
from .update_apply import VSWITCHD_TIMEOUT, apply_plan
from .update_plan import OF_METHOD_KEY, UpdatePlan, bridge_names, plan_update
from .update_read import OVSDB_TIMEOUT, PoolError, XapiState, read, read_xapi
from ..ovs import transaction
from ..ovs.changes import ChangeSet
from ..ovs.snapshot import Snapshot
from ..system import lock
from ..xapi import controller, plugin, session as xapi
from ..errors import Error
from ..log import log

# What the plugin's callers and tests reach through this module.
__all__ = ["PLUGIN_FUNCTIONS", "NO_CHANGE", "RESET_DONE", "OF_METHOD_KEY", "OVSDB_TIMEOUT",
           "VSWITCHD_TIMEOUT", "PoolError", "XapiState", "UpdatePlan", "read_xapi",
           "plan_update", "apply_plan", "summary", "update", "set_manager",
           "emergency_reset", "rewrite_only", "status"]

NO_CHANGE = "No change to configuration"
RESET_DONE = "Successfully reset configuration"


# -- report -----------------------------------------------------------------------

def summary(notes):
    """One line: what changed (and what was wrong), or exactly NO_CHANGE."""
    text = "; ".join(n for n in notes if n) or NO_CHANGE
    return " ".join(text.split())


def _summary(changed, failures, invalid):
    """The *report* line.  With nothing changed and nothing failed it is exactly
    NO_CHANGE -- callers compare it -- and invalid XAPI values are only logged
    (``status`` shows them); otherwise they are named after the changes."""
    changed = [n for n in changed if n]
    for text in invalid:
        log.warning("%s", text)
    if not changed and not failures:
        return NO_CHANGE
    return summary((changed or [NO_CHANGE]) + list(failures) + list(invalid))


# -- actions --------------------------------------------------------------------

@bulk.without_cycle_collection   # thousands of VLANs: linear, not quadratic (see bulk)
def update(root, api):
    """The plugin's ``update``: every step above; returns the *report* line."""
    with lock.host_lock(root):
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            state, snapshot, installed = read(api, root, connection)
            chassis, ovn_error, ovn_applying = None, None, False
            try:
                chassis = update_ovn.plan(api, root, state, snapshot)
            except Error as exc:           # fails alone (update_ovn): the rest goes on
                ovn_error = exc
            changed, warnings = [], []
            try:
                result = rewrite.rewrite(root, api, host_network=state.host_network,
                                         connection=connection, snapshot=snapshot)
                changed += result.notes(join=bridge_names)   # 1000 names make no summary
            except (Error, OSError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                log.error("rewrite failed: %s", message)
                warnings.append("rewrite failed: %s" % message)
            # The rewrite changed external ids only: nothing the plan reads.
            plan = plan_update(root, state, snapshot, installed=installed)
            changed += plan.notes
            changed += apply_plan(root, connection, snapshot, plan)
            if chassis is not None:
                try:
                    changed += update_ovn.apply(root, connection, snapshot, chassis)
                except Error as exc:
                    ovn_error, ovn_applying = exc, True
    result = _summary(changed, warnings, plan.warnings + (chassis.warnings if chassis else []))
    log.info("update: %s", result)
    if ovn_error is not None:
        raise update_ovn.not_applied(ovn_error, result, applying=ovn_applying)
    return result


def set_manager(root, api, args):
    """The plugin's ``set-manager``: ``update`` without *rewrite* and *bridge settings*."""
    wanted = controller.from_args(root, args) if args else None
    with lock.host_lock(root):
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            state, snapshot, installed = read(api, root, connection, wanted)
            plan = plan_update(root, state, snapshot, bridges=False, installed=installed)
            changed = plan.notes + apply_plan(root, connection, snapshot, plan)
    result = _summary(changed, [], plan.warnings)
    log.info("set-manager: %s", result)
    return result


def emergency_reset(root):
    """The plugin's ``emergency_reset``: ``ovs-vsctl emer-reset``, nothing else."""
    with lock.host_lock(root):
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            snapshot = Snapshot.read(connection)
            changes = ChangeSet()
            changes.emer_reset()
            transaction.apply(connection, changes, snapshot, timeout=VSWITCHD_TIMEOUT)
    log.info("emergency_reset: done")
    return RESET_DONE


def rewrite_only(root, api):
    """The plugin's ``rewrite``: the cache and xs-network-uuids."""
    with lock.host_lock(root):
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            result = rewrite.rewrite(root, api, connection=connection)
    text = summary(result.notes(join=bridge_names))
    log.info("rewrite: %s", text)
    return text


def status(root, api):
    """The plugin's ``status``: JSON of the state and of what ``update`` would change."""
    return update_status.status(root, api)


# -- the plugin's functions: (session_ref, args) -> str --------------------------

def _xapi_action(action):
    def function(session_ref, args):
        root = paths.Root.from_environment()
        with xapi.connect(session_ref, root=root) as api:
            return action(root, api, args)
    function.__doc__ = action.__doc__
    return function


# Each function with the argument keys it takes (plugin.takes: any other is refused).
PLUGIN_FUNCTIONS = {
    "update": plugin.takes((), _xapi_action(lambda root, api, args: update(root, api))),
    "rewrite": plugin.takes((), _xapi_action(lambda root, api, args: rewrite_only(root, api))),
    "set-manager": plugin.takes(controller.SET_MANAGER_ARGS, _xapi_action(set_manager)),
    "status": plugin.takes((), _xapi_action(lambda root, api, args: status(root, api))),
    "emergency_reset": plugin.takes(
        (), lambda session_ref, args: emergency_reset(paths.Root.from_environment())),
}
