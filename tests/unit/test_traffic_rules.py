"""Xen Orchestra's traffic rules: parsing, refusal of bad input, and which rule wins."""

import json
import random

import pytest

from xsovs_common.errors import InvalidValue
from xsovs_common.net import traffic_rules as tr
from xsovs_common.net.traffic_rules import FROM_VIF, TO_VIF, Rule


def stored(*rules):
    """A list as XO stores it: JSON strings of JSON objects."""
    return json.dumps([json.dumps(r) for r in rules])


def rule(allow=False, protocol="tcp", remote="10.0.0.0/8", port=22, direction=FROM_VIF,
         scope="vif", cookie=None):
    return Rule(allow, protocol, remote, port, direction, scope, cookie)


def test_a_list_as_xo_writes_it():
    text = stored({"allow": False, "protocol": "TCP", "port": 22, "ipRange": "10.0.0.0/8",
                   "direction": "from/to"},
                  {"allow": True, "protocol": "ICMP", "ipRange": "192.0.2.7", "direction": "to"})
    assert tr.parse_rule_list(text, "vif") == (
        rule(direction=FROM_VIF), rule(direction=TO_VIF),
        rule(True, "icmp", "192.0.2.7/32", None, FROM_VIF))


def test_network_rules_keep_xo_cookie_normalised():
    text = stored({"allow": False, "protocol": "udp", "port": "53", "ipRange": "198.51.100.0/24",
                   "direction": "from", "cookie": "0x00AbC"})
    assert tr.parse_rule_list(text, "network") == (
        rule(False, "udp", "198.51.100.0/24", 53, TO_VIF, "network", "0xabc"),)


@pytest.mark.parametrize("ip_range,expected", [
    ("", tr.ANY), ("0.0.0.0/0", tr.ANY), ("10.1.2.3/8", "10.0.0.0/8"),
    ("192.0.2.1", "192.0.2.1/32"),
    ("192.0.2.1/32", "192.0.2.1/32"), ("172.16.5.4/12", "172.16.0.0/12"),
])
def test_ip_ranges_canonical(ip_range, expected):
    assert tr.parse_ip_range(ip_range) == expected


@pytest.mark.parametrize("ip_range", [
    "10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "010.0.0.1", "2001:db8::/32", "10.0.0.0/8 ",
    "10.0.0.0/-1", "a.b.c.d", "10.0.0.0/8/8", None, 17,
])
def test_ip_ranges_refused(ip_range):
    with pytest.raises(InvalidValue):
        tr.parse_ip_range(ip_range)


def test_channel_format_is_read_as_xo_migration_translates_it():
    vif = "vif"
    ip_from = stored({"allow": False, "protocol": "IP", "ipRange": "10.0.0.0/8",
                      "direction": "from"})
    assert tr.parse_rule_list(ip_from, vif, tr.FORMAT_CHANNEL) == (
        rule(protocol="ip", port=None, direction=FROM_VIF),)
    arp_to = stored({"allow": False, "protocol": "ARP", "ipRange": "10.0.0.0/8", "direction": "to"})
    assert tr.parse_rule_list(arp_to, vif, tr.FORMAT_CHANNEL) == (
        rule(protocol="arp", port=None, direction=TO_VIF),)
    both = stored({"allow": False, "protocol": "IP", "ipRange": "", "direction": "from/to"})
    assert [r.direction for r in tr.parse_rule_list(both, vif, tr.FORMAT_CHANNEL)] == \
        [FROM_VIF, TO_VIF]
    tcp = stored({"allow": True, "protocol": "TCP", "port": 443, "ipRange": "", "direction": "to"})
    assert tr.parse_rule_list(tcp, vif, tr.FORMAT_CHANNEL) == (
        rule(True, "tcp", tr.ANY, 443, FROM_VIF), rule(True, "tcp", tr.ANY, 443, TO_VIF))
    icmp = stored({"allow": False, "protocol": "ICMP", "port": 3, "ipRange": "",
                   "direction": "from"})
    assert [r.port for r in tr.parse_rule_list(icmp, vif, tr.FORMAT_CHANNEL)] == [None, None]


def test_pool_format_from_xo_keys():
    assert tr.of_format({}) == tr.FORMAT_CHANNEL
    assert tr.of_format({tr.OF_METHOD_KEY: "xapi-plugin"}) == tr.FORMAT_PLUGIN
    assert tr.of_format({tr.OF_METHOD_KEY: "xapi-plugin",
                         tr.OF_FORMAT_KEY: "channel"}) == tr.FORMAT_CHANNEL
    with pytest.raises(InvalidValue):
        tr.of_format({tr.OF_FORMAT_KEY: "openflow"})


