"""IP configuration plans: files, steps, and refusing bad input before anything."""

import pytest

from tests.support.sample_network import sample
from xsovs_common import paths
from xsovs_common.net import ipconfig
from xsovs_common.errors import InvalidValue
from xsovs_common.net.model import ModelError

IFCFG = "/etc/sysconfig/network-scripts/ifcfg-%s"
ROUTE = "/etc/sysconfig/network-scripts/route-%s"
DHCONF = "/var/lib/xcp/dhclient-%s.conf"
DHCONF6 = "/var/lib/xcp/dhclient6-%s.conf"


def _write(root, host_path, text):
    import os
    real = root.path(host_path)
    os.makedirs(os.path.dirname(real), exist_ok=True)
    with open(real, "w") as handle:
        handle.write(text)


def _files(plan):
    return dict(plan.files)


def _lines(plan, host_path):
    return _files(plan)[host_path].splitlines()[1:]


def test_static_management_pif(root):
    plan = ipconfig.plan_up(root, sample(), "eth0", "xenbr0")
    assert _lines(plan, IFCFG % "xenbr0") == [
        "XEMANAGED=yes", "DEVICE=xenbr0", "ONBOOT=no", "NOZEROCONF=yes", "TYPE=Ethernet",
        "BOOTPROTO=none", "NETMASK=255.255.255.0", "IPADDR=192.0.2.10", "GATEWAY=192.0.2.1",
        "MTU=1500", "DNS1=192.0.2.53"]
    assert _files(plan)[paths.SYSCONFIG_NETWORK] == "DNSDEV=xenbr0\nGATEWAYDEV=xenbr0\n"
    assert _files(plan)[paths.RESOLV_CONF] == "nameserver 192.0.2.53\n"
    assert ROUTE % "xenbr0" not in _files(plan)     # absent and not wanted: nothing to do
    assert plan.steps == [
        ("dhclient-stop", "xenbr0"),
        ("ipv6-sysctl", "xenbr0", (("accept_ra", 0), ("autoconf", 0))),
        ("link-up", "xenbr0"), ("addr-flush", "xenbr0"),
        ("addr-add", "xenbr0", "192.0.2.10/24"),
        ("route-add", "xenbr0", "default", "192.0.2.1"),
        ("update-issue",)]
    assert plan.action == "up" and plan.ip_device == "xenbr0"


def test_dhcp_pif_that_is_neither_gateway_nor_dns(root):
    hn = sample()
    hn.pifs["bond0"].update(ip_configuration_mode="DHCP")
    plan = ipconfig.plan_up(root, hn, "bond0", "xapi1")
    lines = _lines(plan, IFCFG % "xapi1")
    assert lines[5:] == ["BOOTPROTO=dhcp", "PERSISTENT_DHCLIENT=yes", "DEFROUTE=no",
                         "PEERDNS=no", "MTU=1500"]
    conf = _files(plan)[DHCONF % "xapi1"]
    assert 'interface "xapi1"' in conf
    assert "routers" not in conf and "domain-name-servers" not in conf
    assert paths.SYSCONFIG_NETWORK not in _files(plan)
    assert ("dhclient-start", "xapi1", 4) in plan.steps
    assert not [s for s in plan.steps if s[0] in ("addr-add", "route-add")]


def test_dhcp_on_the_gateway_and_dns_pif_requests_routers_and_dns(root):
    hn = sample()
    hn.pifs["eth0"].update(ip_configuration_mode="dhcp")    # any case
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    conf = _files(plan)[DHCONF % "xenbr0"]
    assert "routers" in conf and "domain-name-servers" in conf
    lines = _lines(plan, IFCFG % "xenbr0")
    assert "DEFROUTE=no" not in lines and "PEERDNS=no" not in lines
    assert paths.RESOLV_CONF not in _files(plan)        # dhclient's script writes it


