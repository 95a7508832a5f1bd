"""host.call_plugin, pool.set_vswitch_controller and SDN updates in the XAPI simulator."""

import json
import os
import threading
import time

import pytest
import XenAPI

from xsovs_dev.xapisim import REPO_ROOT, Simulator, builder, client, most_at_once

HOSTS = ["OpaqueRef:00000002-aaaa-4aaa-aaaa-00000000000%d" % n for n in (1, 2, 3)]
HOST_UUIDS = ["00000002-0000-4000-8000-00000000000%d" % n for n in (1, 2, 3)]

# A plugin speaking XAPI's plugin protocol by hand (XenAPIPlugin is not on PyPI).
TEST_PLUGIN = r'''
import json, os, signal, sys, time, xmlrpc.client

(session, args), fn = xmlrpc.client.loads(sys.argv[1])

def reply(value):
    print(xmlrpc.client.dumps(({"Status": "Success", "Value": value},), methodresponse=True))

def fail(*desc):
    print(xmlrpc.client.dumps(({"Status": "Failure", "ErrorDescription": list(desc)},),
                              methodresponse=True))

def xapi():
    from xsovs_dev.xapisim import client
    s = client.session(os.environ["XSOVS_XAPI_URL"])
    s._session = session  # as XenAPIPlugin does: use the session XAPI passed
    return s.xenapi

if fn == "echo":
    reply(json.dumps({"session": session, "args": args, "argv": len(sys.argv),
                      "env": {k: os.environ.get(k) for k in
                              ("XSOVS_XAPI_URL", "XSOVS_LOG", "PYTHONPATH", "HOST_VAR")}}))
elif fn == "fail":
    fail("CUSTOM_ERROR", "param 1", "param 2")
elif fn == "crash":
    sys.stderr.write("about to crash\n")
    raise RuntimeError("boom")
elif fn == "garbage":
    print("this is not XML")
elif fn == "number":
    print(xmlrpc.client.dumps(({"Status": "Success", "Value": 42},), methodresponse=True))
elif fn == "killed":
    os.kill(os.getpid(), signal.SIGKILL)
elif fn == "sleep":
    time.sleep(float(args["seconds"]))
    reply("slept")
elif fn == "callback":
    x = xapi()
    host = x.session.get_this_host(session)
    pifs = x.PIF.get_all_records_where('field "host"="%s"' % host)
    x.host.add_to_other_config(host, "touched-by", "plugin")
    reply(json.dumps({"host": x.host.get_uuid(host), "pifs": len(pifs)}))
else:
    fail("UNKNOWN_XENAPI_PLUGIN_FUNCTION", fn)
'''

# The legacy update plugin: records the controller address it reads back from XAPI.
UPDATE_PLUGIN = r'''
import os, sys, xmlrpc.client
(session, args), fn = xmlrpc.client.loads(sys.argv[1])
from xsovs_dev.xapisim import client
s = client.session(os.environ["XSOVS_XAPI_URL"])
s._session = session
pool = s.xenapi.pool.get_all()[0]
with open(os.environ["MARKER"], "a") as f:
    f.write("%s %s\n" % (fn, s.xenapi.pool.get_vswitch_controller(pool)))
if os.environ.get("FAIL"):
    print(xmlrpc.client.dumps(({"Status": "Failure", "ErrorDescription": ["UPDATE_FAILED"]},),
                              methodresponse=True))
else:
    print(xmlrpc.client.dumps(({"Status": "Success", "Value": "ok"},), methodresponse=True))
'''


@pytest.fixture
def plugin_dir(tmp_path):
    d = tmp_path / "plugins"
    d.mkdir()
    (d / "testplugin").write_text(TEST_PLUGIN)
    return d


@pytest.fixture(params=["tcp", "unix"])
def sim(request, tmp_path, plugin_dir):
    s = Simulator("three-host")
    s.plugin_dirs = [str(plugin_dir)]
    unix = str(tmp_path / "xapi_sock") if request.param == "unix" else None
    s.where = s.start(unix_path=unix)
    yield s
    s.stop()


@pytest.fixture
def x(sim):
    sess = client.session(sim.where)
    sess.xenapi.login_with_password("root", "")
    yield sess.xenapi
    sess.xenapi.session.logout()


