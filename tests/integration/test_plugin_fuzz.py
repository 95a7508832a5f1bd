"""Failures XAPI can always read: the plugin's answer to any value XAPI hands over.

The plugin reads strings any pool administrator can write: any code point,
NUL and lone surrogates included (XAPI's JSON-RPC carries them all).  Two
kinds of test:

- the plugin as XAPI runs it (exec'd by the simulator's ``host.call_plugin``,
  its stdout parsed as XML-RPC) for the values that broke it once: NUL in an
  ``SDN_controller.protocol`` and in ``pool.vswitch_controller``, a lone
  surrogate in a PIF's MAC;
- a seeded fuzz of over 1,000 bad values through the plugin's functions
  in-process (what the plugin's main does, but the exec): each answer, as the
  plugin writes it, must parse as XML-RPC, be a Success or a Failure whose
  code names a refusal (never an unexpected exception), and echo nothing
  unsafe.  ``XSOVS_FUZZ_SEED`` replays another seed.
"""

import os
import random
import re
import xmlrpc.client

import pytest

from tests.support.plugin_host import NEW_PLUGIN, ovsdb_state, one_host
from xsovs_common import paths
from xsovs_common.actions import cfg_update
from xsovs_common.net import dbcache
from xsovs_common.xapi import plugin

# What no answer may hold: control characters (but an answer's own line breaks
# and tabs), invalid Unicode.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
UNSAFE_IN_VALUE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _clean(answer):
    """The answer's strings hold nothing unsafe; returns the answer."""
    if answer["Status"] == "Success":
        assert not UNSAFE_IN_VALUE.search(answer["Value"]), answer
    else:
        assert answer["Status"] == "Failure", answer
        for text in answer["ErrorDescription"]:
            assert not UNSAFE.search(text), answer
    return answer


def _outcome(host):
    """XAPI's reading of the plugin's last run on this host (the simulator parsed it)."""
    call = [c for c in host.sim.plugin_calls if c.host_uuid == host.uuid][-1]
    assert call.stdout.isascii(), call.stdout
    return _clean(call.outcome)


@pytest.fixture
def host(plugin_host):
    h = plugin_host(one_host())
    h.sim.store.add("SDN_controller", {"protocol": "ssl", "address": "192.0.2.5", "port": 6632})
    h.call("update")
    return h


@pytest.fixture
def legacy_host(plugin_host):
    h = plugin_host(one_host(vswitch_controller="192.0.2.5").without_sdn_controller_class())
    h.call("update")
    return h


def test_nul_in_the_sdn_controller_protocol(host):
    before = ovsdb_state(host.ovs)
    sdn = host.sim.store.refs("SDN_controller")[0]
    host.sim.store.set("SDN_controller", sdn, "protocol", "ss\x00l", check=False)
    host.failure("update", plugin=NEW_PLUGIN)
    assert _outcome(host)["ErrorDescription"] == [
        "INVALID_VSWITCH_CONTROLLER", "ss\\x00l",
        "invalid vswitch controller 'ss\\x00l': protocol is not one of ssl, tcp, pssl"]
    assert ovsdb_state(host.ovs) == before


def test_nul_in_the_legacy_pool_vswitch_controller(legacy_host):
    host = legacy_host
    before = ovsdb_state(host.ovs)
    host.sim.store.set("pool", host.sim.store.refs("pool")[0], "vswitch_controller",
                       "192.0.2.6\x00")
    host.failure("update")
    assert _outcome(host)["ErrorDescription"] == [
        "INVALID_VSWITCH_CONTROLLER", "192.0.2.6\\x00",
        "invalid vswitch controller '192.0.2.6\\x00': not an IPv4 / IPv6 address or host name"]
    assert ovsdb_state(host.ovs) == before


