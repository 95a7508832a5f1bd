"""ovs-xapi-sync as a process: a real ovsdb-server, the XAPI simulator, dom0's Python.

The daemon runs under Python 3.6 (.venv36) unless a test says otherwise;
the historical daemon's own test runs under both interpreters.
"""

import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from xsovs_dev import ovs as ovsmod
from xsovs_dev.skips import need, python36
from xsovs_dev.xapi_sync_run import (MAC, NET0, NET0_UUID, NET1_UUID, VIF, VIF_UUID,
                                     VM, VM_UUID, SyncDaemon, historical_fixture, make_root,
                                     catch_up_time, vif_script_add, vif_script_ids, wait_for)
from xsovs_dev.xapisim import Simulator


@pytest.fixture
def ovsdb(tmp_path):
    need(ovsmod.available())
    instance = ovsmod.OvsInstance(str(tmp_path / "ovs")).start()
    yield instance
    instance.stop()


@pytest.fixture
def sim():
    s = Simulator(historical_fixture())
    s.start()
    yield s
    s.stop()


@pytest.fixture
def daemon(tmp_path, ovsdb, sim):
    """A started daemon factory; every daemon is stopped afterwards."""
    started = []

    def start(python=None, cookie=True, extra=()):
        root = make_root(str(tmp_path / "root"), cookie=cookie)
        d = SyncDaemon(str(tmp_path), root, ovsdb, sim.url, python=python or python36(),
                       extra=extra).start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def vsctl(ovsdb, *args):
    return ovsdb.vsctl("--no-wait", *args)


def get(ovsdb, table, record, column):
    """ovs-vsctl's output; a map key's value always in quotes (it quotes only some)."""
    try:
        value = ovsdb.vsctl("--no-wait", "get", table, record, column).strip()
    except Exception:
        return None
    if ":" in column and not value.startswith('"'):
        value = '"%s"' % value
    return value


def ext(ovsdb, iface, key):
    return get(ovsdb, "Interface", iface, "external-ids:" + key)


def until(ovsdb, table, record, column, wanted, timeout=10):
    got = wait_for(lambda: get(ovsdb, table, record, column) == wanted, timeout=timeout)
    assert got, "%s %s %s is %r, not %r" % (table, record, column,
                                             get(ovsdb, table, record, column), wanted)


VIF_IDS = ('{attached-mac="00:11:22:33:44:55", iface-id="custom iface ID", iface-status=%s, '
           'neutron-port-uuid="custom iface ID", vm-id="custom vm ID", '
           'xs-network-uuid="9b66c68b-a74e-4d34-89a5-20a8ab352d1e", '
           'xs-vif-uuid="6ab1b260-398e-49ba-827b-c7696108964c", '
           'xs-vm-uuid="fcb8a3f6-dc04-41d2-8b8a-55afd2b755b8"}')


