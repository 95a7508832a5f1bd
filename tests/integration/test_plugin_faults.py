"""Bad input and faults: a clear failure code, and nothing changed."""

import os
import socket
import threading
import time

import pytest

from tests.support.plugin_host import PLUGIN, one_host, ovsdb_state
from xsovs_common import paths
from xsovs_common.errors import safe_text
from xsovs_common.system import lock
from xsovs_dev.xapisim import REPO_ROOT, XapiError, plugins

PLUGIN_PATH = str(REPO_ROOT / "xapi.d" / "plugins" / PLUGIN)


def _in_step(h, ovs, fake_root):
    h.call("update")
    assert ovs.vsctl("get-manager").strip() == "ssl:192.0.2.5:6632"
    fake_root.write(paths.VSWITCHD_CACERT, "CA learnt from the controller\n")
    return h


@pytest.fixture
def host(plugin_host, ovs, fake_root):
    """A host in step with XAPI, with a controller set (so a wrong reset would show)."""
    h = plugin_host(one_host())
    h.sim.store.add("SDN_controller", {"protocol": "ssl", "address": "192.0.2.5", "port": 6632})
    return _in_step(h, ovs, fake_root)


@pytest.fixture
def legacy_host(plugin_host, ovs, fake_root):
    """The same on a legacy XAPI: no SDN_controller class, pool.vswitch_controller set."""
    h = plugin_host(one_host(vswitch_controller="192.0.2.5").without_sdn_controller_class())
    return _in_step(h, ovs, fake_root)


def unchanged(host, before, cache):
    assert ovsdb_state(host.ovs) == before
    assert host.root.read(paths.NETWORK_DBCACHE) == cache
    assert host.root.exists(paths.VSWITCHD_CACERT)


def snapshot(host):
    return ovsdb_state(host.ovs), host.root.read(paths.NETWORK_DBCACHE)


HOST = "not an IPv4 / IPv6 address or host name"


def invalid(description, value, why):
    """INVALID_VSWITCH_CONTROLLER naming the value, the human-readable reason last."""
    assert description[:2] == ["INVALID_VSWITCH_CONTROLLER", value]
    assert len(description) == 3 and description[2].endswith(": " + why), description
    return True


def set_legacy(host, value):
    host.sim.store.set("pool", host.sim.store.refs("pool")[0], "vswitch_controller", value)


def set_address(host, value):
    """The SDN_controller's address, as written in XAPI's database (no check)."""
    host.sim.store.set("SDN_controller", host.sim.store.refs("SDN_controller")[0], "address",
                       value)


def test_network_cache_changes_are_part_of_the_check(host):
    # The fixture's state is what an update leaves: nothing to do.
    assert host.call("update") == "No change to configuration"


@pytest.mark.parametrize("value", [
    "192.0.2.1 192.0.2.2", "192.0.2.1,192.0.2.2", '"192.0.2.1"', "--", "-- emer-reset",
    "192.0.2.1\nset-manager tcp:6.6.6.6:1", "192.0.2.99:bad", "ssl:192.0.2.1:6632", "a b",
    "999.0.0.1", "2001:db8::1/64",
])
def test_a_bad_legacy_controller_changes_nothing(legacy_host, value):
    host = legacy_host
    before, cache = snapshot(host)
    set_legacy(host, value)
    assert invalid(host.failure("update"), safe_text(value), HOST)
    unchanged(host, before, cache)


def test_set_vswitch_controller_with_a_bad_value_fails_on_the_host(legacy_host):
    host = legacy_host
    before, cache = snapshot(host)
    host.x.pool.set_vswitch_controller("192.0.2.99:bad")   # legacy XAPI does not check
    assert host.last_result()["Status"] == "Failure"
    assert invalid(host.last_result()["ErrorDescription"], "192.0.2.99:bad", HOST)
    unchanged(host, before, cache)


