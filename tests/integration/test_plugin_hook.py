"""The XAPI start-up hook, libexec/openvswitch-xapi-update."""

import os
import subprocess
import sys
import time

import pytest

from tests.support.plugin_host import Host, build_bridges, one_host
from xsovs_common import paths
from xsovs_dev.xapisim import REPO_ROOT, Simulator

HOOK = str(REPO_ROOT / "libexec" / "openvswitch-xapi-update")


def start_hook(root, xapi, *args):
    env = dict(os.environ, XSOVS_XAPI_URL=xapi, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen([sys.executable, HOOK, "--root-prefix", root.path, "--no-syslog"]
                            + list(args), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)


@pytest.fixture
def pool():
    """The hook is for older XAPI, which has only pool.vswitch_controller."""
    return one_host(vswitch_controller="192.0.2.5").without_sdn_controller_class()


def test_waits_for_xapi_then_updates_this_host(ovs, fake_root, pool, tmp_path):
    build_bridges(ovs)
    fake_root.write_inventory(pool.host_uuid("host1"))
    socket_path = str(tmp_path / "xapi")            # where XAPI will listen, once started
    hook = start_hook(fake_root, socket_path, "--wait", "30", "--interval", "0.2")
    try:
        time.sleep(1.5)
        assert hook.poll() is None                  # still waiting for XAPI
        sim = Simulator(pool.build())
        sim.start(unix_path=socket_path)
        try:
            host = Host(sim, pool.host_uuid("host1"), ovs, fake_root)
            stdout, stderr = hook.communicate(timeout=60)
            host.close()
        finally:
            sim.stop()
        assert hook.returncode == 0, stderr
        assert [(c.plugin, c.fn) for c in sim.plugin_calls] == [("openvswitch-cfg-update",
                                                                 "update")]
    finally:
        if hook.poll() is None:
            hook.kill()
            hook.communicate()
    assert "Successfully set controller to ssl:192.0.2.5:6632" in stdout
    assert ovs.vsctl("get-manager").strip() == "ssl:192.0.2.5:6632"
    assert fake_root.exists(paths.NETWORK_DBCACHE)


def test_gives_up_when_xapi_never_comes(fake_root, tmp_path):
    start = time.monotonic()
    hook = start_hook(fake_root, str(tmp_path / "xapi"), "--wait", "1", "--interval", "0.2")
    stdout, stderr = hook.communicate(timeout=30)
    assert hook.returncode == 1
    assert time.monotonic() - start < 10
    assert "XAPI_UNREACHABLE" in stderr and stdout == ""


def test_does_nothing_with_the_linux_bridge(ovs, fake_root, pool):
    fake_root.write(paths.NETWORK_CONF, "bridge\n")
    with Simulator(pool.build()) as sim:
        Host(sim, pool.host_uuid("host1"), ovs, fake_root).close()
        hook = start_hook(fake_root, sim.url)
        stdout, stderr = hook.communicate(timeout=30)
    assert hook.returncode == 0, stderr
    assert stdout == "" and sim.plugin_calls == []
    assert ovs.vsctl("get-manager").strip() == ""


def test_a_plugin_failure_fails_the_hook(ovs, fake_root):
    pool = one_host(vswitch_controller="192.0.2.5 --").without_sdn_controller_class()
    with Simulator(pool.build()) as sim:
        Host(sim, pool.host_uuid("host1"), ovs, fake_root).close()
        hook = start_hook(fake_root, sim.url, "--wait", "5")
        stdout, stderr = hook.communicate(timeout=30)
    assert hook.returncode == 1
    assert "INVALID_VSWITCH_CONTROLLER" in stderr
    assert len(sim.plugin_calls) == 1               # not retried


def test_usage_and_inventory_errors(fake_root, tmp_path):
    hook = start_hook(fake_root, str(tmp_path / "xapi"), "--wait", "soon")
    assert hook.communicate(timeout=30)[0] == "" and hook.returncode == 2
    os.unlink(fake_root.file(paths.INVENTORY))
    hook = start_hook(fake_root, str(tmp_path / "xapi"))
    _, stderr = hook.communicate(timeout=30)
    assert hook.returncode == 1 and "xensource-inventory" in stderr
