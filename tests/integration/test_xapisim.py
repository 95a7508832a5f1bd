"""The XAPI simulator's API, driven only through the real XenAPI client."""

import http.client
import threading
import xmlrpc.client

import pytest
import XenAPI

from xsovs_dev.xapisim import PoolBuilder, Simulator, client

NULL = "OpaqueRef:NULL"
# Bundled three-host fixture (see xsovs_dev/xapisim/builder.py: three_host()).
HOST1 = "OpaqueRef:00000002-aaaa-4aaa-aaaa-000000000001"
HOST1_UUID = "00000002-0000-4000-8000-000000000001"
POOL = "OpaqueRef:00000001-aaaa-4aaa-aaaa-000000000001"


@pytest.fixture(params=["tcp", "unix"])
def sim(request, tmp_path):
    """A started three-host simulator, over TCP and over a unix socket
    (in a directory whose name has underscores)."""
    s = Simulator("three-host")
    sock_dir = tmp_path / "sock_dir_x"
    sock_dir.mkdir()
    s.where = s.start(unix_path=str(sock_dir / "xapi_sock") if request.param == "unix" else None)
    yield s
    s.stop()


@pytest.fixture
def session(sim):
    sess = client.session(sim.where)
    sess.xenapi.login_with_password("root", "secret", "1.0", "xsovs-tests")
    yield sess
    if sess._session:
        sess.xenapi.session.logout()


@pytest.fixture
def x(session):
    return session.xenapi


def raw(session, method, *params):
    """Call a method bypassing XenAPI's session handling; returns the response struct."""
    return getattr(session, method)(*params)


def failure(fn, *args):
    with pytest.raises(XenAPI.Failure) as info:
        fn(*args)
    return info.value.details


# -- sessions ---------------------------------------------------------------
def test_login_logout_counts_sessions(sim):
    sess = client.session(sim.where)
    assert sim.session_count() == 0
    sess.xenapi.login_with_password("root", "")
    assert sim.session_count("login") == 1
    assert sess.xenapi.session.get_this_host(sess.handle) == HOST1
    sess.xenapi.session.logout()
    assert sim.session_count() == 0


def test_login_other_user_fails(sim):
    sess = client.session(sim.where)
    details = failure(sess.xenapi.login_with_password, "admin", "pw")
    assert details[0] == "SESSION_AUTHENTICATION_FAILED"
    assert sim.session_count() == 0


def test_session_invalid(session, sim):
    ref = session.handle
    assert raw(session, "session.logout", ref) == {"Status": "Success", "Value": ""}
    answer = raw(session, "host.get_all", ref)
    assert answer == {"Status": "Failure", "ErrorDescription": ["SESSION_INVALID", ref]}
    answer = raw(session, "host.get_all", "OpaqueRef:nonsense")
    assert answer["ErrorDescription"] == ["SESSION_INVALID", "OpaqueRef:nonsense"]
    # XenAPI answers SESSION_INVALID by logging in again with its saved credentials.
    assert len(session.xenapi.host.get_all()) == 3
    assert session.handle != ref


# -- generic errors -------------------------------------------------------------
def test_method_unknown(x):
    assert failure(x.PIF.get_nonsense, HOST1) == ["MESSAGE_METHOD_UNKNOWN", "PIF.get_nonsense"]
    assert failure(x.SR.get_all) == ["MESSAGE_METHOD_UNKNOWN", "SR.get_all"]
    # Read-only fields have no setter, as in XAPI.
    assert failure(x.PIF.set_IP, NULL, "1.2.3.4")[0] == "MESSAGE_METHOD_UNKNOWN"


def test_parameter_count_mismatch(x):
    assert failure(x.PIF.get_record) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "PIF.get_record", "2", "1"]
    assert failure(x.host.get_all, "extra") == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "host.get_all", "1", "2"]


def test_handle_invalid(x):
    bad = "OpaqueRef:nope"
    assert failure(x.PIF.get_record, bad) == ["HANDLE_INVALID", "PIF", bad]
    assert failure(x.host.get_PIFs, NULL) == ["HANDLE_INVALID", "host", NULL]
    # A ref of another class is no PIF either.
    assert failure(x.PIF.get_device, HOST1) == ["HANDLE_INVALID", "PIF", HOST1]


def test_uuid_invalid(x):
    assert x.host.get_by_uuid(HOST1_UUID) == HOST1
    bad = "00000000-0000-4000-8000-00000000ffff"
    assert failure(x.network.get_by_uuid, bad) == ["UUID_INVALID", "network", bad]


