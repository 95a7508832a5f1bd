"""Network namespaces and veth pairs for tests and the demo (root only).

Names carry a per-process prefix so parallel runs never collide, and
:func:`cleanup_all` removes whatever a run created, also after a failure.
"""

import ctypes
import os
import signal
import socket as socketmod
import subprocess
import threading
import uuid

CLONE_NEWNET = 0x40000000

_created = []


def unavailable_reason():
    """Why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    probe = "xsovs-probe-%d" % os.getpid()
    try:
        subprocess.run(["ip", "netns", "add", probe], check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError) as exc:
        return "cannot create a network namespace: %s" % exc
    subprocess.run(["ip", "netns", "del", probe], check=False)
    return None


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:6])


def run(argv, netns=None, check=True, timeout=30, env=None):
    """Run argv (inside ``netns`` when given); return the CompletedProcess."""
    if netns:
        argv = ["ip", "netns", "exec", netns] + list(argv)
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, env=env)


class Namespace:
    def __init__(self, name=None):
        self.name = name or unique("xsovs")

    def create(self):
        run(["ip", "netns", "add", self.name])
        _created.append(self.name)
        self.run(["ip", "link", "set", "lo", "up"])
        return self

    def delete(self):
        run(["ip", "netns", "del", self.name], check=False)
        if self.name in _created:
            _created.remove(self.name)

    def run(self, argv, check=True, timeout=30, env=None):
        return run(argv, self.name, check=check, timeout=timeout, env=env)

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()


def veth(ns_a, name_a, ns_b, name_b):
    """A veth pair: ``name_a`` in namespace ``ns_a``, ``name_b`` in ``ns_b``, both up.

    Made inside the namespaces by one command, so nothing is ever left in the
    machine's own namespace (not even when a run is interrupted).
    """
    run(["ip", "-n", ns_a.name, "link", "add", name_a, "type", "veth",
         "peer", "name", name_b, "netns", ns_b.name])
    ns_a.run(["ip", "link", "set", name_a, "up"])
    ns_b.run(["ip", "link", "set", name_b, "up"])


def socket_in(name, family=socketmod.AF_INET, kind=socketmod.SOCK_STREAM):
    """A socket of namespace ``name``, usable from this process (root only).

    A socket belongs to the namespace its creator was in: a short-lived
    thread enters the namespace (``setns`` acts on the calling thread only),
    makes the socket and ends, so the rest of this process stays where it is.
    """
    made = {}

    def make():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/var/run/netns/" + name, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns into namespace %s" % name)
            finally:
                os.close(fd)
            made["socket"] = socketmod.socket(family, kind)
        except Exception as exc:   # handed to the caller's thread
            made["error"] = exc

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    if "error" in made:
        raise made["error"]
    return made["socket"]


def pids(name):
    """The processes running in namespace ``name``."""
    return [int(p) for p in run(["ip", "netns", "pids", name], check=False).stdout.split()]


def kill_processes(name):
    """SIGKILL every process in namespace ``name``; returns the pids it found."""
    found = pids(name)
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return found


def cleanup_all():
    for name in list(_created):
        run(["ip", "netns", "del", name], check=False)
        _created.remove(name)
