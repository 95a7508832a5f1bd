"""The sdncontroller.py plugin's arguments: read as Xen Orchestra sends them, refused as the
vendor's plugin refuses them (its codes and wording)."""

import random

import pytest

from xsovs_common.net import sdncontroller_args as calls
from xsovs_common.net.traffic_rules import FROM_VIF, TO_VIF, Rule


def rule(allow=False, protocol="tcp", remote="10.0.0.0/8", port=22, direction=FROM_VIF,
         scope="vif", cookie=None):
    return Rule(allow, protocol, remote, port, direction, scope, cookie)


XO_VIF_ADD = {"bridge": "xenbr0", "mac": "6E:0B:9E:72:AB:C6", "allow": "false",
              "protocol": "TCP", "ipRange": "192.168.1.0/24", "direction": "from/to",
              "port": "22"}


def test_plugin_vif_rule_as_xo_sends_it():
    call = calls.parse_plugin_call(dict(XO_VIF_ADD), "add_rule")
    assert call.bridge == "xenbr0" and call.mac == "6e:0b:9e:72:ab:c6"
    assert call.rules == (rule(False, "tcp", "192.168.1.0/24", 22, FROM_VIF),
                          rule(False, "tcp", "192.168.1.0/24", 22, TO_VIF))
    assert call.cookie is None and call.priority is None


def test_plugin_network_rule_with_cookie_and_priority():
    args = {"bridge": "xapi3", "allow": "true", "protocol": "icmp", "ipRange": "10.0.0.1",
            "direction": "to", "cookie": "0x00FF", "priority": "100"}
    call = calls.parse_plugin_call(args, "add_rule")
    assert call.mac is None and call.cookie == "0xff" and call.priority == 100
    assert call.rules == (rule(True, "icmp", "10.0.0.1/32", None, FROM_VIF, "network", "0xff"),)


def test_plugin_del_rule_needs_no_allow_and_cookie_zero_is_none():
    args = dict(XO_VIF_ADD, cookie="0x0")
    del args["allow"]
    call = calls.parse_plugin_call(args, "del_rule")
    assert call.cookie is None and len(call.rules) == 2


@pytest.mark.parametrize("change,code,message", [
    ({"bridge": None}, "1", "add_rule: Failed to get parameters: bridge parameter is missing"),
    ({"bridge": "xenbr 0"}, "1", "add_rule: Failed to get parameters: 'xenbr 0' is not a valid "
                                 "bridge name"),
    ({"mac": "72:7z:C0:AE:1B:A5"}, "1", "add_rule: Failed to get parameters: '72:7z:C0:AE:1B:A5' "
                                        "is not a valid MAC"),
    ({"mac": ""}, "1", "add_rule: Failed to get parameters: '' is not a valid MAC"),
    ({"ipRange": None}, "1", "add_rule: Failed to get parameters: ipRange parameter is missing"),
    ({"ipRange": ""}, "1", "add_rule: Failed to get parameters: '' is not a valid IP range"),
    ({"ipRange": "256.256.256.256"}, "1", "add_rule: Failed to get parameters: "
                                          "'256.256.256.256' is not a valid IP range"),
    ({"direction": None}, "1", "add_rule: Failed to get parameters: direction parameter is "
                               "missing"),
    ({"direction": "aoeui"}, "1", "add_rule: Failed to get parameters: 'aoeui' is not a valid "
                                  "direction"),
    ({"protocol": None}, "1", "add_rule: Failed to get parameters: protocol parameter is missing"),
    ({"protocol": "aoeui"}, "1", "add_rule: Failed to get parameters: 'aoeui' is not a supported "
                                 "protocol"),
    ({"port": "65536"}, "1", "add_rule: Failed to get parameters: '65536' is not a valid port"),
    ({"port": "foo"}, "1", "add_rule: Failed to get parameters: 'foo' is not a valid port"),
    ({"allow": None}, "1", "add_rule: Failed to get parameters: allow parameter is missing"),
    ({"allow": "bar"}, "1", "add_rule: Failed to get parameters: allow parameter should be true "
                            "or false, not 'bar'"),
    ({"priority": "65536"}, "1", "add_rule: Failed to get parameters: '65536' is not a valid "
                                 "priority"),
    ({"cookie": "not-a-cookie"}, "1", "add_rule: Failed to get parameters: 'not-a-cookie' is "
                                      "not a valid cookie"),
    ({"cookie": "0x"}, "1", None),
    ({"cookie": "0x12345678901234567"}, "1", None),
    ({"port": None}, "2", "add_rule: No port provided, tcp and udp requires one"),
    ({"foo": "bar"}, "1", None),
])
def test_plugin_arguments_refused_as_the_vendor_plugin_does(change, code, message):
    args = dict(XO_VIF_ADD)
    for key, value in change.items():
        if value is None:
            args.pop(key)
        else:
            args[key] = value
    with pytest.raises(calls.PluginArgumentError) as caught:
        calls.parse_plugin_call(args, "add_rule")
    assert caught.value.code == code
    assert caught.value.error_description()[0] == code
    if message:
        assert caught.value.error_description()[1] == message


def test_plugin_cookie_probe_is_refused_naming_the_cookie():
    """Xen Orchestra's probe for cookie support: E_PARSER whose message names the cookie."""
    args = {"bridge": "xenbr0", "mac": "00:00:00:00:00:00", "direction": "to",
            "protocol": "ip", "ipRange": "255.255.255.255", "cookie": "not-a-cookie"}
    with pytest.raises(calls.PluginArgumentError) as caught:
        calls.parse_plugin_call(args, "del_rule")
    description = caught.value.error_description()
    assert description[0] == calls.E_PARSER and "cookie" in description[1]


def test_fuzzed_plugin_arguments_parse_or_refuse_cleanly():
    rng = random.Random(191919)
    values = ["", "0", "22", "65535", "65536", "-1", "tcp", "TCP", "ip", "arp", "to", "from/to",
              "true", "FALSE", "10.0.0.0/8", "1.2.3.4", "0x1", "0xzz", "xenbr0", "a b",
              "00:11:22:33:44:55", "\x00", "x" * 300]
    for _ in range(3000):
        args = dict(XO_VIF_ADD)
        for key in rng.sample(sorted(calls.PLUGIN_ARGUMENTS), rng.randint(1, 4)):
            if rng.random() < 0.2:
                args.pop(key, None)
            else:
                args[key] = rng.choice(values)
        try:
            call = calls.parse_plugin_call(args, rng.choice(["add_rule", "del_rule"]))
        except calls.PluginArgumentError as exc:
            assert exc.code in (calls.E_PARSER, calls.E_PARAMS) and exc.message
            continue
        assert call.rules
