"""The OVN host package's own daemon control, ``ovn-ctl``, for ``ovn-controller``.

``ovn-controller`` is started, stopped and checked the way the package's
service does it: ``ovn-ctl start_controller`` (pid file, log file, a monitor
that restarts it after a crash), ``stop_controller`` (a clean exit, which
removes the chassis from the southbound database) and ``status_controller``.
``ovn-ctl`` finds its directories in the environment: ``OVN_RUNDIR`` and
``OVN_LOGDIR`` (under a root prefix other than ``/``, the same places under the
prefix) and ``OVS_RUNDIR``, where the switch's ``db.sock`` is, which
``ovn-controller`` is given as its database.

XCP-ng and XenServer ship no OVN package: a host where ``ovn-ctl`` or
``ovn-controller`` is missing is told to install ``ovn-host``.
"""

import os

from .. import paths
from ..errors import Error
from ..system import process

PACKAGE = "ovn-host"
TIMEOUT = 120          # a stop may go through ovn-ctl's whole TERM/KILL ladder


class OvnCtlError(Error):
    code = "XSOVS_OVN_CONTROLLER_FAILED"


def missing(root):
    """Why ``ovn-controller`` cannot be run here (what to install), or None."""
    for name in ("ovn-ctl", "ovn-controller"):
        path = root.program(name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return "%s is not installed: install the %s package" % (paths.PROGRAMS[name],
                                                                   PACKAGE)
    return None


def environment(root):
    """The environment ovn-ctl runs in: the program's (``root.environ``, read as it
    started; not changed) with the OVN directories under the root prefix."""
    env = dict(root.environ)
    if root.prefix != "/":
        env.setdefault("OVN_RUNDIR", root.path(paths.OVN_RUNDIR))
        env.setdefault("OVN_LOGDIR", root.path(paths.OVN_LOGDIR))
    env["OVS_RUNDIR"] = root.ovs_rundir()
    return env


def _program(root):
    # ovn-ctl sources ovn-lib and ovs-lib from the directory in its $0.
    return os.path.realpath(root.program("ovn-ctl"))


def _run(root, command, options=()):
    return process.run_script(_program(root), command, options, OvnCtlError, TIMEOUT,
                              environment(root))


def ssl_options(ssl):
    """ovn-ctl's options for the controller's key, certificate and CA (``ssl``: an
    ``SslFiles`` of real paths), or none."""
    if ssl is None:
        return []
    return ["--ovn-controller-ssl-key=" + ssl.private_key,
            "--ovn-controller-ssl-cert=" + ssl.certificate,
            "--ovn-controller-ssl-ca-cert=" + ssl.ca_cert]


def running(root):
    """True when ``ovn-ctl status_controller`` finds ovn-controller running."""
    if missing(root):
        return False
    result = process.run([_program(root), "status_controller"], timeout=60, check=False,
                         env=environment(root))
    return result.returncode == 0


def start_controller(root, ssl=None):
    _run(root, "start_controller", ssl_options(ssl))


def stop_controller(root):
    _run(root, "stop_controller")
