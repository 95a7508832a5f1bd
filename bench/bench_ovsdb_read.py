"""Reading the switch at 1000 bridges: why xsovs speaks RFC 7047 itself.

A real ovsdb-server with a dummy ovs-vswitchd holds 1000 bridges with one
NIC each.  One read of what an action needs (the Open_vSwitch row, bridges,
ports, interfaces, managers, SSL) is timed three ways in the same run:

- one ``transact`` of ``select``s on ``db.sock`` (``Snapshot.read``,
  what xsovs does), the baseline;
- one ``ovs-vsctl`` run with every table listed as JSON (``--`` batches
  them), output parsed;
- the ``ovs`` library's IDL: connect, fetch a replica of the same tables.

The historical per-bridge ``ovs-vsctl`` loop is timed by ``bench_update``.
Besides speed, the figures show what ``xsovs_common.ovs.ovsdb``'s docstring
argues: ``ovs-vsctl`` is close in speed, but it is the 128 KiB argv limit
on a written value that rules it out; the IDL costs a multiple of the read.
"""

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from xsovs_common.ovs import ovsdb
from xsovs_common.ovs.snapshot import Snapshot
from xsovs_dev import ovs as ovsmod

from .bench_update import _fill_ovsdb

BRIDGES = 1000
RUNS = 7
TABLES = ("Open_vSwitch", "Bridge", "Port", "Interface", "Manager", "SSL")


def _transact(instance):
    with ovsdb.Connection(instance.socket, timeout=30) as connection:
        snapshot = Snapshot.read(connection)
    assert len(snapshot.bridges) == BRIDGES, len(snapshot.bridges)


def _vsctl(instance):
    args = ["--format=json", "list", TABLES[0]]
    for table in TABLES[1:]:
        args += ["--", "list", table]
    out = instance.vsctl(*args)
    tables = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(tables[1]["data"]) == BRIDGES, len(tables[1]["data"])


def _idl(instance):
    import ovs.db.idl
    import ovs.poller

    helper = ovs.db.idl.SchemaHelper(ovsmod.SCHEMA)
    for table in TABLES:
        helper.register_table(table)
    idl = ovs.db.idl.Idl("unix:" + instance.socket, helper)
    try:
        deadline = time.monotonic() + 60
        while not idl.has_ever_connected() or idl.change_seqno == 0 or \
                len(idl.tables["Bridge"].rows) < BRIDGES:
            if time.monotonic() > deadline:
                raise RuntimeError("the IDL did not fetch the database within 60 s")
            idl.run()
            poller = ovs.poller.Poller()
            idl.wait(poller)
            poller.timer_wait(100)
            poller.block()
    finally:
        idl.close()


def _median(function, instance):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function(instance)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _idl_missing():
    try:
        import ovs.db.idl  # noqa: F401
    except ImportError:
        return "the ovs Python library is not installed"
    return None


def main():
    reason = ovsmod.available() or _idl_missing()
    if reason:
        print("skipped: " + reason)
        return
    import ovs.version

    workdir = tempfile.mkdtemp(prefix="bench-ovsdb-read-")
    instance = ovsmod.OvsInstance(os.path.join(workdir, "ovs"), vswitchd="dummy").start()
    try:
        _fill_ovsdb(instance, BRIDGES)
        results = [(name, _median(function, instance)) for name, function in (
            ("one transact of selects (xsovs)", _transact),
            ("one batched ovs-vsctl, JSON parsed", _vsctl),
            ("the IDL (ovs %s), full fetch" % ovs.version.VERSION, _idl))]
        version = subprocess.run(["ovs-vsctl", "--version"], stdout=subprocess.PIPE,
                                 universal_newlines=True).stdout.splitlines()[0]
    finally:
        instance.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    baseline = results[0][1]
    width = max(len(name) for name, _ in results)
    print("one read of %s at %d bridges, median of %d (%s, load average %.1f)"
          % (", ".join(TABLES), BRIDGES, RUNS, version, os.getloadavg()[0]))
    for name, seconds in results:
        print("  %-*s  %7.1f ms  %5.1fx the transact" % (width, name, seconds * 1e3,
                                                          seconds / baseline))
