"""The plugin's actions: update, set-manager, emergency_reset, status, rewrite.

Each action reads everything first -- XAPI (this host's network, the pool,
the SDN controller) and then OVSDB (one :class:`~xsovs_common.ovs.snapshot.Snapshot`)
-- checks it, turns it into a :class:`Plan` (plain data: an OVSDB change
set, the CA file to delete, management flows, firewall holes), applies the
plan and reports one line.  A failed read or a bad value therefore never
leads to an ``emer-reset`` or any other change, and ``status`` is the same
plan, printed instead of applied.

``update`` -- run by XAPI at its start and whenever the pool's controller
changes -- takes these steps, named so the code below can refer to them:

1. *read*: XAPI (this host's network, its one pool, the manager XAPI wants),
   then OVSDB (one snapshot).  A failed read or a bad value changes nothing.
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
6. *management flows*: a controller newly set and a secure management
   bridge: flows that keep the host reachable, in place before the change.
7. *apply*: firewall, flows and CA file first, then ONE OVSDB transaction;
   the manager's old firewall rules are closed last.
8. *report*: one line of what changed, or exactly :data:`NO_CHANGE`.

``set-manager`` takes the same steps but *rewrite* and *bridge settings*;
``status`` takes *read*, then prints the plan of *manager* to *management
flows* instead of applying it.
"""

import json

from .. import bulk, paths
from . import rewrite
from ..net import dbcache, netconfig
from ..ovs import mgmt_flows, transaction
from ..ovs.changes import ChangeSet
from ..ovs.snapshot import Snapshot
from ..system import files, firewall, hostconfig, lock
from ..xapi import controller, plugin, session as xapi, network as xapi_network
from ..errors import Error
from ..log import log

NO_CHANGE = "No change to configuration"
# How Xen Orchestra manages OpenFlow rules: "channel" (its own connection to
# each bridge, TCP 6653) unless it names another method.
OF_METHOD_KEY = "xo:sdn-controller:of-method"
OF_METHOD_CHANNEL = "channel"
RESET_DONE = "Successfully reset configuration"
FIREWALL_OWNER = "xsovs-manager"

# Per request to ovsdb-server, far above what a full read of 1000 bridges takes
# (make bench BENCH=ovsdb_read); a dead or silent server fails the one read an
# action makes within 5 s, well inside the 10 s it may take to report
# VSWITCH_CONFIG_MOD_FAILURE.
OVSDB_TIMEOUT = 5.0
# How long ovs-vswitchd may take to take in a committed transaction.
VSWITCHD_TIMEOUT = 30.0


class PoolError(Error):
    """XAPI has no pool, or more than one, for this host."""


# -- source -----------------------------------------------------------------------

class XapiState:
    """What XAPI says, read once: this host's network, its pool, the wanted manager."""

    def __init__(self, host_uuid, host_network, pool, wanted):
        self.host_uuid = host_uuid
        self.host_network = host_network
        self.pool = pool
        self.wanted = wanted        # controller.Wanted


def the_pool(pools):
    """The one pool record; NO_POOL_FOR_HOST / MORE_THAN_ONE_POOL_FOR_HOST otherwise."""
    if not pools:
        raise PoolError("XAPI has no pool for this host", params=[], code="NO_POOL_FOR_HOST")
    if len(pools) > 1:
        raise PoolError("XAPI has %d pools for this host" % len(pools),
                        params=sorted(pools), code="MORE_THAN_ONE_POOL_FOR_HOST")
    return next(iter(pools.values()))


def read_xapi(api, root, wanted=None):
    """Everything an action needs from XAPI, checked; ``wanted`` overrides XAPI's manager."""
    host_uuid = hostconfig.host_uuid(root)
    pool_records = api.pool.get_all_records()
    pool = the_pool(pool_records)
    host_network = xapi_network.load(api, host_uuid, pool_records)
    if wanted is None:
        wanted = controller.wanted(api, root, pool)
    return XapiState(host_uuid, host_network, pool, wanted)


# -- plan -------------------------------------------------------------------------

class Plan:
    """What an action will do, as plain data: printed by ``status``, applied otherwise."""

    def __init__(self):
        self.changes = ChangeSet()           # ONE OVSDB transaction
        self.delete_ca = False               # the CA file, so SSL bootstraps afresh
        self.management_flows = None         # a ManagementPath, installed before the change
        self.flows_after = False             # its fail mode changes: ovs-vswitchd flushes
        self.firewall_open = []              # Rules kept open: listening manager, OpenFlow
        self.firewall_close = []             # manager Rules to close (XAPI's helper only)
        self.notes = []                      # what changes, for the summary
        self.warnings = []                   # what is left alone, and why

    def is_empty(self):
        return not (self.changes or self.delete_ca or self.management_flows)

    def as_dict(self, root):
        return {
            "changes": str(self.changes).splitlines(),
            "delete_ca_file": root.path(paths.VSWITCHD_CACERT) if self.delete_ca else None,
            "management_flows": (self.management_flows.bridge
                                 if self.management_flows is not None else None),
            "firewall_open": ["%s/%s" % (r.protocol, r.port) for r in self.firewall_open],
            "firewall_helper": firewall.xapi_helper(root) or "iptables",
            "notes": self.notes,
            "warnings": self.warnings,
        }


