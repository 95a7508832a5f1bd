"""net.ovn_chassis: the chassis plan from the pool's keys and what the host has."""

import pytest

from xsovs_common.net import ovn, ovn_chassis
from xsovs_common.net.model import HostNetwork
from xsovs_common.system import firewall

HOST = "5f1c8ab2-0c47-4a8e-9d0b-0000000000a1"
ENCAP_NET = "7e1f0a11-0002-4000-8000-00000000b002"
ON = ovn.pool_config({ovn.POOL_SB: "tcp:192.0.2.1:6642"})
FACTS = ovn_chassis.Facts(HOST, "host1", "192.0.2.10", "netdev", None, False)


def wanted():
    return {"system-id": HOST, "hostname": "host1", "ovn-remote": "tcp:192.0.2.1:6642",
            "ovn-encap-type": "geneve", "ovn-encap-ip": "192.0.2.10", "ovn-bridge": "br-int",
            "ovn-bridge-datapath-type": "netdev", "xsovs-ovn": "true"}


def test_a_new_chassis_gets_its_ids_its_port_and_ovn_controller():
    chassis = ovn_chassis.plan(ON, FACTS, {"system-id": HOST, "hostname": "old"})
    expected = wanted()
    del expected["system-id"]                  # the boot script's, already right
    assert chassis.external_ids == expected
    assert chassis.firewall_open == [firewall.Rule("udp", 6081)]
    assert chassis.controller == "start"
    assert chassis.ssl.ca_cert == "/etc/stunnel/certs/sdn-controller-ca.pem"
    assert str(chassis.changes).startswith("set Open_vSwitch . external_ids:hostname=host1")
    assert not chassis.is_empty()


def test_in_step_plans_nothing():
    running = FACTS._replace(controller_running=True)
    chassis = ovn_chassis.plan(ON, running, wanted())
    assert chassis.is_empty() and chassis.external_ids == {} and chassis.notes == []
    assert list(chassis.changes) == []


def test_missing_ovn_controller_is_a_warning_naming_the_package():
    missing = FACTS._replace(controller_missing="install the ovn-host package")
    chassis = ovn_chassis.plan(ON, missing, wanted())
    assert chassis.controller is None and chassis.is_empty()
    assert chassis.warnings == ["ovn-controller cannot run: install the ovn-host package"]


def test_an_ssl_row_of_a_manager_is_named_for_ssl_remotes():
    ssl_on = ovn.pool_config({ovn.POOL_SB: "ssl:192.0.2.1:6642"})
    chassis = ovn_chassis.plan(ssl_on, FACTS, {}, {"ca_cert": "/etc/openvswitch/vswitchd.cacert"})
    assert any("vswitchd.cacert" in w for w in chassis.warnings)
    assert ovn_chassis.plan(ON, FACTS, {}, {"ca_cert": "x"}).warnings == []


def test_off_takes_back_only_what_xsovs_set():
    ours = dict(wanted(), other="kept")
    chassis = ovn_chassis.plan(ovn.OFF, FACTS._replace(controller_running=True), ours)
    assert chassis.external_ids == {k: None for k in ovn_chassis.OWNED_KEYS}
    assert chassis.controller == "stop" and chassis.firewall_close
    by_hand = {"ovn-remote": "tcp:192.0.2.99:6642", "system-id": HOST}
    left = ovn_chassis.plan(ovn.OFF, FACTS._replace(controller_running=True), by_hand)
    assert left.is_empty() and not left.firewall_close


def network(pifs, networks):
    return HostNetwork(pifs, networks)


def pif(device, net, ip="", management=False, **more):
    record = {"device": device, "network": net, "IP": ip, "management": management,
              "IPv6": [], "primary_address_type": "IPv4"}
    record.update(more)
    return record


def test_encap_ip_from_the_management_pif_or_the_encap_network():
    host = network({"OpaqueRef:p0": pif("eth0", "OpaqueRef:n0", "192.0.2.10", True),
                    "OpaqueRef:p1": pif("eth1", "OpaqueRef:n1", "198.51.100.10")},
                   {"OpaqueRef:n0": {"uuid": "7e1f0a11-0002-4000-8000-00000000b001"},
                    "OpaqueRef:n1": {"uuid": ENCAP_NET}})
    assert ovn_chassis.encap_ip(host, ON) == "192.0.2.10"
    assert ovn_chassis.encap_ip(host, ON._replace(encap_network=ENCAP_NET)) == "198.51.100.10"
    with pytest.raises(ovn.InvalidOvnConfig) as caught:
        ovn_chassis.encap_ip(host, ON._replace(encap_network=ENCAP_NET[:-2] + "ff"))
    assert "does not exist" in caught.value.message
    v6 = network({"OpaqueRef:p0": pif("eth0", "OpaqueRef:n0", "", True,
                                      primary_address_type="IPv6",
                                      IPv6=["2001:db8::10/64"])},
                 {"OpaqueRef:n0": {"uuid": ENCAP_NET}})
    assert ovn_chassis.encap_ip(v6, ON) == "2001:db8::10"
    no_ip = network({"OpaqueRef:p0": pif("eth0", "OpaqueRef:n0", "", True)},
                    {"OpaqueRef:n0": {"uuid": ENCAP_NET}})
    with pytest.raises(ovn.InvalidOvnConfig) as caught:
        ovn_chassis.encap_ip(no_ip, ON)
    assert "has no IP address" in caught.value.message