def test_a_lone_surrogate_in_a_pifs_mac(host):
    store = host.sim.store
    eth1 = store.find("PIF", device="eth1")[0]
    store.set("PIF", eth1, "MAC", "02:00:00:00:00:\ud800")
    # Not a MAC the update uses: it succeeds, and the cache holds what a file can.
    assert host.call("update", plugin=NEW_PLUGIN).startswith("network cache rewritten")
    _outcome(host)
    cache = dbcache.read(host.root.file(paths.NETWORK_DBCACHE))
    assert cache.pifs[eth1]["MAC"] == "02:00:00:00:00:\ufffd"
    # The management PIF's, when a new controller needs the management flows: refused.
    eth0 = store.find("PIF", device="eth0", VLAN=-1)[0]
    store.set("PIF", eth0, "MAC", "02:00:00:00:00:\ud800")
    store.set("pool", store.refs("pool")[0], "other_config",
              {"vswitch-controller-fail-mode": "secure"})
    store.set("SDN_controller", store.refs("SDN_controller")[0], "address", "192.0.2.6")
    before = ovsdb_state(host.ovs)
    host.failure("update", plugin=NEW_PLUGIN)
    what = "MAC of PIF %s (eth0)" % store.field("PIF", eth0, "uuid")   # the management PIF
    assert _outcome(host)["ErrorDescription"] == [
        "INVALID_VALUE", what, "02:00:00:00:00:\ufffd",
        "invalid %s '02:00:00:00:00:\\ud800'" % what]
    assert ovsdb_state(host.ovs) == before


# -- the fuzz -------------------------------------------------------------------------

CASES = 1200
SEED = int(os.environ.get("XSOVS_FUZZ_SEED", "17"))

# Codes that name a refusal or a fault of the host, each with its reason.
REFUSALS = {"INVALID_VSWITCH_CONTROLLER", "INVALID_VALUE", "XSOVS_BAD_NETWORK_CACHE",
            "VSWITCH_CONFIG_MOD_FAILURE", "UNKNOWN_XENAPI_PLUGIN_FUNCTION"}

PIECES = ["\x00", "\x01", "\x08", "\x1b[31m", "\x7f", "\x85", "\r", "\n", "\t", "\ud800",
          "\udfff", "\udcff", "\ufffe", "\uffff", "\u2028", "é", "𝄞", "<", ">", "&", "]]>",
          "<!--", '"', "'", "\\", ";", "$(reboot)", "`id`", " ", ",", ":", "::", "[", "]",
          "/", "..", "%s", "%(x)s", "{}", "\\x00", "&#0;", "-", "--", "="]
PLAUSIBLE = ["192.0.2.7", "2001:db8::7", "[2001:db8::7]", "ctl.example.com", "6632", "0",
             "65535", "65536", "-1", "ssl", "pssl", "tcp", "secure", "standalone", "true",
             "false", "", "02:00:00:00:00:01", "xenbr0", "eth0", "bond0", "255.255.255.0",
             "24", "Static", "DHCP", "None", "1500", "9000", "OpaqueRef:NULL",
             "channel", "openflow", "active-backup", "lacp", "100"]


def fuzzed(rng):
    """A string XAPI could hand over: plausible, damaged, pieces, or any code points."""
    pick = rng.random()
    if pick < 0.15:
        text = rng.choice(PLAUSIBLE)
    elif pick < 0.55:
        text = rng.choice(PLAUSIBLE)
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(PIECES) + text[at:]
    elif pick < 0.85:
        text = "".join(rng.choice(PIECES + PLAUSIBLE) for _ in range(rng.randint(1, 6)))
    else:
        text = "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randint(1, 12)))
    return text * 500 if rng.random() < 0.02 else text


def fuzzed_int(rng):
    return rng.choice([0, -1, 1, 6632, 6640, 65535, 65536, 2 ** 31, -2 ** 63, 2 ** 63 - 1,
                       rng.randrange(-10 ** 6, 10 ** 6)])


def fuzzed_map(rng, keys):
    return {rng.choice(keys) if rng.random() < 0.8 else fuzzed(rng): fuzzed(rng)
            for _ in range(rng.randint(0, 3))}


NETWORK_KEYS = ["vswitch-controller-fail-mode", "vswitch-disable-in-band", "mtu",
                "static-routes", "ethtool-tx"]
PIF_KEYS = ["bond-mode", "bond-miimon", "bond-updelay", "bond-downdelay", "bond-lacp-rate",
            "ethtool-rx", "mtu", "domain", "peerdns", "defaultroute", "static-routes"]
POOL_KEYS = ["vswitch-controller-fail-mode", "xo:sdn-controller:of-method"]