def test_defaultroute_and_peerdns_move_the_roles(root):
    hn = sample()
    hn.pifs["bond0"].update(ip_configuration_mode="Static", IP="198.51.100.2",
                            netmask="24", gateway="198.51.100.1", DNS="198.51.100.53",
                            other_config={"defaultroute": "true", "peerdns": "True",
                                          "domain": "a.example, b.example"})
    _write(root, paths.SYSCONFIG_NETWORK, "NETWORKING=yes\nGATEWAYDEV=xenbr0\nDNSDEV=xenbr0\n")
    plan = ipconfig.plan_up(root, hn, "bond0", "xapi1")
    lines = _lines(plan, IFCFG % "xapi1")
    assert "GATEWAY=198.51.100.1" in lines and "DNS1=198.51.100.53" in lines
    assert 'DOMAIN="a.example b.example"' in lines
    assert _files(plan)[paths.SYSCONFIG_NETWORK] == \
        "NETWORKING=yes\nGATEWAYDEV=xapi1\nDNSDEV=xapi1\n"
    assert _files(plan)[paths.RESOLV_CONF] == "search a.example b.example\n" \
                                              "nameserver 198.51.100.53\n"
    _write(root, paths.SYSCONFIG_NETWORK, "NETWORKING=yes\nGATEWAYDEV=xapi1\nDNSDEV=xapi1\n")
    # The management PIF loses both roles: its GATEWAY stays in its file (GATEWAYDEV
    # decides who routes), but no default route, no DNS; stale lines are left alone.
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    lines = _lines(plan, IFCFG % "xenbr0")
    assert [x for x in lines if x.startswith(("GATEWAY", "DNS", "DOMAIN"))] == \
        ["GATEWAY=192.0.2.1"]
    assert ("route-add", "xenbr0", "default", "192.0.2.1") not in plan.steps
    assert paths.SYSCONFIG_NETWORK not in _files(plan)
    assert paths.RESOLV_CONF not in _files(plan)


def test_a_device_that_lost_its_role_leaves_sysconfig_network(root):
    hn = sample()
    hn.pifs["bond0"]["other_config"] = {"defaultroute": "true"}
    _write(root, paths.SYSCONFIG_NETWORK, "GATEWAYDEV=xenbr0\nDNSDEV=xenbr0\n")
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert _files(plan)[paths.SYSCONFIG_NETWORK] == "DNSDEV=xenbr0\n"


def test_first_of_several_defaultroute_pifs_by_device_wins(root):
    hn = sample()
    for ref in ("eth1", "bond0"):
        hn.pifs[ref]["other_config"] = {"defaultroute": "true"}
    hn.pifs["eth0"]["other_config"] = {"defaultroute": "maybe"}    # invalid: ignored
    assert ipconfig.gateway_pif(hn) == "bond0"
    assert ipconfig.dns_pif(hn) == "eth0"


def test_static_routes(root):
    hn = sample(net_other_config={"static-routes":
                                  "10.0.0.0/8/192.0.2.254, 172.16.0.0/12/192.0.2.253,"})
    _write(root, ROUTE % "xenbr0", "stale\n")
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert _lines(plan, ROUTE % "xenbr0") == ["10.0.0.0/8 via 192.0.2.254 dev xenbr0",
                                              "172.16.0.0/12 via 192.0.2.253 dev xenbr0"]
    assert plan.steps[-3:] == [("route-add", "xenbr0", "10.0.0.0/8", "192.0.2.254"),
                               ("route-add", "xenbr0", "172.16.0.0/12", "192.0.2.253"),
                               ("update-issue",)]
    hn.pifs["eth0"]["ip_configuration_mode"] = "DHCP"
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert ("route-add-dynamic", "xenbr0", "10.0.0.0/8", "192.0.2.254") in plan.steps
    hn.networks["n-xenbr0"]["other_config"] = {}
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert _files(plan)[ROUTE % "xenbr0"] is None    # existing and no longer wanted


def test_ipv6_static(root):
    hn = sample()
    hn.pifs["eth0"].update(ipv6_configuration_mode="Static", ipv6_gateway="2001:db8::1",
                           IPv6=["2001:db8::10/64", "2001:0db8:0:1::10/64"])
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert _lines(plan, IFCFG % "xenbr0")[-5:] == [
        "IPV6INIT=yes", "IPV6_AUTOCONF=no", "IPV6ADDR=2001:db8::10/64",
        "IPV6ADDR_SECONDARIES=2001:db8:0:1::10/64", "IPV6_DEFAULTGW=2001:db8::1"]
    assert plan.steps[-4:] == [("addr-add", "xenbr0", "2001:db8::10/64"),
                               ("addr-add", "xenbr0", "2001:db8:0:1::10/64"),
                               ("route-add", "xenbr0", "default", "2001:db8::1"),
                               ("update-issue",)]


