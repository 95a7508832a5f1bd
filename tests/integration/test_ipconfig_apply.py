"""Applying IP plans on a fake root: stub programs record what would run."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.sample_network import sample
from xsovs_common import paths
from xsovs_common.net import ipconfig, ipconfig_apply, nicconfig
from xsovs_common.system import dhclient
from xsovs_common.system.process import CommandError

IFCFG = "/etc/sysconfig/network-scripts/ifcfg-xenbr0"
LINK_LOCAL = "2: xenbr0    inet6 fe80::1/64 scope link \\       valid_lft forever\n"

# A dhclient that goes to the background at once, as the real one does after a lease.
FAKE_DHCLIENT = """#!{python}
import json, os, sys, time
with open({log!r}, "a") as log:
    log.write(json.dumps(["dhclient"] + sys.argv[1:]) + "\\n")
pid_file = sys.argv[sys.argv.index("-pf") + 1]
if os.fork():
    sys.exit(0)
os.setsid()
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
time.sleep(0.5)     # the parent has exited: the pid file comes late, as under load
with open(pid_file, "w") as handle:
    handle.write("%d\\n" % os.getpid())
time.sleep(120)
"""

# ethtool refusing any offload change that mentions ufo (as recent kernels do).
NO_UFO_ETHTOOL = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(["ethtool"] + sys.argv[1:]) + "\\n")
sys.exit(1 if "ufo" in sys.argv or sys.argv[1] == "-s" else 0)
"""


@pytest.fixture
def host(fake_root, monkeypatch):
    # The stub dhclient writes no pid file: nothing to wait for.
    monkeypatch.setattr(dhclient, "PID_FILE_TIMEOUT", 0)
    fake_root.stub_program("ip", stdout=LINK_LOCAL)
    for name in ("sysctl", "dhclient", "update-issue", "ethtool"):
        fake_root.stub_program(name)
    return fake_root


def _up(host, hn, pif="eth0", device="xenbr0"):
    plan = ipconfig.plan_up(host.root, hn, pif, device)
    ipconfig_apply.apply(host.root, plan)
    return plan


def test_static_up_runs_ip_and_writes_the_files(host):
    hn = sample(net_other_config={"static-routes": "10.0.0.0/8/192.0.2.254"})
    hn.pifs["eth0"].update(ipv6_configuration_mode="Static", IPv6=["2001:db8::10/64"],
                           ipv6_gateway="2001:db8::1")
    host.write(paths.SYSCONFIG_NETWORK, "NETWORKING=yes\n")
    _up(host, hn)
    assert host.calls() == [
        ["sysctl", "-q", "-w", "net/ipv6/conf/xenbr0/accept_ra=0"],
        ["sysctl", "-q", "-w", "net/ipv6/conf/xenbr0/autoconf=0"],
        ["ip", "link", "set", "dev", "xenbr0", "up"],
        ["ip", "-4", "addr", "flush", "dev", "xenbr0"],
        ["ip", "-6", "addr", "flush", "dev", "xenbr0", "scope", "global"],
        ["ip", "-4", "addr", "replace", "192.0.2.10/24", "broadcast", "+", "dev", "xenbr0"],
        ["ip", "-4", "route", "replace", "default", "via", "192.0.2.1", "dev", "xenbr0"],
        ["ip", "-6", "addr", "replace", "2001:db8::10/64", "dev", "xenbr0"],
        ["ip", "-6", "route", "replace", "default", "via", "2001:db8::1", "dev", "xenbr0"],
        ["ip", "-4", "route", "replace", "10.0.0.0/8", "via", "192.0.2.254", "dev", "xenbr0"],
        ["update-issue"]]
    assert "IPADDR=192.0.2.10\n" in host.read(IFCFG)
    assert host.read("/etc/sysconfig/network-scripts/route-xenbr0").endswith(
        "10.0.0.0/8 via 192.0.2.254 dev xenbr0\n")
    assert host.read(paths.SYSCONFIG_NETWORK) == \
        "NETWORKING=yes\nDNSDEV=xenbr0\nGATEWAYDEV=xenbr0\n"
    assert host.read(paths.RESOLV_CONF) == "nameserver 192.0.2.53\n"


def test_dhcp_up_starts_one_dhclient_per_version_with_its_own_files(host):
    hn = sample()
    hn.pifs["eth0"].update(ip_configuration_mode="DHCP", ipv6_configuration_mode="DHCP")
    _up(host, hn)
    started = [c for c in host.calls("dhclient")]
    assert started == [
        ["dhclient", "-4", "-pf", host.file("/var/run/dhclient-xenbr0.pid"),
         "-lf", host.file("/var/lib/xcp/dhclient-xenbr0.leases"),
         "-cf", host.file("/var/lib/xcp/dhclient-xenbr0.conf"), "xenbr0"],
        ["dhclient", "-6", "-pf", host.file("/var/run/dhclient6-xenbr0.pid"),
         "-lf", host.file("/var/lib/xcp/dhclient6-xenbr0.leases"),
         "-cf", host.file("/var/lib/xcp/dhclient6-xenbr0.conf"), "xenbr0"]]
    assert "routers" in host.read("/var/lib/xcp/dhclient-xenbr0.conf")
    assert "dhcp6.name-servers" in host.read("/var/lib/xcp/dhclient6-xenbr0.conf")
    assert ["sysctl", "-q", "-w", "net/ipv6/conf/xenbr0/accept_ra=1"] in host.calls("sysctl")
    # Back to static: the dhclient files go.
    _up(host, sample())
    assert not host.exists("/var/lib/xcp/dhclient-xenbr0.conf")
    assert not host.exists("/var/lib/xcp/dhclient6-xenbr0.conf")