@pytest.mark.parametrize("python", ["py36", "current"])
def test_historical_two_bridges_vif_then_tap_added_and_removed(ovsdb, daemon, python):
    daemon(python=python36() if python == "py36" else sys.executable)
    vsctl(ovsdb, "add-br", "xenbr0", "--", "add-br", "xenbr1")
    until(ovsdb, "Bridge", "xenbr1", "fail_mode", "secure")
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")
    assert get(ovsdb, "Bridge", "xenbr0", "other-config") == "{}"
    assert get(ovsdb, "Bridge", "xenbr0", "external-ids") == '{bridge-id="custom bridge ID"}'
    until(ovsdb, "Bridge", "xenbr1", "other-config", '{disable-in-band="true"}')
    # Without nicira-bridge-id the network uuid is the bridge id.
    assert get(ovsdb, "Bridge", "xenbr1", "external-ids") == '{bridge-id="%s"}' % NET1_UUID

    vsctl(ovsdb, *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    until(ovsdb, "Interface", "vif1.0", "external-ids", VIF_IDS % "active")

    vsctl(ovsdb, "add-port", "xenbr0", "tap1.0")
    until(ovsdb, "Interface", "tap1.0", "external-ids", VIF_IDS % "active")
    until(ovsdb, "Interface", "vif1.0", "external-ids", VIF_IDS % "inactive")

    vsctl(ovsdb, "del-port", "tap1.0")
    until(ovsdb, "Interface", "vif1.0", "external-ids", VIF_IDS % "active")


def test_xapi_changes_reach_ovsdb_without_restart(ovsdb, sim, daemon):
    d = daemon()
    vsctl(ovsdb, "add-br", "xenbr0", "--", *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"custom iface ID"')
    sim.call("network.remove_from_other_config", sim.login(), NET0,
             "vswitch-controller-fail-mode")
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")      # now the pool's
    sim.store.set("pool", sim.store.refs("pool")[0], "other_config", {})
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "standalone")
    sim.store.set("network", NET0, "other_config",
                  {"vswitch-controller-fail-mode": "secure", "vswitch-disable-in-band": "false"})
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")
    until(ovsdb, "Bridge", "xenbr0", "external-ids:bridge-id", '"%s"' % NET0_UUID)
    until(ovsdb, "Bridge", "xenbr0", "other-config:disable-in-band", '"false"')
    sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": "new-iface"})
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"new-iface"')
    sim.store.set("VIF", VIF, "other_config", {})
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"%s"' % VIF_UUID)
    assert ext(ovsdb, "vif1.0", "neutron-port-uuid") is None
    sim.store.set("VIF", VIF, "other_config", {"neutron-port-uuid": "port-7"})
    until(ovsdb, "Interface", "vif1.0", "external-ids:neutron-port-uuid", '"port-7"')
    sim.store.set("VM", VM, "other_config", {})
    until(ovsdb, "Interface", "vif1.0", "external-ids:vm-id", '"%s"' % VM_UUID)
    assert d.proc.poll() is None
    # An invalid disable-in-band value leaves the key as it is.
    sim.store.set("network", NET0, "other_config", {"vswitch-disable-in-band": "maybe"})
    sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": "after-bad-value"})
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"after-bad-value"')
    assert get(ovsdb, "Bridge", "xenbr0", "other-config:disable-in-band") == '"false"'


def test_ovsdb_changes_make_no_xapi_calls(ovsdb, sim, daemon):
    daemon()
    vsctl(ovsdb, "add-br", "xenbr0")
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")
    before = dict(sim.api.calls)
    args = []
    for n in range(50):
        args += vif_script_add("xenbr0", "vif%d.0" % (n + 2),
                               vif_script_ids(vif_uuid="00000000-0000-4000-8000-%012d" % n))
    vsctl(ovsdb, *args)
    until(ovsdb, "Interface", "vif51.0", "external-ids:iface-id",
          '"00000000-0000-4000-8000-000000000049"')
    after = dict(sim.api.calls)
    assert {m: n for m, n in after.items() if m != "event.from"} == {
        m: n for m, n in before.items() if m != "event.from"}
    # At most the pending event.from ending its wait.
    assert after.get("event.from", 0) - before.get("event.from", 0) <= 1


def test_unknown_bridge_and_other_interfaces_left_alone(ovsdb, daemon):
    daemon()
    vsctl(ovsdb, "add-br", "foo", "--", "set", "bridge", "foo", "external-ids:mine=1",
          "--", "add-port", "foo", "eth9", "--", "set", "interface", "eth9",
          "external-ids:iface-status=mine", "external-ids:xs-vif-uuid=" + VIF_UUID,
          "--", "add-br", "xenbr0")
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")
    assert get(ovsdb, "Bridge", "foo", "fail_mode") == "[]"
    assert get(ovsdb, "Bridge", "foo", "external-ids") == '{mine="1"}'
    assert get(ovsdb, "Interface", "eth9", "external-ids") == (
        '{iface-status=mine, xs-vif-uuid="%s"}' % VIF_UUID)


def test_fake_bridge_gets_its_own_network(ovsdb, sim, daemon):
    sim.store.add("network", {"uuid": "0f0f0f0f-0000-4000-8000-000000000100",
                              "bridge": "xapi1"}, ref="OpaqueRef:vlan-net")
    daemon()
    vsctl(ovsdb, "add-br", "xenbr0", "--", "add-br", "xapi1", "xenbr0", "100")
    until(ovsdb, "Port", "xapi1", "external-ids:bridge-id",
          '"0f0f0f0f-0000-4000-8000-000000000100"')
    assert get(ovsdb, "Bridge", "xenbr0", "external-ids:bridge-id") == '"custom bridge ID"'


def test_records_xapi_no_longer_has(ovsdb, sim, daemon):
    daemon()
    unknown = "11111111-2222-4333-8444-555555555555"
    vsctl(ovsdb, "add-br", "xenbr0", "--",
          *vif_script_add("xenbr0", "vif5.0", vif_script_ids(vif_uuid=unknown, vm_uuid=unknown)))
    vsctl(ovsdb, *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"custom iface ID"')
    # Unknown to XAPI: the uuids are the defaults, and the vif script's keys stay.
    assert ext(ovsdb, "vif5.0", "iface-id") == '"%s"' % unknown
    assert ext(ovsdb, "vif5.0", "vm-id") == '"%s"' % unknown
    sim.store.remove("VIF", VIF)
    sim.store.remove("VM", VM)
    sim.store.set("network", NET0, "other_config", {"nicira-bridge-id": "changed"})
    until(ovsdb, "Bridge", "xenbr0", "external-ids:bridge-id", '"changed"')
    assert ext(ovsdb, "vif1.0", "iface-id") == '"custom iface ID"'
    assert ext(ovsdb, "vif1.0", "vm-id") == '"custom vm ID"'
    assert ext(ovsdb, "vif1.0", "xs-vif-uuid") == '"%s"' % VIF_UUID
    assert ext(ovsdb, "vif1.0", "attached-mac") == '"%s"' % MAC


def test_bad_values_from_xapi_are_skipped(ovsdb, sim, daemon):
    sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": "x" * 300})
    sim.store.set("VM", VM, "other_config", {"nicira-vm-id": "bad\nid"})
    daemon()
    vsctl(ovsdb, "add-br", "xenbr0", "--", *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"%s"' % VIF_UUID)
    assert ext(ovsdb, "vif1.0", "vm-id") == '"%s"' % VM_UUID
    sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": "fine"})
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"fine"')


def test_xapi_restart_and_session_invalid(ovsdb, sim, daemon):
    d = daemon()
    vsctl(ovsdb, "add-br", "xenbr0", "--", *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"custom iface ID"')
    port = int(sim.url.rsplit(":", 1)[1].strip("/"))
    sim.stop()
    # While XAPI is down, OVSDB changes are still served from what XAPI said.
    vsctl(ovsdb, "add-port", "xenbr0", "tap1.0")
    until(ovsdb, "Interface", "tap1.0", "external-ids:iface-id", '"custom iface ID"')
    sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": "while-down"})
    sim.forget_sessions()
    logins = sim.logins
    sim.start(port=port)
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"while-down"')
    assert sim.logins > logins
    # SESSION_INVALID: log in again, keep following.
    sim.forget_sessions()
    sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": "after-session"})
    until(ovsdb, "Interface", "tap1.0", "external-ids:iface-id", '"after-session"')
    assert d.proc.poll() is None


def test_ovsdb_server_restart(ovsdb, sim, daemon):
    d = daemon()
    vsctl(ovsdb, "add-br", "xenbr0")
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")
    ovsdb.stop_server()
    sim.store.set("network", NET0, "other_config", {"nicira-bridge-id": "while-db-down"})
    ovsdb.restart_server()
    until(ovsdb, "Bridge", "xenbr0", "external-ids:bridge-id", '"while-db-down"')
    vsctl(ovsdb, *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    until(ovsdb, "Interface", "vif1.0", "external-ids:iface-id", '"custom iface ID"')
    assert d.proc.poll() is None


# The requirement: in step within 3 s of the server's return, whatever the outage.
# The daemon retries each server every second, so about 1 s is expected.
IN_STEP_AFTER_RETURN = 3.0


def test_in_step_soon_after_either_server_returns(tmp_path):
    """2 s and 16 s outages of XAPI and of ovsdb-server, a change made meanwhile.

    The four run at once (daemons of their own), so the suite pays 16 s once.
    """
    need(ovsmod.available())
    python = python36()
    cases = [(server, seconds) for server in ("xapi", "ovsdb") for seconds in (2, 16)]
    with ThreadPoolExecutor(len(cases)) as pool:
        running = {case: pool.submit(catch_up_time, str(tmp_path / ("%s-%d" % case)),
                                     *case, python=python)
                   for case in cases}
    took = {case: future.result().seconds for case, future in running.items()}
    slow = {"%s down %d s" % case: round(t, 2) for case, t in took.items()
            if t >= IN_STEP_AFTER_RETURN}
    assert not slow, "seconds from the server's return to OVSDB in step: %s" % slow


def test_waits_for_xapi_start_cookie(tmp_path, ovsdb, sim, daemon):
    daemon(cookie=False)
    vsctl(ovsdb, "add-br", "xenbr0")
    assert not wait_for(lambda: sim.logins, timeout=1.5)
    assert get(ovsdb, "Bridge", "xenbr0", "fail_mode") == "[]"
    make_root(str(tmp_path / "root"))
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")


def test_sigterm_removes_pidfile(ovsdb, daemon):
    d = daemon()
    assert wait_for(lambda: os.path.exists(d.pidfile))
    with open(d.pidfile) as handle:
        assert int(handle.read()) == d.proc.pid
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(timeout=10) == 0
    assert not os.path.exists(d.pidfile)


def test_unixctl_flush_cache_and_exit(ovsdb, sim, daemon):
    d = daemon()
    vsctl(ovsdb, "add-br", "xenbr0")
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")
    logins = sim.logins
    assert d.appctl("flush-cache").returncode == 0
    assert wait_for(lambda: sim.logins > logins)
    sim.store.set("network", NET0, "other_config", {"nicira-bridge-id": "after-flush"})
    until(ovsdb, "Bridge", "xenbr0", "external-ids:bridge-id", '"after-flush"')
    result = d.appctl("exit")
    assert result.returncode == 0, result.stderr
    assert d.proc.wait(timeout=10) == 0
    assert not os.path.exists(d.pidfile)


def test_detach_and_monitor(tmp_path, ovsdb, daemon):
    d = daemon(extra=["--detach", "--monitor", "--no-chdir"])
    assert d.proc.wait(timeout=10) == 0          # the foreground process returns
    assert wait_for(lambda: os.path.exists(d.pidfile))
    with open(d.pidfile) as handle:
        pid = int(handle.read())
    vsctl(ovsdb, "add-br", "xenbr0")
    until(ovsdb, "Bridge", "xenbr0", "fail_mode", "secure")
    assert d.appctl("exit").returncode == 0
    assert wait_for(lambda: not os.path.exists("/proc/%d" % pid) or _zombie(pid))
    assert not os.path.exists(d.pidfile)


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_usage_error_without_traceback(tmp_path):
    import subprocess
    from xsovs_dev.xapi_sync_run import PROGRAM
    from xsovs_dev.xapisim import REPO_ROOT
    result = subprocess.run([python36(), PROGRAM, "--no-such-option"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "--no-such-option" in result.stderr


def test_many_xapi_changes_cost_one_batch(ovsdb, sim, daemon):
    daemon()
    args = ["add-br", "xenbr0"]
    for n in range(50):
        sim.store.add("VIF", {"uuid": "00000000-0000-4000-8000-%012d" % n, "VM": VM,
                              "network": NET0}, ref="OpaqueRef:many-%d" % n)
        args += vif_script_add("xenbr0", "vif%d.0" % (n + 2),
                               vif_script_ids(vif_uuid="00000000-0000-4000-8000-%012d" % n))
    vsctl(ovsdb, *args)
    until(ovsdb, "Interface", "vif51.0", "external-ids:iface-id",
          '"00000000-0000-4000-8000-000000000049"')
    port = int(sim.url.rsplit(":", 1)[1].strip("/"))
    sim.stop()
    for n in range(50):
        sim.store.set("VIF", "OpaqueRef:many-%d" % n, "other_config",
                      {"nicira-iface-id": "batch-%d" % n})
    sim.api.calls.clear()
    sim.start(port=port)
    until(ovsdb, "Interface", "vif51.0", "external-ids:iface-id", '"batch-49"')
    for n in range(50):
        assert ext(ovsdb, "vif%d.0" % (n + 2), "iface-id") == '"batch-%d"' % n
    # One event.from brought all 50 changes (after a new login, and the old
    # session's logout, if the daemon's call met XAPI down), and the next one
    # is waiting: nothing per VIF.
    calls = dict(sim.api.calls)
    assert calls.pop("session.login_with_password", 0) <= 1
    assert calls.pop("session.logout", 0) <= 1
    assert calls.pop("event.from") <= 2
    assert calls == {}
