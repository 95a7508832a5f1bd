"""Running ovs-xapi-sync against the simulator and a real ovsdb-server.

Shared by the tests and the benchmark: the records of the historical
daemon's own test, the daemon as a child process (any interpreter, e.g.
dom0's Python 3.6), ports added the way XAPI's vif script adds them, and
the time it takes to catch up after either server was away.
"""

import collections
import os
import signal
import subprocess
import sys
import time

from xsovs_common.ovs import ovsdb
from xsovs_common.paths import XAPI_INIT_COOKIE as COOKIE
from xsovs_dev import ovs as ovsmod
from xsovs_dev import toolstack
from xsovs_dev.xapisim import REPO_ROOT, Simulator

PROGRAM = str(REPO_ROOT / "libexec" / "ovs-xapi-sync")

NET0_UUID = "9b66c68b-a74e-4d34-89a5-20a8ab352d1e"
NET1_UUID = "e1c9019d-375b-45ac-a441-0255dd2247de"
VIF_UUID = "6ab1b260-398e-49ba-827b-c7696108964c"
VM_UUID = "fcb8a3f6-dc04-41d2-8b8a-55afd2b755b8"
MAC = "00:11:22:33:44:55"
NET0, NET1, VM, VIF = ("OpaqueRef:net0", "OpaqueRef:net1", "OpaqueRef:vm1",
                       "OpaqueRef:vif1")


def historical_fixture():
    """The XAPI records the historical daemon's test ran against."""
    return {
        "pool": {"OpaqueRef:pool": {
            "uuid": "7a793edf-e5f4-4994-a0f9-cee784c0cda3",
            "other_config": {"vswitch-controller-fail-mode": "secure"}}},
        "network": {
            NET0: {"uuid": NET0_UUID, "bridge": "xenbr0",
                   "other_config": {"vswitch-controller-fail-mode": "secure",
                                    "nicira-bridge-id": "custom bridge ID"}},
            NET1: {"uuid": NET1_UUID, "bridge": "xenbr1",
                   "other_config": {"vswitch-disable-in-band": "true"}}},
        "VM": {VM: {"uuid": VM_UUID, "other_config": {"nicira-vm-id": "custom vm ID"}}},
        "VIF": {VIF: {"uuid": VIF_UUID, "VM": VM, "network": NET0, "device": "0",
                      "MAC": MAC, "other_config": {"nicira-iface-id": "custom iface ID"}}},
    }


def vif_script_ids(network_uuid=NET0_UUID, vif_uuid=VIF_UUID, vm_uuid=VM_UUID, mac=MAC):
    """xenopsd's four ids, by default for the historical test's VIF."""
    return toolstack.vif_script_ids(network_uuid, vif_uuid, vm_uuid, mac)


vif_script_add = toolstack.vif_script_add


def make_root(path, cookie=True):
    """A host root for the daemon: var/run (with XAPI's start-up cookie)."""
    os.makedirs(os.path.join(path, "var", "run"), exist_ok=True)
    if cookie:
        open(os.path.join(path, COOKIE.lstrip("/")), "w").close()
    return path


