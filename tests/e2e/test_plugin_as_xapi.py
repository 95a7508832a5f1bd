"""xsovs's ``update`` against what XAPI's own plugin intends, scenario by scenario.

XAPI's plugin (xen-api, ``python3/plugins/openvswitch-config-update``), read for
what it means to leave on a host after the ``update`` runs XAPI makes:

- the manager comes from the pool's ``SDN_controller`` record alone:
  ``ssl:ADDRESS:PORT``, or ``pssl:6640``; no record, no manager
  (``pool.vswitch_controller`` is never read);
- when that manager changes: the bootstrapped CA file is deleted, the switch
  ``emer-reset``, then the manager and SSL are set (``ssl``: XAPI's key and
  certificate, the bootstrapped CA file, bootstrap on; ``pssl``: the same key,
  the pool's SDN controller CA, bootstrap off), or both removed; XAPI's
  ``firewall-port`` opens TCP 6640 for ``pssl`` and closes it otherwise;
- on every real bridge XAPI knows, the fail mode (the network's ``secure`` or
  ``standalone``, else ``secure`` when the pool says so, else ``standalone``)
  and ``disable-in-band`` (the network's ``true`` / ``false``; none or empty
  removes it); a bridge it does not know keeps what the reset left;
- with a controller newly set and the pool's mode ``secure``, four flows on the
  management bridge at priority 0 (none without a new controller): ARP
  requests from the NIC and frames for the host's MAC to the host, the
  host's ARP and frames out of the NIC.

Each scenario's expected state is written below from that reading (on a real
host, since 2023, the plugin reads only the first character of each
``ovs-vsctl`` answer and does much less: the comparison is with its intent).
Where xsovs differs on purpose the expectation is changed by name, and
README.md's list of differences must name it.
"""

import json
import os
import subprocess

import pytest

from tests.support import xapi_firewall
from tests.support.plugin_host import BOND_OTHER_CONFIG, NEW_PLUGIN, one_host
from xsovs_common import paths
from xsovs_dev import netns
from xsovs_dev.xapisim import REPO_ROOT

KNOWN = ("xenbr0", "xenbr1", "xapi1")        # XAPI's real bridges (xapi2: a VLAN of xenbr0)
# The same in every scenario: xenbr0's network disables in-band, xenbr1's enables it.
IN_BAND = {"xenbr0": "true", "xenbr1": "false", "xapi1": None}

# xsovs's deliberate differences applied here, each as README.md names it.
OPENFLOW_CHANNEL = "TCP 6653 is open while a controller is set"
BOND_SETTINGS = "bond settings come back after the reset"
SECURE_MANAGEMENT = "flows on a secure management bridge whatever the pool's mode"
NO_CONTROLLER_MANAGEMENT = "management flows on a secure management bridge with no controller"
STANDALONE_MANAGEMENT = "no flows on a standalone management bridge"


class Scenario:
    """XAPI's calls, then what XAPI's plugin intends the host to hold."""

    def __init__(self, name, steps, manager, ssl, changed, fail_modes, flows=False,
                 pool_mode=None, network_modes=None, differences=()):
        self.name, self.steps = name, steps
        self.manager = manager          # the manager string, or None
        self.ssl = ssl                  # None, "active" (ssl) or "listening" (pssl)
        self.changed = changed          # the manager changed: CA deleted, emer-reset
        self.fail_modes = fail_modes    # bridge -> fail mode (KNOWN and "foreign")
        self.flows = flows              # XAPI's four management flows on xenbr0
        self.pool_mode = pool_mode
        self.network_modes = network_modes or {}
        self.differences = differences  # xsovs's, beyond those of every scenario

    def __repr__(self):
        return self.name


def _modes(mode, **others):
    modes = dict.fromkeys(KNOWN, mode)
    modes.update(others)
    return modes


def introduce(*args):
    return lambda x: x.SDN_controller.introduce(*args)


