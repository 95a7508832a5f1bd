"""net.ovn: the XAPI keys of an OVN pool, parsed and refused with their reasons."""

import pytest

from xsovs_common.errors import InvalidValue
from xsovs_common.net import ovn

NET_UUID = "7e1f0a11-0002-4000-8000-00000000b001"
VIF_UUID = "6ab1b260-398e-49ba-827b-c7696108964c"


def test_ovn_is_off_without_a_southbound_remote():
    assert ovn.pool_config({}) == ovn.OFF
    assert not ovn.pool_config({ovn.POOL_SB: ""}).enabled
    assert not ovn.pool_config({ovn.POOL_NB: "tcp:192.0.2.1:6641"}).enabled


def test_pool_keys_in_canonical_form():
    config = ovn.pool_config({
        ovn.POOL_SB: "ssl:192.0.2.1:6642,ssl:192.0.2.2,tcp:[2001:DB8::1]:16642",
        ovn.POOL_NB: "tcp:192.0.2.1",
        ovn.POOL_ENCAP_TYPE: "vxlan",
        ovn.POOL_ENCAP_NETWORK: NET_UUID.upper()})
    assert config.enabled and config.sb_uses_ssl
    assert config.sb_remote == "ssl:192.0.2.1:6642,ssl:192.0.2.2:6642,tcp:[2001:db8::1]:16642"
    assert config.nb_remote == "tcp:192.0.2.1:6641"
    assert (config.encap_type, config.encap_udp_port) == ("vxlan", 4789)
    assert config.encap_network == NET_UUID
    geneve = ovn.pool_config({ovn.POOL_SB: "tcp:192.0.2.1:6642"})
    assert (geneve.encap_type, geneve.encap_udp_port, geneve.sb_uses_ssl) == ("geneve", 6081,
                                                                               False)


@pytest.mark.parametrize("key, value, reason", [
    (ovn.POOL_SB, "192.0.2.1:6642", "does not start with ssl: or tcp:"),
    (ovn.POOL_SB, "pssl:6642", "does not start with ssl: or tcp:"),
    (ovn.POOL_SB, "unix:/var/run/ovn/sb.sock", "does not start with ssl: or tcp:"),
    (ovn.POOL_SB, "ssl:central.example:6642", "is not an IPv4 address"),
    (ovn.POOL_SB, "ssl:192.0.2.1:0", "is not a port"),
    (ovn.POOL_SB, "ssl:192.0.2.1:6642,", "does not start with ssl: or tcp:"),
    (ovn.POOL_SB, "tcp:2001:db8::1:6642", "is not an IPv4 address"),
    (ovn.POOL_SB, "tcp:[2001:db8::1", "in brackets"),
    (ovn.POOL_SB, "tcp:192.0.2.1:6642,tcp:192.0.2.1", "listed twice"),
    (ovn.POOL_SB, "tcp:192.0.2.1:6642 --detach", "is not a port"),
    (ovn.POOL_SB, ",".join("tcp:192.0.2.%d" % i for i in range(1, 18)), "more than 16"),
    (ovn.POOL_NB, "ssl:192.0.2.1:6641;rm", "is not a port"),
    (ovn.POOL_ENCAP_TYPE, "gre", "not an encapsulation"),
    (ovn.POOL_ENCAP_TYPE, "Geneve", "not an encapsulation"),
    (ovn.POOL_ENCAP_NETWORK, "xenbr0", "not a network uuid"),
])
def test_bad_pool_values_are_refused_with_key_reason_and_fix(key, value, reason):
    other_config = {ovn.POOL_SB: "tcp:192.0.2.1:6642", key: value}
    with pytest.raises(ovn.InvalidOvnConfig) as caught:
        ovn.pool_config(other_config)
    error = caught.value
    assert error.code == "XSOVS_INVALID_OVN_CONFIG" and isinstance(error, InvalidValue)
    assert error.key == key and reason in error.message
    assert error.params == ["pool other_config:" + key, value]
    assert "; write" in error.message or "; use" in error.message


def test_the_message_names_key_value_reason_and_fix():
    with pytest.raises(ovn.InvalidOvnConfig) as caught:
        ovn.pool_config({ovn.POOL_ENCAP_TYPE: "stt"})
    assert caught.value.error_description() == [
        "XSOVS_INVALID_OVN_CONFIG", "pool other_config:xsovs:ovn-encap-type", "stt",
        "invalid pool other_config:xsovs:ovn-encap-type 'stt': not an encapsulation; "
        "write one of geneve, vxlan (or remove the key: geneve)"]