# (class, record chooser, field, kind): the XAPI values the fuzz writes.
FIELDS = [
    ("SDN_controller", None, "protocol", "enum"), ("SDN_controller", None, "address", "str"),
    ("SDN_controller", None, "port", "int"), ("pool", None, "vswitch_controller", "str"),
    ("pool", None, "other_config", POOL_KEYS), ("network", "bridge", "other_config",
                                                 NETWORK_KEYS),
    ("network", "bridge", "bridge", "str"), ("network", "bridge", "MTU", "int"),
    ("PIF", "device", "MAC", "str"), ("PIF", "device", "device", "str"),
    ("PIF", "device", "other_config", PIF_KEYS), ("PIF", "device", "IP", "str"),
    ("PIF", "device", "netmask", "str"), ("PIF", "device", "gateway", "str"),
    ("PIF", "device", "DNS", "str"), ("PIF", "device", "ip_configuration_mode", "enum"),
    ("PIF", "device", "management", "bool"), ("Bond", None, "mode", "enum"),
    ("Bond", None, "other_config", PIF_KEYS), ("VLAN", None, "tag", "int"),
]


def _mutate(store, rng):
    """Write one fuzzed XAPI value; returns how to put the old one back."""
    cls, _, name, kind = rng.choice(FIELDS)
    refs = store.refs(cls)
    if not refs:
        return lambda: None
    ref = rng.choice(refs)
    old = store.field(cls, ref, name)
    if kind == "int":
        value = fuzzed_int(rng)
    elif kind == "bool":
        value = not old
    elif isinstance(kind, list):
        value = fuzzed_map(rng, kind)
    else:
        value = fuzzed(rng)
    store.set(cls, ref, name, value, check=False)
    return lambda: store.set(cls, ref, name, old, check=False)


def _call(rng):
    """The function XAPI calls and its arguments (set-manager's fuzzed too)."""
    pick = rng.random()
    if pick < 0.55:
        return "update", {}
    if pick < 0.7:
        return "status", {}
    if pick < 0.75:
        return "rewrite", {}
    if pick < 0.95:
        args = {key: fuzzed(rng) for key in ("controller", "port", "protocol")
                if rng.random() < 0.7}
        if rng.random() < 0.1:
            args[fuzzed(rng)] = fuzzed(rng)
        return "set-manager", args
    return fuzzed(rng), {}


def _answer(text):
    """What XAPI reads of the plugin's answer: its bytes on stdout, parsed."""
    data = plugin.encode_answer(text)
    (answer,), _ = xmlrpc.client.loads(data)
    return answer


@pytest.mark.parametrize("legacy", [False, True], ids=["current XAPI", "legacy XAPI"])
def test_fuzz_every_answer_is_one_xapi_can_read(plugin_host, monkeypatch, legacy):
    builder = one_host(vswitch_controller="192.0.2.5")
    if legacy:
        builder.without_sdn_controller_class()
    host = plugin_host(builder)
    if not legacy:
        host.sim.store.add("SDN_controller", {"protocol": "ssl", "address": "192.0.2.5",
                                              "port": 6632})
    for key, value in host.sim.plugin_env(host.uuid).items():
        if key.startswith(("XSOVS_", "OVS_")):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("XSOVS_XAPI_URL", host.sim.url)
    # Not what this checks, and a stub that answers at once keeps 1,000 runs quick.
    host.root.write(paths.PROGRAMS["iptables"], "#!/bin/sh\nexit 0\n", mode=0o755)
    session = host.sim.login(host=host.ref, kind="plugin")
    rng = random.Random(SEED + legacy)
    codes = {"Success": 0}
    for case in range(CASES // 2):
        restore = [_mutate(host.sim.store, rng) for _ in range(rng.randint(1, 2))]
        fn, args = _call(rng)
        call = xmlrpc.client.dumps((session, args), fn)
        try:
            xmlrpc.client.loads(call)
            readable = True
        except Exception:
            readable = False     # XAPI could not even have sent this call
        answer = _clean(_answer(plugin.respond(cfg_update.PLUGIN_FUNCTIONS, [call])))
        where = "case %d (seed %d): %s %r -> %r" % (case, SEED, fn, args, answer)
        if answer["Status"] == "Failure":
            code = answer["ErrorDescription"][0]
            if readable:
                assert code in REFUSALS, where
                assert len(answer["ErrorDescription"]) >= 2, where
            else:
                assert answer["ErrorDescription"][:2] == ["XENAPI_PLUGIN_FAILURE", ""], where
            codes[code] = codes.get(code, 0) + 1
        else:
            codes["Success"] += 1
        for undo in reversed(restore):
            undo()
    # The fuzz reached both outcomes, and the controller's checks.
    assert codes["Success"] and "INVALID_VSWITCH_CONTROLLER" in codes, codes
