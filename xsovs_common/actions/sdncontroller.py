"""The host plugin ``sdncontroller.py``: Xen Orchestra's traffic-rule calls.

Xen Orchestra's SDN controller calls, on every host of a network, through
``host.call_plugin``: ``add-rule`` and ``del-rule`` (``bridge``, ``mac`` for
a VIF's rule, ``allow``, ``protocol``, ``ipRange``, ``direction``, ``port``,
``priority``, ``cookie``), then writes the same change into XAPI; and
``dump-flows`` (``bridge``) to check that the plugin is there.  The
arguments are checked as the vendor's plugin (xcp-ng-xapi-plugins) checks
them, and refused with its codes -- ``1`` unparsable, ``2`` not fitting
together, ``3`` Open vSwitch, ``4`` no port -- and its wording, the reason
first, which is what Xen Orchestra reads.

A call does not write flows itself: it hands the checked call to
``ovs-xapi-sync`` (``traffic-rules/call``), the one writer of traffic-rule
flows, which applies it at once on top of XAPI's lists and answers once the
flows are in, then keeps whatever XAPI's lists say
(:mod:`xsovs_common.sync.traffic_lists`).  ``dump-flows`` answers
``{"returncode", "command", "stdout", "stderr"}`` of ``ovs-ofctl
dump-flows`` (for a VLAN's fake bridge: its parent's flows).
"""

import json

from .. import paths
from ..errors import Error
from ..net import traffic_rules as tr
from ..ovs import transaction
from ..ovs.snapshot import Snapshot
from ..system import process

DAEMON = "ovs-xapi-sync"
DAEMON_TIMEOUT = 60
OVSDB_TIMEOUT = 10


def _to_daemon(root, function, args):
    """Hand a checked call to ovs-xapi-sync; its answer, or its refusal with the plugin's code."""
    argv = [root.program("ovs-appctl"), "--timeout=%d" % DAEMON_TIMEOUT, "-t", DAEMON,
            "traffic-rules/call", function, json.dumps(args, sort_keys=True)]
    env = {"OVS_RUNDIR": root.ovs_rundir(), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    try:
        result = process.run(argv, timeout=DAEMON_TIMEOUT + 5, check=False, env=env)
    except Error as exc:         # ovs-appctl missing, or timed out
        result, detail = None, exc.message
    if result is not None and result.returncode == 0:
        return result.stdout
    if result is not None:
        refusal = _refusal(result.stderr)
        if refusal is not None:
            raise refusal
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else \
            "exit status %d" % result.returncode
    raise tr.PluginArgumentError(
        tr.E_OVSCALL, "%s: %s does not answer (%s): it applies traffic rules; "
        "start it with systemctl start xsovs-xapi-sync" % (function.replace("-", "_"),
                                                          DAEMON, detail))


def _refusal(stderr):
    """The daemon's refusal in ovs-appctl's stderr (its error reply, then ovs-appctl's line)."""
    for line in stderr.splitlines():
        try:
            refusal = json.loads(line)
            return tr.PluginArgumentError(str(refusal["code"]), str(refusal["message"]))
        except (ValueError, KeyError, TypeError):
            continue
    return None


def _rule_call(function):
    name = function.replace("-", "_")

    def call(session_ref, args):
        root = paths.Root.from_environment()
        tr.parse_plugin_call(args, name)        # refused here, without the daemon
        _to_daemon(root, function, args)
        return json.dumps(True)
    call.__doc__ = "The plugin's %s." % function
    return call


def _real_bridge(root, name):
    """The bridge whose flows ``name`` shows: itself, or a fake bridge's parent."""
    try:
        with transaction.connect(root, timeout=OVSDB_TIMEOUT) as connection:
            bridge = Snapshot.read(connection).bridges.get(name)
    except Error:
        return name      # ovs-ofctl then says what is wrong
    return bridge.parent.name if bridge is not None and bridge.is_fake else name


def dump_flows(session_ref, args):
    """The plugin's dump-flows: ``ovs-ofctl dump-flows`` of the bridge, as JSON."""
    root = paths.Root.from_environment()
    if isinstance(args, dict):
        for key in sorted(args, key=str):
            if key != "bridge":
                raise tr.PluginArgumentError(
                    tr.E_PARSER, "dump_flows: Failed to get parameters: unknown parameter "
                    "%s (takes bridge)" % key)
    bridge = tr.parse_bridge_arg(args if isinstance(args, dict) else {}, "dump_flows")
    argv = [root.program("ovs-ofctl"), "dump-flows",
            "unix:%s/%s.mgmt" % (root.ovs_rundir(), _real_bridge(root, bridge))]
    result = process.run(argv, timeout=30, check=False)
    if result.returncode != 0:
        raise tr.PluginArgumentError(tr.E_OVSCALL, "Error dumping flows: %s: %s"
                                     % (argv, result.stderr.strip()))
    return json.dumps({"returncode": result.returncode, "command": argv,
                       "stdout": result.stdout, "stderr": result.stderr})


PLUGIN_FUNCTIONS = {
    "add-rule": _rule_call("add-rule"),
    "del-rule": _rule_call("del-rule"),
    "dump-flows": dump_flows,
}


def daemon_report(root):
    """What ``status`` shows of the traffic rules: ovs-xapi-sync's report, or why there is none."""
    argv = [root.program("ovs-appctl"), "--timeout=10", "-t", DAEMON, "traffic-rules/show"]
    env = {"OVS_RUNDIR": root.ovs_rundir(), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    try:
        result = process.run(argv, timeout=15, check=False, env=env)
    except Error as exc:
        return {"error": exc.message}
    if result.returncode == 0:
        try:
            return json.loads(result.stdout)
        except ValueError:
            pass
    detail = (result.stderr or result.stdout).strip().splitlines()
    return {"error": "%s does not answer (%s): traffic rules are applied by it" % (
        DAEMON, detail[-1] if detail else "exit status %d" % result.returncode)}
