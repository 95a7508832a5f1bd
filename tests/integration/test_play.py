"""The pool to drive by hand: play up, xe, the host programs on a play host, play down."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from xsovs_common import paths
from xsovs_dev import ovs, pki, sdn
from xsovs_dev.play import pool as play_pool, shell
from xsovs_dev.pythons import host_python
from xsovs_dev.skips import need
from xsovs_dev.xapi_sync_run import wait_for
from xsovs_dev.xapisim import REPO_ROOT, client

PLUGIN = "openvswitch-cfg-update"
LIBEXEC = REPO_ROOT / "libexec"
POOL_UPDATE = str(LIBEXEC / "openvswitch-pool-update")


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
    yield {"dir": directory, "url": url, "xe": xe, "hosts": dict(hosts), "stdout": result.stdout,
           "stderr": result.stderr}
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


def test_xe_host_list_takes_params_filters_and_minimal_as_xe_does(pool):
    uuids = [pool["hosts"][name] for name in ("host1", "host2", "host3")]
    only = xe(pool, "host-list", "params=uuid")
    assert only.returncode == 0
    assert only.stdout == "".join("uuid ( RO)    : %s\n\n" % uuid for uuid in uuids)
    two = xe(pool, "host-list", "name-label=host2", "params=name-label,address")
    assert two.stdout == "name-label ( RW)    : host2\n       address ( RO): 192.0.2.12\n\n"
    minimal = xe(pool, "host-list", "--minimal")
    assert minimal.stdout == ",".join(uuids) + "\n"
    assert xe(pool, "host-list", "name-label=host2", "--minimal").stdout == uuids[1] + "\n"
    assert xe(pool, "host-list", "name-label=nohost", "--minimal").stdout == "\n"
    assert xe(pool, "host-list", "params=all").stdout.count("hostname ( RO): ") == 3


@pytest.mark.parametrize("argv,named", [
    (["host-list", "params=uuid,bogus"], "unknown field 'bogus' in params="),
    (["host-list", "foo=bar"], "unknown parameter 'foo'"),
    (["host-list", "name-label"], "'name-label' is not KEY=VALUE"),
    (["vm-list"], "unknown command 'vm-list'"),
])
def test_xe_names_what_it_does_not_know(pool, argv, named):
    result = xe(pool, *argv)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("xe: " + named)


def test_the_boot_script_sees_a_play_hosts_daemons_and_start_changes_nothing(pool):
    root = os.path.join(pool["dir"], "host1")
    rundir = root + paths.OVS_RUNDIR
    pids = {}
    for name in ("ovsdb-server", "ovs-vswitchd"):
        with open(os.path.join(rundir, name + ".pid")) as handle:
            pids[name] = int(handle.read())

    def boot(command):
        return subprocess.run([host_python(), str(LIBEXEC / "openvswitch-boot"), command],
                              env=play_pool.host_env(root), capture_output=True, text=True,
                              timeout=120)
    status = boot("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines() == ["%s is running with pid %d" % (name, pid)
                                          for name, pid in pids.items()]
    bridges = subprocess.run(["ovs-vsctl", "--db=unix:%s/db.sock" % rundir, "list-br"],
                             capture_output=True, text=True, check=True).stdout
    managers_before = managers(pool, "host1")
    start = boot("start")
    assert start.returncode == 0, start.stderr
    # The same daemons, the same bridges: a started host's boot script leaves them be.
    assert boot("status").stdout == status.stdout
    assert subprocess.run(["ovs-vsctl", "--db=unix:%s/db.sock" % rundir, "list-br"],
                          capture_output=True, text=True, check=True).stdout == bridges
    assert managers(pool, "host1") == managers_before


def test_env_exports_the_pools_datapath_for_bridges_made_by_hand(pool):
    """interface-reconfigure run in a shell that evaluated play env makes netdev bridges."""
    root = os.path.join(pool["dir"], "host3")
    script = ('eval "$(%s -m xsovs_dev.play env --dir %s)" && '
              'XSOVS_ROOT=%s %s %s --force xapi4 down && XSOVS_ROOT=%s %s %s --force xapi4 up'
              % (sys.executable, pool["dir"], root, host_python(),
                 LIBEXEC / "interface-reconfigure", root, host_python(),
                 LIBEXEC / "interface-reconfigure"))
    result = subprocess.run(["bash", "-c", script], cwd=str(REPO_ROOT), env=_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "export XSOVS_DATAPATH_TYPE=netdev" in pool["stdout"]
    socket_path = root + paths.OVS_RUNDIR + "/db.sock"
    assert subprocess.run(["ovs-vsctl", "--db=unix:" + socket_path, "get", "Bridge", "xapi4",
                           "datapath_type"], capture_output=True, text=True,
                          check=True).stdout.strip() == "netdev"


def test_each_play_host_runs_ovs_xapi_sync_as_its_unit_does(pool):
    """Detached, its pid file where ovs-appctl and the plugin look, following XAPI: a change
    of a network's record reaches that host's bridge; status shows its traffic rules."""
    for name in sorted(pool["hosts"]):
        root = os.path.join(pool["dir"], name)
        with open(root + paths.OVS_RUNDIR + "/ovs-xapi-sync.pid") as handle:
            pid = int(handle.read())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().decode().split("\0")
        assert "--root-prefix=" + root in argv and "--detach" in argv
        report = json.loads(call(pool, name, "status").stdout)["traffic_rules"]
        db = "--db=unix:%s%s/db.sock" % (root, paths.OVS_RUNDIR)
        bridges = subprocess.run(["ovs-vsctl", db, "--bare", "--columns=name", "list", "Bridge"],
                                 capture_output=True, text=True, check=True).stdout.split()
        assert sorted(report["bridges"]) == sorted(bridges) and report["ports"] == []
    root = os.path.join(pool["dir"], "host3")
    socket_path = root + paths.OVS_RUNDIR + "/db.sock"

    def bridge_id():
        return subprocess.run(["ovs-vsctl", "--db=unix:" + socket_path, "br-get-external-id",
                               "xenbr0", "bridge-id"], capture_output=True, text=True,
                              check=True).stdout.strip()
    network = subprocess.run(["ovs-vsctl", "--db=unix:" + socket_path, "br-get-external-id",
                              "xenbr0", "xs-network-uuids"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert bridge_id() == network                          # written before up returned
    session = client.session(pool["url"])
    session.xenapi.login_with_password("root", "")
    try:
        ref = session.xenapi.network.get_by_uuid(network)
        session.xenapi.network.add_to_other_config(ref, "nicira-bridge-id", "play-bridge")
        try:
            assert wait_for(lambda: bridge_id() == "play-bridge", timeout=30)
        finally:
            session.xenapi.network.remove_from_other_config(ref, "nicira-bridge-id")
        assert wait_for(lambda: bridge_id() == network, timeout=30)
    finally:
        session.xenapi.session.logout()


def test_set_manager_opens_a_tls_session_with_the_hosts_xapi_ssl_pem(pool, tmp_path):
    need(pki.unavailable_reason())
    ca = pki.CA(str(tmp_path), "controller")
    leaf = ca.issue("controller")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with sdn.ActiveController(leaf.chain_with(ca), leaf.key, port=port) as controller:
        result = call(pool, "host3", "set-manager", controller="127.0.0.1", port=str(port))
        assert result.returncode == 0, result.stderr
        assert "missing" not in result.stdout
        session, databases = controller.session(timeout=60)
        session.close()
    assert "Open_vSwitch" in databases
    assert call(pool, "host3", "update").returncode == 0
    assert managers(pool, "host3") == []


def test_up_hint_runs_play_again_with_this_interpreter_and_the_dir(pool):
    program = os.path.relpath(sys.executable, str(REPO_ROOT))
    hint = pool["stderr"].strip().splitlines()[-1]
    assert hint == ('Up. eval "$(%s -m xsovs_dev.play env --dir %s)" exports this again; '
                    'eval "$(%s -m xsovs_dev.play down --dir %s)" removes it all and undoes '
                    'the exports.' % (program, pool["dir"], program, pool["dir"]))
    # Run as it says, the command works.
    again = subprocess.run(["bash", "-c", "%s -m xsovs_dev.play env --dir %s"
                            % (program, pool["dir"])], cwd=str(REPO_ROOT), env=_env(),
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == pool["stdout"]
    # The default directory goes unnamed.
    assert "--dir" not in shell.up_hint(play_pool.default_dir())


def test_up_refuses_a_pool_that_is_up(pool):
    result = play("up", "--dir", pool["dir"])
    assert result.returncode == 1 and "run down first" in result.stderr
    assert os.path.exists(os.path.join(pool["dir"], "play.json"))


def test_down_leaves_nothing_behind_and_puts_the_shell_back(tmp_path):
    """In a shell: eval up, eval down; PATH and the variables are as before up."""
    need(ovs.available())
    directory = tempfile.mkdtemp(prefix="xsovs-play-test-")
    shutil.rmtree(directory)
    play_command = "%s -m xsovs_dev.play" % sys.executable
    script = "\n".join([
        'echo "before PATH=$PATH DP=${XSOVS_DATAPATH_TYPE-unset} URL=${XSOVS_XAPI_URL-unset}"',
        'eval "$(%s up one-host --dir %s)" || exit 1' % (play_command, directory),
        'echo "up PATH=$PATH DP=${XSOVS_DATAPATH_TYPE-unset} URL=${XSOVS_XAPI_URL-unset}"',
        'command -v xe',
        'eval "$(%s down --dir %s)" || exit 1' % (play_command, directory),
        'echo "after PATH=$PATH DP=${XSOVS_DATAPATH_TYPE-unset} URL=${XSOVS_XAPI_URL-unset}"',
    ])
    result = subprocess.run(["bash", "-c", script], cwd=str(REPO_ROOT),
                            env=_env(XSOVS_DATAPATH_TYPE="system"), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = dict(line.partition(" ")[::2] for line in result.stdout.splitlines())
    assert seen["up"] != seen["before"] and "URL=http://127.0.0.1:" in seen["up"]
    assert "DP=netdev" in seen["up"]
    assert "%s/bin/xe" % directory in result.stdout
    assert seen["after"] == seen["before"]            # system, unset, and the same PATH
    assert not os.path.exists(directory)
    assert ovs.processes_naming(directory + os.sep) == []
    assert play("down", "--dir", directory).returncode == 0       # nothing to do


def test_a_failed_up_leaves_nothing_behind():
    directory = tempfile.mkdtemp(prefix="xsovs-play-test-")
    shutil.rmtree(directory)
    result = play("up", "no-such-fixture", "--dir", directory)
    assert result.returncode == 1 and "no-such-fixture" in result.stderr
    assert "the fixtures are one-host, three-host" in result.stderr
    assert "Traceback" not in result.stderr
    assert not os.path.exists(directory)
