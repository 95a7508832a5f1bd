"""The plugin's update, run as XAPI runs it, against a real ovsdb-server and ovs-vswitchd."""

import json
import os

import pytest

from tests.support.plugin_host import (BOND_OTHER_CONFIG, NEW_PLUGIN, PLUGIN, Host, build_bridges,
                                       one_host, ovsdb_state)
from xsovs_common import paths
from xsovs_common.net import dbcache
from xsovs_common.ovs import mgmt_flows
from xsovs_dev import skips
from xsovs_dev.xapisim import Simulator


@pytest.fixture
def host(plugin_host):
    return plugin_host()


def set_pool_other_config(sim, values):
    sim.store.set("pool", sim.store.refs("pool")[0], "other_config", values)


def set_network_other_config(sim, bridge, values):
    sim.store.set("network", sim.store.find("network", bridge=bridge)[0], "other_config", values)


def network_uuid(sim, bridge):
    return sim.store.field("network", sim.store.find("network", bridge=bridge)[0], "uuid")


def test_update_brings_bridges_in_line_then_has_nothing_to_do(host):
    first = host.call("update")
    assert first.startswith("network cache rewritten; xs-network-uuids set on ")
    assert "fail_mode=standalone set on xapi1, xenbr0, xenbr1" in first
    for bridge in ("xenbr0", "xenbr1", "xapi1"):
        assert host.get("Bridge", bridge, "fail_mode") == "standalone"
    # A bridge XAPI does not know is left alone.
    assert host.get("Bridge", "foreign", "fail_mode") == "secure"
    assert host.other_config("Bridge", "foreign", "disable-in-band") == "true"
    # A fake bridge follows its parent; it names its own network, then the parent's.
    assert host.ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == \
        network_uuid(host.sim, "xenbr0")
    assert host.ovs.vsctl("br-get-external-id", "xapi2", "xs-network-uuids").strip() == \
        "%s;%s" % (network_uuid(host.sim, "xapi2"), network_uuid(host.sim, "xenbr0"))
    assert "xapi2" not in first.split("xs-network-uuids")[0]
    cache = dbcache.read(host.root.file(paths.NETWORK_DBCACHE))
    assert len(cache.pifs) == 6
    assert host.call("update") == "No change to configuration"


def test_fail_modes_from_the_network_then_the_pool(host):
    set_pool_other_config(host.sim, {"vswitch-controller-fail-mode": "secure"})
    set_network_other_config(host.sim, "xenbr1", {"vswitch-controller-fail-mode": "standalone"})
    set_network_other_config(host.sim, "xapi1", {"vswitch-controller-fail-mode": "bogus"})
    host.call("update")
    assert host.get("Bridge", "xenbr0", "fail_mode") == "secure"
    assert host.get("Bridge", "xenbr1", "fail_mode") == "standalone"
    assert host.get("Bridge", "xapi1", "fail_mode") == "secure"
    assert host.get("Bridge", "foreign", "fail_mode") == "secure"
    set_pool_other_config(host.sim, {})
    assert host.call("update") == \
        "network cache rewritten; fail_mode=standalone set on xapi1, xenbr0"
    assert host.get("Bridge", "xapi1", "fail_mode") == "standalone"


def test_disable_in_band_values(host):
    set_network_other_config(host.sim, "xenbr0", {"vswitch-disable-in-band": "true"})
    set_network_other_config(host.sim, "xenbr1", {"vswitch-disable-in-band": "false"})
    host.ovs.vsctl("set", "Bridge", "xapi1", "other_config:disable-in-band=true")
    set_network_other_config(host.sim, "xapi1", {"vswitch-disable-in-band": "maybe; rm -rf /"})
    result = host.call("update")
    assert host.other_config("Bridge", "xenbr0", "disable-in-band") == "true"
    assert host.other_config("Bridge", "xenbr1", "disable-in-band") == "false"
    assert host.other_config("Bridge", "xapi1", "disable-in-band") == "true"     # left
    assert result.endswith("invalid vswitch-disable-in-band 'maybe; rm -rf /' for xapi1 "
                           "left as it is")
    # Run again: nothing to change, exactly the no-change line (status names the value).
    assert host.call("update") == "No change to configuration"
    assert host.other_config("Bridge", "xapi1", "disable-in-band") == "true"
    # The key goes when XAPI no longer has it.
    set_network_other_config(host.sim, "xenbr1", {})
    set_network_other_config(host.sim, "xapi1", {})
    result = host.call("update")
    assert result == "network cache rewritten; disable-in-band removed from xapi1, xenbr1"
    assert host.other_config("Bridge", "xenbr1", "disable-in-band") == ""
    assert host.call("update") == "No change to configuration"