def set_pool_controller(address):
    return lambda x: x.pool.set_vswitch_controller(address)


def forget(x):
    x.SDN_controller.forget(x.SDN_controller.get_all()[0])


RESET = None       # the fail mode of a bridge XAPI does not know, after emer-reset

SCENARIOS = [
    Scenario("no controller", [], manager=None, ssl=None, changed=False,
             fail_modes=_modes("standalone", foreign="secure")),
    Scenario("the pool's controller", [set_pool_controller("192.0.2.50")],
             manager="ssl:192.0.2.50:6632", ssl="active", changed=True,
             fail_modes=_modes("standalone", foreign=RESET)),
    Scenario("SDN_controller ssl", [introduce("ssl", "192.0.2.51", "6633")],
             manager="ssl:192.0.2.51:6633", ssl="active", changed=True,
             fail_modes=_modes("standalone", foreign=RESET)),
    Scenario("SDN_controller pssl", [introduce("pssl", "", "0")],
             manager="pssl:6640", ssl="listening", changed=True,
             fail_modes=_modes("standalone", foreign=RESET)),
    Scenario("back to none", [introduce("ssl", "192.0.2.51", "6632"), forget],
             manager=None, ssl=None, changed=True,
             fail_modes=_modes("standalone", foreign=RESET)),
    Scenario("forget with a leftover pool.vswitch_controller",
             [set_pool_controller("192.0.2.50"), forget],
             manager=None, ssl=None, changed=True,
             fail_modes=_modes("standalone", foreign=RESET)),
    Scenario("fail modes: network, else pool, else standalone", [],
             manager=None, ssl=None, changed=False, pool_mode="bogus",
             network_modes={"xenbr1": "secure", "xapi1": "Secure"},
             fail_modes=_modes("standalone", xenbr1="secure", foreign="secure")),
    Scenario("secure pool, no controller", [],
             manager=None, ssl=None, changed=False, pool_mode="secure",
             fail_modes=_modes("secure", foreign="secure"),
             differences=(NO_CONTROLLER_MANAGEMENT,)),
    Scenario("secure pool, one network standalone, a controller",
             [introduce("ssl", "192.0.2.51", "6632")],
             manager="ssl:192.0.2.51:6632", ssl="active", changed=True, pool_mode="secure",
             network_modes={"xenbr1": "standalone", "xapi1": "bogus"},
             fail_modes=_modes("secure", xenbr1="standalone", foreign=RESET), flows=True),
    Scenario("standalone pool, secure management network, a controller",
             [introduce("ssl", "192.0.2.51", "6632")],
             manager="ssl:192.0.2.51:6632", ssl="active", changed=True,
             pool_mode="standalone", network_modes={"xenbr0": "secure"},
             fail_modes=_modes("standalone", xenbr0="secure", foreign=RESET),
             differences=(SECURE_MANAGEMENT,)),
    Scenario("secure pool, standalone management network, a controller",
             [introduce("ssl", "192.0.2.51", "6632")],
             manager="ssl:192.0.2.51:6632", ssl="active", changed=True, pool_mode="secure",
             network_modes={"xenbr0": "standalone"},
             fail_modes=_modes("secure", xenbr0="standalone", foreign=RESET), flows=True,
             differences=(STANDALONE_MANAGEMENT,)),
]


# -- the host ----------------------------------------------------------------------

@pytest.fixture
def host(netns_ok, plugin_host, fake_root, tmp_path):
    """A host whose firewall is a namespace's iptables, behind XAPI's firewall-port."""
    namespace = netns.Namespace().create()
    try:
        fake_root.netns_program("iptables", namespace.name)
        xapi_firewall.install(fake_root, namespace, str(tmp_path / "firewall-port.log"))
        h = plugin_host(one_host())
        h.namespace = namespace
        yield h
    finally:
        namespace.delete()


def _mac(host, device):
    store = host.sim.store
    return store.field("PIF", store.find("PIF", device=device, VLAN=-1)[0], "MAC")