# -- records and marshalling -----------------------------------------------------
def test_ints_are_strings_booleans_are_booleans(x):
    pif = x.PIF.get_all_records_where('field "device"="eth0" and field "VLAN"="-1"')
    rec = next(iter(pif.values()))
    assert rec["VLAN"] == "-1" and rec["MTU"] == "1500"
    assert rec["management"] is True and rec["currently_attached"] is True
    assert rec["IPv6"] == [] and rec["other_config"] == {}
    assert rec["bond_slave_of"] == NULL
    net = x.network.get_record(rec["network"])
    assert net["MTU"] == "1500"
    assert x.PIF.get_MTU(next(iter(pif))) == "1500"


def test_no_nil_on_the_wire(sim):
    """Read every class's records as raw XML: no <nil/>, ints as strings."""
    sess = client.session(sim.where)
    sess.xenapi.login_with_password("root", "")
    ref = sess.handle
    sim.store.add("SDN_controller", {"protocol": "ssl", "address": "192.0.2.99", "port": 6632})
    body_all = ""
    for cls in ("pool", "host", "PIF", "network", "Bond", "VLAN", "tunnel", "SDN_controller"):
        body_all += _post(sim, xmlrpc.client.dumps((ref,), cls + ".get_all_records"))
    assert "<nil" not in body_all
    assert "<value><string>6632</string></value>" in body_all
    assert "<boolean>1</boolean>" in body_all
    assert "<int>" not in body_all and "<i4>" not in body_all
    sess.xenapi.session.logout()


def _post(sim, body):
    if sim.where.startswith("http"):
        conn = http.client.HTTPConnection("127.0.0.1", int(sim.url.rsplit(":", 1)[1].strip("/")))
    else:
        conn = client._UnixHTTPConnection(sim.where)
    conn.request("POST", "/", body, {"Content-Type": "text/xml"})
    data = conn.getresponse().read().decode()
    conn.close()
    return data


def test_get_all_and_records(x):
    assert len(x.host.get_all()) == 3
    assert len(x.PIF.get_all()) == 21
    assert set(x.PIF.get_all_records()) == set(x.PIF.get_all())
    assert x.pool.get_all() == [POOL]
    assert x.host.get_by_name_label("host2") == ["OpaqueRef:00000002-aaaa-4aaa-aaaa-000000000002"]
    assert x.SDN_controller.get_all() == []


# -- derived back-references --------------------------------------------------------
def test_back_references(x):
    assert x.pool.get_master(POOL) == HOST1
    for host in x.host.get_all():
        pifs = x.PIF.get_all_records_where('field "host"="%s"' % host)
        assert sorted(pifs) == sorted(x.host.get_PIFs(host))
        by = {}
        for ref, rec in pifs.items():
            key = rec["device"] if rec["VLAN"] == "-1" else "%s.%s" % (rec["device"], rec["VLAN"])
            by[key] = (ref, rec)
        assert sorted(by) == ["bond0", "bond0.200", "eth0", "eth0.100", "eth1", "eth2", "tunnel0"]
        eth0, bond0 = by["eth0"], by["bond0"]
        # bond
        (bond,) = bond0[1]["bond_master_of"]
        assert x.Bond.get_master(bond) == bond0[0]
        assert sorted(x.Bond.get_slaves(bond)) == sorted([by["eth1"][0], by["eth2"][0]])
        assert by["eth1"][1]["bond_slave_of"] == bond == by["eth2"][1]["bond_slave_of"]
        assert bond0[1]["physical"] is False and by["eth1"][1]["physical"] is True
        # VLANs
        for parent, tag in (("eth0", "100"), ("bond0", "200")):
            ref, rec = by["%s.%s" % (parent, tag)]
            vlan = rec["VLAN_master_of"]
            assert x.VLAN.get_record(vlan) == {
                "uuid": x.VLAN.get_uuid(vlan), "tagged_PIF": by[parent][0], "untagged_PIF": ref,
                "tag": tag, "other_config": {}}
            assert by[parent][1]["VLAN_slave_of"] == [vlan]
            assert rec["physical"] is False
        assert eth0[1]["VLAN_master_of"] == NULL
        # tunnel
        (tun,) = eth0[1]["tunnel_transport_PIF_of"]
        assert by["tunnel0"][1]["tunnel_access_PIF_of"] == [tun]
        assert x.tunnel.get_access_PIF(tun) == by["tunnel0"][0]
        assert x.tunnel.get_protocol(tun) == "gre"
    # networks are pool-wide: one PIF per host
    for bridge in ("xenbr0", "xapi1", "xapi2", "xapi3", "xapi4"):
        (net,) = x.network.get_all_records_where('field "bridge"="%s"' % bridge).values()
        hosts = {x.PIF.get_host(p) for p in net["PIFs"]}
        assert len(hosts) == 3