@pytest.mark.parametrize("xapi", ["current", "legacy"])
def test_pool_controller_set_changed_removed(plugin_host, xapi):
    """pool.set_vswitch_controller on both kinds of XAPI: current XAPI makes an
    SDN_controller of it (and runs openvswitch-config-update), legacy XAPI only
    stores it (and runs openvswitch-cfg-update); the host ends the same."""
    builder = one_host()
    if xapi == "legacy":
        builder.without_sdn_controller_class()
    host = plugin_host(builder)
    set_network_other_config(host.sim, "xenbr0", {"vswitch-disable-in-band": "true"})
    set_pool_other_config(host.sim, {"vswitch-controller-fail-mode": "standalone"})
    host.call("update")
    host.root.write(paths.VSWITCHD_CACERT, "CA of the previous controller\n")
    pool = host.x.pool.get_all()[0]

    host.x.pool.set_vswitch_controller("192.0.2.5")      # XAPI runs update on every host
    outcome = host.last_result()
    assert outcome["Status"] == "Success"
    assert host.sim.plugin_calls[-1].plugin == (NEW_PLUGIN if xapi == "current" else PLUGIN)
    assert outcome["Value"].startswith("Successfully set controller to ssl:192.0.2.5:6632; ")
    assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.5:6632"
    pem = host.root.file(paths.XAPI_SSL_PEM)
    assert host.ovs.vsctl("get-ssl").split("\n")[:4] == [
        "Private key: " + pem, "Certificate: " + pem, "CA Certificate: " + host.cacert(),
        "Bootstrap: true"]
    assert not os.path.exists(host.cacert())
    # emer-reset wiped these; XAPI's data put them back in the same transaction.
    assert host.other_config("Bridge", "xenbr0", "disable-in-band") == "true"
    for bridge in ("xenbr0", "xenbr1", "xapi1"):
        assert host.get("Bridge", bridge, "fail_mode") == "standalone"
    for key, value in BOND_OTHER_CONFIG.items():
        assert host.other_config("Port", "bond0", key) == value
    assert host.call("update") == "No change to configuration"

    host.x.pool.set_vswitch_controller("192.0.2.6")
    assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.6:6632"
    host.x.pool.set_vswitch_controller("")
    assert host.last_result()["Value"].startswith("Successfully removed controller config")
    assert host.ovs.vsctl("get-manager").strip() == ""
    assert host.ovs.vsctl("get-ssl").strip() == ""
    assert host.x.pool.get_vswitch_controller(pool) == ""
    assert host.call("update") == "No change to configuration"


def test_a_forgotten_controller_stays_forgotten(host):
    """Current XAPI leaves pool.vswitch_controller behind on SDN_controller.forget:
    its own plugin then sets no manager, and neither does xsovs."""
    host.x.pool.set_vswitch_controller("192.0.2.50")
    assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.50:6632"
    assert host.status()["update"]["firewall_open"] == ["tcp/6653"]
    host.x.SDN_controller.forget(host.x.SDN_controller.get_all()[0])
    assert host.x.pool.get_vswitch_controller(host.x.pool.get_all()[0]) == "192.0.2.50"
    assert host.last_result()["Value"].startswith("Successfully removed controller config")
    assert host.ovs.vsctl("get-manager").strip() == ""
    assert host.ovs.vsctl("get-ssl").strip() == ""
    status = host.status()
    assert status["xapi"] == {"manager": None, "source": "SDN_controller",
                              "pool_fail_mode": None}
    assert status["update"]["firewall_open"] == [] and status["in_step"] is True
    assert host.call("update", plugin=NEW_PLUGIN) == "No change to configuration"