def _prepare(host, scenario):
    """XAPI's data for the scenario, and the bridges as interface-reconfigure left them."""
    store = host.sim.store
    if scenario.pool_mode:
        store.set("pool", store.refs("pool")[0], "other_config",
                  {"vswitch-controller-fail-mode": scenario.pool_mode})
    for bridge in KNOWN:
        other_config = {}
        if IN_BAND[bridge]:
            other_config["vswitch-disable-in-band"] = IN_BAND[bridge]
        if bridge in scenario.network_modes:
            other_config["vswitch-controller-fail-mode"] = scenario.network_modes[bridge]
        store.set("network", store.find("network", bridge=bridge)[0], "other_config",
                  other_config)
    for bridge, device in (("xenbr0", "eth0"), ("xenbr1", "eth1"), ("xapi1", "bond0")):
        host.ovs.vsctl("set", "Bridge", bridge, "other_config:hwaddr=%s" % _mac(host, device))
    host.root.write(paths.VSWITCHD_CACERT, "CA an earlier controller sent\n")


def _run(host, scenario):
    """XAPI starts (it runs the plugin), then makes the scenario's calls (each runs it)."""
    host.call("update", plugin=NEW_PLUGIN)
    for step in scenario.steps:
        step(host.x)
    runs = [c for c in host.sim.plugin_calls if c.host_uuid == host.uuid]
    assert {c.plugin for c in runs} == {NEW_PLUGIN}
    assert all(c.outcome["Status"] == "Success" for c in runs), [c.outcome for c in runs]


# -- what the host holds -------------------------------------------------------------

def _value(cell):
    """An OVSDB JSON cell as plain data."""
    if isinstance(cell, list) and cell[0] == "map":
        return {k: v for k, v in cell[1]}
    if isinstance(cell, list) and cell[0] == "set":
        return [_value(c) for c in cell[1]] or None
    return cell


def _rows(ovs, table, columns):
    listing = json.loads(ovs.vsctl("--format=json", "--columns=" + ",".join(columns),
                                   "list", table))
    return [dict(zip(listing["headings"], map(_value, row))) for row in listing["data"]]


def _flows(text):
    """Flows as ``match actions``, without cookie or counters, sorted."""
    flows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("NXST", "OFPST")):
            continue
        parts = [p for p in line.split(", ") if not p.startswith("cookie=")]
        flows.append(", ".join(parts))
    return sorted(flows)


def observed(host):
    ovs = host.ovs
    ssl = _rows(ovs, "SSL", ["private_key", "certificate", "ca_cert", "bootstrap_ca_cert"])
    return {
        "managers": ovs.vsctl("get-manager").split(),
        "ssl": [tuple(row.values()) for row in ssl],
        "bridges": {row["name"]: (row["fail_mode"], row["other_config"])
                    for row in _rows(ovs, "Bridge", ["name", "fail_mode", "other_config"])},
        "bond": {row["name"]: row["other_config"]
                 for row in _rows(ovs, "Port", ["name", "other_config"])}["bond0"],
        "flows": _flows(ovs.ofctl("--no-stats", "dump-flows", "xenbr0")),
        "ca_file": host.root.exists(paths.VSWITCHD_CACERT),
        "firewall": xapi_firewall.open_ports(host.namespace),
        "own_rules": [r for r in host.namespace.run(["iptables", "-S"]).stdout.splitlines()
                      if "xsovs-manager" in r],
    }


# -- what XAPI's plugin intends ------------------------------------------------------

def _parsed(flow):
    """A flow as OVS reads it (``ovs-ofctl parse-flow``), in dump-flows' words."""
    text = subprocess.run(["ovs-ofctl", "parse-flow", flow], stdout=subprocess.PIPE,
                          universal_newlines=True, check=True).stdout
    line = [line for line in text.splitlines() if " ADD " in line][0]
    return line.split(" ADD ", 1)[1]