def test_bad_key_refused_even_while_ovn_is_off():
    with pytest.raises(ovn.InvalidOvnConfig):
        ovn.pool_config({ovn.POOL_ENCAP_TYPE: "stt"})


def test_networks():
    assert ovn.network_config({"uuid": NET_UUID, "other_config": {}}) is None
    assert ovn.network_config({"uuid": NET_UUID,
                               "other_config": {ovn.NETWORK_OVN: "false"}}) is None
    plain = ovn.network_config({"uuid": NET_UUID, "PIFs": [],
                                "other_config": {ovn.NETWORK_OVN: "true"}})
    assert plain == ovn.OvnNetwork(NET_UUID, NET_UUID)
    shared = ovn.network_config({"uuid": NET_UUID, "other_config": {
        ovn.NETWORK_OVN: "true", ovn.NETWORK_LOGICAL_SWITCH: "tenant-a.web"}})
    assert shared.logical_switch == "tenant-a.web"


@pytest.mark.parametrize("other_config, pifs, reason", [
    ({ovn.NETWORK_OVN: "yes please"}, [], "not true or false"),
    ({ovn.NETWORK_OVN: "true", ovn.NETWORK_LOGICAL_SWITCH: "-x"}, [], "not a logical switch"),
    ({ovn.NETWORK_OVN: "true", ovn.NETWORK_LOGICAL_SWITCH: "a b"}, [], "not a logical switch"),
    ({ovn.NETWORK_OVN: "true", ovn.NETWORK_LOGICAL_SWITCH: "x" * 65}, [],
     "not a logical switch"),
    ({ovn.NETWORK_LOGICAL_SWITCH: "bad\nname"}, [], "not a logical switch"),
    ({ovn.NETWORK_OVN: "true"}, ["OpaqueRef:pif"], "the network has PIFs"),
])
def test_bad_network_values(other_config, pifs, reason):
    with pytest.raises(ovn.InvalidOvnConfig) as caught:
        ovn.network_config({"uuid": NET_UUID, "PIFs": pifs, "other_config": other_config})
    assert reason in caught.value.message
    assert caught.value.params[0].startswith("network %s other_config:xsovs:ovn" % NET_UUID)


def vif(**fields):
    record = {"uuid": VIF_UUID, "MAC": "02:00:00:AA:BB:01", "other_config": {},
              "locking_mode": "network_default", "ipv4_allowed": [], "ipv6_allowed": []}
    record.update(fields)
    return record


def test_logical_port_follows_locking_mode():
    unlocked = {"uuid": NET_UUID, "default_locking_mode": "unlocked"}
    port = ovn.logical_port(vif(), unlocked)
    assert port == ovn.LogicalPort(VIF_UUID, ["02:00:00:aa:bb:01", "unknown"], [], True)
    locked = ovn.logical_port(vif(locking_mode="locked", ipv4_allowed=["10.0.0.5"],
                                  ipv6_allowed=["2001:DB8::5"],
                                  other_config={"nicira-iface-id": "lsp-1"}), unlocked)
    assert locked.name == "lsp-1"
    assert locked.addresses == locked.port_security == ["02:00:00:aa:bb:01 10.0.0.5 2001:db8::5"]
    disabled = ovn.logical_port(vif(), {"uuid": NET_UUID, "default_locking_mode": "disabled"})
    assert disabled.enabled is False
    with pytest.raises(InvalidValue):
        ovn.logical_port(vif(ipv4_allowed=["10.0.0.5/24"]), unlocked)
    with pytest.raises(InvalidValue):
        ovn.logical_port(vif(locking_mode="open"), unlocked)
    with pytest.raises(InvalidValue):
        ovn.logical_port(vif(MAC="nope"), unlocked)
    # Locked with no address allowed: only DHCP and ARP probes get out, as with XAPI.
    assert ovn.logical_port(vif(locking_mode="locked"), unlocked).port_security == [
        "02:00:00:aa:bb:01 0.0.0.0/32"]
    for name in ('a"b', "a\\b", "x" * 256):
        with pytest.raises(InvalidValue):
            ovn.logical_port(vif(other_config={"nicira-iface-id": name}), unlocked)