def test_legacy_xapi_and_the_sysconfig_port(ovs, fake_root):
    builder = one_host(vswitch_controller="192.0.2.5").without_sdn_controller_class()
    with Simulator(builder.build()) as sim:
        build_bridges(ovs)
        h = Host(sim, builder.host_uuid("host1"), ovs, fake_root)
        fake_root.write(paths.SYSCONFIG_OPENVSWITCH, "CONTROLLER_PORT=6633\n")
        assert h.call("update").startswith("network cache rewritten; ")
        assert ovs.vsctl("get-manager").strip() == "ssl:192.0.2.5:6633"
        assert json.loads(h.call("status"))["xapi"]["source"] == "pool.vswitch_controller"
        h.close()


def test_sdn_controller_ssl_then_pssl(host):
    pool = host.sim.store.refs("pool")[0]
    host.sim.store.set("pool", pool, "vswitch_controller", "192.0.2.99")   # ignored: SDN wins
    sdn = host.x.SDN_controller.introduce("ssl", "192.0.2.7", "0")
    call = host.sim.plugin_calls[-1]
    assert (call.plugin, call.fn) == (NEW_PLUGIN, "update")
    assert call.outcome["Status"] == "Success", call.outcome
    assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.7:6632"

    host.x.SDN_controller.forget(sdn)       # no record left: no manager, whatever the field
    assert host.ovs.vsctl("get-manager").strip() == ""
    host.x.SDN_controller.introduce("pssl", "", "0")
    outcome = host.last_result()
    assert outcome["Status"] == "Success"
    assert host.ovs.vsctl("get-manager").strip() == "pssl:6640"
    # As XAPI's plugin sets it: its key and certificate, the pool's CA, no bootstrap.
    pem, ca = host.root.file(paths.XAPI_SSL_PEM), host.root.file(paths.SDN_CONTROLLER_CA)
    assert host.ovs.vsctl("get-ssl").split("\n")[:4] == [
        "Private key: " + pem, "Certificate: " + pem, "CA Certificate: " + ca,
        "Bootstrap: false"]
    # No controller installed its CA in the pool yet: set all the same, and named.
    assert outcome["Value"].endswith("SDN controller CA file %s is missing: controllers are "
                                     "refused until it is installed in the pool "
                                     "(pool.certificate_install sdn-controller-ca.pem)" % ca)
    assert [w for w in host.status()["update"]["warnings"] if ca in w]
    host.root.write(paths.SDN_CONTROLLER_CA, "the pool's SDN controller CA\n")
    assert host.status()["update"]["warnings"] == []
    # The manager's port is checked (and opened if missing) in the host firewall.
    assert any(c[:3] == ["iptables", "-w", "-C"] and "6640" in c and "xsovs-manager" in c
               for c in host.root.calls("iptables"))
    assert host.call("update", plugin=NEW_PLUGIN) == "No change to configuration"


def test_ipv6_controllers(host):
    host.sim.store.add("SDN_controller", {"protocol": "ssl", "address": "2001:DB8:0::7",
                                          "port": 6632})
    assert host.call("update").startswith("network cache rewritten; "
                                          "xs-network-uuids set on ")
    assert host.ovs.vsctl("get-manager").strip() == "ssl:[2001:db8::7]:6632"
    assert host.call("update") == "No change to configuration"
    # A manager written differently but meaning the same is left alone.
    host.ovs.vsctl("set-manager", "ssl:[2001:db8:0:0::7]:6632")
    assert host.call("update") == "No change to configuration"
    assert host.call("set-manager", {"controller": "2001:db8::8", "protocol": "tcp",
                                     "port": "6640"}).startswith(
        "Successfully set controller to tcp:[2001:db8::8]:6640; ")
    assert host.ovs.vsctl("get-manager").strip() == "tcp:[2001:db8::8]:6640"