def test_fixture_back_references_are_ignored_and_rederived(sim, x):
    net = next(iter(x.network.get_all_records_where('field "bridge"="xenbr1"')))
    eth0 = x.PIF.get_all_records_where('field "device"="eth0" and field "VLAN"="-1"')
    ref = sorted(eth0)[0]
    sim.store.set("PIF", ref, "network", net)  # as a pool administrator's change could
    assert ref in x.network.get_PIFs(net)
    with pytest.raises(ValueError):
        sim.store.set("host", HOST1, "PIFs", [])
    with pytest.raises(ValueError):
        sim.store.set("PIF", ref, "network", "OpaqueRef:missing")


def test_loader_derives_and_rejects():
    fixture = PoolBuilder().host("h").physical_pif("eth0", "xenbr0").build()
    (host,) = fixture["host"]
    fixture["host"][host]["PIFs"] = ["OpaqueRef:junk"]  # derived: ignored
    s = Simulator(fixture)
    assert s.store.field("host", host, "PIFs") == list(fixture["PIF"])
    with pytest.raises(ValueError, match="no field"):
        Simulator({"host": {"OpaqueRef:h": {"colour": "red"}}})
    with pytest.raises(ValueError, match="unknown class"):
        Simulator({"SR": {}})
    with pytest.raises(ValueError, match="unknown network"):
        Simulator({"PIF": {"OpaqueRef:p": {"network": "OpaqueRef:n"}}})
    with pytest.raises(ValueError, match="expected an int"):
        Simulator({"network": {"OpaqueRef:n": {"MTU": "big"}}})
    with pytest.raises(ValueError, match="not one of"):
        Simulator({"PIF": {"OpaqueRef:p": {"ip_configuration_mode": "Magic"}}})


# -- get_all_records_where ---------------------------------------------------------
def _devices(x, expr):
    return sorted(
        "%s/%s" % (r["device"], r["VLAN"]) for r in x.PIF.get_all_records_where(expr).values()
    )


def test_where_terms(x):
    h = 'field "host"="%s"' % HOST1
    assert _devices(x, h + ' and field "device"="eth0"') == ["eth0/-1", "eth0/100"]
    assert _devices(x, h + ' and field "management"="true"') == ["eth0/-1"]
    assert _devices(x, h + ' and field "VLAN"="200"') == ["bond0/200"]
    assert _devices(x, h + ' and (field "device"="eth1" or field "device"="eth2")') == [
        "eth1/-1", "eth2/-1"]
    assert _devices(x, h + ' and not field "physical"="true"') == [
        "bond0/-1", "bond0/200", "eth0/100", "tunnel0/-1"]
    assert _devices(x, h + ' and not (field "physical"="true" or field "VLAN"="-1")') == [
        "bond0/200", "eth0/100"]
    assert len(x.PIF.get_all_records_where("true")) == 21
    assert x.PIF.get_all_records_where("false") == {}
    assert x.PIF.get_all_records_where('"a"="a" and not "a"="b"') == x.PIF.get_all_records()
    # refs compare as strings; booleans as "true"/"false"
    assert x.host.get_all_records_where('field "uuid"="%s"' % HOST1_UUID).keys() == {HOST1}


def test_where_precedence_is_left_to_right(x):
    # XAPI's grammar gives and/or one precedence, left-associative:
    # A or B and C == (A or B) and C.
    a, b, c = 'field "device"="eth1"', 'field "device"="eth2"', 'field "host"="%s"' % HOST1
    assert _devices(x, "%s or %s and %s" % (a, b, c)) == ["eth1/-1", "eth2/-1"]
    assert len(_devices(x, "%s and %s or %s" % (c, a, b))) == 1 + 3


def test_where_not_reaches_to_the_end(x):
    # XAPI declares `not` below `and`/`or`: not A and B == not (A and B).
    a, h = 'field "device"="eth1"', 'field "host"="%s"' % HOST1
    assert len(_devices(x, "not %s and %s" % (a, h))) == 21 - 1
    assert len(_devices(x, "(not %s) and %s" % (a, h))) == 7 - 1
    assert _devices(x, "%s and not %s or %s" % (h, a, 'field "device"="eth2"')) == [
        "bond0/-1", "bond0/200", "eth0/-1", "eth0/100", "tunnel0/-1"]


