"""A secure management bridge with no controller keeps the host reachable.

A bridge in ``secure`` fail mode with no controller forwards nothing but
the flows in its table, and ovs-vswitchd flushes them when its fail mode
changes (or its controllers come or go).  Each test boots a host the way a
real one boots -- a namespace whose NIC ``eth0`` is a veth to a peer, the
boot script, ``interface-reconfigure --force xenbr0 up`` from the cache,
XAPI (the simulator) running the plugin's ``update`` at its start -- then
turns the management bridge secure one way or another while the peer pings
the host all along: through the plugin's ``update``, through
``ovs-xapi-sync`` following XAPI, and by removing the controller while the
mode is secure.  A ping may be lost in the instant between ovs-vswitchd
flushing the flows and their return; the host is never cut off.
"""

import os
import threading
import types

import pytest

from xsovs_common import paths
from xsovs_common.ovs import mgmt_flows
from xsovs_dev import netns, ovs, pki, sdn
from xsovs_dev.demo import host as demo
from xsovs_dev.skips import need
from xsovs_dev.xapi_sync_run import SyncDaemon, wait_for
from xsovs_dev.xapisim import client

SECURE = {"vswitch-controller-fail-mode": "secure"}
BOOT_TIMEOUT = 90


class Pinger:
    """The peer pings the host, one echo request at a time, until stopped."""

    def __init__(self, lab, interval=0.1):
        self.lab, self.interval = lab, interval
        self.results = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pinger", daemon=True)

    def _run(self):
        while not self._stop.is_set():
            result = self.lab.peer_ns.run(["ping", "-c", "1", "-W", "1", demo.HOST_ADDRESS],
                                          check=False)
            self.results.append(result.returncode == 0)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        assert wait_for(lambda: len(self.results) >= 3, timeout=15), "no pings sent"
        return self

    def __exit__(self, *exc):
        # A few more after the change: the host must answer them.
        count = len(self.results)
        wait_for(lambda: len(self.results) >= count + 5, timeout=20)
        self._stop.set()
        self._thread.join(15)

    def longest_outage(self):
        """The longest run of pings in a row that got no answer."""
        longest = run = 0
        for ok in self.results:
            run = 0 if ok else run + 1
            longest = max(longest, run)
        return longest

    def assert_reachable_throughout(self):
        assert len(self.results) >= 8, self.results
        assert self.longest_outage() <= 1, self.results
        assert all(self.results[-3:]), self.results


class Lab(demo.SimulatedHost):
    """The demo's host, booted, with XAPI running and the plugin installed under both names."""

    def __init__(self, pool_fail_mode=None, controller=False):
        demo.SimulatedHost.__init__(
            self, tag=netns.unique("xsovs-mgmt%d" % os.getpid()),
            fixture=demo.pool_fixture(fail_mode=pool_fail_mode, controller=controller))
        self.x = self.session = None

    def boot(self):
        self.build()
        self.xapi.host_plugin_dirs[demo.HOST_UUID] = [self.root.install_plugin()]
        self.libexec("openvswitch-boot", "start")
        self.libexec("interface-reconfigure", "--force", demo.BRIDGE, "up")
        ok, output = self.ping_peer()            # from the cache alone, XAPI not yet up
        assert ok, output
        self.start_xapi()
        self.root.write(paths.XAPI_INIT_COOKIE, "")
        self.session = client.session(self.xapi.url)
        self.session.xenapi.login_with_password("root", "")
        self.x = self.session.xenapi
        self.update()                            # XAPI runs it as it starts
        ok, output = self.ping_peer()
        assert ok, output

    def libexec(self, program, *args):
        result = self.run_libexec(program, list(args), BOOT_TIMEOUT)
        assert result.returncode == 0, "%s failed: %s" % (program, result.stderr)
        return result

    def update(self):
        host = self.x.host.get_by_uuid(demo.HOST_UUID)
        return self.x.host.call_plugin(host, "openvswitch-cfg-update", "update", {})

    def set_pool_other_config(self, values):
        store = self.xapi.store
        store.set("pool", store.refs("pool")[0], "other_config", values)

    def vsctl(self, *args):
        return netns.run(["ovs-vsctl", "--db=unix:" + self.socket, "--timeout=10"]
                         + list(args)).stdout.strip()

    @property
    def socket(self):
        return os.path.join(self.ovs_rundir, "db.sock")

    def fail_mode(self):
        return self.vsctl("get-fail-mode", demo.BRIDGE)

    def management_flows(self):
        dumped = netns.run(["ovs-ofctl", "-O", "OpenFlow10,OpenFlow11", "--no-stats", "dump-flows",
                            "unix:%s/%s.mgmt" % (self.ovs_rundir, demo.BRIDGE),
                            "cookie=%s/-1" % mgmt_flows.COOKIE]).stdout
        return [line for line in dumped.splitlines() if "cookie=" in line]

    def plugin_runs(self):
        return [(c.fn, c.outcome.get("Status")) for c in self.xapi.plugin_calls]

    def close(self):
        if self.session is not None:
            try:
                self.x.session.logout()
            except Exception:
                pass
        return self.teardown()