def test_bad_sdn_controller_records_change_nothing(host):
    before, cache = snapshot(host)
    firewall_calls = len(host.root.calls("iptables"))
    sdn = host.sim.store.refs("SDN_controller")[0]
    host.sim.store.set("SDN_controller", sdn, "address", "192.0.2.7")
    host.sim.store.set("SDN_controller", sdn, "port", 70000)
    assert invalid(host.failure("update"), "70000", "not a port (1-65535)")
    host.sim.store.set("SDN_controller", sdn, "port", 6632)
    host.sim.store.set("SDN_controller", sdn, "protocol", "udp", check=False)
    assert invalid(host.failure("update"), "udp", "protocol is not one of ssl, tcp, pssl")
    host.sim.store.set("SDN_controller", sdn, "protocol", "ssl")
    host.sim.store.set("SDN_controller", sdn, "address", "192.0.2.7; reboot")
    assert invalid(host.failure("update"), "192.0.2.7; reboot", HOST)
    # A listening controller has no address and listens on 6640 only.
    host.sim.store.set("SDN_controller", sdn, "protocol", "pssl")
    host.sim.store.set("SDN_controller", sdn, "address", "192.0.2.7")
    host.sim.store.set("SDN_controller", sdn, "port", 0)
    assert invalid(host.failure("update"), "192.0.2.7",
                   "a listening (pssl) controller has no address")
    host.sim.store.set("SDN_controller", sdn, "address", "")
    host.sim.store.set("SDN_controller", sdn, "port", 6641)
    assert invalid(host.failure("update"), "6641",
                   "a listening (pssl) controller listens on 6640")
    unchanged(host, before, cache)
    # Nor the firewall: refused before anything was opened or closed.
    assert len(host.root.calls("iptables")) == firewall_calls


PORT = "not a port (1-65535)"
PROTOCOL = "protocol is not one of ssl, tcp, pssl"


@pytest.mark.parametrize("args, value, why", [
    ({"controller": "192.0.2.1 --"}, "192.0.2.1 --", HOST),
    ({"controller": "192.0.2.1", "port": "0"}, "0", PORT),
    ({"controller": "192.0.2.1", "port": "65536"}, "65536", PORT),
    ({"controller": "192.0.2.1", "port": "99999"}, "99999", PORT),
    ({"controller": "192.0.2.1", "port": "6632,6633"}, "6632,6633", PORT),
    ({"controller": "192.0.2.1", "protocol": "udp"}, "udp", PROTOCOL),
    ({"controller": "192.0.2.1", "protocol": "SSL"}, "SSL", PROTOCOL),
    ({"controller": "ctl\nexample"}, "ctl\\nexample", HOST),      # echoed escaped
])
def test_bad_set_manager_arguments_change_nothing(host, args, value, why):
    before, cache = snapshot(host)
    assert invalid(host.failure("set-manager", args), value, why)
    unchanged(host, before, cache)


def test_status_names_a_bad_controller_and_changes_nothing(legacy_host):
    host = legacy_host
    before, cache = snapshot(host)
    set_legacy(host, "192.0.2.1 evil")
    status = host.status()
    assert invalid(status["update"]["error"], "192.0.2.1 evil", HOST)
    assert status["in_step"] is False
    unchanged(host, before, cache)


def _run_plugin(host, fn, session=None, **env):
    """The plugin, exec'd as XAPI execs it, with this session and environment."""
    environment = host.sim.plugin_env(host.uuid)
    environment.update(env)
    session = session or host.sim.login(host=host.ref, kind="plugin")
    try:
        value, stdout, stderr = plugins.run(host.sim.python, PLUGIN_PATH, session, fn, {},
                                            environment, 60, set())
        return value
    except XapiError as exc:
        return exc.description


