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
from ..net import sdncontroller_args as calls
from ..ovs import transaction
from ..ovs.snapshot import Snapshot
from ..system import process

DAEMON = "ovs-xapi-sync"
DAEMON_TIMEOUT = 60
OVSDB_TIMEOUT = 10


def _ask(root, args, timeout):
    """``ovs-appctl -t ovs-xapi-sync ARGS``: ``(stdout, None)``, or ``(None, what it said)``."""
    argv = [root.program("ovs-appctl"), "--timeout=%d" % timeout, "-t", DAEMON] + list(args)
    env = {"OVS_RUNDIR": root.ovs_rundir(), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    try:
        result = process.run(argv, timeout=timeout + 5, check=False, env=env)
    except Error as exc:         # ovs-appctl missing, or timed out
        return None, exc.message
    if result.returncode == 0:
        return result.stdout, None
    return None, result.stderr.strip() or "exit status %d" % result.returncode


def _not_answering(said):
    """Why the daemon did not answer, as whoever reads the failure needs it."""
    if "pidfile" in said:
        return "%s is not running (systemctl start xsovs-xapi-sync): it applies the " \
            "traffic rules" % DAEMON
    return "%s does not answer (%s): it applies the traffic rules (systemctl status " \
        "xsovs-xapi-sync)" % (DAEMON, said.splitlines()[-1])


def _to_daemon(root, function, args):
    """Hand a checked call to ovs-xapi-sync; its answer, or its refusal with the plugin's code."""
    answer, said = _ask(root, ["traffic-rules/call", function, json.dumps(args, sort_keys=True)],
                        DAEMON_TIMEOUT)
    if answer is not None:
        return answer
    refusal = _refusal(said)
    if refusal is not None:
        raise refusal
    raise calls.PluginArgumentError(calls.E_OVSCALL, "%s: %s" % (function.replace("-", "_"),
                                                                 _not_answering(said)))


def _refusal(stderr):
    """The daemon's refusal in ovs-appctl's stderr (its error reply, then ovs-appctl's line)."""
    for line in stderr.splitlines():
        try:
            refusal = json.loads(line)
            return calls.PluginArgumentError(str(refusal["code"]), str(refusal["message"]))
        except (ValueError, KeyError, TypeError):
            continue
    return None


def _rule_call(function):
    name = function.replace("-", "_")

    def call(session_ref, args):
        root = paths.Root.from_environment()
        calls.parse_plugin_call(args, name)        # refused here, without the daemon
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
    bridge = calls.parse_dump_flows(args)
    argv = [root.program("ovs-ofctl"), "dump-flows",
            "unix:%s/%s.mgmt" % (root.ovs_rundir(), _real_bridge(root, bridge))]
    result = process.run(argv, timeout=30, check=False)
    if result.returncode != 0:
        raise calls.PluginArgumentError(calls.E_OVSCALL, "Error dumping flows: %s: %s"
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
    answer, said = _ask(root, ["traffic-rules/show"], 10)
    if answer is not None:
        try:
            return json.loads(answer)
        except ValueError:
            said = "not JSON: %s" % answer[:80]
    return {"error": _not_answering(said)}
