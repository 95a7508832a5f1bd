"""Manager targets: what XAPI's values mean, how they print, what is refused."""

import pytest

from xsovs_common import errors, paths
from xsovs_common.xapi import controller
from xsovs_common.errors import InvalidValue
from xsovs_common.xapi.session import XapiError


def _sysconfig(root, text):
    path = root.path(paths.SYSCONFIG_OPENVSWITCH)
    import os
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write(text)


def _invalid(function, *args):
    with pytest.raises(InvalidValue) as info:
        function(*args)
    assert info.value.code == "INVALID_VSWITCH_CONTROLLER"
    return info.value.params


def test_targets_print_as_ovs_writes_them():
    assert str(controller.target("ssl", "192.0.2.1", 6632)) == "ssl:192.0.2.1:6632"
    assert str(controller.target("tcp", "2001:DB8:0::1", "6640")) == "tcp:[2001:db8::1]:6640"
    assert str(controller.target("ssl", "ctl.example.com", 6632)) == "ssl:ctl.example.com:6632"
    assert str(controller.target("pssl", "", 6640)) == "pssl:6640"
    assert str(controller.target("pssl", "::1", 6641)) == "pssl:6641:[::1]"


def test_parse_normalises_so_equal_targets_compare_equal():
    wanted = controller.target("ssl", "2001:db8::1", 6632)
    assert controller.parse("ssl:[2001:db8:0:0::1]:6632") == wanted
    assert controller.same(["ssl:[2001:db8:0::1]:6632"], wanted)
    assert controller.parse("tcp:192.0.2.1") == controller.target("tcp", "192.0.2.1", 6640)
    assert controller.parse("pssl:") == controller.target("pssl", "", 6640)
    assert controller.parse("pssl:6640:[::1]") == controller.target("pssl", "::1", 6640)
    for foreign in ("punix:/var/run/x.sock", "ssl:2001:db8::1:6632", "ssl:[::1", "ssl:a b:1",
                    "ssl:192.0.2.1:99999", "unix:/x"):
        assert controller.parse(foreign) is None, foreign


def test_same_needs_exactly_the_wanted_manager():
    wanted = controller.target("ssl", "192.0.2.1", 6632)
    assert controller.same([], None)
    assert not controller.same(["ssl:192.0.2.1:6632"], None)
    assert not controller.same([], wanted)
    assert not controller.same(["ssl:192.0.2.1:6632", "ptcp:6640"], wanted)
    assert not controller.same(["ssl:192.0.2.1:6633"], wanted)
    assert not controller.same(["tcp:192.0.2.1:6632"], wanted)


@pytest.mark.parametrize("value", [
    "192.0.2.1 ", " 192.0.2.1", "192.0.2.1,192.0.2.2", "192.0.2.1, 192.0.2.2", '"192.0.2.1"',
    "'x'", "--", "--db=unix:/x", "a\nb", "192.0.2.99:bad", "192.0.2.1:6632", "ssl:192.0.2.1",
    "999.1.1.1", "host_name", "-x.example.com", "[2001:db8::1]", "2001:db8::zz", "1.2.3",
])
def test_bad_hosts_are_refused_with_the_value(root, value):
    echoed = errors.safe_text(value)      # "a\\nb": control characters escaped
    assert _invalid(controller.from_legacy, root, value) == [echoed]
    assert _invalid(controller.from_args, root, {"controller": value}) == [echoed]


def test_bad_ports_and_protocols(root):
    for port in ("0", "65536", "-1", "66a", " 1", "1e3"):
        assert _invalid(controller.from_args, root, {"controller": "192.0.2.1", "port": port}) \
            == [port]
    assert _invalid(controller.from_args, root, {"controller": "192.0.2.1", "protocol": "udp"}) \
        == ["udp"]
    assert _invalid(controller.from_sdn_record, root,
                    {"protocol": "ssl", "address": "192.0.2.1", "port": "70000"}) == ["70000"]
    assert _invalid(controller.from_sdn_record, root,
                    {"protocol": "bogus", "address": "192.0.2.1", "port": "6632"}) == ["bogus"]
    assert _invalid(controller.from_sdn_record, root,
                    {"protocol": "pssl", "address": "ctl.example.com", "port": "0"}) \
        == ["ctl.example.com"]
    with pytest.raises(InvalidValue) as info:
        controller.from_args(root, {"controller": "192.0.2.1", "bogus": "1"})
    assert info.value.params == ["args", "bogus"]