def test_xapi_failures_are_passed_on_and_nothing_is_reset(host):
    before, cache = snapshot(host)
    host.sim.store.remove("SDN_controller", host.sim.store.refs("SDN_controller")[0])
    # (were XAPI readable, no record would remove the controller)
    assert _run_plugin(host, "update", session="OpaqueRef:no-such-session") == [
        "SESSION_INVALID", "OpaqueRef:no-such-session"]
    details = _run_plugin(host, "update", XSOVS_XAPI_URL="http://127.0.0.1:9/")
    assert details[0] == "XAPI_UNREACHABLE"
    unchanged(host, before, cache)


def test_no_pool_or_more_than_one(host):
    before, cache = snapshot(host)
    pool = host.sim.store.refs("pool")[0]
    host.sim.store.add("pool", {})
    assert host.failure("update")[0] == "MORE_THAN_ONE_POOL_FOR_HOST"
    host.sim.store.remove("pool", pool)
    host.sim.store.remove("pool", host.sim.store.refs("pool")[0])
    assert host.failure("update") == ["NO_POOL_FOR_HOST", "XAPI has no pool for this host"]
    unchanged(host, before, cache)


def test_ovsdb_server_down_or_silent(host, tmp_path):
    cache = host.root.read(paths.NETWORK_DBCACHE)
    down = tmp_path / "down"
    down.mkdir()
    host.sim.host_env[host.uuid]["OVS_RUNDIR"] = str(down)
    start = time.monotonic()
    details = host.failure("update")
    assert details[0] == "VSWITCH_CONFIG_MOD_FAILURE"
    assert time.monotonic() - start < 10
    silent_dir = tmp_path / "silent"
    silent_dir.mkdir()
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        silent.bind(str(silent_dir / "db.sock"))
        silent.listen(16)                       # accepts connections, never answers
        host.sim.host_env[host.uuid]["OVS_RUNDIR"] = str(silent_dir)
        start = time.monotonic()
        assert host.failure("update")[0] == "VSWITCH_CONFIG_MOD_FAILURE"
        assert time.monotonic() - start < 10
    finally:
        silent.close()
    assert host.root.read(paths.NETWORK_DBCACHE) == cache


def test_a_failed_rewrite_is_reported_and_the_rest_runs(host):
    set_address(host, "192.0.2.6")
    os.unlink(host.root.file(paths.NETWORK_DBCACHE))
    os.rmdir(os.path.dirname(host.root.file(paths.NETWORK_DBCACHE)))
    host.root.write(os.path.dirname(paths.NETWORK_DBCACHE), "not a directory\n")
    result = host.call("update")
    assert result.startswith("Successfully set controller to ssl:192.0.2.6:6632; ")
    assert "rewrite failed: " in result
    assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.6:6632"


def test_two_runs_serialize_on_the_host_lock(host):
    set_address(host, "192.0.2.6")
    before = ovsdb_state(host.ovs)
    results = []

    def update():
        results.append(host.sim.run_plugin(host.uuid, PLUGIN, "update", {}))

    # This process holds the lock: the plugin's process waits for it.
    with lock.host_lock(host.root.root):
        waiting = threading.Thread(target=update)
        waiting.start()
        waiting.join(1.5)
        assert waiting.is_alive()
        assert ovsdb_state(host.ovs) == before
    waiting.join(30)
    assert results[0].startswith("Successfully set controller to ssl:192.0.2.6:6632")

    # Two plugin processes at once: one does the work, the other then finds none.
    set_address(host, "192.0.2.7")
    runs = [threading.Thread(target=update) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(30)
    done = sorted(results[1:])
    assert done[0] == "No change to configuration"
    assert done[1].startswith("Successfully set controller to ssl:192.0.2.7:6632")


def test_a_missing_inventory_names_the_file_and_why(host):
    before, cache = snapshot(host)
    inventory = host.root.file(paths.INVENTORY)
    os.unlink(inventory)
    assert host.failure("update") == [
        "XSOVS_CONFIG_ERROR", inventory, "cannot read %s: No such file or directory" % inventory]
    unchanged(host, before, cache)