def test_where_on_thousands_of_refs(x):
    """A query keyed on many refs (``or`` of ``_ref``/ref fields), as clients build them."""
    mine = x.PIF.get_all_records_where('field "host"="%s"' % HOST1)
    decoys = ["OpaqueRef:%08x-0000-4000-8000-000000000000" % n for n in range(5000)]
    terms = ['field "_ref"="%s"' % ref for ref in decoys + sorted(mine)]
    assert x.PIF.get_all_records_where(" or ".join(terms)) == mine
    vlans = x.VLAN.get_all_records_where(" or ".join(
        'field "untagged_PIF"="%s"' % ref for ref in decoys + sorted(mine)))
    assert sorted(v["tag"] for v in vlans.values()) == ["100", "200"]


@pytest.mark.parametrize("expr", [
    'field "host"=', 'field "host"', '"unclosed', "field host=\"x\"", "(true", "true)",
    "true false", "and true", "", 'field = "x"', "banana",
])
def test_where_malformed(x, expr):
    details = failure(x.PIF.get_all_records_where, expr)
    assert details[:2] == ["INVALID_VALUE", expr]


def test_where_unknown_field(x):
    assert failure(x.PIF.get_all_records_where, 'field "colour"="red"')[0] == "INTERNAL_ERROR"


# -- setters ----------------------------------------------------------------------
def test_setters_and_maps(x):
    (net,) = x.network.get_all_records_where('field "bridge"="xapi2"')
    x.network.set_MTU(net, "9000")
    assert x.network.get_MTU(net) == "9000"
    x.network.set_name_label(net, "storage")
    assert x.network.get_by_name_label("storage") == [net]
    x.network.set_other_config(net, {"mtu": "9000"})
    x.network.add_to_other_config(net, "static-routes", "10.0.0.0/8/192.0.2.1")
    assert x.network.get_other_config(net) == {
        "mtu": "9000", "static-routes": "10.0.0.0/8/192.0.2.1"}
    assert failure(x.network.add_to_other_config, net, "mtu", "1") == [
        "MAP_DUPLICATE_KEY", "network", "other_config", net, "mtu"]
    x.network.remove_from_other_config(net, "mtu")
    x.network.remove_from_other_config(net, "not-there")
    assert x.network.get_other_config(net) == {"static-routes": "10.0.0.0/8/192.0.2.1"}
    assert failure(x.network.set_MTU, net, "jumbo") == ["FIELD_TYPE_ERROR", "MTU"]
    assert failure(x.network.set_other_config, net, {"a": 1}) == [
        "FIELD_TYPE_ERROR", "other_config"]
    x.pool.add_to_other_config(POOL, "vswitch-controller-fail-mode", "secure")
    assert x.pool.get_other_config(POOL) == {"vswitch-controller-fail-mode": "secure"}
    (bond,) = x.Bond.get_all_records_where('field "mode"="active-backup"')
    x.Bond.set_mode(bond, "lacp")
    assert x.Bond.get_mode(bond) == "lacp"
    assert failure(x.Bond.set_mode, bond, "round-robin") == ["FIELD_TYPE_ERROR", "mode"]


def test_vif_locking_messages():
    """XAPI's locking-mode messages: enums checked, allowed addresses a checked set."""
    fixture = (PoolBuilder().host("h").vm("vm1", host="h")
               .vif("vm1", "xenbr9", ipv4_allowed=["192.0.2.5"]).build())
    with Simulator(fixture) as s:
        sess = client.session(s.url)
        sess.xenapi.login_with_password("root", "")
        x = sess.xenapi
        (vif,) = x.VIF.get_all()
        net = x.VIF.get_network(vif)
        assert x.VIF.get_locking_mode(vif) == "network_default"
        assert x.network.get_default_locking_mode(net) == "unlocked"
        x.VIF.set_locking_mode(vif, "locked")
        x.network.set_default_locking_mode(net, "disabled")
        assert x.VIF.get_record(vif)["locking_mode"] == "locked"
        assert x.network.get_default_locking_mode(net) == "disabled"
        assert failure(x.VIF.set_locking_mode, vif, "open") == ["FIELD_TYPE_ERROR", "locking_mode"]
        assert failure(x.network.set_default_locking_mode, net, "locked") == [
            "FIELD_TYPE_ERROR", "default_locking_mode"]
        x.VIF.add_ipv4_allowed(vif, "192.0.2.6")
        x.VIF.add_ipv4_allowed(vif, "192.0.2.6")
        assert x.VIF.get_ipv4_allowed(vif) == ["192.0.2.5", "192.0.2.6"]
        x.VIF.remove_ipv4_allowed(vif, "192.0.2.5")
        assert x.VIF.get_ipv4_allowed(vif) == ["192.0.2.6"]
        assert failure(x.VIF.add_ipv4_allowed, vif, "2001:db8::1") == [
            "INVALID_VALUE", "ipv4_allowed", "2001:db8::1"]
        x.VIF.set_ipv6_allowed(vif, ["2001:db8::1", "2001:db8::1"])
        assert x.VIF.get_ipv6_allowed(vif) == ["2001:db8::1"]
        assert failure(x.VIF.set_ipv6_allowed, vif, ["10.0.0.1"]) == [
            "INVALID_VALUE", "ipv6_allowed", "10.0.0.1"]
        assert x.VIF.get_ipv6_allowed(vif) == ["2001:db8::1"]


