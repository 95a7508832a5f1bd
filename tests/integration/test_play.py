"""The pool to drive by hand: play up, xe host-call-plugin, play down, nothing left."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from xsovs_dev import ovs
from xsovs_dev.skips import need
from xsovs_dev.xapisim import REPO_ROOT

PLUGIN = "openvswitch-cfg-update"
POOL_UPDATE = str(REPO_ROOT / "libexec" / "openvswitch-pool-update")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVS_", "XSOVS_", "PYTHON"))}
    env.update(extra)
    return env


def play(*args, env=None):
    return subprocess.run([sys.executable, "-m", "xsovs_dev.play"] + list(args),
                          cwd=str(REPO_ROOT), env=env or _env(), capture_output=True,
                          text=True, timeout=180)


@pytest.fixture(scope="module")
def pool():
    """The three-host pool up in a short temporary path (socket paths are limited)."""
    need(ovs.available())
    parent = tempfile.mkdtemp(prefix="xsovs-play-test-")
    directory = os.path.join(parent, "pool")
    result = play("up", "--dir", directory)
    assert result.returncode == 0, result.stderr
    exports = dict(line[len("export "):].split("=", 1) for line in result.stdout.splitlines()
                   if line.startswith("export "))
    hosts = [line.split()[1:3] for line in result.stdout.splitlines() if line.startswith("# ")]
    url = exports["XSOVS_XAPI_URL"]
    xe = os.path.join(directory, "bin", "xe")
    yield {"dir": directory, "url": url, "xe": xe, "hosts": dict(hosts), "stdout": result.stdout}
    down = play("down", "--dir", directory)
    shutil.rmtree(parent, ignore_errors=True)
    assert down.returncode == 0, down.stderr


def xe(pool, *args):
    return subprocess.run([pool["xe"]] + list(args), env=_env(XSOVS_XAPI_URL=pool["url"]),
                          capture_output=True, text=True, timeout=120)


def call(pool, host, fn, plugin=PLUGIN, **args):
    words = ["args:%s=%s" % kv for kv in sorted(args.items())]
    return xe(pool, "host-call-plugin", "host-uuid=" + pool["hosts"][host],
              "plugin=" + plugin, "fn=" + fn, *words)


def test_both_names_xapi_calls_the_plugin_by_run_it(pool):
    """Current XAPI calls openvswitch-config-update, older XAPI openvswitch-cfg-update."""
    for plugin in ("openvswitch-config-update", "openvswitch-cfg-update"):
        result = call(pool, "host2", "status", plugin=plugin)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["host"] == pool["hosts"]["host2"]


def managers(pool, host):
    socket = os.path.join(pool["dir"], host, "var", "run", "openvswitch", "db.sock")
    return subprocess.run(["ovs-vsctl", "--db=unix:" + socket, "get-manager"],
                          capture_output=True, text=True, check=True).stdout.split()


def test_up_prints_the_environment_and_each_host_has_its_own_root(pool):
    assert sorted(pool["hosts"]) == ["host1", "host2", "host3"]
    assert pool["url"].startswith("http://127.0.0.1:")
    for name, uuid in pool["hosts"].items():
        status = call(pool, name, "status")
        assert status.returncode == 0, status.stderr
        assert '"host": "%s"' % uuid in status.stdout
        assert os.path.isdir(os.path.join(pool["dir"], name, "etc", "openvswitch"))


def test_set_manager_changes_only_that_host_and_update_takes_xapis_back(pool):
    result = call(pool, "host2", "set-manager", controller="192.0.2.5")
    assert result.returncode == 0, result.stderr
    assert "Successfully set controller to ssl:192.0.2.5:6632" in result.stdout
    assert managers(pool, "host2") == ["ssl:192.0.2.5:6632"]
    assert managers(pool, "host1") == managers(pool, "host3") == []
    table = subprocess.run([sys.executable, POOL_UPDATE, "status"], capture_output=True,
                           text=True, env=_env(XSOVS_XAPI_URL=pool["url"]), timeout=120)
    rows = {line.split()[0]: line for line in table.stdout.splitlines()[1:]}
    assert sorted(rows) == ["host1", "host2", "host3"]
    assert len({row.split()[1] for row in rows.values()}) == 3
    assert "manager ssl:192.0.2.5:6632" in rows["host2"]
    assert "manager none" in rows["host1"]
    # XAPI calls update with no arguments; XAPI's pool has no controller.
    result = call(pool, "host2", "update")
    assert result.returncode == 0 and "Successfully removed controller config" in result.stdout
    assert managers(pool, "host2") == []


def test_failures_carry_their_reason(pool):
    result = call(pool, "host1", "set-manager", controller="192.0.2.5", port="99999")
    assert result.returncode == 1
    assert "Error code: INVALID_VSWITCH_CONTROLLER" in result.stderr
    assert "99999" in result.stderr and "not a port (1-65535)" in result.stderr
    for fn in ("status", "update"):
        result = call(pool, "host1", fn, foo="bar")
        assert result.returncode == 1
        assert "Error code: INVALID_VALUE" in result.stderr and "foo" in result.stderr
    result = call(pool, "host1", "stats")
    assert "UNKNOWN_XENAPI_PLUGIN_FUNCTION" in result.stderr
    assert "set-manager, status, update" in result.stderr
    assert managers(pool, "host1") == []


def test_xe_usage_errors(pool):
    assert xe(pool, "host-call-plugin", "host-uuid=x").returncode == 2
    assert xe(pool, "host-call-plugin", "host-uuid=x", "plugin=p", "fn=f", "bogus").returncode == 2
    assert xe(pool, "vm-list").returncode == 2
    listing = xe(pool, "host-list")
    assert listing.returncode == 0 and pool["hosts"]["host3"] in listing.stdout


def test_up_refuses_a_pool_that_is_up(pool):
    result = play("up", "--dir", pool["dir"])
    assert result.returncode == 1 and "run down first" in result.stderr
    assert os.path.exists(os.path.join(pool["dir"], "play.json"))


def test_down_leaves_nothing_behind(tmp_path):
    need(ovs.available())
    directory = tempfile.mkdtemp(prefix="xsovs-play-test-")
    shutil.rmtree(directory)
    result = play("up", "one-host", "--dir", directory)
    assert result.returncode == 0, result.stderr
    assert ovs.processes_naming(directory + os.sep)
    result = play("down", "--dir", directory)
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(directory)
    assert ovs.processes_naming(directory + os.sep) == []
    assert play("down", "--dir", directory).returncode == 0       # nothing to do


def test_a_failed_up_leaves_nothing_behind():
    directory = tempfile.mkdtemp(prefix="xsovs-play-test-")
    shutil.rmtree(directory)
    result = play("up", "no-such-fixture", "--dir", directory)
    assert result.returncode == 1 and "no-such-fixture" in result.stderr
    assert "Traceback" not in result.stderr
    assert not os.path.exists(directory)
