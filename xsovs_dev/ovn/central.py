"""An OVN central: NB and SB as 3-member Raft clusters, and ``ovn-northd``.

Everything comes from the Debian ``ovn-central`` package (the schemas in
``/usr/share/ovn``, ``ovn-northd``) and Open vSwitch's ``ovsdb-server`` and
``ovsdb-tool``.  Each database is a real cluster: ``ovsdb-tool
create-cluster`` on the first member, ``join-cluster`` on the two others,
three ``ovsdb-server`` processes.  Its files, sockets and logs live in one
private directory.

Two ways to place it:

- on loopback (``netns=None``): members on 127.0.0.1 with free ports, for
  clients in this machine's namespace;
- in a network namespace (``netns=NAME``, ``addresses=[IP, IP, IP]`` set up
  by the caller in it): member *i* on ``addresses[i]`` with OVN's standard
  ports (NB 6641, SB 6642; Raft 6643, 6644), reached by hosts in other
  namespaces over whatever links the caller made.

Either way each member also listens on a unix socket in the directory, which
any process here can use whatever its namespace (``nbctl``, ``sbctl``,
``nb_local``): ``ovn-northd`` connects that way.  ``nb_remote`` and
``sb_remote`` are the ``tcp:`` lists a chassis or the northbound sync is
given; with ``ssl=(KEY, CERT, CA)`` the members listen with TLS instead
(``ssl:`` lists), and accept only peers whose certificate that CA signed.
``kill_leader("nb"|"sb")`` SIGKILLs the member that leads, as a crash
would; ``restart`` brings a member back on its own database file.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

from xsovs_dev.ovs import terminate

SCHEMA_DIR = "/usr/share/ovn"
PROGRAMS = ("ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovs-appctl", "ovn-northd",
            "ovn-nbctl", "ovn-sbctl")
MEMBERS = 3


class Kind:
    """One of the two databases: its name, schema, and standard ports."""

    def __init__(self, key, name, schema, client_port, raft_port):
        self.key = key
        self.name = name
        self.schema = os.path.join(SCHEMA_DIR, schema)
        self.client_port = client_port
        self.raft_port = raft_port


NB = Kind("nb", "OVN_Northbound", "ovn-nb.ovsschema", 6641, 6643)
SB = Kind("sb", "OVN_Southbound", "ovn-sb.ovsschema", 6642, 6644)


def available():
    """Why an OVN central cannot run here, or None when it can."""
    for program in PROGRAMS:
        if _which(program) is None:
            return "%s is not installed (run make setup: packages ovn-central, ovn-host)" % program
    for kind in (NB, SB):
        if not os.path.exists(kind.schema):
            return "%s is missing (install the ovn-central package)" % kind.schema
    return None


def _which(program):
    found = shutil.which(program)
    if found:
        return found
    for directory in ("/usr/sbin", "/usr/bin"):
        if os.path.exists(os.path.join(directory, program)):
            return os.path.join(directory, program)
    return None


def free_ports(count):
    """``count`` TCP ports free on 127.0.0.1 right now (all held until all are chosen)."""
    held = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


class Member:
    """One ovsdb-server of a cluster."""

    def __init__(self, cluster, index, address, client_port, raft_port):
        self.cluster = cluster
        self.index = index
        self.address = address
        self.client_port = client_port
        self.raft_port = raft_port
        base = os.path.join(cluster.workdir, "%s%d" % (cluster.kind.key, index + 1))
        self.db = base + ".db"
        self.sock = base + ".sock"
        self.ctl = base + ".ctl"
        self.log = base + ".log"
        self.proc = None

    @property
    def raft(self):
        return "tcp:%s:%d" % (self.address, self.raft_port)

    @property
    def remote(self):
        protocol = "ssl" if self.cluster.central.ssl else "tcp"
        return "%s:%s:%d" % (protocol, self.address, self.client_port)

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        for stale in (self.sock, self.ctl):
            if os.path.exists(stale):
                os.unlink(stale)
        ssl = self.cluster.central.ssl
        argv = [_which("ovsdb-server"), self.db, "--remote=punix:" + self.sock,
                "--remote=p%s:%d:%s" % ("ssl" if ssl else "tcp", self.client_port, self.address),
                "--unixctl=" + self.ctl, "--log-file=" + self.log, "-vconsole:off",
                "--no-chdir"]
        if ssl:
            argv += ["--private-key=" + ssl[0], "--certificate=" + ssl[1],
                     "--ca-cert=" + ssl[2]]
        self.proc = self.cluster.central.popen(argv)

    def kill(self):
        """SIGKILL, as a crash: nothing is flushed or said goodbye to."""
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        terminate(self.proc)

    def cluster_status(self):
        """``cluster/status`` of this member, as text ('' when it does not answer)."""
        result = subprocess.run([_which("ovs-appctl"), "-t", self.ctl, "--timeout=5",
                                 "cluster/status", self.cluster.kind.name],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, check=False)
        return result.stdout if result.returncode == 0 else ""


class Cluster:
    """The three members of one database."""

    def __init__(self, central, kind, addresses, ports):
        self.central = central
        self.kind = kind
        self.workdir = central.workdir
        self.members = [Member(self, i, addresses[i], ports[i][0], ports[i][1])
                        for i in range(MEMBERS)]

    @property
    def remote(self):
        """The members' ``tcp:IP:PORT`` (``ssl:``) list, as a chassis or the NB sync takes it."""
        return ",".join(m.remote for m in self.members)

    @property
    def local(self):
        """The members' unix sockets, usable from any namespace of this machine."""
        return ",".join("unix:" + m.sock for m in self.members)

    @property
    def live_local(self):
        """The unix sockets of the live members only: a one-shot ``ovn-nbctl`` gives up
        on the first remote that refuses it, where a daemon would try the next."""
        return ",".join("unix:" + m.sock for m in self.members if m.alive)

    def create(self):
        first = self.members[0]
        tool = _which("ovsdb-tool")
        _run([tool, "create-cluster", first.db, self.kind.schema, first.raft])
        for member in self.members[1:]:
            _run([tool, "join-cluster", member.db, self.kind.name, member.raft, first.raft])

    def start(self):
        for member in self.members:
            member.start()

    def wait_connected(self, timeout=60):
        """Until every live member has joined the cluster and knows its leader."""
        for member in self.members:
            if member.alive:
                self.central.wait(lambda m=member: "Leader: " in m.cluster_status()
                                  and "Leader: unknown" not in m.cluster_status(),
                                  "%s member %d in the cluster" % (self.kind.name,
                                                                   member.index + 1), timeout)

    def leader(self):
        """The live member whose role is leader, or None during an election."""
        for member in self.members:
            if member.alive and "Role: leader" in member.cluster_status():
                return member
        return None

    def wait_leader(self, timeout=60):
        return self.central.wait(self.leader, "a %s leader" % self.kind.name, timeout)

    def kill_leader(self):
        """SIGKILL the leader; return that member (``restart`` brings it back)."""
        leader = self.wait_leader()
        leader.kill()
        return leader

    def restart(self, member):
        """Start ``member`` again on its database file; it rejoins the cluster."""
        member.start()
        self.wait_connected()

    def stop(self):
        for member in self.members:
            member.stop()