def _ssl_in_place(root, snapshot, ssl):
    """SSL as the manager needs it: XAPI's key and certificate, the CA file, bootstrap."""
    if ssl is None:
        return True
    row = snapshot.ssl or {}
    return (row.get("private_key"), row.get("certificate"), row.get("ca_cert"),
            bool(row.get("bootstrap_ca_cert"))) == \
        (root.path(ssl.private_key), root.path(ssl.certificate), root.path(ssl.ca_cert),
         ssl.bootstrap)


def _missing_ssl_files(plan, root, ssl):
    """Name the files a manager's SSL needs that the host lacks (set anyway)."""
    if ssl is None:
        return
    if not root.exists(ssl.private_key):
        plan.warnings.append("SSL key and certificate file %s is missing: no TLS session "
                             "until XAPI makes it" % root.path(ssl.private_key))
    if not ssl.bootstrap and not root.exists(ssl.ca_cert):
        plan.warnings.append(
            "SDN controller CA file %s is missing: controllers are refused until it is "
            "installed in the pool (pool.certificate_install sdn-controller-ca.pem)"
            % root.path(ssl.ca_cert))


def plan_firewall(plan, target, pool):
    """Firewall holes: 6640 for a listening manager, 6653 for an OpenFlow channel.

    As XCP-ng's XAPI has it: 6653 is open while a controller is set and the
    pool's ``xo:sdn-controller:of-method`` is absent or ``channel``; another
    method closes it.  With no controller at all nothing needs it either.
    """
    of_method = pool.get("other_config", {}).get(OF_METHOD_KEY) or OF_METHOD_CHANNEL
    plan.firewall_open = []
    if target is not None and target.protocol == "pssl":
        plan.firewall_open.append(firewall.Rule("tcp", target.port))
    if target is not None and of_method == OF_METHOD_CHANNEL:
        plan.firewall_open.append(firewall.OPENFLOW_RULE)
    plan.firewall_close = [r for r in firewall.MANAGER_RULES if r not in plan.firewall_open]


def plan_manager(plan, root, host_network, snapshot, wanted):
    """The *manager* and *restore* steps: reset and set the manager when OVSDB's differs;
    True if it does.

    "Differs" also covers SSL not set up as the manager needs it (someone
    else's key or CA file, bootstrap on or off): setting it afresh is what
    makes it work.  Missing key or CA files are set all the same (ovsdb-server
    reads them once they appear) and named in the warnings.
    """
    target = wanted.target
    ssl = controller.ssl_files(target)
    _missing_ssl_files(plan, root, ssl)
    if controller.same(snapshot.managers, target) and _ssl_in_place(root, snapshot, ssl):
        return False
    plan.delete_ca = True
    plan.changes.emer_reset()
    if target is None:
        plan.changes.set_manager([])
        plan.changes.del_ssl()
        plan.notes.append("Successfully removed controller config")
    else:
        if ssl is not None:
            plan.changes.set_ssl(root.path(ssl.private_key), root.path(ssl.certificate),
                                 root.path(ssl.ca_cert), bootstrap=ssl.bootstrap)
        plan.changes.set_manager([str(target)])
        plan.notes.append("Successfully set controller to %s" % target)
    restore, invalid = netconfig.restore_changes(host_network, snapshot)
    plan.changes.extend(restore)
    _describe(plan, restore, restored=True)
    _invalid_in_band(plan, invalid)
    return True


def _current(snapshot, table, record, column):
    row = snapshot.bridges[record] if table == "Bridge" else snapshot.ports[record]
    if ":" in column:
        column, key = column.split(":", 1)
        return getattr(row, column).get(key)
    return getattr(row, column)


def differences(changes, snapshot):
    """``changes`` (``set`` changes only) without what ``snapshot`` already holds."""
    kept = ChangeSet()
    for change in changes:
        table, record = change.table, change.record
        kept.set(table, record, {column: value for column, value in change.values.items()
                                 if _current(snapshot, table, record, column) != value})
    return kept