def test_ipv6_dhcp_and_autoconf(root):
    hn = sample()
    hn.pifs["eth0"].update(ip_configuration_mode="None", ipv6_configuration_mode="DHCP")
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert _lines(plan, IFCFG % "xenbr0")[-3:] == ["IPV6INIT=yes", "DHCPV6C=yes",
                                                   "IPV6_AUTOCONF=no"]
    assert "dhcp6.name-servers" in _files(plan)[DHCONF6 % "xenbr0"]
    assert ("ipv6-sysctl", "xenbr0", (("accept_ra", 1), ("accept_ra_defrtr", 1),
                                      ("autoconf", 0))) in plan.steps
    assert ("dhclient-start", "xenbr0", 6) in plan.steps
    assert ("dhclient-start", "xenbr0", 4) not in plan.steps
    hn.pifs["eth0"]["ipv6_configuration_mode"] = "Autoconf"
    _write(root, DHCONF6 % "xenbr0", "old\n")
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert _lines(plan, IFCFG % "xenbr0")[-2:] == ["IPV6INIT=yes", "IPV6_AUTOCONF=yes"]
    assert _files(plan)[DHCONF6 % "xenbr0"] is None
    assert ("ipv6-sysctl", "xenbr0", (("accept_ra", 1), ("accept_ra_defrtr", 1),
                                      ("autoconf", 1))) in plan.steps
    # Not the gateway device: router advertisements give no default route.
    hn.pifs["bond0"]["ipv6_configuration_mode"] = "Autoconf"
    plan = ipconfig.plan_up(root, hn, "bond0", "xapi1")
    assert ("ipv6-sysctl", "xapi1", (("accept_ra", 1), ("accept_ra_defrtr", 0),
                                     ("autoconf", 1))) in plan.steps


def test_mtu_and_set_mtu(root):
    hn = sample(net_other_config={"mtu": "9000"})
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0", set_mtu=True)
    assert "MTU=9000" in _lines(plan, IFCFG % "xenbr0")
    assert plan.steps[2] == ("link-mtu", "xenbr0", 9000)
    hn = sample(net_other_config={"mtu": "huge"})
    plan = ipconfig.plan_up(root, hn, "eth0", "xenbr0", set_mtu=True)
    assert not [x for x in _lines(plan, IFCFG % "xenbr0") if x.startswith("MTU")]
    assert not [s for s in plan.steps if s[0] == "link-mtu"]


def test_pif_without_ip_configuration(root):
    plan = ipconfig.plan_up(root, sample(), "v100", "xapi2")
    assert _lines(plan, IFCFG % "xapi2")[5:] == ["BOOTPROTO=none", "MTU=1500"]
    assert [s[0] for s in plan.steps] == ["dhclient-stop", "ipv6-sysctl", "link-up",
                                          "addr-flush", "update-issue"]


def test_plan_down_removes_what_exists(root):
    for host_path in (IFCFG % "xenbr0", ROUTE % "xenbr0", DHCONF % "xenbr0"):
        _write(root, host_path, "x\n")
    _write(root, paths.SYSCONFIG_NETWORK, "NETWORKING=yes\nGATEWAYDEV=xenbr0\nDNSDEV=xapi9\n")
    plan = ipconfig.plan_down(root, sample(), "eth0", "xenbr0")
    assert plan.files == [(IFCFG % "xenbr0", None), (ROUTE % "xenbr0", None),
                          (DHCONF % "xenbr0", None),
                          (paths.SYSCONFIG_NETWORK, "NETWORKING=yes\nDNSDEV=xapi9\n")]
    assert plan.steps == [("dhclient-stop", "xenbr0"),
                          ("ipv6-sysctl", "xenbr0", (("accept_ra", 0), ("autoconf", 0))),
                          ("addr-flush", "xenbr0"), ("link-down", "xenbr0"), ("update-issue",)]
    assert plan.action == "down"


