"""The simulator's command line: bad arguments are messages with exit status 2."""

import os
import socket
import subprocess
import sys

import pytest
import XenAPI

from xsovs_dev.xapisim import REPO_ROOT


def sim(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "xsovs_dev.xapisim"] + list(args),
                          cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=30,
                          **kwargs)


def _usage_error(result, text):
    assert result.returncode == 2
    assert text in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        _usage_error(sim("one-host", "--port", str(port)), "Address already in use")


@pytest.mark.parametrize("args, text", [
    (["no-such-fixture"], "cannot load fixture no-such-fixture"),
    (["one-host", "--port", "70000"], "is not a port"),
    (["one-host", "--port", "x"], "is not a port number"),
    (["one-host", "--host-root", "host9=/tmp"], "no host 'host9'"),
    (["one-host", "--host-root", "host1"], "is not HOST=DIR"),
    (["one-host", "--host-root", "host1=/no/such/dir"], "is not a directory"),
])
def test_bad_arguments(args, text):
    _usage_error(sim(*args), text)


def test_a_bad_fixture_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"host": {"x": {}}}')
    _usage_error(sim(str(path)), "cannot load fixture")


def test_host_root_gives_that_host_its_own_environment(tmp_path):
    """--host-root: the host's plugin runs see its root and OVS directories."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "env").write_text(
        "import os, sys, xmlrpc.client\n"
        "value = ' '.join(os.environ.get(k, '') for k in ('XSOVS_ROOT', 'OVS_RUNDIR'))\n"
        "sys.stdout.write(xmlrpc.client.dumps(({'Status': 'Success', 'Value': value},),"
        " '', True))\n")
    root = tmp_path / "root1"
    root.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "xsovs_dev.xapisim", "three-host",
                             "--plugin-dir", str(plugins), "--host-root", "host1=%s" % root],
                            cwd=str(REPO_ROOT), stdout=subprocess.PIPE, text=True,
                            env=dict({k: v for k, v in os.environ.items()
                                      if not k.startswith("OVS_")}, XSOVS_ROOT="/elsewhere"))
    try:
        url = proc.stdout.readline().strip()
        session = XenAPI.Session(url)
        session.xenapi.login_with_password("root", "")
        x = session.xenapi
        hosts = {x.host.get_name_label(ref): ref for ref in x.host.get_all()}
        assert x.host.call_plugin(hosts["host1"], "env", "f", {}).split() == [
            str(root), str(root / "var" / "run" / "openvswitch")]
        assert x.host.call_plugin(hosts["host2"], "env", "f", {}).split() == ["/elsewhere"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    assert proc.returncode == 0
