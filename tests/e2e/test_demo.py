"""``make demo`` as a newcomer runs it: ``python -m xsovs_dev.demo`` in a subprocess.

Each run gets its own TMPDIR; afterwards the test looks for itself that the
run left nothing: no namespace named after the demo's pid, no process whose
command line names the run's TMPDIR (its OVS daemons, monitors, ovs-ctl,
programs), no file in TMPDIR.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from xsovs_dev import netns, ovs
from xsovs_dev.ovs import processes_naming
from xsovs_dev.skips import need

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = "192.0.2.1"


@pytest.fixture
def tmpdir_env():
    """A TMPDIR of the run's own, short: the host's sockets live under it."""
    need(netns.unavailable_reason())
    need(ovs.available())
    tmp = tempfile.mkdtemp(prefix="xsovs-demo-test-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVS_", "XSOVS_"))}
    env.update(TMPDIR=tmp, PYTHONPATH=REPO)
    try:
        yield tmp, env
    finally:
        shutil.rmtree(tmp)


def start_demo(env, *args):
    return subprocess.Popen([sys.executable, "-m", "xsovs_dev.demo"] + list(args), cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(demo, timeout=60):
    stdout, stderr = demo.communicate(timeout=timeout)
    return stdout.decode(), stderr.decode()


def namespaces(pid):
    listing = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout
    return [line.split()[0] for line in listing.splitlines()
            if line.startswith("xsovs-demo-%d-" % pid)]


def assert_nothing_left(pid, tmp):
    assert namespaces(pid) == []
    assert processes_naming(tmp) == []
    assert os.listdir(tmp) == []


def test_boots_the_host_and_leaves_nothing(tmpdir_env):
    tmp, env = tmpdir_env
    start = time.monotonic()
    demo = start_demo(env)
    stdout, stderr = finish(demo)
    assert demo.returncode == 0, stdout + stderr
    assert time.monotonic() - start < 20
    lines = stdout.splitlines()
    assert [line.split(" ...")[0][:5] for line in lines if line.startswith("[")] == \
        ["[%d/8]" % n for n in range(1, 9)]
    assert all(line.endswith("s)") and " ... ok: " in line
               for line in lines if line.startswith("["))
    # The summary's lines, read back from OVSDB, OpenFlow and the namespace.
    summary = [" ".join(line.split()) for line in lines[lines.index(
        "The host now (read back with ovs-vsctl, ovs-ofctl, ip, iptables):") + 1:]]
    assert "bridge xenbr0 fail_mode secure, datapath netdev, ports eth0, xenbr0" in summary
    assert "address 192.0.2.10/24, MAC 02:78:73:00:00:10" in summary
    assert "default route default via %s dev xenbr0" % PEER in summary
    # The controller on the peer bootstrapped the host's CA and holds a session.
    assert "manager ssl:%s:6632 (connected)" % PEER in summary
    assert any(line.startswith("controller session the controller on %s asked list_dbs "
                               "over the host's session: Open_vSwitch" % PEER)
               for line in summary)
    assert "firewall open for tunnels: gre, udp/4789; for controllers: tcp/6653" in summary
    assert any(line.startswith("flows 4 management flows (") and line.endswith(", 0 others")
               for line in summary)
    assert any(line.startswith("update Successfully set controller to ssl:%s:6632;" % PEER)
               for line in summary)
    assert "ping %s at boot ok, after update ok" % PEER in summary
    assert_nothing_left(demo.pid, tmp)


def test_a_failing_step_is_named_and_torn_down(tmpdir_env):
    tmp, env = tmpdir_env
    demo = start_demo(env, "--break=cache")
    stdout, stderr = finish(demo)
    assert demo.returncode == 1, stdout + stderr
    assert "\nFAILED at step 3/8 (management interface: interface-reconfigure --force " \
           "xenbr0 up): interface-reconfigure exited with status 1\n" in stdout
    assert "network.dbcache is damaged" in stdout        # the program's stderr tail
    assert "[4/8]" not in stdout                          # nothing ran after it
    assert "Traceback" not in stdout + stderr
    assert_nothing_left(demo.pid, tmp)


@pytest.mark.parametrize("marker, signum", [
    (b"[2/8]", signal.SIGTERM),     # while ovs-ctl starts the daemons
    (b"[3/8]", signal.SIGINT),      # daemons running, interface-reconfigure under way
])
def test_an_interrupt_tears_everything_down(tmpdir_env, marker, signum):
    tmp, env = tmpdir_env
    demo = start_demo(env)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while marker not in seen and time.monotonic() < deadline:
            chunk = os.read(demo.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
        assert marker in seen, seen
        if marker == b"[3/8]":
            assert processes_naming(tmp)          # the host's daemons are running
        demo.send_signal(signum)
        rest, stderr = finish(demo)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    stdout = seen.decode() + rest
    assert demo.returncode == 128 + signum, stdout + stderr
    assert "\nInterrupted by %s during step %s/8" % (signal.Signals(signum).name,
                                                     marker.decode()[1]) in stdout
    assert "Traceback" not in stdout + stderr
    assert_nothing_left(demo.pid, tmp)


def test_too_long_a_tmpdir_is_a_clear_message(tmpdir_env):
    tmp, env = tmpdir_env
    deep = os.path.join(tmp, "d" * 80)
    os.mkdir(deep)
    result = subprocess.run([sys.executable, "-m", "xsovs_dev.demo"], cwd=REPO,
                            env=dict(env, TMPDIR=deep), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert result.returncode == 2
    assert "is too long a path" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(deep) == []


def test_not_root_is_a_clear_message(tmpdir_env):
    tmp, env = tmpdir_env
    os.chmod(tmp, 0o777)
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             sys.executable, "-m", "xsovs_dev.demo"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("make demo cannot run here: the demo needs root")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert os.listdir(tmp) == []
