"""The *OVN chassis* step of ``update`` fails alone (actions.update_ovn).

XAPI (the simulator) runs the plugin as it does after an SDN controller
change; the switch is a real ovsdb-server with a dummy ovs-vswitchd.  A bad
OVN key, or a management PIF without its DHCP lease yet (no tunnel
endpoint), must not stop the manager, fail modes and the rest: those apply,
the OVN part changes nothing, and the plugin's answer -- which XAPI logs --
and ``status`` name the reason.
"""

import json

import pytest

from xsovs_common.net import ovn
from tests.support.plugin_host import NEW_PLUGIN

OVN_KEYS = ("ovn-remote", "ovn-encap-type", "ovn-encap-ip", "ovn-bridge", "xsovs-ovn")
SB = "tcp:192.0.2.1:6642"


@pytest.fixture
def host(plugin_host):
    h = plugin_host()
    h.pool = h.x.pool.get_all()[0]
    return h


def ids(host):
    text = host.ovs.vsctl("--format=json", "--columns=external_ids", "list", "Open_vSwitch")
    return dict(json.loads(text)["data"][0][0][1])


def ovn_firewall_calls(host):
    return [c for c in host.root.calls("iptables") if "xsovs-ovn" in c]


def xapi_runs_update_with_a_new_controller(host):
    """SDN_controller.introduce: XAPI runs the plugin's update on the host (and only
    logs its failure); the outcome XAPI got."""
    host.x.SDN_controller.introduce("ssl", "192.0.2.7", "0")
    call = host.sim.plugin_calls[-1]
    assert (call.plugin, call.fn) == (NEW_PLUGIN, "update")
    return call.outcome


def assert_the_other_steps_applied(host, outcome):
    assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.7:6632"
    for bridge in ("xenbr0", "xenbr1", "xapi1"):
        assert host.get("Bridge", bridge, "fail_mode") == "standalone"
    assert outcome["Status"] == "Failure"
    assert "Successfully set controller to ssl:192.0.2.7:6632" in \
        outcome["ErrorDescription"][-1]


def test_a_bad_ovn_key_fails_alone(host):
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, SB)
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_ENCAP_TYPE, "stt")
    before = ids(host)
    outcome = xapi_runs_update_with_a_new_controller(host)
    assert_the_other_steps_applied(host, outcome)
    code, key, value, message = outcome["ErrorDescription"]
    assert (code, key, value) == ("XSOVS_INVALID_OVN_CONFIG",
                                  "pool other_config:" + ovn.POOL_ENCAP_TYPE, "stt")
    assert "not an encapsulation" in message and "changed nothing" in message
    assert ids(host) == before and ovn_firewall_calls(host) == []
    status = host.status()
    assert status["ovn"]["error"][:3] == [code, key, value] and not status["in_step"]
    assert status["update"]["changes"] == []          # the rest is in step
    # Fixed: the next update makes the chassis.
    host.x.pool.remove_from_other_config(host.pool, ovn.POOL_ENCAP_TYPE)
    result = host.call("update")
    assert "OVN chassis %s" % host.uuid in result
    assert ids(host)["ovn-encap-type"] == "geneve"


def test_no_tunnel_endpoint_yet_fails_alone(host):
    """At XAPI's start a DHCP management PIF may have no lease yet: no encap IP."""
    eth0 = host.sim.store.find("PIF", device="eth0")[0]
    host.sim.store.set("PIF", eth0, "ip_configuration_mode", "DHCP")
    host.sim.store.set("PIF", eth0, "IP", "")
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, SB)
    before = ids(host)
    outcome = xapi_runs_update_with_a_new_controller(host)
    assert_the_other_steps_applied(host, outcome)
    assert outcome["ErrorDescription"][0] == "XSOVS_INVALID_OVN_CONFIG"
    assert "management PIF (eth0) has no IP address" in outcome["ErrorDescription"][-1]
    assert ids(host) == before and ovn_firewall_calls(host) == []
    assert host.status()["ovn"]["error"][0] == "XSOVS_INVALID_OVN_CONFIG"
    # The lease comes: update makes the chassis, with that address.
    host.sim.store.set("PIF", eth0, "IP", "192.0.2.77")
    host.call("update")
    assert {k: ids(host).get(k) for k in OVN_KEYS} == {
        "ovn-remote": SB, "ovn-encap-type": "geneve", "ovn-encap-ip": "192.0.2.77",
        "ovn-bridge": "br-int", "xsovs-ovn": "true"}


def test_status_names_a_network_with_pifs_marked_ovn(host):
    """xsovs:ovn=true on xenbr0's network: refused (its VIFs stay where its PIF is)."""
    network = host.sim.store.find("network", bridge="xenbr0")[0]
    host.x.network.add_to_other_config(network, ovn.NETWORK_OVN, "true")
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, SB)
    (refused,) = host.status()["ovn"]["refused"]
    assert refused["what"] == "network " + host.x.network.get_uuid(network)
    assert "the network has PIFs" in refused["reason"]
