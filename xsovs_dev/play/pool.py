"""A simulated pool that outlives the command that starts it: up, then down.

``up`` builds, under one directory, a root per host of the fixture and makes
each look like a started host: the inventory, ``network.conf``, the real OVS
tools linked in, stubs that record the commands a host would run on its
network and firewall, the key and certificate XAPI makes for a host
(``xapi-ssl.pem``, made with ``openssl``), its switch started by the boot
script itself (``openvswitch-boot start``: ovs-ctl, pid files and sockets
where a host has them, the dummy datapath), the simulator
(``python -m xsovs_dev.xapisim --host-root ...``) in the background, each
host's PIFs plugged by the real ``interface-reconfigure`` as XAPI does,
XAPI's start-up cookie, and last ``ovs-xapi-sync`` on each host, started as
its unit starts it (``--pidfile``, here ``--detach`` too) and waited for
until its traffic rules cover every bridge.  The hosts are built side by
side.  Every process it starts is recorded in ``play.json``; ``down`` stops
them, sweeps any process still naming the directory, and removes the
directory.
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
from concurrent.futures import ThreadPoolExecutor

from xsovs_common import paths
from xsovs_common.actions.sdncontroller import daemon_report
from xsovs_common.xapi import network as xapi_network
from xsovs_dev import ovs, pki
from xsovs_dev.play import ovn as ovnplay
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import wait_for
from xsovs_dev.xapisim import REPO_ROOT, Simulator, client

STATE = "play.json"
# The real Open vSwitch tools a host's programs run.
REAL_PROGRAMS = ("ovs-vsctl", "ovs-ofctl", "ovs-appctl", "ovs-ctl")
# What a host would run on its own network and firewall: recorded, never run here.
STUB_PROGRAMS = ("iptables", "iptables-save", "ip6tables", "ip", "sysctl", "ethtool",
                 "dhclient", "modprobe", "update-issue")
# Every bridge and port a dummy device: the pool needs no NIC, namespace or kernel module.
DATAPATH_TYPE = "netdev"
SYSCONFIG_OPENVSWITCH = (
    "# Written by xsovs_dev.play: ovs-vswitchd with dummy devices, no memory locked.\n"
    "VSWITCHD_MLOCKALL=no\n"
    "OVS_CTL_OPTS='--ovs-vswitchd-options=--enable-dummy=override "
    "--ovs-vswitchd-options=--disable-system'\n")
BOOT = str(REPO_ROOT / "libexec" / "openvswitch-boot")
XAPI_SYNC = "ovs-xapi-sync"
START_TIMEOUT = 20.0


class PlayError(Exception):
    """Why the pool cannot come up or go down (the message says what to do)."""


def default_dir():
    return os.path.join(tempfile.gettempdir(), "xsovs-play")


def clean_env():
    """This environment without anything that would point a program elsewhere."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("OVS_", "XSOVS_", "PYTHON"))}


def host_env(root_path, url=None):
    """The environment of a program run on the host whose root is ``root_path``."""
    env = dict(clean_env(), XSOVS_ROOT=root_path, XSOVS_LOG="stderr",
               XSOVS_DATAPATH_TYPE=DATAPATH_TYPE)
    if url:
        env["XSOVS_XAPI_URL"] = url
    return env


def _host_dir_name(record):
    name = record.get("name_label", "")
    return name if re.match(r"^[A-Za-z0-9_.-]{1,32}\Z", name) else record["uuid"]


def _fixture_hosts(fixture):
    """[(uuid, name, dir name)] of the fixture's hosts, by name."""
    hosts = Simulator(fixture).store.all("host").values()
    return sorted((h["uuid"], h.get("name_label", ""), _host_dir_name(h)) for h in hosts)


def _last_line(text):
    return " ".join(text.strip().splitlines()[-1:]) or "no output"