def test_bond_settings_survive_an_emergency_reset(host):
    host.call("update")
    assert host.call("emergency_reset") == "Successfully reset configuration"
    assert host.other_config("Port", "bond0", "bond-miimon-interval") == ""
    assert host.ovs.vsctl("get-fail-mode", "xenbr0").strip() == ""
    result = host.call("update")
    assert "bond settings set on bond0" in result
    assert "fail_mode=standalone set on xapi1, xenbr0, xenbr1" in result
    for key, value in BOND_OTHER_CONFIG.items():
        assert host.other_config("Port", "bond0", key) == value


def _ours(host, bridge="xenbr0"):
    dumped = host.ovs.ofctl("--no-stats", "--names", "dump-flows", bridge)
    return [line for line in dumped.splitlines() if "cookie=" + mgmt_flows.COOKIE in line]


def test_management_flows_on_a_secure_management_bridge(host):
    host.call("update")
    set_pool_other_config(host.sim, {"vswitch-controller-fail-mode": "secure"})
    # No controller at all: the bridge turns secure, and its flows go in after that.
    result = host.call("update")
    assert "fail_mode=secure set on xapi1, xenbr0, xenbr1" in result
    assert "management flows installed on xenbr0" in result
    assert host.get("Bridge", "xenbr0", "fail_mode") == "secure"
    mac = host.sim.store.field("PIF", host.sim.store.find("PIF", device="eth0", VLAN=-1)[0],
                               "MAC")
    ours = _ours(host)
    assert len(ours) == 4
    assert any("in_port=eth0" in f and "arp" in f and "LOCAL" in f for f in ours)
    assert any("dl_src=" + mac in f and "output:eth0" in f for f in ours)
    # In place: nothing to do, and status says update has nothing to do.
    assert host.call("update") == "No change to configuration"
    assert host.status()["in_step"] is True
    # Gone (an ovs-vswitchd that restarted, a controller that deleted them): status
    # names them, and update puts them back, and only them.
    host.ovs.ofctl("del-flows", "xenbr0", "cookie=%s/-1" % mgmt_flows.COOKIE)
    status = host.status()
    assert status["update"]["management_flows"] == "xenbr0" and status["in_step"] is False
    assert host.call("update") == "management flows installed on xenbr0"
    assert sorted(_ours(host)) == sorted(ours)
    assert host.call("update") == "No change to configuration"
    # A controller newly set: the reset changes the bridge; the flows are there after it.
    host.x.pool.set_vswitch_controller("192.0.2.5")
    assert "management flows installed on xenbr0" in host.last_result()["Value"]
    assert sorted(_ours(host)) == sorted(ours)


@pytest.mark.parametrize("device, vlan", [("eth0", 100), ("bond0", -1)])
def test_management_flows_of_a_vlan_or_a_bond_read_back_as_in_place(host, device, vlan):
    store = host.sim.store
    for pif in store.refs("PIF"):
        store.set("PIF", pif, "management", False)
    store.set("PIF", store.find("PIF", device=device, VLAN=vlan)[0], "management", True)
    set_pool_other_config(host.sim, {"vswitch-controller-fail-mode": "secure"})
    bridge = "xenbr0" if device == "eth0" else "xapi1"
    assert "management flows installed on %s" % bridge in host.call("update")
    assert len(_ours(host, bridge)) == (4 if device == "eth0" else 6)
    # What ovs-ofctl prints back is recognised as the flows planned.
    assert host.call("update") == "No change to configuration"


def test_management_flows_when_the_fail_mode_turns_secure_with_the_controller(host):
    host.call("update")
    assert host.get("Bridge", "xenbr0", "fail_mode") == "standalone"
    set_pool_other_config(host.sim, {"vswitch-controller-fail-mode": "secure"})
    # One transaction: reset, secure, manager -- ovs-vswitchd flushes the bridge's flows
    # when its fail mode changes, so they must be (re)installed after it too.
    host.x.pool.set_vswitch_controller("192.0.2.5")
    assert host.get("Bridge", "xenbr0", "fail_mode") == "secure"
    ours = [line for line in host.ovs.ofctl("dump-flows", "xenbr0").splitlines()
            if "cookie=" + mgmt_flows.COOKIE in line]
    assert len(ours) == 4