def test_plans_compare_and_print(root):
    hn = sample(net_other_config={"static-routes": "10.0.0.0/8/192.0.2.254"})
    one = ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert one == ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert one != ipconfig.plan_up(root, hn, "eth0", "xenbr1")
    assert one != ipconfig.plan_down(root, hn, "eth0", "xenbr0")
    text = str(one)
    assert "write /etc/sysconfig/network-scripts/ifcfg-xenbr0\n    # " in text
    assert "\n    XEMANAGED=yes\n" in text
    assert "\naddr-add xenbr0 192.0.2.10/24\n" in text
    assert "\nipv6-sysctl xenbr0 accept_ra=0,autoconf=0\n" in text
    assert "\nroute-add xenbr0 10.0.0.0/8 192.0.2.254\n" in text
    _write(root, IFCFG % "xenbr0", "x\n")
    assert "remove /etc/sysconfig/network-scripts/ifcfg-xenbr0" in str(
        ipconfig.plan_down(root, hn, "eth0", "xenbr0"))


BAD = [
    ({"ip_configuration_mode": "Manual"}, "Manual"),
    ({"ip_configuration_mode": ""}, "''"),
    ({"IP": "192.0.2.300"}, "192.0.2.300"),
    ({"IP": "2001:db8::1"}, "2001:db8::1"),
    ({"IP": "192.0.2.10\nBOOTPROTO=dhcp"}, "BOOTPROTO"),
    ({"netmask": "255.0.255.0"}, "255.0.255.0"),
    ({"netmask": "33"}, "33"),
    ({"gateway": "192.0.2"}, "192.0.2"),
    ({"gateway": "fe80::1"}, "fe80::1"),
    ({"DNS": "192.0.2.53,not-an-ip"}, "not-an-ip"),
    ({"DNS": "192.0.2.53\"; reboot"}, "reboot"),
    ({"ipv6_configuration_mode": "SLAAC"}, "SLAAC"),
    ({"ipv6_configuration_mode": "Static", "IPv6": ["2001:db8::10"]}, "2001:db8::10"),
    ({"ipv6_configuration_mode": "Static", "IPv6": ["192.0.2.10/24"]}, "192.0.2.10/24"),
    ({"ipv6_configuration_mode": "Static", "IPv6": ["2001:db8::10/129"]}, "2001:db8::10/129"),
    ({"ipv6_configuration_mode": "Static", "ipv6_gateway": "192.0.2.1"}, "192.0.2.1"),
    ({"other_config": {"static-routes": "10.0.0.0/8"}}, "10.0.0.0/8"),
    ({"other_config": {"static-routes": "10.0.0.1/8/192.0.2.1"}}, "10.0.0.1/8"),
    ({"other_config": {"static-routes": "10.0.0.0/8/2001:db8::1"}}, "2001:db8::1"),
    ({"other_config": {"static-routes": "10.0.0.0/8/192.0.2.1 table 9"}}, "table 9"),
    ({"other_config": {"domain": "a.example\nDNS1=6.6.6.6"}}, "DNS1"),
    ({"other_config": {"domain": "$(reboot)"}}, "reboot"),
]


@pytest.mark.parametrize("fields, shown", BAD)
def test_bad_input_names_the_pif_and_value(root, fields, shown):
    hn = sample()
    hn.pifs["eth0"].update(fields)
    with pytest.raises(InvalidValue) as caught:
        ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    assert "uuid-eth0" in caught.value.message and "(eth0)" in caught.value.message
    assert shown in caught.value.message
    assert caught.value.error_description()[0] == "INVALID_VALUE"


def test_unknown_pif_and_bad_device(root):
    with pytest.raises(ModelError):
        ipconfig.plan_up(root, sample(), "OpaqueRef:nope", "xenbr0")
    with pytest.raises(ModelError):
        ipconfig.plan_down(root, sample(), "OpaqueRef:nope", "xenbr0")
    for device in ("xenbr0;reboot", "a-very-long-device-name", ""):
        with pytest.raises(InvalidValue):
            ipconfig.plan_up(root, sample(), "eth0", device)
        with pytest.raises(InvalidValue):
            ipconfig.plan_down(root, sample(), "eth0", device)


def test_values_not_used_are_not_checked(root):
    hn = sample()
    hn.pifs["eth0"].update(ip_configuration_mode="DHCP", IP="junk", netmask="junk",
                           gateway="junk", IPv6=["junk"])
    ipconfig.plan_up(root, hn, "eth0", "xenbr0")
    hn.pifs["bond0"]["other_config"] = {"domain": "$(junk)"}     # bond0 is not the DNS PIF
    ipconfig.plan_up(root, hn, "bond0", "xapi1")