def call(x, fn, args=None, host=0):
    return x.host.call_plugin(HOSTS[host], "testplugin", fn, args or {})


def failure(fn, *args):
    with pytest.raises(XenAPI.Failure) as info:
        fn(*args)
    return info.value.details


def test_success_value_and_environment(x, sim):
    sim.host_env[HOST_UUIDS[1]] = {"HOST_VAR": "two", "PYTHONPATH": "/elsewhere"}
    got = json.loads(call(x, "echo", {"a": "1", "b": "two"}, host=1))
    assert got["args"] == {"a": "1", "b": "two"}
    assert got["argv"] == 2
    env = got["env"]
    assert env["XSOVS_XAPI_URL"] == sim.where
    assert env["XSOVS_LOG"] == "stderr"
    assert env["HOST_VAR"] == "two"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/elsewhere"]
    assert got["session"].startswith("OpaqueRef:")
    assert got["session"] not in sim.open_sessions()  # logged out after the run
    (rec,) = sim.plugin_calls
    assert (rec.host_uuid, rec.plugin, rec.fn, rec.args) == (
        HOST_UUIDS[1], "testplugin", "echo", {"a": "1", "b": "two"})
    assert rec.outcome["Status"] == "Success"


def test_failure_passes_through(x, sim):
    assert failure(call, x, "fail") == ["CUSTOM_ERROR", "param 1", "param 2"]
    assert failure(call, x, "nonsense") == ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", "nonsense"]
    assert sim.plugin_calls[0].outcome == {
        "Status": "Failure", "ErrorDescription": ["CUSTOM_ERROR", "param 1", "param 2"]}


def test_missing_plugin(x, sim):
    assert failure(x.host.call_plugin, HOSTS[0], "nope", "f", {}) == [
        "XENAPI_MISSING_PLUGIN", "nope"]
    assert failure(x.host.call_plugin, HOSTS[0], "../plugins/testplugin", "echo", {}) == [
        "XENAPI_MISSING_PLUGIN", "../plugins/testplugin"]
    assert sim.plugin_calls[0].outcome["ErrorDescription"][0] == "XENAPI_MISSING_PLUGIN"
    assert failure(x.host.call_plugin, "OpaqueRef:bad", "testplugin", "echo", {}) == [
        "HANDLE_INVALID", "host", "OpaqueRef:bad"]


def test_crashing_plugin(x, sim):
    details = failure(call, x, "crash")
    assert details[:2] == ["XENAPI_PLUGIN_FAILURE", "non-zero exit"]
    assert "RuntimeError: boom" in details[3]
    assert "about to crash" in sim.plugin_calls[0].stderr
    details = failure(call, x, "killed")
    assert details[:2] == ["XENAPI_PLUGIN_FAILURE", "signal: SIGKILL"]


def test_garbage_output(x):
    details = failure(call, x, "garbage")
    assert details[:3] == ["XENAPI_PLUGIN_FAILURE", "failed to parse plugin output",
                           "this is not XML\n"]
    details = failure(call, x, "number")
    assert details[:2] == ["XENAPI_PLUGIN_FAILURE", "unexpected XMLRPC result"]


def test_plugin_calls_back_with_its_session(x, sim):
    got = json.loads(call(x, "callback", host=2))
    assert got == {"host": HOST_UUIDS[2], "pifs": 7}
    assert x.host.get_other_config(HOSTS[2]) == {"touched-by": "plugin"}
    assert sim.session_count("plugin") == 0
    assert sim.session_count("login") == 1  # only the test's own


def test_timeout_and_delay(x, sim):
    sim.plugin_timeout = 1
    start = time.monotonic()
    details = failure(call, x, "sleep", {"seconds": "30"})
    assert details[:2] == ["XENAPI_PLUGIN_FAILURE", "timeout"]
    assert time.monotonic() - start < 10
    sim.plugin_delay[HOST_UUIDS[0]] = 0.5
    start = time.monotonic()
    assert call(x, "sleep", {"seconds": "0"}) == "slept"
    assert time.monotonic() - start >= 0.5