def test_status_reports_and_changes_nothing(host):
    host.call("update")
    set_network_other_config(host.sim, "xenbr1", {"vswitch-controller-fail-mode": "secure"})
    host.sim.store.add("SDN_controller", {"protocol": "ssl", "address": "192.0.2.5",
                                          "port": 6632})     # no plugin run
    before = ovsdb_state(host.ovs)
    cache = host.root.read(paths.NETWORK_DBCACHE)
    status = host.status()
    assert ovsdb_state(host.ovs) == before
    assert host.root.read(paths.NETWORK_DBCACHE) == cache
    assert status["managers"] == [] and status["ssl"] is None
    assert status["xapi"] == {"manager": "ssl:192.0.2.5:6632",
                              "source": "SDN_controller", "pool_fail_mode": None}
    assert status["bridges"]["xenbr1"]["fail_mode"] == "standalone"
    assert status["bridges"]["xenbr1"]["xapi"]["fail_mode"] == "secure"
    assert status["bridges"]["foreign"]["xapi"] is None
    assert status["bridges"]["xapi2"]["parent"] == "xenbr0"
    assert status["bridges"]["xapi2"]["xs-network-uuids"] == "%s;%s" % (
        network_uuid(host.sim, "xapi2"), network_uuid(host.sim, "xenbr0"))
    changes = status["update"]["changes"]
    assert changes[:3] == ["emer-reset",
                           "--bootstrap set-ssl %s %s %s" % (
                               host.root.file(paths.XAPI_SSL_PEM),
                               host.root.file(paths.XAPI_SSL_PEM), host.cacert()),
                           "set-manager ssl:192.0.2.5:6632"]
    assert "set Bridge xenbr1 fail_mode=secure" in changes
    assert status["update"]["delete_ca_file"] == host.cacert()
    assert status["in_step"] is False
    host.call("update")
    status = host.status()
    assert status["in_step"] is True and status["update"]["changes"] == []
    assert status["managers"] == ["ssl:192.0.2.5:6632"]


def test_rewrite_and_unknown_functions(host):
    result = host.call("rewrite")
    assert result.startswith("network cache rewritten; xs-network-uuids set on ")
    assert host.root.exists(paths.NETWORK_DBCACHE)
    assert host.get("Bridge", "xenbr0", "fail_mode") == "[]"       # rewrite alone
    assert host.call("rewrite") == "No change to configuration"
    assert host.failure("nonsense") == [
        "UNKNOWN_XENAPI_PLUGIN_FUNCTION", "nonsense",
        "the functions are: emergency_reset, rewrite, set-manager, status, update"]


def test_set_manager(host):
    assert host.call("set-manager", {"controller": "192.0.2.8"}) == (
        "Successfully set controller to ssl:192.0.2.8:6632; "
        "fail_mode=standalone restored on xapi1, xenbr0, xenbr1; bond settings restored on bond0")
    assert host.get("Bridge", "xenbr0", "fail_mode") == "standalone"
    assert host.call("set-manager", {"controller": "192.0.2.8"}) == "No change to configuration"
    assert host.call("set-manager", {"controller": "ctl.example.com", "port": "7000",
                                     "protocol": "tcp"}).startswith(
        "Successfully set controller to tcp:ctl.example.com:7000; ")
    assert host.ovs.vsctl("get-ssl").strip() == ""              # tcp needs no SSL
    # No arguments: what XAPI wants (none here).
    assert host.call("set-manager").startswith("Successfully removed controller config; ")
    assert host.ovs.vsctl("get-manager").strip() == ""
    assert host.call("set-manager", {"controller": ""}) == "No change to configuration"


def test_runs_on_python_36(host):
    host.sim.python = skips.python36()
    host.x.pool.set_vswitch_controller("192.0.2.5")
    outcome = host.last_result()
    assert outcome["Status"] == "Success", host.sim.plugin_calls[-1].stderr
    assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.5:6632"
    assert host.call("update") == "No change to configuration"
