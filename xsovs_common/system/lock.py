"""One lock per host for everything that changes the network configuration.

The plugin and interface-reconfigure can be started at the same moment (XAPI
calls both); they serialize on an ``flock`` of one file under the root
prefix.  Each action takes it once, at its entry (the plugin's functions,
interface-reconfigure's forms, the boot script's start and stop); what they
call runs under it and never takes it again.  So the lock is not
re-entrant: a second take in the thread that holds it is a programming
error and raises :class:`LockAlreadyHeld` at once (rather than waiting for
itself until the timeout).  Another thread or process waits its turn.
"""

import contextlib
import fcntl
import os
import threading

from .. import paths
from ..errors import Error
from ..log import log
from . import waiting

DEFAULT_TIMEOUT = 120
POLL_INTERVAL = 0.05


class LockTimeout(Error):
    code = "XSOVS_LOCK_TIMEOUT"


class LockAlreadyHeld(RuntimeError):
    """The lock was taken again where it is already held: a bug, not a busy host."""


_held = set()   # (path, thread ident) holding the lock
_guard = threading.Lock()


@contextlib.contextmanager
def host_lock(root, timeout=DEFAULT_TIMEOUT):
    """Hold the host's network-configuration lock for the ``with`` body."""
    path = root.path(paths.LOCK_FILE)
    key = (path, threading.current_thread().ident)
    with _guard:
        if key in _held:
            raise LockAlreadyHeld("%s is already held by this thread" % path)
        _held.add(key)
    try:
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not waiting.poll(lambda: _try_flock(fd), timeout, POLL_INTERVAL,
                                waiting=lambda: log.info("waiting for %s", path)):
                raise LockTimeout("another xsovs run holds %s" % path, params=[path])
            yield
        finally:
            os.close(fd)
    finally:
        with _guard:
            _held.discard(key)


def _try_flock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