def test_64_concurrent_calls_run_in_parallel(sim):
    results, errors = [], []

    def worker(n):
        try:
            sess = client.session(sim.where)
            sess.xenapi.login_with_password("root", "")
            results.append(sess.xenapi.host.call_plugin(
                HOSTS[n % 3], "testplugin", "sleep", {"seconds": "0.5"}))
            sess.xenapi.session.logout()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == ["slept"] * 64
    # Served in parallel: most of the 0.5 s runs overlapped (one at a time: never 2).
    assert most_at_once(sim.plugin_calls) >= 32
    assert len(sim.plugin_calls) == 64
    assert sim.session_count() == 0


def _per_host_update_plugins(sim, tmp_path, name, fail_on=()):
    markers = []
    for n, uuid in enumerate(HOST_UUIDS):
        d = tmp_path / ("host%d_plugins" % n)
        d.mkdir()
        (d / name).write_text(UPDATE_PLUGIN)
        sim.host_plugin_dirs[uuid] = [str(d)]
        marker = tmp_path / ("marker%d" % n)
        sim.host_env[uuid] = {"MARKER": str(marker), "FAIL": "1" if n in fail_on else ""}
        markers.append(marker)
    return markers


@pytest.fixture
def legacy(request, tmp_path, plugin_dir):
    """The three-host pool on a legacy XAPI: no SDN_controller class."""
    fixture = builder.three_host()
    fixture["SDN_controller"] = None
    s = Simulator(fixture)
    s.plugin_dirs = [str(plugin_dir)]
    s.where = s.start()
    yield s
    s.stop()


def test_legacy_set_vswitch_controller_updates_every_host(legacy, tmp_path):
    sim = legacy
    sess = client.session(sim.where)
    sess.xenapi.login_with_password("root", "")
    x = sess.xenapi
    markers = _per_host_update_plugins(sim, tmp_path, "openvswitch-cfg-update", fail_on=(1,))
    pool = x.pool.get_all()[0]
    # No validation, as in older XAPI: bad values reach the plugin.
    assert x.pool.set_vswitch_controller("192.0.2.99:bad") == ""
    assert x.pool.get_vswitch_controller(pool) == "192.0.2.99:bad"
    for marker in markers:
        assert marker.read_text() == "update 192.0.2.99:bad\n"
    outcomes = {c.host_uuid: c.outcome for c in sim.plugin_calls}
    assert outcomes == {
        HOST_UUIDS[0]: {"Status": "Success", "Value": "ok"},
        HOST_UUIDS[1]: {"Status": "Failure", "ErrorDescription": ["UPDATE_FAILED"]},
        HOST_UUIDS[2]: {"Status": "Success", "Value": "ok"},
    }
    assert {c.plugin for c in sim.plugin_calls} == {"openvswitch-cfg-update"}
    # Unchanged address: XAPI does nothing.
    x.pool.set_vswitch_controller("192.0.2.99:bad")
    assert len(sim.plugin_calls) == 3
    x.pool.set_vswitch_controller("")
    assert markers[0].read_text().splitlines() == ["update 192.0.2.99:bad", "update "]
    assert sim.session_count("plugin") == 0
    assert failure(x.SDN_controller.get_all)[0] == "MESSAGE_METHOD_UNKNOWN"
    with pytest.raises(XenAPI.Failure):  # XAPI's signature has no pool argument
        x.pool.set_vswitch_controller(pool, "192.0.2.1")
    sess.xenapi.session.logout()