def test_a_failing_step_puts_the_previous_files_back(host):
    host.write(IFCFG, "old ifcfg\n")
    host.write(paths.SYSCONFIG_NETWORK, "NETWORKING=yes\n")
    host.stub_program("ip", status=2)
    plan = ipconfig.plan_up(host.root, sample(), "eth0", "xenbr0")
    with pytest.raises(CommandError):
        ipconfig_apply.apply(host.root, plan)
    assert host.read(IFCFG) == "old ifcfg\n"
    assert host.read(paths.SYSCONFIG_NETWORK) == "NETWORKING=yes\n"
    assert not host.exists(paths.RESOLV_CONF)
    assert host.calls("update-issue") == []
    assert sorted(os.listdir(host.file(paths.NETWORK_SCRIPTS_DIR))) == ["ifcfg-xenbr0"]


def test_down_removes_files_and_takes_the_link_down(host):
    _up(host, sample())
    host.write("/var/lib/xcp/dhclient-xenbr0.conf", "old\n")
    os.unlink(host.calls_log)
    ipconfig_apply.apply(host.root, ipconfig.plan_down(host.root, sample(), "eth0", "xenbr0"))
    assert not os.listdir(host.file(paths.NETWORK_SCRIPTS_DIR))
    assert not host.exists("/var/lib/xcp/dhclient-xenbr0.conf")
    assert host.read(paths.SYSCONFIG_NETWORK) == ""
    assert [c for c in host.calls() if c[0] == "ip"][-1] == \
        ["ip", "link", "set", "dev", "xenbr0", "down"]
    assert host.calls()[-1] == ["update-issue"]


def test_down_of_a_device_that_is_gone_still_cleans_up(host):
    _up(host, sample())
    host.stub_program("ip", status=1)      # "Cannot find device"
    host.stub_program("sysctl", status=255)
    ipconfig_apply.apply(host.root, ipconfig.plan_down(host.root, sample(), "eth0", "xenbr0"))
    assert not host.exists(IFCFG)
    assert ["ip", "link", "show", "dev", "xenbr0"] in host.calls("ip")


def test_update_issue_is_optional_and_not_fatal(host):
    os.unlink(host.file(paths.PROGRAMS["update-issue"]))
    _up(host, sample())
    assert host.calls("update-issue") == []
    host.stub_program("update-issue", status=1)
    _up(host, sample())
    assert host.calls("update-issue") == [["update-issue"]]
    assert host.exists(IFCFG)


def test_turning_ipv6_off_on_a_host_without_ipv6_is_not_fatal(host):
    host.stub_program("sysctl", status=255)
    _up(host, sample())
    assert host.exists(IFCFG)
    hn = sample()
    hn.pifs["eth0"]["ipv6_configuration_mode"] = "Autoconf"
    with pytest.raises(CommandError):
        _up(host, hn)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_dhclient_is_stopped_by_its_pid_file(host, monkeypatch):
    monkeypatch.setattr(dhclient, "PID_FILE_TIMEOUT", 5.0)
    host.write(paths.PROGRAMS["dhclient"],
               FAKE_DHCLIENT.format(python=sys.executable, log=host.calls_log), mode=0o755)
    hn = sample()
    hn.pifs["eth0"].update(ip_configuration_mode="DHCP", ipv6_configuration_mode="DHCP")
    _up(host, hn)
    pids = [dhclient.running(host.root, "xenbr0", v) for v in (4, 6)]
    try:
        assert None not in pids and all(_alive(p) for p in pids)
        # Up again: the running dhclients are replaced, not doubled.
        _up(host, hn)
        assert not any(_alive(p) for p in pids)
        pids = [dhclient.running(host.root, "xenbr0", v) for v in (4, 6)]
        assert None not in pids
        ipconfig_apply.apply(host.root, ipconfig.plan_down(host.root, hn, "eth0", "xenbr0"))
        assert not any(_alive(p) for p in pids)
        assert not host.exists("/var/run/dhclient-xenbr0.pid")
        assert not host.exists("/var/run/dhclient6-xenbr0.pid")
    finally:
        for pid in pids:
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_stale_pid_file_never_kills_another_process(host):
    other = subprocess.Popen(["sleep", "60"])
    try:
        host.write("/var/run/dhclient-xenbr0.pid", "%d\n" % other.pid)
        assert dhclient.running(host.root, "xenbr0", 4) is None
        assert dhclient.stop(host.root, "xenbr0") == []
        time.sleep(0.05)
        assert other.poll() is None
        assert not host.exists("/var/run/dhclient-xenbr0.pid")
    finally:
        other.kill()
        other.wait()


def test_ethtool_settings_a_nic_refuses_are_not_fatal(host):
    host.write(paths.PROGRAMS["ethtool"],
               NO_UFO_ETHTOOL.format(python=sys.executable, log=host.calls_log), mode=0o755)
    hn = sample(net_other_config={"ethtool-speed": "1000", "ethtool-ufo": "off"})
    steps = nicconfig.ethtool_plan(hn, "eth0", "eth0")
    nicconfig.apply_ethtool(host.root, steps)
    assert host.calls("ethtool") == [
        ["ethtool", "-s", "eth0", "speed", "1000"],
        ["ethtool", "-K", "eth0", "ufo", "off", "gro", "off", "lro", "off"],
        ["ethtool", "-K", "eth0", "ufo", "off"],
        ["ethtool", "-K", "eth0", "gro", "off"],
        ["ethtool", "-K", "eth0", "lro", "off"]]
    os.unlink(host.file(paths.PROGRAMS["ethtool"]))       # no ethtool at all: still fine
    nicconfig.apply_ethtool(host.root, steps)