@pytest.mark.parametrize("text,reason", [
    ("", "not JSON"),
    ("{}", "not a JSON list"),
    ('[{"allow": false, "protocol": "ip", "direction": "to"}]', "not a JSON string"),
    (stored({"allow": "maybe", "protocol": "ip", "direction": "to"}), "true or false"),
    (stored({"allow": False, "protocol": "sctp", "direction": "to"}), "expected one of"),
    (stored({"allow": False, "protocol": "ip", "direction": "up"}), "from/to"),
    (stored({"allow": False, "protocol": "ip", "direction": "to/to"}), "from/to"),
    (stored({"allow": False, "protocol": "ip", "direction": "to/xyz"}), "from/to"),
    (stored({"allow": False, "protocol": "ip"}), "no direction"),
    (stored({"protocol": "ip", "direction": "to"}), "no allow"),
    (stored({"allow": False, "protocol": "tcp", "port": 70000, "direction": "to"}), "0-65535"),
    (stored({"allow": False, "protocol": "tcp", "port": "ssh", "direction": "to"}), "integer"),
    (stored({"allow": False, "protocol": "tcp", "port": True, "direction": "to"}), "port"),
    (stored({"allow": False, "protocol": "icmp", "port": 1, "direction": "to"}),
     "only tcp and udp"),
    (stored({"allow": False, "protocol": "ip", "ipRange": "10.0.0.0/40", "direction": "to"}),
     "prefix"),
    (stored({"allow": False, "protocol": "ip", "direction": "to", "cookie": "12"}), None),
    (json.dumps(["not json"]), "not JSON"),
    (json.dumps(["[1, 2]"]), "not a JSON object"),
    ("[" + ",".join(['"{}"'] * 2000) + "]", "more than"),
    ("\x00[]", "control"),
])
def test_malformed_lists_are_refused_with_a_reason(text, reason):
    scope = "network" if "cookie" in text else "vif"
    with pytest.raises(InvalidValue) as caught:
        tr.parse_rule_list(text, scope)
    if reason:
        assert reason in caught.value.message


def test_refusal_names_the_item():
    text = stored({"allow": False, "protocol": "ip", "direction": "to"},
                  {"allow": False, "protocol": "bogus", "direction": "to"})
    with pytest.raises(InvalidValue) as caught:
        tr.parse_rule_list(text, "vif")
    assert "rule 2" in caught.value.message and "bogus" in caught.value.message


def test_a_list_too_big_is_refused():
    item = json.dumps({"allow": False, "protocol": "ip", "ipRange": "", "direction": "to"})
    with pytest.raises(InvalidValue):
        tr.parse_rule_list(json.dumps([item + " " * 300] * 1000), "vif")


def test_duplicates_collapse_and_empty_list_is_no_rules():
    item = {"allow": False, "protocol": "ip", "ipRange": "", "direction": "to"}
    assert len(tr.parse_rule_list(stored(item, item), "vif")) == 1
    assert tr.parse_rule_list("[]", "vif") == ()


def test_render_round_trips():
    rules = tr.parse_rule_list(stored(
        {"allow": False, "protocol": "TCP", "port": 22, "ipRange": "10.0.0.0/8",
         "direction": "from/to"},
        {"allow": True, "protocol": "arp", "ipRange": "", "direction": "from"}), "vif")
    assert tr.parse_rule_list(tr.render_rule_list(rules), "vif") == rules
    assert tr.render_rule_list(()) is None


# -- precedence -----------------------------------------------------------------------

def test_more_specific_range_wins_first():
    wide_allow = rule(True, "tcp", "10.0.0.0/8", 22)
    narrow_deny = rule(False, "ip", "10.1.0.0/16", None)
    assert tr.precedence(narrow_deny) > tr.precedence(wide_allow)


def test_then_port_over_protocol_over_ip():
    ip = rule(False, "ip", tr.ANY, None)
    tcp_any = rule(True, "tcp", tr.ANY, None)
    tcp_22 = rule(False, "tcp", tr.ANY, 22)
    assert tr.precedence(tcp_22) > tr.precedence(tcp_any) > tr.precedence(ip)


