"""Text of ifcfg-DEV, route-DEV, /etc/sysconfig/network and resolv.conf."""

import pytest

from xsovs_common.system import ifcfg
from xsovs_common.errors import InvalidValue, safe_text


@pytest.mark.parametrize("value, text", [
    ("192.0.2.10", "192.0.2.10"), ("yes", "yes"), ("2001:db8::1/64", "2001:db8::1/64"),
    ("a.example b.example", '"a.example b.example"'), ("", ""), (1500, "1500"),
])
def test_shell_value_quotes_only_what_needs_it(value, text):
    assert ifcfg.shell_value("KEY", value) == text


@pytest.mark.parametrize("value", ['a"b', "a'b", "a\nb", "$(reboot)", "`reboot`", "a\\b",
                                   "a;b", "a\tb", "a#b"])
def test_shell_value_refuses_unsafe_characters(value):
    with pytest.raises(InvalidValue) as caught:
        ifcfg.shell_value("DOMAIN", value)
    assert caught.value.params == ["DOMAIN", safe_text(value)]     # echoed escaped


def test_ifcfg_text_in_field_order():
    text = ifcfg.ifcfg_text("xenbr0", [("DEVICE", "xenbr0"), ("DOMAIN", "a.example b.example")])
    assert text.splitlines()[1:] == ["DEVICE=xenbr0", 'DOMAIN="a.example b.example"']
    assert text.startswith("# ") and "xenbr0" in text.splitlines()[0]


def test_route_text():
    assert ifcfg.route_text("xenbr0", []) is None
    text = ifcfg.route_text("xenbr0", [("10.0.0.0/8", "192.0.2.1"),
                                       ("2001:db8:1::/48", "2001:db8::1")])
    assert text.splitlines()[1:] == ["10.0.0.0/8 via 192.0.2.1 dev xenbr0",
                                     "2001:db8:1::/48 via 2001:db8::1 dev xenbr0"]
    with pytest.raises(InvalidValue):
        ifcfg.route_text("xenbr0", [("10.0.0.0/8 table 5", "192.0.2.1")])


def test_update_shell_vars_keeps_other_lines():
    old = "NETWORKING=yes\n# a comment\nGATEWAYDEV=xenbr1\nHOSTNAME=h1"
    new = ifcfg.update_shell_vars(old, {"GATEWAYDEV": "xenbr0", "DNSDEV": "xenbr0"})
    assert new == "NETWORKING=yes\n# a comment\nGATEWAYDEV=xenbr0\nHOSTNAME=h1\nDNSDEV=xenbr0\n"
    assert ifcfg.update_shell_vars(new, {"GATEWAYDEV": None, "DNSDEV": None}) == \
        "NETWORKING=yes\n# a comment\nHOSTNAME=h1\n"
    assert ifcfg.update_shell_vars("", {"GATEWAYDEV": "xenbr0"}) == "GATEWAYDEV=xenbr0\n"
    assert ifcfg.update_shell_vars("GATEWAYDEV=a\nGATEWAYDEV=b\n", {"GATEWAYDEV": "c"}) == \
        "GATEWAYDEV=c\n"


def test_resolv_conf_replaces_servers_and_search_keeps_options():
    old = "# generated\ndomain old.example\nsearch old.example\nnameserver 10.0.0.1\n" \
          "options rotate\n"
    new = ifcfg.resolv_conf_text(old, ["192.0.2.53", "2001:db8::53"], ["a.example"])
    assert new == "# generated\noptions rotate\nsearch a.example\nnameserver 192.0.2.53\n" \
                  "nameserver 2001:db8::53\n"
    assert ifcfg.resolv_conf_text("", ["192.0.2.53"], []) == "nameserver 192.0.2.53\n"
    with pytest.raises(InvalidValue):
        ifcfg.resolv_conf_text("", ["192.0.2.53\nnameserver 6.6.6.6"], [])