def test_set_vswitch_controller_on_current_xapi_makes_an_sdn_controller(x, sim, tmp_path):
    markers = _per_host_update_plugins(sim, tmp_path, "openvswitch-config-update")
    pool = x.pool.get_all()[0]
    assert failure(x.pool.set_vswitch_controller, "192.0.2.99:bad") == [
        "INVALID_IP_ADDRESS_SPECIFIED", "address"]
    assert x.pool.get_vswitch_controller(pool) == "" and sim.plugin_calls == []
    x.pool.set_vswitch_controller("192.0.2.50")
    assert x.pool.get_vswitch_controller(pool) == "192.0.2.50"
    (ref,) = x.SDN_controller.get_all()
    record = x.SDN_controller.get_record(ref)
    assert (record["protocol"], record["address"], record["port"]) == ("ssl", "192.0.2.50",
                                                                        "6632")
    # XAPI ran current XAPI's plugin on every host, after the record was there.
    assert {(c.plugin, c.fn) for c in sim.plugin_calls} == {("openvswitch-config-update",
                                                             "update")}
    assert len(sim.plugin_calls) == 3
    # Another address: the record is forgotten (every host updated) and made again (again).
    x.pool.set_vswitch_controller("192.0.2.51")
    assert len(sim.plugin_calls) == 9
    (ref,) = x.SDN_controller.get_all()
    assert x.SDN_controller.get_address(ref) == "192.0.2.51"
    # SDN_controller.forget leaves the legacy field as it was.
    x.SDN_controller.forget(ref)
    assert x.SDN_controller.get_all() == []
    assert x.pool.get_vswitch_controller(pool) == "192.0.2.51"
    assert len(sim.plugin_calls) == 12
    # The same address again is no change for XAPI: no record, no update.
    x.pool.set_vswitch_controller("192.0.2.51")
    assert x.SDN_controller.get_all() == [] and len(sim.plugin_calls) == 12
    # "" removes the field; with no record to forget, no host is asked to update.
    x.pool.set_vswitch_controller("")
    assert x.pool.get_vswitch_controller(pool) == "" and len(sim.plugin_calls) == 12
    assert markers[0].read_text().splitlines() == ["update 192.0.2.50"] + [
        "update 192.0.2.51"] * 3


def test_sdn_controller_introduce_checks_as_xapi_does(x, sim):
    assert failure(x.SDN_controller.introduce, "ssl", "", "6632") == [
        "INVALID_VALUE", "address", ""]
    assert failure(x.SDN_controller.introduce, "ssl", "2001:db8::1", "6632") == [
        "INVALID_IP_ADDRESS_SPECIFIED", "address"]
    assert failure(x.SDN_controller.introduce, "ssl", "192.0.2.7", "70000") == [
        "VALUE_NOT_SUPPORTED", "port", "70000", "Port out of range"]
    assert failure(x.SDN_controller.introduce, "pssl", "", "6640") == [
        "INVALID_VALUE", "port", "6640"]
    assert x.SDN_controller.get_all() == []


def test_sdn_controller_changes_update_every_host(x, sim, tmp_path):
    markers = _per_host_update_plugins(sim, tmp_path, "openvswitch-config-update")
    os.unlink(os.path.join(sim.host_plugin_dirs[HOST_UUIDS[2]][0], "openvswitch-config-update"))
    ref = x.SDN_controller.introduce("ssl", "192.0.2.7", "6632")
    assert [m.exists() for m in markers] == [True, True, False]
    outcomes = {c.host_uuid: c.outcome for c in sim.plugin_calls}
    ok = {"Status": "Success", "Value": "ok"}
    assert outcomes[HOST_UUIDS[0]] == outcomes[HOST_UUIDS[1]] == ok
    assert outcomes[HOST_UUIDS[2]] == {"Status": "Failure", "ErrorDescription": [
        "XENAPI_MISSING_PLUGIN", "openvswitch-config-update"]}
    assert markers[0].read_text() == "update \n"  # pool.vswitch_controller is untouched
    x.SDN_controller.forget(ref)
    assert len(sim.plugin_calls) == 6


def test_stop_kills_running_plugins_and_leaves_no_threads(plugin_dir):
    before = set(threading.enumerate())
    s = Simulator("one-host")
    s.plugin_dirs = [str(plugin_dir)]
    s.start()
    sess = client.session(s.url)
    sess.xenapi.login_with_password("root", "")
    host = sess.xenapi.host.get_all()[0]
    outcome = []
    caller = threading.Thread(target=lambda: outcome.append(
        _try(sess.xenapi.host.call_plugin, host, "testplugin", "sleep", {"seconds": "60"})))
    caller.start()
    deadline = time.monotonic() + 10
    while not s._procs and time.monotonic() < deadline:
        time.sleep(0.02)
    start = time.monotonic()
    s.stop()
    caller.join(10)
    assert time.monotonic() - start < 5
    assert outcome and outcome[0][:2] == ["XENAPI_PLUGIN_FAILURE", "signal: SIGKILL"]
    assert set(threading.enumerate()) <= before


def _try(fn, *args):
    try:
        return fn(*args)
    except XenAPI.Failure as exc:
        return exc.details