def test_then_vif_over_network_then_deny_over_allow():
    vif_allow = rule(True, scope="vif")
    net_deny = rule(False, scope="network")
    assert tr.precedence(vif_allow) > tr.precedence(net_deny)
    assert tr.precedence(rule(False)) > tr.precedence(rule(True))


def test_precedence_levels_bound_and_distinct_classes():
    ranks = set()
    for prefix in (0, 8, 32):
        for protocol, port in (("ip", None), ("icmp", None), ("tcp", 22)):
            for scope in tr.SCOPES:
                for allow in (True, False):
                    remote = "0.0.0.0/%d" % prefix if prefix == 0 else "10.0.0.0/%d" % prefix
                    if prefix == 32:
                        remote = "10.0.0.1/32"
                    ranks.add(tr.precedence(rule(allow, protocol, remote, port, scope=scope)))
    assert len(ranks) == 3 * 3 * 2 * 2
    assert min(ranks) == 0 and max(ranks) == tr.PRECEDENCE_LEVELS - 1


def test_in_force_orders_and_dedupes():
    deny_all = rule(False, "ip", tr.ANY, None, scope="network")
    allow_ssh = rule(True, "tcp", "10.0.0.0/8", 22)
    assert tr.in_force([allow_ssh, allow_ssh], [deny_all]) == [allow_ssh, deny_all]


def first_match(rules, packet):
    """A reference evaluator of the documented meaning: the first rule in force decides."""
    for r in tr.in_force([x for x in rules if x.scope == "vif"],
                         [x for x in rules if x.scope == "network"]):
        if r.direction != packet["direction"]:
            continue
        if r.protocol != "ip" and r.protocol != packet["protocol"]:
            continue
        if r.protocol == "ip" and packet["protocol"] == "arp":
            continue
        net, length = r.remote.split("/")
        mask = (0xffffffff << (32 - int(length))) & 0xffffffff
        if (_number(packet["remote"]) & mask) != _number(net):
            continue
        if r.port is not None and r.port != packet.get("port"):
            continue
        return r.allow
    return True


def _number(address):
    value = 0
    for octet in address.split("."):
        value = value * 256 + int(octet)
    return value


def test_equal_precedence_never_disagrees():
    """Fuzz: any two matching rules of equal rank have the same action."""
    rng = random.Random(19)
    for _ in range(3000):
        a = _random_rule(rng)
        b = _random_rule(rng)
        if tr.precedence(a) == tr.precedence(b):
            assert a.allow == b.allow


def test_deny_wins_over_allow_of_same_match():
    allow = rule(True)
    deny = rule(False)
    packet = {"direction": FROM_VIF, "protocol": "tcp", "remote": "10.2.3.4", "port": 22}
    assert first_match([allow, deny], packet) is False
    assert first_match([allow], packet) is True
    assert first_match([], packet) is True


def _random_rule(rng):
    protocol = rng.choice(tr.PROTOCOLS)
    port = rng.choice([None, 22, 80]) if protocol in tr.PORT_PROTOCOLS else None
    length = rng.choice([0, 8, 16, 24, 32])
    remote = tr.parse_ip_range("10.%d.%d.%d/%d" % (rng.randrange(3), rng.randrange(3),
                                                    rng.randrange(3), length))
    return Rule(rng.random() < 0.5, protocol, remote, port, rng.choice(tr.DIRECTIONS),
                rng.choice(tr.SCOPES), None)


def test_fuzzed_lists_parse_or_refuse_cleanly():
    """Random damage to a valid list: every outcome is Rules or InvalidValue, never a crash."""
    rng = random.Random(1919)
    base = stored({"allow": False, "protocol": "TCP", "port": 22, "ipRange": "10.0.0.0/8",
                   "direction": "from/to"},
                  {"allow": True, "protocol": "icmp", "ipRange": "", "direction": "to"})
    alphabet = '[]{}",:/\\0123456789abcdefxtoTCPfrom.-\x00 '
    for _ in range(3000):
        chars = list(base)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(chars))
            action = rng.randrange(3)
            if action == 0:
                del chars[pos]
            elif action == 1:
                chars.insert(pos, rng.choice(alphabet))
            else:
                chars[pos] = rng.choice(alphabet)
        text = "".join(chars)
        try:
            rules = tr.parse_rule_list(text, "vif")
        except InvalidValue as exc:
            assert exc.message
            continue
        for r in rules:
            assert r.protocol in tr.PROTOCOLS and r.direction in tr.DIRECTIONS
            assert 0 <= tr.precedence(r) < tr.PRECEDENCE_LEVELS
