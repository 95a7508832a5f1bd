"""A listening (pssl) manager's port in a real host firewall (iptables in a namespace)."""

import pytest

from tests.support import xapi_firewall
from xsovs_dev import netns


@pytest.fixture
def host(netns_ok, plugin_host, fake_root):
    namespace = netns.Namespace().create()
    try:
        h = plugin_host()
        fake_root.netns_program("iptables", namespace.name)
        yield h, namespace
    finally:
        namespace.delete()


def manager_rules(namespace):
    return [line for line in namespace.run(["iptables", "-S", "INPUT"]).stdout.splitlines()
            if "xsovs-manager" in line]


def _ports(rules):
    return sorted(int(r.split("--dport ")[1].split()[0]) for r in rules)


def _ran(host):
    """What XAPI's own run of the plugin (openvswitch-config-update) answered."""
    outcome = host.last_result()
    assert outcome["Status"] == "Success", outcome
    return outcome["Value"]


def test_pssl_opens_the_manager_port_and_ssl_closes_it(host):
    host, namespace = host
    sdn = host.x.SDN_controller.introduce("pssl", "", "0")    # XAPI runs the plugin
    result = _ran(host)
    assert "Successfully set controller to pssl:6640" in result
    assert "firewall opened for tcp/6640; firewall opened for tcp/6653" in result
    rules = manager_rules(namespace)
    assert _ports(rules) == [6640, 6653]
    assert all("-p tcp" in r and "-j ACCEPT" in r for r in rules)
    assert host.call("update") == "No change to configuration"
    assert len(manager_rules(namespace)) == 2

    # The record turned active in XAPI's database: 6640 closes, the OpenFlow channel stays.
    for field, value in (("protocol", "ssl"), ("address", "192.0.2.7"), ("port", 6632)):
        host.sim.store.set("SDN_controller", sdn, field, value)
    result = host.call("update")
    assert "Successfully set controller to ssl:192.0.2.7:6632" in result
    assert "firewall closed 1 manager rule(s)" in result
    assert _ports(manager_rules(namespace)) == [6653]

    # Xen Orchestra manages its flows another way: 6653 closes.
    pool = host.x.pool.get_all()[0]
    host.x.pool.add_to_other_config(pool, "xo:sdn-controller:of-method", "openflow-plugin")
    assert host.call("update") == "firewall closed 1 manager rule(s)"
    assert manager_rules(namespace) == []

    # No controller: nothing stays open.
    host.x.pool.remove_from_other_config(pool, "xo:sdn-controller:of-method")
    assert "firewall opened for tcp/6653" in host.call("update")
    host.x.SDN_controller.forget(sdn)
    assert "firewall closed 1 manager rule(s)" in _ran(host)
    assert manager_rules(namespace) == []


def test_xapi_firewall_port_helper_is_used_when_present(host, tmp_path):
    host, namespace = host
    sdn = host.x.SDN_controller.introduce("pssl", "", "0")   # before the helper: rules of our own
    assert _ports(manager_rules(namespace)) == [6640, 6653]
    log = tmp_path / "firewall-port.log"
    xapi_firewall.install(host.root, namespace, log)
    assert host.call("update").startswith("firewall closed 2 manager rule(s); ")
    assert xapi_firewall.open_ports(namespace) == [6640, 6653]
    assert manager_rules(namespace) == []            # no rules of xsovs's own
    assert host.call("update") == "No change to configuration"
    assert xapi_firewall.open_ports(namespace) == [6640, 6653]

    host.x.SDN_controller.forget(sdn)                # XAPI runs the plugin after each
    assert xapi_firewall.open_ports(namespace) == []
    host.x.SDN_controller.introduce("ssl", "192.0.2.7", "6632")
    assert "Successfully set controller to ssl:192.0.2.7:6632" in _ran(host)
    assert xapi_firewall.open_ports(namespace) == [6653]
    host.x.SDN_controller.forget(host.x.SDN_controller.get_all()[0])
    assert "Successfully removed controller config" in _ran(host)
    assert xapi_firewall.rules(namespace) == []
    calls = log.read_text().splitlines()
    assert "open 6640 tcp" in calls and "close 6640 tcp" in calls and "close 6653 tcp" in calls