def _boot_host(path, uuid, python):
    """One host's root, its ``xapi-ssl.pem``, then ``openvswitch-boot start``."""
    root = FakeRoot(path, host_uuid=uuid)
    for name in REAL_PROGRAMS:
        root.link_program(name)
    for name in STUB_PROGRAMS:
        root.stub_program(name)
    root.write(paths.SYSCONFIG_OPENVSWITCH, SYSCONFIG_OPENVSWITCH)
    leaf = pki.self_signed(root.file("/var/lib/xsovs-play/pki"), uuid)
    with open(leaf.pem) as handle:
        root.write(paths.XAPI_SSL_PEM, handle.read(), mode=0o600)
    result = subprocess.run([python, BOOT, "start"], env=host_env(root.path),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    if result.returncode != 0:
        raise PlayError("openvswitch-boot start on %s failed: %s"
                        % (path, _last_line(result.stderr)))
    return root


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


def _plug_pifs(root_path, uuid, url, python):
    """XAPI plugs each of this host's PIFs: ``interface-reconfigure --pif-uuid U up``;
    then it has started (its cookie)."""
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
        result = subprocess.run([python, program, "--pif-uuid", pif["uuid"], "up"],
                                env=host_env(root_path, url), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=60)
        if result.returncode != 0:
            raise PlayError("interface-reconfigure --pif-uuid %s up failed: %s"
                            % (pif["uuid"], _last_line(result.stderr)))
    FakeRoot(root_path, backend=None).write(paths.XAPI_INIT_COOKIE, "")


def _start_xapi_sync(root_path, url, python):
    """``ovs-xapi-sync`` on this host, as its unit runs it (pidfile and log where the unit
    puts them, under the root), detached; waited for until its traffic rules cover the
    bridges, so that ``status`` shows them.  Its pid."""
    program = os.path.join(str(REPO_ROOT), "libexec", XAPI_SYNC)
    result = subprocess.run([python, program, "--root-prefix=" + root_path, "--pidfile",
                             "--detach", "--log-file", "-vconsole:off"],
                            env=host_env(root_path, url), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=60)
    log_file = os.path.join(root_path + paths.OVS_LOGDIR, XAPI_SYNC + ".log")
    if result.returncode != 0:
        raise PlayError("%s on %s failed: %s; see %s"
                        % (XAPI_SYNC, root_path, _last_line(result.stderr), log_file))
    # Its first run over XAPI's records and the switch's whole replica puts every
    # bridge in the report at once.
    root = paths.Root(root_path)
    if not wait_for(lambda: daemon_report(root).get("bridges"), timeout=START_TIMEOUT,
                    interval=0.1):
        raise PlayError("%s on %s did not get to work within %ds; see %s"
                        % (XAPI_SYNC, root_path, START_TIMEOUT, log_file))
    return _pids(root_path, [XAPI_SYNC])[0]


def _each_host(function, argument_lists):
    """``function(*args)`` for every host at once; the results in order, or the first error."""
    with ThreadPoolExecutor(max_workers=len(argument_lists) or 1) as workers:
        futures = [workers.submit(function, *args) for args in argument_lists]
        return [future.result() for future in futures]


def _pids(root_path, names=("ovsdb-server", "ovs-vswitchd")):
    """The pids in this host's pid files of ``names`` (by default: what ovs-ctl wrote)."""
    pids = []
    for name in names:
        try:
            with open(os.path.join(root_path + paths.OVS_RUNDIR, name + ".pid")) as handle:
                pids.append(int(handle.read().strip()))
        except (OSError, ValueError):
            pass
    return pids


def up(directory, fixture="three-host", python=None, saved_environment=None, ovn=False):
    """Bring the pool up; returns the state written to ``play.json``.

    ``saved_environment``: the shell's values of what the pool exports, kept
    in the state for ``down`` to put back (:mod:`.shell`).  ``ovn``: an OVN
    central too, the pool on it (:mod:`.ovn`).
    """
    directory = os.path.abspath(directory)
    if os.path.exists(directory):
        raise PlayError("%s exists: a pool is up (or was not taken down); run down first"
                        % directory)
    python = python or host_python()
    try:
        hosts = _fixture_hosts(fixture)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlayError("cannot load fixture %s: %s" % (fixture, exc))
    if ovn and ovnplay.unavailable():
        raise PlayError("--ovn: " + ovnplay.unavailable())
    os.makedirs(directory)
    state = {"directory": directory, "fixture": fixture, "pids": [], "hosts": [],
             "saved_environment": saved_environment or {}}
    try:
        for uuid, name, dir_name in hosts:
            root_path = os.path.join(directory, dir_name)
            state["hosts"].append({
                "uuid": uuid, "name": name, "root": root_path,
                "ovsdb": "unix:" + os.path.join(root_path + paths.OVS_RUNDIR, "db.sock")})
        _write_state(directory, state)
        served = fixture
        if ovn:
            state["ovn"], pids = ovnplay.start_central(directory)
            state["pids"] += pids
            served = ovnplay.fixture(directory, fixture, state["ovn"])
            _write_state(directory, state)
        _each_host(_boot_host, [(h["root"], h["uuid"], python) for h in state["hosts"]])
        for host in state["hosts"]:
            state["pids"] += _pids(host["root"])
            if ovn:
                ovnplay.prepare_root(FakeRoot(host["root"], backend=None))
        proc, state["url"] = _start_simulator(directory, served, python, hosts)
        state["pids"].append(proc.pid)
        _write_state(directory, state)
        _each_host(_plug_pifs, [(h["root"], h["uuid"], state["url"], python)
                                for h in state["hosts"]])
        if ovn:
            ovnplay.make_chassis(state["url"], state["hosts"])
        state["pids"] += _each_host(_start_xapi_sync, [(h["root"], state["url"], python)
                                                       for h in state["hosts"]])
        _write_state(directory, state)
        if ovn:
            state["pids"].append(ovnplay.start_nb_sync(directory, state["hosts"][0]["root"],
                                                       state["url"], python))
            _write_state(directory, state)
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
    state = read_state(directory) or {"pids": [], "hosts": []}
    ovnplay.stop_controllers(state)         # before the switches they watch
    for host in state.get("hosts", []):     # ovs-ctl's monitors first, then what they watch
        ovs.kill_daemons(host["root"] + paths.OVS_RUNDIR)
    for pid in reversed(state["pids"]):     # the simulator
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
