"""IP configuration for real, in network namespaces (root only).

A "host" namespace has NIC eth0 (the IP device of a network without a
bridge), a veth to a "peer" namespace.  The real ip, sysctl, dhclient (with
its own dhclient-script) and ethtool act inside the host namespace through
the fake root; the peer answers pings and runs dnsmasq.
"""

import time

import pytest

from tests.support.sample_network import sample
from xsovs_common import paths
from xsovs_common.net import ipconfig, ipconfig_apply, nicconfig
from xsovs_common.system import dhclient
from xsovs_dev import dnsmasq, netns
from xsovs_dev.skips import need


@pytest.fixture
def net(netns_ok, fake_root):
    need(dnsmasq.unavailable_reason())
    host, peer = netns.Namespace().create(), netns.Namespace().create()
    try:
        netns.veth(host, "eth0", peer, "peth0")
        for name in ("ip", "sysctl", "dhclient", "ethtool"):
            fake_root.netns_program(name, host.name)
        peer.run(["ip", "addr", "add", "192.0.2.1/24", "dev", "peth0"])
        peer.run(["ip", "addr", "add", "2001:db8::1/64", "dev", "peth0", "nodad"])
        yield fake_root, host, peer
    finally:
        leftovers = [netns.kill_processes(ns.name) for ns in (host, peer)]
        host.delete()
        peer.delete()
    assert leftovers == [[], []], "processes left running in the test namespaces"