class OvnCentral:
    """NB and SB clusters and ovn-northd under ``workdir`` (see the module's docstring)."""

    def __init__(self, workdir, netns=None, addresses=None, ssl=None):
        self.workdir = os.path.abspath(workdir)
        self.ssl = ssl
        self.netns = getattr(netns, "name", netns)
        if self.netns:
            if not addresses or len(addresses) != MEMBERS:
                raise ValueError("a central in a namespace needs %d member addresses" % MEMBERS)
            nb_ports = sb_ports = None
        else:
            addresses = ["127.0.0.1"] * MEMBERS
            ports = free_ports(4 * MEMBERS)
            nb_ports = [(ports[4 * i], ports[4 * i + 1]) for i in range(MEMBERS)]
            sb_ports = [(ports[4 * i + 2], ports[4 * i + 3]) for i in range(MEMBERS)]
        self.nb = Cluster(self, NB, addresses,
                          nb_ports or [(NB.client_port, NB.raft_port)] * MEMBERS)
        self.sb = Cluster(self, SB, addresses,
                          sb_ports or [(SB.client_port, SB.raft_port)] * MEMBERS)
        self.northd_ctl = os.path.join(self.workdir, "ovn-northd.ctl")
        self.northd_log = os.path.join(self.workdir, "ovn-northd.log")
        self._northd = None

    @property
    def nb_remote(self):
        return self.nb.remote

    @property
    def sb_remote(self):
        return self.sb.remote

    @property
    def nb_local(self):
        return self.nb.local

    @property
    def sb_local(self):
        return self.sb.local

    def cluster(self, key):
        """``"nb"`` or ``"sb"``: that database's :class:`Cluster`."""
        return {"nb": self.nb, "sb": self.sb}[key]

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        try:
            for cluster in (self.nb, self.sb):
                cluster.create()
                cluster.start()
            for cluster in (self.nb, self.sb):
                cluster.wait_connected()
            self.start_northd()
        except BaseException:
            self.stop()
            raise
        return self

    def start_northd(self):
        if os.path.exists(self.northd_ctl):
            os.unlink(self.northd_ctl)
        self._northd = self.popen(
            [_which("ovn-northd"), "--ovnnb-db=" + self.nb.local, "--ovnsb-db=" + self.sb.local,
             "--unixctl=" + self.northd_ctl, "--log-file=" + self.northd_log,
             "-vconsole:off", "--no-chdir"])
        # Active once it holds the SB lock and has written the SB's global row.
        self.wait(lambda: "Status: active" in self._appctl(self.northd_ctl, "status"),
                  "ovn-northd active")
        self.wait(lambda: self.sbctl("--bare", "--columns=_uuid", "list", "SB_Global").strip(),
                  "SB_Global written by ovn-northd")

    def kill_leader(self, key):
        """SIGKILL the leader of ``"nb"`` or ``"sb"``; return the killed member."""
        return self.cluster(key).kill_leader()

    def stop(self):
        terminate(self._northd)
        self._northd = None
        self.nb.stop()
        self.sb.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def processes(self):
        """The live processes this central started."""
        procs = [m.proc for c in (self.nb, self.sb) for m in c.members] + [self._northd]
        return [p for p in procs if p is not None and p.poll() is None]

    # -- running things -------------------------------------------------

    def popen(self, argv):
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def nbctl(self, *args, timeout=30):
        """The real ``ovn-nbctl`` on the NB cluster's leader; its stdout."""
        return self._ctl("ovn-nbctl", self.nb, args, timeout)

    def sbctl(self, *args, timeout=30):
        """The real ``ovn-sbctl`` on the SB cluster's leader; its stdout."""
        return self._ctl("ovn-sbctl", self.sb, args, timeout)

    def _ctl(self, program, cluster, args, timeout):
        # A one-shot client gives up when it meets no leader (during an
        # election, or a dead member first): try again until the deadline.
        deadline = time.monotonic() + timeout
        while True:
            try:
                return _run([_which(program), "--db=" + cluster.live_local,
                             "--timeout=%d" % timeout] + list(args), timeout=timeout + 5).stdout
            except ToolFailed as exc:
                if "database connection failed" not in (exc.stderr or "") \
                        or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def wait(self, ready, what, timeout=60):
        """Poll ``ready()`` until true (returned), failing with ``what`` and the logs' tails."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = ready()
            except subprocess.SubprocessError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise RuntimeError("timed out waiting for %s; logs in %s" % (what, self.workdir))
            time.sleep(0.05)

    @staticmethod
    def _appctl(ctl, *args):
        result = subprocess.run([_which("ovs-appctl"), "-t", ctl, "--timeout=5"] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, check=False)
        return result.stdout if result.returncode == 0 else ""


def _run(argv, timeout=60):
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise ToolFailed(result.returncode, argv, result.stdout, result.stderr)
    return result


class ToolFailed(subprocess.CalledProcessError):
    """A program failed; its message says what it printed on stderr."""

    def __str__(self):
        return "%s: %s" % (super().__str__(), (self.stderr or "").strip())
