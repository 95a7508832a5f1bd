"""ISC dhclient, one per device and IP version, with files of its own.

Files follow XAPI's own naming, so an administrator finds them where a
XenServer host keeps them (and a dhclient an older tool started on the same
device is found and stopped too):

    <root>/var/run/dhclient-DEV.pid      <root>/var/run/dhclient6-DEV.pid
    <root>/var/lib/xcp/dhclient-DEV.leases  (dhclient6-DEV.leases)
    <root>/var/lib/xcp/dhclient-DEV.conf    (dhclient6-DEV.conf)

The configuration file (written by the caller's file set, rendered here)
asks for routers only on the default-route device and for name servers only
on the DNS device, so a second DHCP network never takes the host's default
route or resolv.conf.  dhclient's own script (``/sbin/dhclient-script`` on
XenServer and on Debian) sets the leased address.

``start`` returns once dhclient has a lease or after :data:`LEASE_TIMEOUT`
seconds; without a lease dhclient keeps trying in the background (what
``PERSISTENT_DHCLIENT=yes`` means).  The lease file is kept on stop, so the
next start asks for the same address.
"""

import errno
import os
import signal

from .. import paths
from . import files, process, waiting
from ..log import log

LEASE_TIMEOUT = 30          # seconds dhclient waits for a lease before going to the background
STOP_TIMEOUT = 5.0          # seconds a stopped dhclient gets before SIGKILL
PID_FILE_TIMEOUT = 5.0      # seconds the background dhclient gets to write its pid file

_REQUEST4 = ("subnet-mask", "broadcast-address", "time-offset", "host-name")
_REQUEST4_GATEWAY = ("routers",)
_REQUEST4_DNS = ("domain-name", "domain-name-servers", "domain-search")
_REQUEST6_DNS = ("dhcp6.name-servers", "dhcp6.domain-search")


def _name(device, version):
    return ("dhclient6-%s" if version == 6 else "dhclient-%s") % device


def pid_file(device, version):
    """Host path of the pid file."""
    return "%s/%s.pid" % (paths.DHCLIENT_PID_DIR, _name(device, version))


def lease_file(device, version):
    return "%s/%s.leases" % (paths.DHCLIENT_DIR, _name(device, version))


def conf_file(device, version):
    return "%s/%s.conf" % (paths.DHCLIENT_DIR, _name(device, version))


def conf_text(device, version, gateway, dns):
    """dhclient.conf for ``device``: what to request, and the lease timeout."""
    if version == 6:
        wanted = _REQUEST6_DNS if dns else ()
    else:
        wanted = _REQUEST4 + (_REQUEST4_GATEWAY if gateway else ()) + (_REQUEST4_DNS if dns
                                                                         else ())
    return ("# Written by xsovs for %s (IPv%d): changes are overwritten.\n"
            "timeout %d;\n"
            "interface \"%s\" {\n"
            "  request %s;\n"
            "}\n") % (device, version, LEASE_TIMEOUT, device, ", ".join(wanted))


def start(root, device, version):
    """Start dhclient (``-6`` for DHCPv6) on ``device``; wait for a lease (bounded)."""
    for host_path in (pid_file(device, version), lease_file(device, version)):
        directory = os.path.dirname(root.path(host_path))
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
    argv = [root.program("dhclient"), "-6" if version == 6 else "-4",
            "-pf", root.path(pid_file(device, version)),
            "-lf", root.path(lease_file(device, version)),
            "-cf", root.path(conf_file(device, version)), device]
    process.run(argv, timeout=LEASE_TIMEOUT + 30)
    # dhclient's parent exits as it forks; the child writes the pid file after.
    # Waiting for it here lets a stop that follows find the dhclient to end.
    if not waiting.poll(lambda: running(root, device, version) is not None,
                        PID_FILE_TIMEOUT, 0.05):
        log.warning("%s: dhclient (IPv%d) wrote no pid file in %.0f s", device, version,
                    PID_FILE_TIMEOUT)


def running(root, device, version):
    """The pid of the dhclient recorded for ``device``, or None."""
    path = root.path(pid_file(device, version))
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    return pid if _is_our_dhclient(pid, path) else None


def _is_our_dhclient(pid, pid_path):
    """True when ``pid`` is a dhclient started with ``pid_path`` (not a reused pid).

    The program is the first word, or the second for a script's interpreter.
    """
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return False
    named = any(os.path.basename(word).startswith("dhclient") for word in argv[:2])
    return named and pid_path in argv


def stop(root, device):
    """Stop the IPv4 and IPv6 dhclients of ``device``; return the pids stopped."""
    stopped = []
    for version in (4, 6):
        pid = running(root, device, version)
        if pid is not None:
            log.info("stopping dhclient (IPv%d) on %s, pid %d", version, device, pid)
            _terminate(pid)
            stopped.append(pid)
        files.remove(root.path(pid_file(device, version)))
    return stopped


def _terminate(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return
        raise
    if waiting.poll(lambda: not _alive(pid), STOP_TIMEOUT, 0.05):
        return
    log.warning("dhclient pid %d ignored SIGTERM; killing it", pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def _alive(pid):
    # A child of ours that exited stays a zombie until reaped; dhclient daemonizes,
    # so its parent is init, but a test may start it directly.
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"