def test_store_writes_are_visible(sim, x):
    """Tests write values a pool administrator could set, bypassing XAPI's checks."""
    sim.store.set("pool", POOL, "vswitch_controller", "not an address; rm -rf /")
    assert x.pool.get_vswitch_controller(POOL) == "not an address; rm -rf /"
    pif = sorted(x.PIF.get_all())[0]
    sim.store.set("PIF", pif, "other_config", {"mtu": "abc"})
    assert x.PIF.get_other_config(pif) == {"mtu": "abc"}


# -- SDN_controller --------------------------------------------------------------
def test_sdn_controller_absent():
    fixture = PoolBuilder().host("h").without_sdn_controller_class().build()
    with Simulator(fixture) as s:
        sess = client.session(s.url)
        sess.xenapi.login_with_password("root", "")
        assert failure(sess.xenapi.SDN_controller.get_all) == [
            "MESSAGE_METHOD_UNKNOWN", "SDN_controller.get_all"]
        assert failure(sess.xenapi.SDN_controller.introduce, "ssl", "192.0.2.9", "6632")[0] == (
            "MESSAGE_METHOD_UNKNOWN")
        assert sess.xenapi.pool.get_vswitch_controller(sess.xenapi.pool.get_all()[0]) == ""
        sess.xenapi.session.logout()


def test_sdn_controller_present(x, sim, tmp_path):
    sim.plugin_dirs = [str(tmp_path)]  # no update plugin: outcomes recorded, not raised
    assert x.SDN_controller.get_all_records() == {}
    ref = x.SDN_controller.introduce("ssl", "192.0.2.99", "0")
    assert x.SDN_controller.get_record(ref) == {
        "uuid": x.SDN_controller.get_uuid(ref), "protocol": "ssl", "address": "192.0.2.99",
        "port": "6632"}
    assert x.SDN_controller.get_port(ref) == "6632"
    assert failure(x.SDN_controller.introduce, "ssl", "192.0.2.98", "6632")[0] == (
        "OPERATION_NOT_ALLOWED")
    x.SDN_controller.forget(ref)
    assert x.SDN_controller.get_all() == []
    assert failure(x.SDN_controller.forget, ref) == ["HANDLE_INVALID", "SDN_controller", ref]
    ref = x.SDN_controller.introduce("pssl", "", "0")
    assert x.SDN_controller.get_port(ref) == "0"
    x.SDN_controller.forget(ref)
    assert failure(x.SDN_controller.introduce, "pssl", "192.0.2.1", "0") == [
        "INVALID_VALUE", "address", "192.0.2.1"]
    assert failure(x.SDN_controller.introduce, "ssl", "ctl.example", "0") == [
        "INVALID_IP_ADDRESS_SPECIFIED", "address"]
    assert failure(x.SDN_controller.introduce, "tcp", "192.0.2.1", "0") == [
        "FIELD_TYPE_ERROR", "protocol"]
    calls = [c for c in sim.plugin_calls if c.plugin == "openvswitch-config-update"]
    assert len(calls) == 4 * 3  # two introduces, two forgets, three hosts each
    assert {c.outcome["ErrorDescription"][0] for c in calls} == {"XENAPI_MISSING_PLUGIN"}


# -- concurrency of plain calls ---------------------------------------------------
def test_parallel_clients(sim):
    errors = []

    def worker():
        try:
            sess = client.session(sim.where)
            sess.xenapi.login_with_password("root", "")
            for _ in range(5):
                assert len(sess.xenapi.PIF.get_all_records()) == 21
            sess.xenapi.session.logout()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sim.session_count() == 0