@pytest.fixture
def lab_of(netns_ok):
    need(ovs.available())
    need(demo.tmpdir_problem())
    labs = []

    def make(pool_fail_mode=None, controller=False):
        lab = Lab(pool_fail_mode, controller)
        labs.append(lab)
        lab.boot()
        return lab
    try:
        yield make
    finally:
        problems = [p for lab in labs for p in lab.close()]
        assert problems == []


def test_update_turns_the_management_bridge_secure_without_a_controller(lab_of):
    lab = lab_of()
    assert lab.fail_mode() == "standalone"
    with Pinger(lab) as pinger:
        lab.set_pool_other_config(SECURE)
        result = lab.update()                  # an administrator's xe host-call-plugin
    pinger.assert_reachable_throughout()
    assert "fail_mode=secure set on xenbr0" in result
    assert "management flows installed on xenbr0" in result
    assert lab.fail_mode() == "secure"
    assert len(lab.management_flows()) == 4
    # With the flows in place there is nothing left to do.
    assert lab.update() == "No change to configuration"


def test_ovs_xapi_sync_has_update_turn_the_management_bridge_secure(lab_of, tmp_path):
    lab = lab_of()
    state = types.SimpleNamespace(env=lab.env(), rundir=lab.ovs_rundir, socket=lab.socket)
    daemon = SyncDaemon(str(tmp_path), lab.root.path, state, lab.xapi.url,
                        python=lab.python).start()
    try:
        network = lab.xapi.store.field("network", lab.xapi.store.find(
            "network", bridge=demo.BRIDGE)[0], "uuid")
        assert wait_for(lambda: network in lab.vsctl("br-get-external-id", demo.BRIDGE,
                                                     "bridge-id"), timeout=30), daemon.log()
        runs = len(lab.plugin_runs())
        with Pinger(lab) as pinger:
            lab.set_pool_other_config(SECURE)      # no plugin run: XAPI's other_config
            assert wait_for(lambda: lab.fail_mode() == "secure", timeout=30), daemon.log()
        pinger.assert_reachable_throughout()
        # The daemon had XAPI run the plugin's update here, which set it.
        assert lab.plugin_runs()[runs:] == [("update", "Success")], daemon.log()
        assert len(lab.management_flows()) == 4
    finally:
        assert daemon.stop() == 0


