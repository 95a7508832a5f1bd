"""openvswitch-boot on a simulated host: a private root whose ovs-ctl and
iptables are the real ones run inside a network namespace (root only).

The daemons run with the userspace datapath, their run, database and log
directories under the private root; modprobe is a stub that records its argv.
Every test stops what it started, and teardown kills whatever is left.
"""

import os
import subprocess
import time

import pytest

from xsovs_common import paths
from xsovs_dev import netns
from xsovs_dev import ovs as ovsmod
from xsovs_dev.simhost import SimHost
from xsovs_dev.skips import need

HOST_UUID = "5f1c8ab2-0c47-4a8e-9d0b-0000000000b7"
DISABLED = "Open vSwitch disabled (/etc/xensource/network.conf is invalid)\n"


class Host(SimHost):
    """A simulated host, and ways to look at its switch and namespace."""

    def __init__(self, path, ns):
        SimHost.__init__(self, path, HOST_UUID, ns)
        self.create()

    def boot(self, command, **env):
        return SimHost.boot(self, command, check=False, env=env)

    def ok(self, command, **env):
        result = self.boot(command, **env)
        assert result.returncode == 0, result.stderr
        return result

    def bridges(self):
        return sorted(self.vsctl("list-br").split())

    def add_bridge(self, name):
        """As XAPI would: a bridge the running ovs-vswitchd builds."""
        self.vsctl("add-br", name, "--", "set", "Bridge", name, "datapath_type=netdev")

    def rules(self):
        listing = self.ns.run(["iptables", "-S", "INPUT"]).stdout
        return [line for line in listing.splitlines() if "xsovs-tunnels" in line]


@pytest.fixture
def host(netns_ok, tmp_path):
    need(ovsmod.available())
    ns = netns.Namespace().create()
    the_host = Host(str(tmp_path / "root"), ns)
    try:
        yield the_host
    finally:
        try:
            the_host.boot("stop")
        finally:
            ovsmod.kill_daemons(the_host.rundir)
            ns.delete()
    assert the_host.gone(), "processes left behind: %s" % the_host.daemons()


def test_first_start_deletes_stale_bridges_and_names_the_host(host):
    host.ok("start")
    host.add_bridge("xenbr0")
    host.add_bridge("xapi1")
    host.ok("stop")
    os.unlink(host.fake.file(paths.BOOT_MARKER))      # power cycle: /run is emptied

    host.ok("start")
    assert host.bridges() == []
    ids = host.vsctl("get", "Open_vSwitch", ".", "external_ids")
    assert 'system-id="%s"' % HOST_UUID in ids
    assert 'xs-system-uuid="%s"' % HOST_UUID in ids
    assert host.vsctl("get", "Open_vSwitch", ".", "system_type").strip() == "XCP-ng"
    assert host.vsctl("get", "Open_vSwitch", ".", "system_version").strip() \
        == '"8.3.0-release"'
    # The daemons keep their files under the root; netdev loads no module.
    assert os.path.exists(host.fake.file("/etc/openvswitch/conf.db"))
    assert os.path.exists(os.path.join(host.rundir, "ovs-vswitchd.pid"))
    assert host.fake.calls("modprobe") == []


def test_restart_and_later_starts_keep_xapis_bridges(host):
    host.ok("start")
    # The daemons it started do not hold the host lock (no inherited descriptor).
    lock_file = host.fake.file(paths.LOCK_FILE)
    assert subprocess.run(["flock", "--nonblock", lock_file, "true"]).returncode == 0
    host.add_bridge("xenbr0")
    host.ok("restart")
    assert host.bridges() == ["xenbr0"]
    assert host.boot("status").returncode == 0
    # No marker (say, xsovs installed on a running host): a restart still
    # keeps the bridges, and a start of the running switch leaves it alone.
    os.unlink(host.fake.file(paths.BOOT_MARKER))
    host.ok("restart")
    assert host.bridges() == ["xenbr0"] and host.fake.exists(paths.BOOT_MARKER)
    os.unlink(host.fake.file(paths.BOOT_MARKER))
    host.ok("start")
    assert host.bridges() == ["xenbr0"]
    host.ok("stop")
    host.ok("start")
    assert host.bridges() == ["xenbr0"]
    # The bridge is live again: ovs-vswitchd gave it an OpenFlow port.
    assert host.vsctl("get", "Interface", "xenbr0", "ofport").strip() == "65534"


