"""Simulated hosts for the benchmarks: a XAPI simulator process, a real OVSDB, a fake root.

Bookkeeping only (counting calls, building fixtures); nothing here is timed.
"""

import json
import os
import subprocess
import sys
import time

from xsovs_common import paths
from xsovs_common.ovs import ovsdb
from xsovs_common.xapi import session as xapi
from xsovs_dev import ovs as ovsmod
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.xapisim import REPO_ROOT, PoolBuilder

STUBS = ("ip", "ethtool", "dhclient", "sysctl", "update-issue")


def vlan_pool(hosts, vlans, nic="eth1"):
    """``hosts`` hosts, each with eth0 (management) and ``nic`` carrying ``vlans`` VLANs.

    Networks are pool-wide, as in XenServer: VLAN network ``xapiT`` has one PIF
    on every host.
    """
    builder = PoolBuilder()
    for n in range(1, hosts + 1):
        name = "host%d" % n
        builder.host(name).physical_pif("eth0", "xenbr0", management=True,
                                        ip="192.0.2.%d/24" % (10 + n % 200))
        builder.physical_pif(nic, "xenbr1")
        for tag in range(1, vlans + 1):
            builder.vlan(nic, tag, "xapi%d" % tag)
    return builder


class Counter:
    """Counts and times calls of a method while installed."""

    def __init__(self, owner, name):
        self.owner, self.name, self.count, self.seconds = owner, name, 0, 0.0
        self.original = getattr(owner, name)

    def __enter__(self):
        original = self.original

        def counted(this, *args, **kwargs):
            self.count += 1
            start = time.perf_counter()
            try:
                return original(this, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        setattr(self.owner, self.name, counted)
        return self

    def __exit__(self, *exc):
        setattr(self.owner, self.name, self.original)


def counted(function):
    """``function()`` with XAPI calls and OVSDB round trips counted: (value, calls, rpcs)."""
    with Counter(ovsdb.Connection, "call") as rpcs, Counter(xapi.Api, "call") as calls:
        value = function()
    return value, calls.count, rpcs.count


class Simulated:
    """The XAPI simulator in a process of its own, as XAPI is on a host."""

    def __init__(self, workdir, fixture, env=None):
        path = os.path.join(workdir, "pool-%d.json" % id(fixture))
        with open(path, "w") as handle:
            json.dump(fixture, handle)
        full_env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(env or {}))
        self.proc = subprocess.Popen([sys.executable, "-m", "xsovs_dev.xapisim", path],
                                     env=full_env, stdout=subprocess.PIPE,
                                     universal_newlines=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url:
            raise RuntimeError("the XAPI simulator did not start")

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.proc.stdout.close()


class Switch:
    """A real ovsdb-server with a dummy ovs-vswitchd."""

    def __init__(self, workdir):
        self.ovs = ovsmod.OvsInstance(os.path.join(workdir, "ovs"), vswitchd="dummy").start()

    def fill(self, vlans, nic="eth1"):
        """xenbr0 (eth0), xenbr1 (``nic``) and a fake bridge per VLAN, in one transaction."""
        args = ["add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
                "--", "add-br", "xenbr1", "--", "add-port", "xenbr1", nic]
        for tag in range(1, vlans + 1):
            args += ["--", "add-br", "xapi%d" % tag, "xenbr1", str(tag)]
        self.ovs.vsctl("--timeout=300", *args)

    def compacted_size(self):
        """The database file's size once compacted: what the data itself takes."""
        subprocess.run(["ovs-appctl", "-t", os.path.join(self.ovs.rundir, "ovsdb-server.ctl"),
                        "ovsdb-server/compact"], env=self.ovs.env, check=True,
                       stdout=subprocess.DEVNULL)
        return os.path.getsize(self.ovs.db_path)

    def close(self):
        self.ovs.stop()


def fake_root(workdir, host_uuid, name="root"):
    fake = FakeRoot(os.path.join(workdir, name), host_uuid=host_uuid)
    for program in STUBS:
        fake.link_program(program, target="/bin/true")
    fake.link_program("ovs-ofctl")
    fake.write(paths.PROGRAMS["iptables"], "#!/bin/sh\nexit 0\n", mode=0o755)
    return fake


def available():
    return ovsmod.available()