def plan_bridges(plan, host_network, snapshot):
    """The *bridge settings* step: bridge and bond settings that differ from XAPI's data.

    Only bridges carrying a network of this host: one XAPI does not know is
    left alone; a fake bridge has no Bridge row and follows its parent.
    """
    wanted = ChangeSet()
    invalid = {}
    for name, values, bad in netconfig.bridge_settings(host_network, snapshot):
        wanted.set("Bridge", name, values)
        if bad is not None:
            invalid[name] = bad
    for port, columns in netconfig.bond_settings(host_network, snapshot):
        wanted.set("Port", port, columns)
    changes = differences(wanted, snapshot)
    plan.changes.extend(changes)
    _describe(plan, changes, restored=False)
    _invalid_in_band(plan, invalid)


def _invalid_in_band(plan, invalid):
    for bridge, value in sorted(invalid.items()):
        plan.warnings.append("invalid %s %r for %s left as it is"
                             % (netconfig.DISABLE_IN_BAND_KEY, value, bridge))


def _names(names):
    names = sorted(names)
    if len(names) > 6:
        return "%d bridges (%s, ...)" % (len(names), ", ".join(names[:3]))
    return ", ".join(names)


def _describe(plan, changes, restored):
    """Summary notes for Bridge / Port ``set`` changes, grouped by setting."""
    verb = "restored" if restored else "set"
    groups = {}
    bonds = []
    for change in changes:
        table, record, values = change.table, change.record, change.values
        if table == "Port":
            bonds.append(record)
            continue
        for column, value in sorted(values.items()):
            setting = column.split(":", 1)[-1]
            text = "%s=%s %s on" % (setting, value, verb) if value is not None \
                else "%s removed from" % setting
            groups.setdefault(text, []).append(record)
    for text in sorted(groups):
        plan.notes.append("%s %s" % (text, _names(groups[text])))
    if bonds:
        plan.notes.append("bond settings %s on %s" % (verb, ", ".join(sorted(bonds))))


def _fail_mode_after(plan, snapshot, bridge, reset):
    after = None if reset else snapshot.bridges[bridge].fail_mode
    for change in plan.changes:
        if change.kind == "set" and (change.table, change.record) == ("Bridge", bridge) \
                and "fail_mode" in change.values:
            after = change.values["fail_mode"]
    return after


def plan_flows(plan, host_network, snapshot, wanted, reset):
    """The *management flows* step: a controller newly set and a secure management bridge."""
    if not reset or wanted.target is None:
        return
    path = mgmt_flows.management_path(host_network)
    if path is None:
        return
    bridge = snapshot.bridges.get(path.bridge)
    if bridge is None or bridge.is_fake:
        plan.warnings.append("management bridge %s is not in OVSDB: no flows installed"
                             % path.bridge)
        return
    if _fail_mode_after(plan, snapshot, path.bridge, reset) != "secure":
        return
    plan.management_flows = path
    _, plan.flows_after = mgmt_flows.install_times(True, bridge.fail_mode)
    plan.notes.append("management flows installed on %s" % path.bridge)


def plan_update(root, state, snapshot, bridges=True):
    """The plan of ``update`` against ``snapshot``; ``bridges=False`` (``set-manager``)
    leaves out the *bridge settings* step."""
    plan = Plan()
    plan_firewall(plan, state.wanted.target, state.pool)
    reset = plan_manager(plan, root, state.host_network, snapshot, state.wanted)
    if bridges and not reset:
        plan_bridges(plan, state.host_network, snapshot)
    plan_flows(plan, state.host_network, snapshot, state.wanted, reset)
    transaction.check(plan.changes, snapshot)
    return plan


# -- apply ----------------------------------------------------------------------

def apply_plan(root, connection, snapshot, plan):
    """Carry ``plan`` out; returns notes and warnings of the firewall steps.

    The firewall is opened and the flows installed before the OVSDB
    transaction, so a failure there changes nothing in OVSDB.  Closing
    the firewall comes after it; a failure there is reported, not raised.
    """
    notes = []
    helper = firewall.xapi_helper(root)
    if helper is not None:
        for rule in plan.firewall_open:
            firewall.xapi_port(helper, "open", rule)
    elif plan.firewall_open:
        added = firewall.open_rules(root, plan.firewall_open, FIREWALL_OWNER)
        notes += ["firewall opened for %s/%s" % (r.protocol, r.port) for r in added]
    if plan.management_flows is not None:
        mgmt_flows.install(root, plan.management_flows)
    if plan.delete_ca:
        if files.remove(root.path(paths.VSWITCHD_CACERT)):
            log.info("deleted %s", root.path(paths.VSWITCHD_CACERT))
    transaction.apply(connection, plan.changes, snapshot, timeout=VSWITCHD_TIMEOUT)
    if plan.management_flows is not None and plan.flows_after:
        mgmt_flows.install(root, plan.management_flows)
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
        notes.append("closing the manager's firewall rules failed: %s" % exc.message)
    else:
        if closed:
            notes.append("firewall closed %d manager rule(s)" % closed)
    return notes