def wait_for(check, timeout=10.0, interval=0.02):
    """Poll ``check()`` until it returns a true value; that value, or None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            return None
        time.sleep(interval)


class SyncDaemon:
    """ovs-xapi-sync as a child process with its pidfile and log in ``workdir``."""

    NAME = "ovs-xapi-sync"
    PROGRAM = PROGRAM

    def __init__(self, workdir, root, ovs, xapi_url, python=None, extra=()):
        self.workdir = workdir
        self.root = root
        self.ovs = ovs
        self.xapi_url = xapi_url
        self.python = python or sys.executable
        self.extra = list(extra)
        # --pidfile without a name: the default, in OVS's run directory, where
        # ``ovs-appctl -t NAME`` looks.
        self.pidfile = os.path.join(ovs.rundir, self.NAME + ".pid")
        self.log_file = os.path.join(workdir, self.NAME + ".log")
        self.proc = None

    @property
    def env(self):
        env = dict(self.ovs.env)
        env["PYTHONPATH"] = str(REPO_ROOT)
        env["XSOVS_XAPI_URL"] = self.xapi_url
        return env

    def argv(self):
        return [self.python, self.PROGRAM, "--root-prefix=" + self.root,
                "--pidfile", "--log-file=" + self.log_file,
                "-vconsole:off"] + self.extra + ["unix:" + self.ovs.socket]

    def start(self):
        self.proc = subprocess.Popen(self.argv(), env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def appctl(self, *args):
        return subprocess.run(["ovs-appctl", "-t", self.NAME, "--timeout=10"] + list(args),
                              env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = None
        proc.stderr.close()
        return status

    def log(self):
        try:
            with open(self.log_file) as handle:
                return handle.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


OUTAGE_CHANGE = "changed-during-outage"
CatchUp = collections.namedtuple("CatchUp", "seconds xapi_calls")


def catch_up_time(workdir, server, seconds, python=None):
    """:class:`CatchUp`: from ``server`` ("xapi" or "ovsdb") answering again to OVSDB in step.

    A daemon of its own, with its own ovsdb-server and simulator: once it has
    written vif1.0's iface-id, the server goes away for ``seconds``, the VIF's
    ``nicira-iface-id`` changes in XAPI meanwhile (for XAPI, a restart that
    also lost every session), and the server comes back on the same address.
    Measured from its return (the restart returns as soon as the server
    accepts connections) until a select, polled, reads the new iface-id.
    With ``server`` None nothing goes away: measured from the change itself.
    ``xapi_calls``: the calls the daemon made to XAPI in that time.
    """
    if server not in ("xapi", "ovsdb", None):
        raise ValueError("server must be xapi, ovsdb or None, not %r" % server)
    switch = ovsmod.OvsInstance(os.path.join(workdir, "ovs")).start()
    sim = Simulator(historical_fixture())
    daemon = None
    try:
        sim.start()
        daemon = SyncDaemon(workdir, make_root(os.path.join(workdir, "root")), switch,
                            sim.url, python=python).start()

        def iface_id():
            """vif1.0's iface-id: one select, no process to start (polled often)."""
            try:
                with ovsdb.Connection(switch.socket, timeout=5) as db:
                    rows = db.transact([ovsdb.op_select("Interface", ["external_ids"],
                                                        ovsdb.where_name("vif1.0"))])[0]["rows"]
            except ovsdb.OvsdbError:   # ovsdb-server away
                return None
            return ovsdb.from_datum(rows[0]["external_ids"]).get("iface-id") if rows else None

        switch.vsctl("--no-wait", "add-br", "xenbr0",
                     *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
        if not wait_for(lambda: iface_id() == "custom iface ID", timeout=30):
            raise RuntimeError("the daemon never wrote vif1.0's iface-id; see %s"
                               % daemon.log_file)
        port = int(sim.url.rsplit(":", 1)[1].strip("/"))
        if server == "xapi":
            sim.stop()
            sim.forget_sessions()
        elif server == "ovsdb":
            switch.stop_server()
        if server is not None:
            sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": OUTAGE_CHANGE})
            time.sleep(seconds)
        sim.api.calls.clear()
        if server == "xapi":
            sim.start(port=port)             # listening when it returns
        elif server == "ovsdb":
            switch.restart_server()          # returns once a client connects
        answered = time.monotonic()
        if server is None:
            sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": OUTAGE_CHANGE})
        if not wait_for(lambda: iface_id() == OUTAGE_CHANGE, timeout=60, interval=0.01):
            raise RuntimeError("%s back after %g s: OVSDB never got the change; see %s"
                               % (server, seconds, daemon.log_file))
        took = CatchUp(time.monotonic() - answered, sum(sim.api.calls.values()))
        if daemon.proc.poll() is not None:
            raise RuntimeError("the daemon exited (%s)" % daemon.proc.returncode)
        return took
    finally:
        if daemon is not None:
            daemon.stop()
        sim.stop()
        switch.stop()
