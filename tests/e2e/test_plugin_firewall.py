"""A listening (pssl) manager's port in a real host firewall (iptables in a namespace)."""

import pytest
from plugin_host import Host, build_bridges, one_host

from xsovs_dev import netns
from xsovs_dev.xapisim import Simulator


@pytest.fixture
def host(netns_ok, ovs, fake_root):
    builder = one_host()
    namespace = netns.Namespace().create()
    try:
        with Simulator(builder.build()) as sim:
            build_bridges(ovs)
            h = Host(sim, builder.host_uuid("host1"), ovs, fake_root)
            fake_root.netns_program("iptables", namespace.name)
            yield h, namespace
            h.close()
    finally:
        namespace.delete()


def manager_rules(namespace):
    return [line for line in namespace.run(["iptables", "-S", "INPUT"]).stdout.splitlines()
            if "xsovs-manager" in line]


def test_pssl_opens_the_manager_port_and_ssl_closes_it(host):
    host, namespace = host
    sdn = host.x.SDN_controller.introduce("pssl", "", "0")
    # (XAPI ran openvswitch-config-update, absent here: run the update ourselves.)
    result = host.call("update")
    assert "Successfully set controller to pssl:6640" in result
    assert "firewall opened for tcp/6640" in result
    (rule,) = manager_rules(namespace)
    assert "-p tcp" in rule and "--dport 6640" in rule and "-j ACCEPT" in rule
    assert host.call("update") == "No change to configuration"
    assert len(manager_rules(namespace)) == 1

    host.x.SDN_controller.forget(sdn)
    host.x.SDN_controller.introduce("ssl", "192.0.2.7", "6632")
    result = host.call("update")
    assert "Successfully set controller to ssl:192.0.2.7:6632" in result
    assert "firewall closed 1 manager rule(s)" in result
    assert manager_rules(namespace) == []
