"""Beyond one host: the pool's controller on every host, and openvswitch-pool-update."""

import os
import pty
import subprocess
import sys

import pytest

from tests.support.plugin_host import PLUGIN, Host
from xsovs_dev import ovs as ovsmod
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.skips import need
from xsovs_dev.xapisim import REPO_ROOT, PoolBuilder, Simulator, most_at_once

HOST_UUIDS = ["00000002-0000-4000-8000-00000000000%d" % n for n in (1, 2, 3)]
POOL_UPDATE = str(REPO_ROOT / "libexec" / "openvswitch-pool-update")

# Stands in for the plugin on 64 hosts: answers at once (the delay is XAPI's).
QUICK_PLUGIN = r'''
import sys, xmlrpc.client
(session, args), fn = xmlrpc.client.loads(sys.argv[1])
print(xmlrpc.client.dumps(({"Status": "Success", "Value": "ok " + fn},), methodresponse=True))
'''


@pytest.fixture(scope="module")
def more_switches(tmp_path_factory):
    """Hosts 2 and 3 need an OVSDB of their own."""
    need(ovsmod.available())
    switches = []
    try:
        for n in (2, 3):
            switches.append(ovsmod.OvsInstance(str(tmp_path_factory.mktemp("ovs%d" % n)),
                                               vswitchd="dummy").start())
        yield switches
    finally:
        for switch in switches:
            switch.stop()


@pytest.fixture
def pool(ovs, more_switches, tmp_path):
    """The three-host pool; each host with its bridges, OVSDB and root."""
    with Simulator("three-host") as sim:
        hosts = []
        for n, switch in enumerate([ovs] + more_switches):
            switch.reset()
            switch.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
                         "--", "add-br", "xapi2", "xenbr0", "100",
                         "--", "add-br", "xapi1", "--", "add-bond", "xapi1", "bond0", "eth1",
                         "eth2")
            root = FakeRoot(str(tmp_path / ("root%d" % (n + 1))))
            hosts.append(Host(sim, HOST_UUIDS[n], switch, root))
        yield sim, hosts
        for host in hosts:
            host.close()


def pool_update(sim, *args, **popen):
    env = dict(os.environ, XSOVS_XAPI_URL=sim.url, PYTHONPATH=str(REPO_ROOT), XSOVS_LOG="stderr")
    return subprocess.run([sys.executable, POOL_UPDATE] + list(args), env=env,
                          stdout=subprocess.PIPE, universal_newlines=True, timeout=120, **popen)


def rows(output):
    lines = output.splitlines()
    assert lines[0].split() == ["HOST", "UUID", "RESULT"]
    return {line.split()[0]: tuple(line.split(None, 2)[1:]) for line in lines[1:]}


def test_set_vswitch_controller_reaches_every_host(pool):
    sim, hosts = pool
    hosts[0].x.pool.set_vswitch_controller("192.0.2.5")
    assert sorted(c.host_uuid for c in sim.plugin_calls) == HOST_UUIDS
    for call in sim.plugin_calls:
        assert call.outcome["Status"] == "Success", call.stderr
        assert call.outcome["Value"].startswith(
            "network cache rewritten; xs-network-uuids set on xapi1, xapi2, xenbr0; "
            "Successfully set controller to ssl:192.0.2.5:6632; ")
    for host in hosts:
        assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.5:6632"
        # host2's bond is active-backup: its settings came back after the reset
        assert host.other_config("Port", "bond0", "bond-miimon-interval") == "100"


def test_pool_update_with_one_host_failing(pool, tmp_path):
    sim, hosts = pool
    sim.store.add("SDN_controller", {"protocol": "ssl", "address": "192.0.2.5", "port": 6632})
    sim.host_env[HOST_UUIDS[2]]["OVS_RUNDIR"] = str(tmp_path)       # no ovsdb-server there
    done = pool_update(sim, "--no-syslog", stderr=subprocess.PIPE)
    assert done.returncode == 1, done.stderr
    table = rows(done.stdout)
    assert table["host1"][0] == HOST_UUIDS[0]
    assert table["host1"][1].startswith("network cache rewritten; ")
    assert "Successfully set controller to ssl:192.0.2.5:6632" in table["host2"][1]
    assert table["host3"][0] == HOST_UUIDS[2]
    assert table["host3"][1].startswith("FAILED: VSWITCH_CONFIG_MOD_FAILURE ")
    for host in hosts[:2]:
        assert host.ovs.vsctl("get-manager").strip() == "ssl:192.0.2.5:6632"
    assert hosts[2].ovs.vsctl("get-manager").strip() == ""

    sim.host_env[HOST_UUIDS[2]]["OVS_RUNDIR"] = hosts[2].ovs.rundir
    done = pool_update(sim, "status")
    assert done.returncode == 0
    table = rows(done.stdout)
    assert table["host1"][1] == "manager ssl:192.0.2.5:6632 (XAPI: ssl:192.0.2.5:6632); in step"
    assert table["host3"][1].startswith("manager none (XAPI: ssl:192.0.2.5:6632); ")
    assert table["host3"][1].endswith(" change(s) pending")


def test_progress_on_a_terminal(pool):
    sim, _ = pool
    leader, follower = pty.openpty()
    try:
        done = pool_update(sim, "status", stderr=follower)
        os.close(follower)
        follower = None
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert b"\r" + PLUGIN.encode() + b": 3/3 hosts done" in shown
    assert b"hosts done" not in done.stdout.encode()


def test_usage_errors(pool):
    sim, _ = pool
    assert pool_update(sim, "reboot", stderr=subprocess.PIPE).returncode == 2
    assert pool_update(sim, "--workers", "0", stderr=subprocess.PIPE).returncode == 2


def test_sixty_four_hosts_take_about_as_long_as_the_slowest(tmp_path):
    builder = PoolBuilder()
    for n in range(64):
        builder.host("host%02d" % n).physical_pif("eth0", "xenbr0", management=True)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / PLUGIN).write_text(QUICK_PLUGIN)
    with Simulator(builder.build()) as sim:
        sim.plugin_dirs = [str(plugins)]
        uuids = [rec["uuid"] for rec in sim.store.all("host").values()]
        for uuid in uuids:
            sim.plugin_delay[uuid] = 1.0
        sim.plugin_delay[uuids[17]] = 2.0
        done = pool_update(sim, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    table = rows(done.stdout)
    assert len(table) == 64
    assert {result for _, result in table.values()} == {"ok update"}
    assert len(sim.plugin_calls) == 64
    # In parallel, not one after the other (the time it takes is in bench_pool_update).
    assert most_at_once(sim.plugin_calls) == 64
