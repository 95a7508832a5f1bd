"""A host for the traffic-rule tests: XAPI (the simulator) with VMs and VIFs, OVS, the daemon.

Shared by the integration tests, the end-to-end tests and ``bench``: VIF
records as XAPI has them (MAC, network, Xen Orchestra's ``of-rules``), VIF
ports plugged exactly as xenopsd plugs them, and what a test reads back:
the flows of xsovs's cookie on a bridge.
"""

import json
import re

from xsovs_common.net import traffic_rules as tr
from xsovs_common.net import traffic_flows as tf
from xsovs_dev.xapi_sync_run import vif_script_add, vif_script_ids

XO_PLUGIN = "sdncontroller.py"


def rule(allow=False, protocol="TCP", port=None, ip_range="", direction="to", cookie=None):
    """One rule as Xen Orchestra stores it (keys in its order; no port for ICMP)."""
    fields = {"allow": allow, "protocol": protocol}
    if port is not None:
        fields["port"] = port
    fields.update(ipRange=ip_range, direction=direction)
    if cookie is not None:
        fields["cookie"] = cookie
    return fields


def stored(*rules):
    """The ``of-rules`` value of ``rules``: a JSON list of JSON strings, as XO writes it."""
    return json.dumps([json.dumps(r, separators=(",", ":")) for r in rules])


def vif_uuid(n):
    return "6ab1b260-398e-49ba-827b-%012x" % n


def vm_uuid(n):
    return "fcb8a3f6-dc04-41d2-8b8a-%012x" % n


def mac(n):
    return "02:00:%02x:%02x:%02x:%02x" % ((n >> 24) & 0xff, (n >> 16) & 0xff,
                                          (n >> 8) & 0xff, n & 0xff)


def add_vms(fixture, builder, vifs):
    """Add a VM and its VIF per ``(n, bridge, rules)`` to a simulator fixture dict.

    ``rules``: an ``of-rules`` value or None.  The VIF's uuid, MAC and VM
    follow from ``n`` (:func:`vif_uuid`, :func:`mac`, :func:`vm_uuid`).
    """
    vms = fixture.setdefault("VM", {})
    records = fixture.setdefault("VIF", {})
    for n, bridge, rules in vifs:
        vm_ref, vif_ref = "OpaqueRef:%s" % vm_uuid(n), "OpaqueRef:%s" % vif_uuid(n)
        vms[vm_ref] = {"uuid": vm_uuid(n), "name_label": "vm%d" % n, "power_state": "Running",
                       "other_config": {}}
        other = {tr.RULES_KEY: rules} if rules is not None else {}
        records[vif_ref] = {"uuid": vif_uuid(n), "VM": vm_ref, "device": "0", "MAC": mac(n),
                            "network": builder.network_ref(bridge), "other_config": other}
    return fixture


def plug_argv(bridge, dev, n, network_uuid, vif_mac=None):
    """ovs-vsctl's arguments as xenopsd plugs VIF ``n`` as ``dev``: one transaction."""
    ids = vif_script_ids(network_uuid, vif_uuid(n), vm_uuid(n), vif_mac or mac(n))
    return ["--timeout=30"] + vif_script_add(bridge, dev, ids)


def unplug_argv(dev):
    return ["--timeout=30", "--", "--if-exists", "del-port", dev]


_FIELD = re.compile(r"(cookie|table|priority)=([^, ]+)")


def our_flows(ofctl, bridge):
    """xsovs's traffic-rule flows on ``bridge``: sorted ``(table, priority, match, actions)``.

    ``ofctl(*args)`` runs ovs-ofctl for the host (stdout).
    """
    text = ofctl("--no-stats", "dump-flows", bridge, "cookie=" + tf.ALL_COOKIES)
    return sorted(_parse(line) for line in text.splitlines() if "cookie=" in line)


def all_flows(ofctl, bridge):
    """Every flow on ``bridge``: sorted ``(cookie, table, priority, match, actions)``."""
    text = ofctl("--no-stats", "dump-flows", bridge)
    result = []
    for line in text.splitlines():
        if "actions=" not in line:
            continue
        fields = dict(_FIELD.findall(line))
        head, _, actions = line.strip().partition(" actions=")
        match = ",".join(p for p in head.replace(" ", "").split(",")
                         if p and not _FIELD.match(p))
        result.append((fields.get("cookie", "0x0"), int(fields.get("table", 0)),
                       int(fields.get("priority", 32768)), match, actions))
    return sorted(result)


def _parse(line):
    fields = dict(_FIELD.findall(line))
    head, _, actions = line.strip().partition(" actions=")
    match = ",".join(p for p in head.replace(" ", "").split(",") if p and not _FIELD.match(p))
    return (int(fields.get("table", 0)), int(fields.get("priority", 32768)), match, actions)


def in_ports(flows):
    """The ``in_port`` numbers the flows are bound to."""
    return sorted({int(m.group(1)) for f in flows for m in [re.search(r"in_port=(\d+)", f[2])]
                   if m})
