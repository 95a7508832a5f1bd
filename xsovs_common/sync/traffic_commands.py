"""What ovs-xapi-sync's traffic rules answer: Xen Orchestra's plugin calls, the report.

The ``sdncontroller.py`` plugin hands each ``add-rule`` / ``del-rule`` to
the daemon (``traffic-rules/call``): :func:`call` records it on top of
XAPI's lists (:mod:`.traffic_lists`) and applies it at once
(:class:`.traffic.TrafficRules`), answering with the vendor plugin's codes.
:func:`report` is what the plugin's ``status`` shows
(``traffic-rules/show``).
"""

import json

from ..log import log
from ..net import sdncontroller_args as calls
from ..net import traffic_rules as tr
from . import traffic_lists


def call(rules, cache, idl, function, args):
    """Apply one ``add-rule``/``del-rule`` call now; the number of ports it reached.

    Raises :class:`calls.PluginArgumentError` (the plugin's codes) when the
    arguments, the bridge or the switch do not allow it.
    """
    name = "add_rule" if function == "add-rule" else "del_rule"
    plugin_call = calls.parse_plugin_call(args, name)
    if not cache.ready or not idl.has_ever_connected():
        raise calls.PluginArgumentError(calls.E_OVSCALL, "%s: ovs-xapi-sync is still starting "
                                        "(waiting for XAPI or OVSDB); try again" % name)
    switch = rules.read_switch(idl)
    known = {b.name for b in switch.bridges} | {p.name for p in switch.ports.values()
                                                if p.fake_bridge}
    if plugin_call.bridge not in known:
        raise calls.PluginArgumentError(calls.E_OVSCALL, "%s: no bridge named %s on this host"
                                        % (name, plugin_call.bridge))
    network = cache.network_of_bridge(plugin_call.bridge)
    if network is None:
        raise calls.PluginArgumentError(calls.E_PORTS, "%s: bridge %s carries no XAPI network"
                                        % (name, plugin_call.bridge))
    if plugin_call.mac is None:
        targets = [(tr.SCOPE_NETWORK, network["uuid"])]
    else:
        targets = [(tr.SCOPE_VIF, v["uuid"]) for v in cache.tables["vif"].values()
                   if v.get("MAC") == plugin_call.mac
                   and (cache.network(v.get("network")) or {}).get("uuid") == network["uuid"]]
    for scope, uuid in targets:
        rules.lists.call(scope, uuid, function, plugin_call.rules, plugin_call.cookie)
    failures = rules.sync(cache, switch)
    reached = [v for v in rules.views if v.rules is not None and (
        (tr.SCOPE_VIF, v.vif_uuid) in targets or (tr.SCOPE_NETWORK, v.network_uuid) in targets)]
    bridges = {v.bridge.name for v in reached}
    failed = sorted(set(failures) & bridges)
    if failed:
        raise calls.PluginArgumentError(calls.E_OVSCALL, "%s: flows not applied on %s: %s"
                                        % (name, failed[0], failures[failed[0]]))
    if function == "add-rule" and plugin_call.mac is None and not reached:
        raise calls.PluginArgumentError(calls.E_PORTS, "%s: No rules were build" % name)
    return len(reached)



def report(rules):
    """What ``status`` shows: per VIF port the rules in force and where they came from."""
    ports = []
    for view in rules.views:
        entry = {"port": view.iface.name, "bridge": view.bridge.name,
                 "ofport": view.iface.ofport, "vif": view.vif_uuid,
                 "network": view.network_uuid, "mac": view.mac}
        if view.note:
            entry["note"] = view.note
        if view.rules == traffic_lists.HELD:
            entry["state"] = "held: no valid rule list yet; its flows are left as they are"
        elif view.rules is not None:
            entry["state"] = "enforced"
            entry["rules"] = [_describe(rules, view, rule) for rule in view.rules]
        else:
            entry["state"] = "not enforced"
        errors = {}
        for scope, uuid in ((tr.SCOPE_VIF, view.vif_uuid),
                            (tr.SCOPE_NETWORK, view.network_uuid)):
            if (scope, uuid) in rules.lists.errors:
                errors[scope] = rules.lists.errors[(scope, uuid)]
            pending = rules.lists.pending_for(scope, uuid)
            if pending:
                entry.setdefault("plugin_calls", []).extend(pending)
        if errors:
            entry["refused"] = errors
        ports.append(entry)
    bridges = {s.name: {"groups": len(s.installed),
                        "flows": sum(len(f) for f in s.installed.values() if f),
                        "error": s.error} for s in rules.bridges.values()}
    source = "kept on disk, XAPI not reached yet" if rules.stored else "XAPI"
    return {"ports": ports, "bridges": bridges, "vswitchd_pid": rules.pid, "source": source}



def _describe(rules, view, rule):
    entry = rule.xo_fields()
    entry["precedence"] = tr.precedence(rule)
    uuid = view.vif_uuid if rule.scope == tr.SCOPE_VIF else view.network_uuid
    origin = "%s %s" % (rule.scope, uuid)
    if rule not in view.xapi.get(rule.scope, ()):
        origin = "sdncontroller.py call on %s, until XAPI shows it" % origin
    elif (rule.scope, uuid) in rules.lists.errors:
        origin += ", its last valid list (the current one is refused)"
    entry["from"] = origin
    return entry



def register_commands(unixctl, rules, cache, idl):
    """``traffic-rules/call FUNCTION ARGS``, ``traffic-rules/show``, ``traffic-rules/resync``.

    ``call`` is the plugin's way in (ARGS the call's arguments as JSON); a
    refusal is the error reply ``{"code": ..., "message": ...}``.
    """
    def on_call(conn, argv, unused_aux):
        function, text = argv
        try:
            args = json.loads(text)
            if function not in ("add-rule", "del-rule") or not isinstance(args, dict):
                raise ValueError("expected add-rule or del-rule and a JSON object")
            reached = call(rules, cache, idl, function, args)
        except calls.PluginArgumentError as exc:
            conn.reply_error(json.dumps({"code": exc.code, "message": exc.message}))
            return
        except ValueError as exc:
            conn.reply_error(json.dumps({"code": calls.E_PARSER, "message": str(exc)}))
            return
        except Exception as exc:   # never lose the daemon to one call
            log.exception("traffic-rules/call %s failed", function)
            conn.reply_error(json.dumps({"code": calls.E_OVSCALL, "message": "%s: %s" % (
                exc.__class__.__name__, exc)}))
            return
        conn.reply(json.dumps({"ports": reached}))

    def on_show(conn, unused_argv, unused_aux):
        conn.reply(json.dumps(report(rules), sort_keys=True))

    def on_resync(conn, unused_argv, unused_aux):
        rules.resync()
        rules.run(cache, idl, force=True)
        conn.reply(None)

    unixctl.command_register("traffic-rules/call", "FUNCTION ARGS", 2, 2, on_call, None)
    unixctl.command_register("traffic-rules/show", "", 0, 0, on_show, None)
    unixctl.command_register("traffic-rules/resync", "", 0, 0, on_resync, None)
