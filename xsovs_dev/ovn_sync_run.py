"""Running ovn-xapi-sync against the simulator and a real NB ovsdb-server.

Shared by the tests and the benchmark: the daemon as a child process (any
interpreter, e.g. dom0's Python 3.6) with its own run directory, and the
NB content read back as plain data to compare.
"""

import json
import os

from xsovs_dev.xapi_sync_run import SyncDaemon
from xsovs_dev.xapisim import REPO_ROOT

PROGRAM = str(REPO_ROOT / "libexec" / "ovn-xapi-sync")


class RunDir:
    """A run directory for one daemon's pidfile and control socket."""

    def __init__(self, path):
        self.rundir = os.path.abspath(path)
        os.makedirs(self.rundir, exist_ok=True)

    @property
    def env(self):
        return dict(os.environ, OVS_RUNDIR=self.rundir, OVS_LOGDIR=self.rundir)


class OvnSyncDaemon(SyncDaemon):
    """ovn-xapi-sync as a child process; ``status()`` is its unixctl status, parsed."""

    NAME = "ovn-xapi-sync"
    PROGRAM = PROGRAM

    def __init__(self, workdir, root, xapi_url, python=None, extra=()):
        os.makedirs(workdir, exist_ok=True)
        SyncDaemon.__init__(self, workdir, root, RunDir(os.path.join(workdir, "run")),
                            xapi_url, python=python, extra=extra)

    def argv(self):
        return [self.python, self.PROGRAM, "--root-prefix=" + self.root, "--pidfile",
                "--log-file=" + self.log_file, "-vconsole:off"] + self.extra

    def status(self):
        """The status as a dict, or None when the daemon does not answer."""
        result = self.appctl("status")
        return json.loads(result.stdout) if result.returncode == 0 else None


def _value(datum):
    """An ovsdb-client JSON datum as Python: sets as sorted lists, maps as dicts."""
    if isinstance(datum, list) and datum and datum[0] == "set":
        return sorted(_value(d) for d in datum[1])
    if isinstance(datum, list) and datum and datum[0] == "map":
        return {k: _value(v) for k, v in datum[1]}
    if isinstance(datum, list) and datum and datum[0] == "uuid":
        return datum[1]
    return datum


def _one_or_list(value):
    return value if isinstance(value, list) else [value]


def nb_state(nb):
    """NB's switches, ports and ACLs, by name, as comparable plain data.

    ``switches``: name -> list (one per row of that name) of {external_ids,
    ports (names), acls (match strings)}; ``ports``: name -> {addresses,
    port_security, enabled, external_ids}; ``acls``: sorted (direction,
    priority, match, action) of every ACL; ``versions``: every row's
    ``_version``, which changes with any write to the row.
    """
    tables = {"Logical_Switch_Port": ["name", "addresses", "port_security", "enabled",
                                      "external_ids"],
              "ACL": ["direction", "priority", "match", "action", "external_ids"],
              "Logical_Switch": ["name", "external_ids", "ports", "acls"]}
    rows = {table: [{c: _value(v) for c, v in row.items()} for row in found]
            for table, found in nb.dump(tables).items()}
    ports, acls, switches = rows["Logical_Switch_Port"], rows["ACL"], rows["Logical_Switch"]
    port_names = {p["_uuid"]: p["name"] for p in ports}
    acl_matches = {a["_uuid"]: a["match"] for a in acls}
    out = {"switches": {}, "versions": {}}
    for row in switches:
        out["switches"].setdefault(row["name"], []).append({
            "external_ids": row["external_ids"],
            "ports": sorted(port_names[u] for u in _one_or_list(row["ports"])),
            "acls": sorted(acl_matches[u] for u in _one_or_list(row["acls"]))})
    out["ports"] = {p["name"]: {"addresses": _one_or_list(p["addresses"]),
                                "port_security": _one_or_list(p["port_security"]),
                                "enabled": _one_or_list(p["enabled"]),
                                "external_ids": p["external_ids"]} for p in ports}
    out["acls"] = sorted((a["direction"], a["priority"], a["match"], a["action"]) for a in acls)
    for row in ports + acls + switches:
        out["versions"][row["_uuid"]] = row["_version"]
    return out


def db_size(nb):
    """The size of a standalone NB's database file: it grows with every committed write."""
    return os.path.getsize(nb.db_path)
