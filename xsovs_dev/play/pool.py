"""A simulated pool that outlives the command that starts it: up, then down.

``up`` builds, under one directory, a root per host of the fixture (inventory,
``network.conf``, the real OVS tools linked in, stubs that record the
commands a host would run on its network and firewall), starts that host's
own ``ovsdb-server`` and dummy ``ovs-vswitchd`` with their sockets where a
host has them (``<root>/var/run/openvswitch``), lets XAPI plug each host's
PIFs with the real ``interface-reconfigure``, and starts the simulator
(``python -m xsovs_dev.xapisim --host-root ...``) in the background.  Every
process it starts is recorded in ``play.json``; ``down`` stops them, sweeps
any process still naming the directory, and removes the directory.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from xsovs_common import paths
from xsovs_common.xapi import network as xapi_network
from xsovs_dev import ovs
from xsovs_dev.demo.host import host_python
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.xapisim import REPO_ROOT, Simulator, client

STATE = "play.json"
# The real Open vSwitch tools a host's programs run.
REAL_PROGRAMS = ("ovs-vsctl", "ovs-ofctl", "ovs-appctl", "ovs-ctl")
# What a host would run on its own network and firewall: recorded, never run here.
STUB_PROGRAMS = ("iptables", "iptables-save", "ip6tables", "ip", "sysctl", "ethtool",
                 "dhclient", "modprobe", "update-issue")
START_TIMEOUT = 20.0


class PlayError(Exception):
    """Why the pool cannot come up or go down (the message says what to do)."""


def default_dir():
    return os.path.join(tempfile.gettempdir(), "xsovs-play")


def clean_env():
    """This environment without anything that would point a program elsewhere."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("OVS_", "XSOVS_", "PYTHON"))}


def _host_dir_name(record):
    name = record.get("name_label", "")
    return name if re.match(r"^[A-Za-z0-9_.-]{1,32}\Z", name) else record["uuid"]


def _fixture_hosts(fixture):
    """[(uuid, name, dir name)] of the fixture's hosts, by name."""
    hosts = Simulator(fixture).store.all("host").values()
    return sorted((h["uuid"], h.get("name_label", ""), _host_dir_name(h)) for h in hosts)


def _host_root(directory, uuid):
    root = FakeRoot(directory, host_uuid=uuid)
    for name in REAL_PROGRAMS:
        root.link_program(name)
    for name in STUB_PROGRAMS:
        root.stub_program(name)
    return root


def _start_ovs(root):
    for directory in (paths.OVS_DBDIR, paths.OVS_RUNDIR, paths.OVS_LOGDIR):
        os.makedirs(root.file(directory), exist_ok=True)
    instance = ovs.OvsInstance(root.file(paths.OVS_DBDIR), vswitchd="dummy",
                               rundir=root.file(paths.OVS_RUNDIR))
    return instance.start()


def _wait_for_url(proc, out_path):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with open(out_path) as handle:
            line = handle.readline()
        if line.endswith("\n"):
            return line.strip()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise PlayError("the XAPI simulator did not start; see %s.err" % out_path[:-len(".out")])


# The names XAPI calls the plugin by: current XAPI's, and the older one.  The
# RPM makes both run xsovs's plugin on a host; the play pool does the same.
PLUGIN_NAMES = ("openvswitch-config-update", "openvswitch-cfg-update")


def _plugin_dir(directory):
    """``<dir>/plugins``, holding the plugin under both names, as a host has it."""
    plugins = os.path.join(directory, "plugins")
    os.makedirs(plugins, exist_ok=True)
    source = str(REPO_ROOT / "xapi.d" / "plugins" / "openvswitch-cfg-update")
    for name in PLUGIN_NAMES:
        os.symlink(source, os.path.join(plugins, name))
    return plugins


def _start_simulator(directory, fixture, python, hosts):
    out = os.path.join(directory, "xapisim.out")
    argv = [sys.executable, "-m", "xsovs_dev.xapisim", fixture, "--python", python,
            "--plugin-dir", _plugin_dir(directory)]
    for uuid, _, name in hosts:
        argv += ["--host-root", "%s=%s" % (uuid, os.path.join(directory, name))]
    with open(out, "w") as stdout, open(os.path.join(directory, "xapisim.err"), "w") as stderr:
        proc = subprocess.Popen(argv, cwd=str(REPO_ROOT), env=clean_env(),
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                start_new_session=True)
    return proc, _wait_for_url(proc, out)


