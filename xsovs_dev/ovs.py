"""Real Open vSwitch daemons from the Debian packages, in a private directory.

:class:`OvsInstance` runs ``ovsdb-server`` (and, when asked, ``ovs-vswitchd``)
with its own run directory, database and logs, so tests and the demo never
touch a system switch.  ``vswitchd="dummy"`` makes every bridge and port a
dummy device (no kernel module, no packets); ``vswitchd="netdev"`` runs the
userspace datapath, optionally inside a network namespace, for packets.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
PROGRAMS = ("ovsdb-server", "ovsdb-tool", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl")


def available():
    """Why OVS cannot run here, or None when it can."""
    for program in PROGRAMS:
        if shutil.which(program) is None and not os.path.exists("/usr/sbin/" + program):
            return "%s is not installed (run make setup)" % program
    if not os.path.exists(SCHEMA):
        return "%s is missing" % SCHEMA
    return None


def _which(program):
    return shutil.which(program) or "/usr/sbin/" + program


class OvsInstance:
    """ovsdb-server (+ ovs-vswitchd) rooted at ``workdir`` (sockets in ``rundir``)."""

    def __init__(self, workdir, vswitchd=None, netns=None, rundir=None, remotes=(), ssl=None):
        """``remotes``: more ``--remote`` targets of ovsdb-server (``pssl:PORT:IP``), with
        ``ssl`` = (KEY, CERT, CA) files for them."""
        self.workdir = os.path.abspath(workdir)
        self.remotes = list(remotes)
        self.ssl = ssl
        self.rundir = os.path.abspath(rundir) if rundir else os.path.join(self.workdir, "run")
        self.db_path = os.path.join(self.workdir, "conf.db")
        self.socket = os.path.join(self.rundir, "db.sock")
        self.vswitchd_mode = vswitchd
        self.netns = netns
        self._server = None
        self._vswitchd = None

    @property
    def env(self):
        """Environment for any OVS tool or xsovs program using this instance."""
        env = dict(os.environ)
        env.update(OVS_RUNDIR=self.rundir, OVS_DBDIR=self.workdir, OVS_LOGDIR=self.workdir,
                   OVS_SYSCONFDIR=self.workdir)
        return env

    def start(self):
        os.makedirs(self.rundir, exist_ok=True)
        if os.path.exists(self.db_path):
            os.unlink(self.db_path)
        subprocess.run([_which("ovsdb-tool"), "create", self.db_path, SCHEMA], check=True)
        self._start_server()
        self.vsctl("--no-wait", "init")
        if self.vswitchd_mode:
            self.start_vswitchd()
        return self

    def restart_server(self):
        """Stop ovsdb-server and start it again on the same database."""
        self.stop_server()
        self._start_server()

    def _start_server(self):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self._server = subprocess.Popen(
            [_which("ovsdb-server"), self.db_path, "--remote=punix:" + self.socket,
             "--unixctl=" + os.path.join(self.rundir, "ovsdb-server.ctl"),
             "--log-file=" + os.path.join(self.workdir, "ovsdb-server.log"), "-vconsole:off"]
            + ["--remote=" + remote for remote in self.remotes]
            + (["--private-key=" + self.ssl[0], "--certificate=" + self.ssl[1],
                "--ca-cert=" + self.ssl[2]] if self.ssl else []),
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        # The socket file exists from bind(); clients are refused until listen().
        self._wait_for(self._accepts, "ovsdb-server socket")

    def _accepts(self):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            probe.close()

    def start_vswitchd(self):
        argv = [_which("ovs-vswitchd"), "unix:" + self.socket,
                "--unixctl=" + os.path.join(self.rundir, "ovs-vswitchd.ctl"),
                "--pidfile=" + os.path.join(self.rundir, "ovs-vswitchd.pid"),
                "--log-file=" + os.path.join(self.workdir, "ovs-vswitchd.log"), "-vconsole:off"]
        if self.vswitchd_mode == "dummy":
            argv += ["--enable-dummy=override", "--disable-system"]
        else:
            argv += ["--disable-system"]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        self._vswitchd = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctl = os.path.join(self.rundir, "ovs-vswitchd.ctl")
        self._wait_for(lambda: os.path.exists(ctl), "ovs-vswitchd control socket")
        # The first reconfiguration is done once cur_cfg reaches next_cfg.
        self.vsctl("--timeout=10", "set", "Open_vSwitch", ".", "other_config:xsovs-test=1")
        self.vsctl("remove", "Open_vSwitch", ".", "other_config", "xsovs-test")

    def stop_vswitchd(self):
        terminate(self._vswitchd)
        self._vswitchd = None

    def stop_server(self):
        terminate(self._server)
        self._server = None

    def stop(self):
        self.stop_vswitchd()
        self.stop_server()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _wait_for(self, ready, what, timeout=10):
        deadline = time.time() + timeout
        while not ready():
            for proc in (self._server, self._vswitchd):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError("%s exited (%s); see logs in %s"
                                       % (what, proc.returncode, self.workdir))
            if time.time() > deadline:
                raise RuntimeError("timed out waiting for " + what)
            time.sleep(0.01)

    def vsctl(self, *args):
        """Run the real ovs-vsctl against this instance; return its stdout."""
        return subprocess.run(
            [_which("ovs-vsctl"), "--db=unix:" + self.socket, "--timeout=10"] + list(args),
            env=self.env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True).stdout

    def ofctl(self, *args):
        """Run the real ovs-ofctl against this instance's ovs-vswitchd."""
        return subprocess.run([_which("ovs-ofctl")] + list(args), env=self.env, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True).stdout

    def reset(self):
        """Back to an empty switch: no bridges, managers, SSL or extra ids."""
        bridges = self.vsctl("list-br").split()
        args = []
        for bridge in bridges:
            args += ["--", "--if-exists", "del-br", bridge]
        args += ["--", "del-manager", "--", "del-ssl", "--", "emer-reset",
                 "--", "clear", "Open_vSwitch", ".", "external_ids", "other_config"]
        wait = [] if self._vswitchd is not None else ["--no-wait"]
        self.vsctl(*(wait + args))

    def get(self, table, record, column):
        """One column of one record, as ovs-vsctl prints it (stripped)."""
        return self.vsctl("get", table, record, column).strip()


def terminate(proc):
    """SIGTERM, then SIGKILL after 5 s; a process already gone is left alone."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def kill_daemons(rundir):
    """Kill every daemon with a pid file in ``rundir``, and its ovs-ctl monitor.

    For teardown after tests or the demo that started daemons through
    ``ovs-ctl`` (``--monitor``: a parent process that restarts a dead daemon,
    so it goes first).  Returns the pids signalled.
    """
    killed = []
    if not os.path.isdir(rundir):
        return killed
    for name in sorted(os.listdir(rundir)):
        if not name.endswith(".pid"):
            continue
        try:
            with open(os.path.join(rundir, name)) as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        daemon = name[:-len(".pid")]
        parent = _parent(pid)
        victims = [pid]
        if parent and _comm(parent) == "monitor" and _cmdline(parent).startswith(daemon):
            victims.insert(0, parent)
        for victim in victims:
            if _comm(victim) in (daemon[:15], "monitor"):
                try:
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                except OSError:
                    pass
    return killed


def processes_naming(text):
    """Pids of live processes whose command line contains ``text`` (say, a host root).

    Zombies have no command line, so killed daemons not yet reaped by PID 1
    do not count; this process never does.
    """
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid() and text in _cmdline(int(entry)):
            found.append(int(entry))
    return found


def _parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as handle:
            return handle.read().strip()
    except OSError:
        return ""