def summary(notes):
    """One line: what changed (and what was wrong), or exactly NO_CHANGE."""
    text = "; ".join(n for n in notes if n) or NO_CHANGE
    return " ".join(text.split())


def _summary(changed, failures, invalid):
    """The result line.  With nothing changed and nothing failed it is exactly
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
            with bulk.no_cycle_collection():
                state = read_xapi(api, root)
                snapshot = Snapshot.read(connection, interfaces=False)
            changed, warnings = [], []
            try:
                result = rewrite.rewrite(root, api, host_network=state.host_network,
                                         connection=connection, snapshot=snapshot)
                changed += result.notes(join=_names)   # 1000 bridge names make no summary line
            except (Error, OSError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                log.error("rewrite failed: %s", message)
                warnings.append("rewrite failed: %s" % message)
            # The rewrite changed external ids only: nothing the plan reads.
            plan = plan_update(root, state, snapshot)
            changed += plan.notes
            changed += apply_plan(root, connection, snapshot, plan)
    result = _summary(changed, warnings, plan.warnings)
    log.info("update: %s", result)
    return result


def set_manager(root, api, args):
    """The plugin's ``set-manager``: ``update`` without *rewrite* and *bridge settings*."""
    wanted = controller.from_args(root, args) if args else None
    with lock.host_lock(root):
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            with bulk.no_cycle_collection():
                state = read_xapi(api, root, wanted)
                snapshot = Snapshot.read(connection, interfaces=False)
            plan = plan_update(root, state, snapshot, bridges=False)
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
    text = summary(result.notes(join=_names))
    log.info("rewrite: %s", text)
    return text


def _bridge_status(bridge, xapi_values):
    entry = {"fail_mode": bridge.fail_mode,
             "disable-in-band": bridge.other_config.get("disable-in-band"),
             netconfig.NETWORK_UUIDS_KEY: bridge.external_ids.get(netconfig.NETWORK_UUIDS_KEY)}
    if bridge.is_fake:
        entry.update(parent=bridge.parent.name, vlan=bridge.vlan,
                     fail_mode=None, **{"disable-in-band": None})
    entry["xapi"] = xapi_values
    return entry


def status(root, api):
    """The plugin's ``status``: JSON of the state and of what ``update`` would change."""
    error = None
    with bulk.no_cycle_collection():
        state = read_xapi(api, root, wanted=controller.Wanted(None, "unread"))
        try:
            state.wanted = controller.wanted(api, root, state.pool)
        except controller.InvalidController as exc:
            error = exc
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            snapshot = Snapshot.read(connection)
    hn = state.host_network
    wants = {name: {"fail_mode": values["fail_mode"],
                    "disable-in-band": values.get("other_config:disable-in-band"),
                    "invalid-disable-in-band": bad}
             for name, values, bad in netconfig.bridge_settings(hn, snapshot)}
    bridges = {}
    for name, bridge in sorted(snapshot.bridges.items()):
        xapi_values = wants.get(name)
        if bridge.is_fake and hn.networks_with_bridge(name):
            xapi_values = {"follows": bridge.parent.name}
        bridges[name] = _bridge_status(bridge, xapi_values)
    uuid_changes = netconfig.network_uuid_changes(hn, snapshot)
    cache = files.read_text(root.path(paths.NETWORK_DBCACHE), default="")
    cache_stale = cache != dbcache.render(hn)
    result = {
        "host": state.host_uuid,
        "managers": snapshot.managers,
        "ssl": snapshot.ssl and {k: snapshot.ssl.get(k) for k in (
            "private_key", "certificate", "ca_cert", "bootstrap_ca_cert")},
        "bridges": bridges,
        "xapi": dict(state.wanted.as_dict(),
                     pool_fail_mode=hn.pool().get("other_config", {}).get(
                         netconfig.FAIL_MODE_KEY)),
    }
    update_dict = {"network_cache_stale": cache_stale,
                   "network_ids": str(uuid_changes).splitlines()}
    if error is not None:
        result["xapi"]["error"] = error.error_description()
        update_dict["error"] = error.error_description()
        in_step = False
    else:
        plan = plan_update(root, state, snapshot)
        update_dict.update(plan.as_dict(root))
        in_step = plan.is_empty() and not uuid_changes and not cache_stale
    result["update"] = update_dict
    result["in_step"] = in_step
    return json.dumps(result, indent=2, sort_keys=True)


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
