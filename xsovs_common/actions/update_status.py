"""The plugin's ``status``: the state as read, and the plan ``update`` would apply.

It takes the *read* step, then prints the plan of *manager* to *management
flows* (:mod:`update_plan`) instead of applying it, with what *rewrite*
would change; ``in_step`` says whether ``update`` has nothing to do.
``traffic_rules`` is ``ovs-xapi-sync``'s report of Xen Orchestra's traffic
rules: per VIF port the rules in force and where they came from, refused
lists with their reason (or why the daemon could not be asked).
"""

import json

from .. import bulk, paths
from ..net import dbcache, netconfig
from ..ovs import transaction
from ..ovs.snapshot import Snapshot
from ..system import files
from ..xapi import controller
from . import update_ovn
from .sdncontroller import daemon_report
from .update_plan import plan_update
from .update_read import OVSDB_TIMEOUT, read_management_flows, read_xapi


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
    """JSON of the state and of what ``update`` would change."""
    error = None
    with bulk.no_cycle_collection():
        state = read_xapi(api, root, wanted=controller.Wanted(None, "unread"))
        try:
            state.wanted = controller.wanted(api, root, state.pool)
        except controller.InvalidController as exc:
            error = exc
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            snapshot = Snapshot.read(connection)
    host_network = state.host_network
    wants = {name: {"fail_mode": values["fail_mode"],
                    "disable-in-band": values.get("other_config:disable-in-band"),
                    "invalid-disable-in-band": bad}
             for name, values, bad in netconfig.bridge_settings(host_network, snapshot)}
    bridges = {}
    for name, bridge in sorted(snapshot.bridges.items()):
        xapi_values = wants.get(name)
        if bridge.is_fake and host_network.networks_with_bridge(name):
            xapi_values = {"follows": bridge.parent.name}
        bridges[name] = _bridge_status(bridge, xapi_values)
    uuid_changes = netconfig.network_uuid_changes(host_network, snapshot)
    cache = files.read_text(root.path(paths.NETWORK_DBCACHE), default="")
    cache_stale = cache != dbcache.render(host_network)
    result = {
        "host": state.host_uuid,
        "managers": snapshot.managers,
        "ssl": snapshot.ssl and {k: snapshot.ssl.get(k) for k in (
            "private_key", "certificate", "ca_cert", "bootstrap_ca_cert")},
        "bridges": bridges,
        "xapi": dict(state.wanted.as_dict(),
                     pool_fail_mode=host_network.pool().get("other_config", {}).get(
                         netconfig.FAIL_MODE_KEY)),
    }
    update_dict = {"network_cache_stale": cache_stale,
                   "network_ids": str(uuid_changes).splitlines()}
    if error is not None:
        result["xapi"]["error"] = error.error_description()
        update_dict["error"] = error.error_description()
        in_step = False
    else:
        plan = plan_update(root, state, snapshot,
                           installed=read_management_flows(root, host_network, snapshot))
        update_dict.update(plan.as_dict(root))
        in_step = plan.is_empty() and not uuid_changes and not cache_stale
    result["ovn"], ovn_in_step = update_ovn.status(api, root, state, snapshot)
    result["update"] = update_dict
    result["in_step"] = in_step and ovn_in_step
    result["traffic_rules"] = daemon_report(root)
    return json.dumps(result, indent=2, sort_keys=True)