def test_tunnel_rules_appear_once_and_go_on_stop(host):
    host.fake.write(paths.SYSCONFIG_OPENVSWITCH, "TUNNEL_PROTOCOLS='vxlan geneve stt nvgre'\n")
    host.ok("start")
    host.ok("restart")
    host.ok("start")
    rules = host.rules()
    assert len(rules) == 4
    assert sum("-p gre" in r for r in rules) == 1
    assert sum("--dport 4789" in r for r in rules) == 1
    assert sum("-p udp" in r and "--dport 6081" in r for r in rules) == 1
    assert sum("-p tcp" in r and "--dport 7471" in r for r in rules) == 1

    host.fake.write(paths.SYSCONFIG_OPENVSWITCH, "TUNNEL_PROTOCOLS=vxlan\n")
    host.ok("restart")
    rules = host.rules()
    assert len(rules) == 2 and any("--dport 4789" in r for r in rules)

    host.ok("stop")
    assert host.rules() == []
    assert host.boot("status").returncode == 3
    assert host.gone()


def test_status_exit_codes(host):
    assert host.boot("status").returncode == 3
    host.ok("start")
    result = host.boot("status")
    assert result.returncode == 0 and "ovs-vswitchd is running" in result.stdout
    for pid in ovsmod.kill_daemons(host.rundir):     # a crash: pid files stay behind
        _wait_reaped(pid)
    assert host.boot("status").returncode == 1
    host.ok("start")
    assert host.boot("status").returncode == 0
    host.ok("stop")
    assert host.boot("status").returncode == 3


def test_system_datapath_loads_the_kernel_module_first(host):
    host.ok("start", XSOVS_DATAPATH_TYPE="system")
    assert host.fake.calls("modprobe") == [["modprobe", "openvswitch"]]
    host.ok("stop")

    host.fake.stub_program("modprobe", status=1)
    result = host.boot("start", XSOVS_DATAPATH_TYPE="system")
    assert result.returncode == 1
    assert "modprobe openvswitch" in result.stderr
    assert host.boot("status").returncode == 3
    assert host.rules() == []


@pytest.mark.parametrize("backend", ["bridge", None, "ovs-please"])
def test_other_backends_do_nothing(host, backend):
    if backend is None:
        os.unlink(host.fake.file(paths.NETWORK_CONF))
    else:
        host.fake.write(paths.NETWORK_CONF, backend + "\n")
    for command in ("start", "restart", "stop"):
        result = host.ok(command)
        assert result.stdout == ("" if backend == "bridge" else DISABLED)
    assert host.boot("status").returncode == 3
    assert not os.path.exists(host.rundir)
    assert not host.fake.exists(paths.BOOT_MARKER)
    assert host.fake.calls() == []
    assert host.rules() == []


def test_missing_inventory_is_a_clear_error(host):
    os.unlink(host.fake.file(paths.INVENTORY))
    result = host.boot("start")
    assert result.returncode == 1
    assert "xensource-inventory" in result.stderr
    assert not os.path.exists(host.rundir)
    assert not host.fake.exists("/etc/openvswitch/conf.db")
    assert host.fake.calls() == []


def test_vswitch_spelling_and_usage(host):
    host.fake.write(paths.NETWORK_CONF, "vswitch\n")
    host.ok("start")
    assert host.boot("status").returncode == 0
    host.ok("stop")
    result = host.boot("reload")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_teardown_helper_kills_daemons_and_monitors(host):
    host.ok("start")
    with open(os.path.join(host.rundir, "ovsdb-server.pid")) as handle:
        pid = int(handle.read())
    killed = ovsmod.kill_daemons(host.rundir)
    assert pid in killed and len(killed) == 4        # two daemons, two monitors
    for victim in killed:
        _wait_reaped(victim)
    assert host.gone()


def _wait_reaped(pid, timeout=30):
    """ovs-ctl counts a process as running while /proc/PID exists (a zombie too,
    until PID 1 reaps it, which can take seconds here)."""
    deadline = time.time() + timeout
    while os.path.exists("/proc/%d" % pid):
        assert time.time() < deadline, "pid %d still there" % pid
        time.sleep(0.02)