def test_defaults_and_the_sysconfig_port(root):
    assert str(controller.from_legacy(root, "192.0.2.1").target) == "ssl:192.0.2.1:6632"
    assert controller.from_legacy(root, "").target is None
    assert str(controller.from_sdn_record(root, {"protocol": "ssl", "address": "192.0.2.1",
                                                 "port": "0"}).target) == "ssl:192.0.2.1:6632"
    assert str(controller.from_sdn_record(root, {"protocol": "pssl", "address": "",
                                                 "port": "0"}).target) == "pssl:6640"
    assert str(controller.from_args(root, {"controller": "192.0.2.1", "protocol": "tcp"})
               .target) == "tcp:192.0.2.1:6632"
    assert controller.from_args(root, {"controller": ""}).target is None
    # Arguments without controller= are a mistake, not a request to remove the manager.
    for args in ({"port": "6640"}, {"protocol": "tcp"}):
        assert _invalid(controller.from_args, root, args) == [""]
    assert str(controller.from_args(root, {"protocol": "pssl"}).target) == "pssl:6640"
    _sysconfig(root, "# local controller port\nCONTROLLER_PORT='6633'\n")
    assert str(controller.from_legacy(root, "192.0.2.1").target) == "ssl:192.0.2.1:6633"
    assert str(controller.from_args(root, {"controller": "::1"}).target) == "ssl:[::1]:6633"


def test_a_bad_sysconfig_port_is_refused(root):
    _sysconfig(root, "CONTROLLER_PORT=70000\n")
    assert _invalid(controller.from_legacy, root, "192.0.2.1") == ["70000"]


class _Api:
    """Just enough of xapi.Api for controller.wanted."""

    def __init__(self, records=None, error=None):
        self.SDN_controller = self
        self._records, self._error = records, error

    def get_all_records(self):
        if self._error:
            raise XapiError([self._error, "SDN_controller.get_all_records"])
        return self._records


def test_wanted_decides_by_the_class_not_the_records(root):
    pool = {"vswitch_controller": "192.0.2.9"}
    sdn = {"OpaqueRef:1": {"protocol": "ssl", "address": "192.0.2.1", "port": "6632"}}
    found = controller.wanted(_Api(sdn), root, pool)
    assert (str(found.target), found.source) == ("ssl:192.0.2.1:6632", "SDN_controller")
    # Current XAPI with no record (forgotten): no manager, whatever the legacy field holds.
    found = controller.wanted(_Api({}), root, pool)
    assert (found.target, found.source) == (None, "SDN_controller")
    # Only a XAPI without the class at all has the legacy field as its truth.
    found = controller.wanted(_Api(error="MESSAGE_METHOD_UNKNOWN"), root, pool)
    assert (str(found.target), found.source) == ("ssl:192.0.2.9:6632", "pool.vswitch_controller")
    with pytest.raises(XapiError) as info:
        controller.wanted(_Api(error="SESSION_INVALID"), root, pool)
    assert info.value.code == "SESSION_INVALID"
    two = dict(sdn, **{"OpaqueRef:2": sdn["OpaqueRef:1"]})
    assert _invalid(controller.wanted, _Api(two), root, pool) == ["OpaqueRef:1, OpaqueRef:2"]


def test_a_pssl_record_listens_on_6640_and_has_no_address(root):
    for record, param in (({"address": "192.0.2.1", "port": 0}, "192.0.2.1"),
                          ({"address": "::1", "port": "0"}, "::1"),
                          ({"address": "", "port": "6641"}, "6641"),
                          ({"address": "", "port": 70000}, "70000"),
                          ({"address": "", "port": "-1"}, "-1")):
        assert _invalid(controller.from_sdn_record, root, dict(record, protocol="pssl")) \
            == [param]
    for port in (0, "0", 6640, "6640"):
        wanted = controller.from_sdn_record(root, {"protocol": "pssl", "address": "",
                                                   "port": port})
        assert str(wanted.target) == "pssl:6640"


def test_ssl_files_per_kind_of_manager():
    pem = "/etc/xensource/xapi-ssl.pem"
    assert controller.ssl_files(controller.target("pssl", "", 6640)) == (
        pem, pem, "/etc/stunnel/certs/sdn-controller-ca.pem", False)
    assert controller.ssl_files(controller.target("ssl", "192.0.2.1", 6632)) == (
        pem, pem, "/etc/openvswitch/vswitchd.cacert", True)
    assert controller.ssl_files(controller.target("tcp", "192.0.2.1", 6632)) is None
    assert controller.ssl_files(None) is None
