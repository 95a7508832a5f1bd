"""Every checker accepts the canonical forms and refuses the rest."""

import pytest

from xsovs_common import validate
from xsovs_common.errors import InvalidValue


@pytest.mark.parametrize("value,version,expected", [
    ("192.0.2.1", None, "192.0.2.1"),
    ("2001:DB8::1", None, "2001:db8::1"),
    ("fe80::1", 6, "fe80::1"),
    ("10.0.0.1", 4, "10.0.0.1"),
])
def test_ip_address_accepts(value, version, expected):
    assert validate.ip_address(value, version) == expected


@pytest.mark.parametrize("value", [
    "192.0.2", "192.0.2.1 ", " 192.0.2.1", "192.0.2.1\n", "01.2.3.4", "1.2.3.4,5.6.7.8",
    "--", "", "::g", "1.2.3.4/24", 17, None,
])
def test_ip_address_refuses(value):
    with pytest.raises(InvalidValue):
        validate.ip_address(value)


def test_ip_address_version_mismatch():
    with pytest.raises(InvalidValue):
        validate.ip_address("2001:db8::1", 4)


@pytest.mark.parametrize("value,bits", [("255.255.255.0", 24), ("255.255.0.0", 16), ("24", 24),
                                        ("0", 0), ("255.255.255.255", 32)])
def test_netmask(value, bits):
    assert validate.netmask(value) == bits


@pytest.mark.parametrize("value", ["255.0.255.0", "33", "255.255.255", "ffff::", "-1", "x"])
def test_netmask_refuses(value):
    with pytest.raises(InvalidValue):
        validate.netmask(value)


def test_ip_interface():
    assert validate.ip_interface("2001:db8::5/64") == ("2001:db8::5", 64, 6)
    assert validate.ip_interface("192.0.2.5/24") == ("192.0.2.5", 24, 4)
    for bad in ("192.0.2.5", "192.0.2.5/33", "2001:db8::5/129", "a/b/c", "192.0.2.5/x"):
        with pytest.raises(InvalidValue):
            validate.ip_interface(bad)


@pytest.mark.parametrize("value,expected", [
    ("02:00:00:AA:bb:01", "02:00:00:aa:bb:01"),
    ("02-00-00-aa-bb-01", "02:00:00:aa:bb:01"),
])
def test_mac(value, expected):
    assert validate.mac(value) == expected


@pytest.mark.parametrize("value", ["02:00:00:aa:bb", "02:00:00:aa:bb:01:02", "0200.00aa.bb01",
                                   "zz:00:00:aa:bb:01", "02:00:00:aa:bb:01\n", ""])
def test_mac_refuses(value):
    with pytest.raises(InvalidValue):
        validate.mac(value)


@pytest.mark.parametrize("value", ["xenbr0", "xapi12", "eth0", "bond0", "eth0.100", "a" * 15])
def test_interface_name(value):
    assert validate.interface_name(value) == value


@pytest.mark.parametrize("value", ["", "a" * 16, "-xenbr0", "--", "br 0", "br/0", "br\n",
                                   "br;rm", '"x"', "..", "br,0"])
def test_interface_name_refuses(value):
    with pytest.raises(InvalidValue):
        validate.interface_name(value)


@pytest.mark.parametrize("value,expected", [("controller.example.com", "controller.example.com"),
                                            ("ctl-1", "ctl-1"), ("192.0.2.9", "192.0.2.9"),
                                            ("2001:db8::9", "2001:db8::9")])
def test_host(value, expected):
    assert validate.host(value) == expected


@pytest.mark.parametrize("value", ["a b", "a,b", "'x'", "--", "x\ny", "-a.example", "a..b",
                                   "192.0.2", "999.1.1.1", "", "a_b.example", "1.2.3.4:6632"])
def test_host_refuses(value):
    with pytest.raises(InvalidValue):
        validate.host(value)


def test_integers():
    assert validate.port("6632") == 6632
    assert validate.vlan_tag("4094") == 4094
    assert validate.mtu("9000") == 9000
    for checker, bad in ((validate.port, "0"), (validate.port, "65536"), (validate.port, "6632 "),
                         (validate.vlan_tag, "4095"), (validate.vlan_tag, "-1"),
                         (validate.mtu, "67"), (validate.mtu, "1e3"), (validate.port, True)):
        with pytest.raises(InvalidValue):
            checker(bad)


def test_uuid_and_ref():
    assert validate.uuid("5F1C8AB2-0C47-4A8E-9D0B-0000000000A1") == \
        "5f1c8ab2-0c47-4a8e-9d0b-0000000000a1"
    assert validate.ref("OpaqueRef:NULL") == "OpaqueRef:NULL"
    with pytest.raises(InvalidValue):
        validate.ref("OpaqueRef:NULL", null_ok=False)
    for bad in ("not-a-uuid", "5f1c8ab2-0c47-4a8e-9d0b-0000000000a1 "):
        with pytest.raises(InvalidValue):
            validate.uuid(bad)
    with pytest.raises(InvalidValue):
        validate.ref("OpaqueRef:x y")


def test_boolean_and_choice():
    assert validate.boolean("True") is True
    assert validate.boolean("off") is False
    with pytest.raises(InvalidValue):
        validate.boolean("maybe")
    assert validate.choice("ssl", ("ssl", "tcp")) == "ssl"
    with pytest.raises(InvalidValue) as info:
        validate.choice("udp", ("ssl", "tcp"), what="protocol")
    assert info.value.params == ["protocol", "udp"]


def test_text_bounded_printable_utf8():
    assert validate.text("custom iface ID") == "custom iface ID"
    assert validate.text("é" * 127) == "é" * 127          # 254 bytes
    for bad in ("é" * 128, "x" * 256, "a\nb", "a\x00b", "\udcff", 7):
        with pytest.raises(InvalidValue):
            validate.text(bad)