def _wait(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


def _addresses(ns, family):
    out = ns.run(["ip", "-o", family, "addr", "show", "dev", "eth0", "scope", "global"]).stdout
    return [line.split()[3] for line in out.splitlines()]


def _pings(ns, address):
    return ns.run(["ping", "-c", "1", "-W", "1", address], check=False).returncode == 0


def _not_tentative(ns):
    return "tentative" not in ns.run(["ip", "-6", "addr", "show", "dev", "eth0"]).stdout


def test_static_ipv4_ipv6_gateway_and_routes_then_down(net):
    fake_root, host, peer = net
    peer.run(["ip", "addr", "add", "198.51.100.1/32", "dev", "lo"])   # beyond the gateway
    peer.run(["ip", "addr", "add", "10.9.0.1/32", "dev", "lo"])       # a static route's net
    hn = sample(net_other_config={"static-routes": "10.9.0.0/24/192.0.2.1"})
    hn.pifs["eth0"].update(ipv6_configuration_mode="Static", IPv6=["2001:db8::10/64"],
                           ipv6_gateway="2001:db8::1")
    host.run(["ip", "addr", "add", "203.0.113.7/24", "dev", "eth0"])   # stale: flushed
    ipconfig_apply.apply(fake_root.root, ipconfig.plan_up(fake_root.root, hn, "eth0", "eth0"))

    assert _addresses(host, "-4") == ["192.0.2.10/24"]
    assert _addresses(host, "-6") == ["2001:db8::10/64"]
    routes = host.run(["ip", "-4", "route"]).stdout
    assert "default via 192.0.2.1 dev eth0" in routes
    assert "10.9.0.0/24 via 192.0.2.1 dev eth0" in routes
    assert "default via 2001:db8::1 dev eth0" in host.run(["ip", "-6", "route"]).stdout
    assert _pings(host, "192.0.2.1") and _pings(host, "198.51.100.1")
    assert _pings(host, "10.9.0.1")
    assert _wait(lambda: _not_tentative(host))
    assert _wait(lambda: _pings(host, "2001:db8::1"), timeout=5)
    assert "IPADDR=192.0.2.10" in fake_root.read(paths.NETWORK_SCRIPTS_DIR + "/ifcfg-eth0")

    ipconfig_apply.apply(fake_root.root, ipconfig.plan_down(fake_root.root, hn, "eth0", "eth0"))
    assert _addresses(host, "-4") == [] and _addresses(host, "-6") == []
    assert "state DOWN" in host.run(["ip", "link", "show", "dev", "eth0"]).stdout
    assert not fake_root.exists(paths.NETWORK_SCRIPTS_DIR + "/ifcfg-eth0")
    assert not fake_root.exists(paths.NETWORK_SCRIPTS_DIR + "/route-eth0")


def test_dhcp_v4_and_v6_from_dnsmasq_then_down_stops_dhclient(net, tmp_path):
    fake_root, host, peer = net
    with open("/etc/resolv.conf") as handle:
        resolv_before = handle.read()
    hn = sample()
    hn.pifs["eth0"].update(ip_configuration_mode="DHCP", ipv6_configuration_mode="DHCP")
    hn.pifs["bond0"]["other_config"] = {"peerdns": "true"}     # eth0 is not the DNS PIF
    server = dnsmasq.Dnsmasq(peer, "peth0", ["192.0.2.50,192.0.2.60,255.255.255.0",
                                             "2001:db8::100,2001:db8::1ff,64"], str(tmp_path))
    with server:
        ipconfig_apply.apply(fake_root.root, ipconfig.plan_up(fake_root.root, hn, "eth0", "eth0"))
        pids = [dhclient.running(fake_root.root, "eth0", v) for v in (4, 6)]
        assert None not in pids

        (v4,) = _addresses(host, "-4")
        address, prefix = v4.split("/")
        assert 50 <= int(address.split(".")[-1]) <= 60 and address.startswith("192.0.2.")
        assert prefix == "24"
        assert "default via 192.0.2.1 dev eth0" in host.run(["ip", "-4", "route"]).stdout
        assert _pings(host, "192.0.2.1")
        assert _wait(lambda: _addresses(host, "-6"), timeout=10)
        (v6,) = _addresses(host, "-6")
        assert v6.startswith("2001:db8::1")
        assert fake_root.exists("/var/lib/xcp/dhclient-eth0.leases")
        assert v6.split("/")[0] in fake_root.read("/var/lib/xcp/dhclient6-eth0.leases")

        ipconfig_apply.apply(fake_root.root, ipconfig.plan_down(fake_root.root, hn, "eth0", "eth0"))
        assert _addresses(host, "-4") == [] and _addresses(host, "-6") == []
        assert netns.kill_processes(host.name) == []      # both dhclients are gone
        assert not fake_root.exists("/var/run/dhclient-eth0.pid")
        assert not fake_root.exists("/var/lib/xcp/dhclient-eth0.conf")
    with open("/etc/resolv.conf") as handle:
        assert handle.read() == resolv_before


def test_ipv6_autoconf_from_router_advertisements(net, tmp_path):
    fake_root, host, peer = net
    hn = sample()
    hn.pifs["eth0"].update(ip_configuration_mode="None", ipv6_configuration_mode="Autoconf")
    # A device as a new bridge is: down, and not accepting router advertisements.
    host.run(["ip", "link", "set", "dev", "eth0", "down"])
    for name in ("accept_ra", "autoconf"):
        host.run(["sysctl", "-q", "-w", "net.ipv6.conf.eth0.%s=0" % name])
    with dnsmasq.Dnsmasq(peer, "peth0", ["2001:db8::,ra-only,64"], str(tmp_path)):
        ipconfig_apply.apply(fake_root.root, ipconfig.plan_up(fake_root.root, hn, "eth0", "eth0"))
        assert _wait(lambda: _addresses(host, "-6"), timeout=15)
    (address,) = _addresses(host, "-6")
    assert address.startswith("2001:db8::") and address.endswith("/64")
    ipconfig_apply.apply(fake_root.root, ipconfig.plan_down(fake_root.root, hn, "eth0", "eth0"))
    assert _addresses(host, "-6") == []
    assert host.run(["sysctl", "-n", "net.ipv6.conf.eth0.accept_ra"]).stdout.strip() == "0"


def test_ethtool_offloads_on_a_real_nic(net):
    fake_root, host, _ = net
    hn = sample(net_other_config={"ethtool-tx": "off", "ethtool-sg": "off",
                                  "ethtool-ufo": "off", "ethtool-speed": "1000"})
    nicconfig.apply_ethtool(fake_root.root, nicconfig.ethtool_plan(hn, "eth0", "eth0"))
    features = host.run(["ethtool", "-k", "eth0"]).stdout
    for line in ("tx-checksumming: off", "scatter-gather: off",
                 "generic-receive-offload: off", "large-receive-offload: off"):
        assert line in features