def _plug_pifs(root, uuid, url, python):
    """XAPI plugs each of this host's PIFs: ``interface-reconfigure --pif-uuid U up``."""
    env = dict(clean_env(), XSOVS_XAPI_URL=url, XSOVS_LOG="stderr", XSOVS_ROOT=root.path,
               XSOVS_DATAPATH_TYPE="netdev")
    session = client.session(url)
    session.xenapi.login_with_password("root", "")
    try:
        network = xapi_network.load(session.xenapi, uuid)
    finally:
        session.xenapi.session.logout()
    pifs = [pif for pif in network.pifs.values() if not pif.get("bond_slave_of")
            or pif["bond_slave_of"] == "OpaqueRef:NULL"]
    program = os.path.join(str(REPO_ROOT), "libexec", "interface-reconfigure")
    for pif in sorted(pifs, key=lambda p: (int(p.get("VLAN", -1)) >= 0, p["device"])):
        result = subprocess.run([python, program, "--pif-uuid", pif["uuid"], "up"], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        if result.returncode != 0:
            raise PlayError("interface-reconfigure --pif-uuid %s up failed: %s"
                            % (pif["uuid"], " ".join(result.stderr.strip().splitlines()[-1:])))


def up(directory, fixture="three-host", python=None):
    """Bring the pool up; returns the state written to ``play.json``."""
    directory = os.path.abspath(directory)
    if os.path.exists(directory):
        raise PlayError("%s exists: a pool is up (or was not taken down); run down first"
                        % directory)
    python = python or host_python()
    try:
        hosts = _fixture_hosts(fixture)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlayError("cannot load fixture %s: %s" % (fixture, exc))
    os.makedirs(directory)
    state = {"directory": directory, "fixture": fixture, "pids": [], "hosts": []}
    try:
        for uuid, name, dir_name in hosts:
            root = _host_root(os.path.join(directory, dir_name), uuid)
            instance = _start_ovs(root)
            state["pids"] += [instance._server.pid, instance._vswitchd.pid]
            state["hosts"].append({"uuid": uuid, "name": name, "root": root.path,
                                   "ovsdb": "unix:" + instance.socket})
            _write_state(directory, state)
        proc, state["url"] = _start_simulator(directory, fixture, python, hosts)
        state["pids"].append(proc.pid)
        _write_state(directory, state)
        for host in state["hosts"]:
            _plug_pifs(FakeRoot(host["root"], host_uuid=None, backend=None), host["uuid"],
                       state["url"], python)
        _write_bin(directory)
    except BaseException:
        down(directory)
        raise
    return state


def _write_state(directory, state):
    path = os.path.join(directory, STATE)
    with open(path + ".tmp", "w") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
    os.rename(path + ".tmp", path)


def _write_bin(directory):
    """``bin/xe``: the simulator's host-call-plugin and host-list, for PATH."""
    os.makedirs(os.path.join(directory, "bin"))
    script = ("#!/bin/sh\ncd %s && exec %s -m xsovs_dev.play.xe \"$@\"\n"
              % (_quote(str(REPO_ROOT)), _quote(sys.executable)))
    path = os.path.join(directory, "bin", "xe")
    with open(path, "w") as handle:
        handle.write(script)
    os.chmod(path, 0o755)


def _quote(text):
    return "'%s'" % text.replace("'", "'\\''")


def environment(state):
    """The shell lines to export, then one comment line per host."""
    lines = ["export XSOVS_XAPI_URL=%s" % state["url"],
             "export PATH=%s:\"$PATH\"" % os.path.join(state["directory"], "bin")]
    for host in state["hosts"]:
        lines.append("# %-6s %s  root %s  OVSDB %s"
                     % (host["name"], host["uuid"], host["root"], host["ovsdb"]))
    return "\n".join(lines) + "\n"


def read_state(directory):
    try:
        with open(os.path.join(os.path.abspath(directory), STATE)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _ours(directory):
    """Live processes naming a path under ``directory``: only what ``up`` started."""
    return ovs.processes_naming(os.path.join(directory, ""))


def down(directory):
    """Stop everything ``up`` started and remove the directory; returns what is left."""
    directory = os.path.abspath(directory)
    if not os.path.exists(directory):
        return []
    state = read_state(directory) or {"pids": []}
    for pid in reversed(state["pids"]):          # the simulator first, then each switch
        if pid in _ours(directory):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _ours(directory):
        time.sleep(0.05)
    for pid in _ours(directory):   # what did not stop (a plugin run...)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.1)
    shutil.rmtree(directory, ignore_errors=True)
    left = _ours(directory)
    return (["processes %s" % left] if left else []) + \
        (["directory %s" % directory] if os.path.exists(directory) else [])
