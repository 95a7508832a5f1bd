"""One lock per host for everything that changes the network configuration.

The plugin and interface-reconfigure can be started at the same moment (XAPI
calls both); they serialize on an ``flock`` of one file under the root
prefix.  The lock is re-entrant within a thread, because ``update`` calls the
same in-process code that ``interface-reconfigure rewrite`` uses.
"""

import contextlib
import fcntl
import os
import threading
import time

from .. import paths
from ..errors import Error
from ..log import log

DEFAULT_TIMEOUT = 120


class LockTimeout(Error):
    code = "XSOVS_LOCK_TIMEOUT"


_held = {}   # (path, thread) -> [fd, depth]
_guard = threading.Lock()


@contextlib.contextmanager
def host_lock(root, timeout=DEFAULT_TIMEOUT):
    """Hold the host's network-configuration lock for the ``with`` body."""
    path = root.path(paths.LOCK_FILE)
    key = (path, threading.current_thread().ident)
    with _guard:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
    if entry is not None:
        try:
            yield
        finally:
            with _guard:
                entry[1] -= 1
        return

    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.time() + timeout
    waited = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.time() >= deadline:
                    raise LockTimeout("another xsovs run holds %s" % path, params=[path])
                if not waited:
                    log.info("waiting for %s", path)
                    waited = True
                time.sleep(0.05)
        with _guard:
            _held[key] = [fd, 1]
        try:
            yield
        finally:
            with _guard:
                del _held[key]
    finally:
        os.close(fd)
