"""One OVN northbound ovsdb-server from the Debian packages, in a private directory.

For the northbound sync's tests and benchmark: the NB schema of
``ovn-central``, the server listening on a unix socket (for ``ovn-nbctl``)
and on a TCP port of 127.0.0.1 (the remote the sync is given), stopped and
started again on the same database for fault tests.
"""

import json
import os
import shutil
import socket
import subprocess
import time

from xsovs_dev.ovs import terminate

NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"


def available():
    """Why an NB server cannot run here, or None when it can."""
    for program in ("ovsdb-server", "ovsdb-tool", "ovn-nbctl", "ovsdb-client"):
        if shutil.which(program) is None:
            return "%s is not installed (run make setup)" % program
    if not os.path.exists(NB_SCHEMA):
        return "%s is missing (package ovn-central; run make setup)" % NB_SCHEMA
    return None


def free_port():
    """A TCP port of 127.0.0.1 nobody listens on now."""
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
    finally:
        probe.close()


class NbServer:
    """ovsdb-server holding OVN_Northbound, rooted at ``workdir``."""

    def __init__(self, workdir, schema=NB_SCHEMA):
        self.workdir = os.path.abspath(workdir)
        self.schema = schema
        self.db_path = os.path.join(self.workdir, "ovnnb_db.db")
        self.socket = os.path.join(self.workdir, "ovnnb_db.sock")
        self.port = free_port()
        self.remote = "tcp:127.0.0.1:%d" % self.port
        self.proc = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        if not os.path.exists(self.db_path):
            subprocess.run(["ovsdb-tool", "create", self.db_path, self.schema], check=True)
        self.proc = subprocess.Popen(
            ["ovsdb-server", self.db_path, "--remote=punix:" + self.socket,
             "--remote=ptcp:%d:127.0.0.1" % self.port,
             "--unixctl=" + os.path.join(self.workdir, "ovsdb-server.ctl"),
             "--log-file=" + os.path.join(self.workdir, "ovsdb-server.log"),
             "-vconsole:off"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._accepts():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ovsdb-server for NB did not start (see %s)" % self.workdir)
            time.sleep(0.02)
        return self

    def _accepts(self):
        for family, address in ((socket.AF_UNIX, self.socket),
                                (socket.AF_INET, ("127.0.0.1", self.port))):
            probe = socket.socket(family, socket.SOCK_STREAM)
            try:
                probe.connect(address)
            except OSError:
                return False
            finally:
                probe.close()
        return True

    def stop(self):
        terminate(self.proc)
        self.proc = None

    def upgrade(self, schema):
        """The database converted to ``schema`` as ``ovn-ctl`` upgrades a standalone one:
        the server stopped, the file converted (``ovsdb-tool convert``), the server started."""
        self.stop()
        subprocess.run(["ovsdb-tool", "convert", self.db_path, schema], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.schema = schema
        return self.start()

    def nbctl(self, *args):
        """ovn-nbctl's output (its errors raise CalledProcessError)."""
        return subprocess.run(["ovn-nbctl", "--db=unix:" + self.socket] + list(args),
                              check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True).stdout

    def dump(self, tables):
        """{table: rows} of ``tables`` ({table: columns}), read in one transaction; a row
        is {column: value as JSON gives it}, ``_uuid`` and ``_version`` among them."""
        names = sorted(tables)
        query = [{"op": "select", "table": table, "where": [],
                  "columns": list(tables[table]) + ["_uuid", "_version"]} for table in names]
        out = subprocess.run(["ovsdb-client", "transact", "unix:" + self.socket,
                              json.dumps(["OVN_Northbound"] + query)],
                             check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
        return {table: result["rows"] for table, result in zip(names, json.loads(out))}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
