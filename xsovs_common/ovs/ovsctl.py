"""The Open vSwitch package's own daemon control, ``ovs-ctl``, and ``modprobe``.

``ovs-ctl`` starts, stops and checks ``ovsdb-server`` and ``ovs-vswitchd``
(database creation and schema upgrades, pid files, a monitor that restarts a
crashed daemon, saving flows across a restart); xsovs drives it rather than
doing any of that itself.  It finds its directories in the environment
(``OVS_RUNDIR``, ``OVS_DBDIR``, ``OVS_LOGDIR``, ``OVS_SYSCONFDIR``): under
a root prefix other than ``/`` they default to the same places under the
prefix, so a simulated host keeps its daemons, database and logs to itself.

``ovs-ctl`` runs ``ovs-kmod-ctl insert`` (``modprobe openvswitch``) before
every start of ``ovs-vswitchd`` and has no option to skip it.  The userspace
(``netdev``) datapath needs no module, and a host that uses it may have none,
so there a ``modprobe`` that loads nothing is put first in ovs-ctl's PATH.
"""

import os

from .. import paths
from ..system import files, process
from ..errors import Error
from ..log import log

TIMEOUT = 300          # a stop may go through ovs-ctl's whole TERM/KILL ladder
MODULE = "openvswitch"

# LSB exit statuses of an init script's "status".
STATUS_RUNNING = 0
STATUS_DEAD = 1        # a pid file is left but its process is gone
STATUS_STOPPED = 3
STATUS_UNKNOWN = 4

_PREFIXED_DIRS = (
    ("OVS_RUNDIR", paths.OVS_RUNDIR),
    ("OVS_DBDIR", paths.OVS_DBDIR),
    ("OVS_LOGDIR", paths.OVS_LOGDIR),
    ("OVS_SYSCONFDIR", "/etc"),
)
_STANDARD_PATH = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")

NO_KMOD_DIR = paths.XSOVS_RUNDIR + "/no-kmod"
NO_KMOD_MODPROBE = """#!/bin/sh
# Written by openvswitch-boot: the userspace (netdev) datapath needs no kernel module.
echo "netdev datapath: not loading kernel module(s) $*" >&2
exit 0
"""


class OvsCtlError(Error):
    code = "VSWITCH_CONTROL_FAILED"


def environment(root, load_kmod=True):
    """The environment ovs-ctl runs in: the program's (``root.environ``, read as it
    started; not changed) with the OVS directories under the root prefix."""
    env = dict(root.environ)
    if root.prefix != "/":
        for name, host_path in _PREFIXED_DIRS:
            if not env.get(name):
                env[name] = root.path(host_path)
    if not load_kmod:
        shim = root.path(NO_KMOD_DIR)
        files.replace_if_changed(os.path.join(shim, "modprobe"), NO_KMOD_MODPROBE, mode=0o755)
        # ovs-ctl puts /usr/sbin and /usr/bin first unless PATH has them already.
        path = [shim] + [d for d in env.get("PATH", "").split(":") if d]
        path += [d for d in _STANDARD_PATH if d not in path]
        env["PATH"] = ":".join(path)
    return env


def program(root):
    """ovs-ctl by its real path: it sources ovs-lib from the directory in its $0."""
    return os.path.realpath(root.program("ovs-ctl"))


def run(root, command, options, env):
    """``ovs-ctl OPTIONS COMMAND``; its output is logged, a failure raised."""
    return process.run_script(program(root), command, options, OvsCtlError, TIMEOUT, env)


def status(root, env):
    """(LSB status, ovs-ctl's report) of ovsdb-server and ovs-vswitchd together."""
    argv = [program(root), "status"]
    try:
        result = process.run(argv, timeout=60, check=False, env=env)
    except process.CommandError as exc:
        return STATUS_UNKNOWN, exc.message
    report = result.stdout.strip()
    if result.returncode == 0:
        return STATUS_RUNNING, report
    if "stale" in report:
        return STATUS_DEAD, report
    return STATUS_STOPPED, report


def load_kmod(root):
    """``modprobe openvswitch`` (a no-op when the module is already loaded)."""
    log.info("loading the %s kernel module", MODULE)
    process.run([root.program("modprobe"), MODULE], timeout=60)