def xapi_flows(ofport, mac):
    """XAPI's four management flows; its ARP match is written as it writes it
    (``arp,nw_proto=1``: ovs-ofctl reads the ARP opcode there)."""
    return [
        "priority=0,idle_timeout=0,in_port=%d,arp,nw_proto=1,actions=LOCAL" % ofport,
        "priority=0,idle_timeout=0,in_port=%d,dl_dst=%s,actions=LOCAL" % (ofport, mac),
        "priority=0,idle_timeout=0,in_port=LOCAL,arp,dl_src=%s,actions=output:%d" % (mac, ofport),
        "priority=0,idle_timeout=0,in_port=LOCAL,dl_src=%s,actions=output:%d" % (mac, ofport),
    ]


def intended(host, scenario):
    """The host as XAPI's plugin means to leave it after the scenario."""
    pem = host.root.file(paths.XAPI_SSL_PEM)
    ssl = {None: [],
           "active": [(pem, pem, host.root.file(paths.VSWITCHD_CACERT), True)],
           "listening": [(pem, pem, host.root.file(paths.SDN_CONTROLLER_CA), False)]}
    bridges = {}
    for bridge, device in (("xenbr0", "eth0"), ("xenbr1", "eth1"), ("xapi1", "bond0")):
        other_config = {"hwaddr": _mac(host, device)}        # emer-reset keeps it
        if IN_BAND[bridge]:
            other_config["disable-in-band"] = IN_BAND[bridge]
        bridges[bridge] = (scenario.fail_modes[bridge], other_config)
    bridges["foreign"] = (scenario.fail_modes["foreign"],
                          {} if scenario.changed else {"disable-in-band": "true"})
    flows = []
    if scenario.flows:
        ofport = int(host.ovs.get("Interface", "eth0", "ofport"))
        flows += xapi_flows(ofport, _mac(host, "eth0"))
    if scenario.fail_modes["xenbr0"] == "standalone":
        flows.append("priority=0,actions=NORMAL")       # Open vSwitch's own, without controller
    return {
        "managers": [scenario.manager] if scenario.manager else [],
        "ssl": ssl[scenario.ssl],
        "bridges": bridges,
        "bond": {} if scenario.changed else BOND_OTHER_CONFIG,   # emer-reset empties it
        "flows": sorted(_parsed(f) for f in flows),
        "ca_file": not scenario.changed,
        "firewall": [6640] if scenario.ssl == "listening" else [],
        "own_rules": [],
    }


def with_differences(host, scenario, expected):
    """XAPI's intent, with xsovs's deliberate differences; returns their names."""
    names = []
    if scenario.manager:
        expected["firewall"] = sorted(expected["firewall"] + [6653])
        names.append(OPENFLOW_CHANNEL)
    if scenario.changed:
        expected["bond"] = BOND_OTHER_CONFIG
        names.append(BOND_SETTINGS)
    ofport = int(host.ovs.get("Interface", "eth0", "ofport"))
    ours = [_parsed(f) for f in xapi_flows(ofport, _mac(host, "eth0"))]
    if SECURE_MANAGEMENT in scenario.differences \
            or NO_CONTROLLER_MANAGEMENT in scenario.differences:
        expected["flows"] = sorted(expected["flows"] + ours)
    if STANDALONE_MANAGEMENT in scenario.differences:
        expected["flows"] = [f for f in expected["flows"] if f not in ours]
    return names + list(scenario.differences)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=repr)
def test_xsovs_leaves_what_xapis_plugin_intends(host, scenario):
    _prepare(host, scenario)
    _run(host, scenario)
    expected = intended(host, scenario)
    differences = with_differences(host, scenario, expected)
    assert observed(host) == expected
    with open(os.path.join(str(REPO_ROOT), "README.md")) as handle:
        readme = " ".join(handle.read().split()).lower()
    for name in differences:
        assert name.lower() in readme, "README.md does not list: " + name