def test_the_controller_removed_while_the_management_bridge_is_secure(lab_of):
    need(pki.unavailable_reason())
    lab = lab_of(pool_fail_mode="secure", controller=True)
    assert lab.fail_mode() == "secure" and len(lab.management_flows()) == 4
    # The controller on the peer has its OVSDB session, over which it makes the
    # management bridge its own as such controllers do: an OpenFlow controller of
    # its own on the bridge.  ovs-vswitchd flushes the bridge's flows as it gets one.
    session, _ = lab.controller.session(timeout=30)
    try:
        session.transact({"op": "insert", "table": "Controller", "uuid-name": "openflow",
                          "row": {"target": "tcp:%s:6653" % demo.PEER_ADDRESS}},
                         {"op": "mutate", "table": "Bridge",
                          "where": [["name", "==", demo.BRIDGE]],
                          "mutations": [["controller", "insert", ["named-uuid", "openflow"]]]})
    finally:
        session.close()
    assert wait_for(lambda: lab.management_flows() == [], timeout=10)
    # update (XAPI's start, an administrator) puts the missing flows back.
    assert lab.update() == "management flows installed on xenbr0"
    ok, output = lab.ping_peer()
    assert ok, output

    with Pinger(lab) as pinger:
        runs = len(lab.plugin_runs())
        lab.x.SDN_controller.forget(lab.x.SDN_controller.get_all()[0])   # XAPI runs update
    pinger.assert_reachable_throughout()
    assert lab.plugin_runs()[runs:] == [("update", "Success")]
    assert lab.vsctl("get-manager") == "" and lab.vsctl("get-controller", demo.BRIDGE) == ""
    assert lab.fail_mode() == "secure" and len(lab.management_flows()) == 4


def test_xen_orchestras_channel_removed_while_the_management_bridge_is_secure(lab_of, tmp_path):
    """Its channel leaves the bridge speaking OpenFlow 1.1 alone, without bundles."""
    need(pki.unavailable_reason())
    lab = lab_of(pool_fail_mode="secure")
    lab.x.SDN_controller.introduce("pssl", "", "0")                      # XAPI runs update
    pool_ca = pki.CA(str(tmp_path / "certs"), "sdn-controller")
    xo = pool_ca.issue("xo-server")
    with open(pool_ca.cert) as handle:
        lab.root.write(paths.SDN_CONTROLLER_CA, handle.read())
    client_ = sdn.XoClient("127.0.0.1", xo.key, xo.cert, pool_ca.cert, netns=lab.host_ns.name)
    network = lab.xapi.store.field("network", lab.xapi.store.find(
        "network", bridge=demo.BRIDGE)[0], "uuid")
    assert wait_for(lambda: _connects(client_), timeout=15)
    client_.set_bridge_controller([network])
    assert lab.vsctl("get", "Bridge", demo.BRIDGE, "protocols") == "[OpenFlow11]"
    with Pinger(lab) as pinger:
        runs = len(lab.plugin_runs())
        lab.x.SDN_controller.forget(lab.x.SDN_controller.get_all()[0])
    pinger.assert_reachable_throughout()
    assert lab.plugin_runs()[runs:] == [("update", "Success")]
    assert lab.vsctl("get-controller", demo.BRIDGE) == ""
    assert lab.fail_mode() == "secure" and len(lab.management_flows()) == 4
    assert lab.update() == "No change to configuration"


def test_a_start_that_keeps_the_bridges_restores_the_management_flows(lab_of):
    lab = lab_of(pool_fail_mode="secure")
    assert len(lab.management_flows()) == 4
    lab.libexec("openvswitch-boot", "stop")
    lab.libexec("openvswitch-boot", "start")     # not the first since power-on: bridges kept
    assert lab.fail_mode() == "secure"
    assert len(lab.management_flows()) == 4
    # The userspace datapath loses the bridge's own device with its daemon (the
    # kernel one keeps it): the management interface's up gives it its address back.
    lab.libexec("interface-reconfigure", "--force", demo.BRIDGE, "up")
    ok, output = lab.ping_peer()
    assert ok, output


def _connects(client_):
    try:
        client_.connect(timeout=5).close()
        return True
    except Exception:
        return False
