"""Following XAPI's changes with ``event.from``, in a thread of its own.

The thread waits for XAPI's start-up cookie, logs in (see :mod:`.xapi`),
asks for everything with the empty token, then for what changed since each
returned token: one XAPI call per batch, however many objects changed.  It
hands each batch to ``deliver(follower, events, reset)``; ``reset`` batches
hold every record.

When XAPI is down, restarting or answers ``SESSION_INVALID`` (or any other
failure, such as ``EVENTS_LOST``) the follower logs once, retries with a
backoff bounded by ``max_backoff``, logs in again and starts over with the
empty token, so the receiver resynchronises everything.  XAPI is local, so a
retry is cheap: the bound is a second, and its return is seen within one.
"""

import os
import threading

from . import session as xapi
from ..log import log
from ..paths import XAPI_INIT_COOKIE
from ..sync.cache import CLASSES

EVENT_TIMEOUT = 30.0      # seconds one event.from may wait for a change
MIN_BACKOFF = 0.25
MAX_BACKOFF = 1.0


class Follower:
    """One event.from loop; :meth:`stop` makes it deliver nothing more."""

    def __init__(self, root, deliver, timeout=EVENT_TIMEOUT, max_backoff=MAX_BACKOFF):
        self.root = root
        self.deliver = deliver
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xapi-events")
        self._thread.daemon = True   # a blocked event.from must not hold up exit

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.stopped.set()

    def _wait_for_xapi_start(self):
        cookie = self.root.path(XAPI_INIT_COOKIE)
        if not os.path.exists(cookie):
            log.info("waiting for %s before talking to XAPI", cookie)
        while not os.path.exists(cookie):
            if self.stopped.wait(0.5):
                return False
        return True

    def _run(self):
        if not self._wait_for_xapi_start():
            return
        backoff = 0.0
        failing = None
        while not self.stopped.is_set():
            try:
                with xapi.connect(root=self.root, timeout=self.timeout + 30) as api:
                    token = ""
                    while not self.stopped.is_set():
                        reply = api.call("event.from", CLASSES, token, self.timeout)
                        if self.stopped.is_set():
                            return
                        events = reply.get("events", [])
                        if failing is not None:
                            log.info("XAPI answers again; reading everything again")
                            failing = None
                        backoff = 0.0
                        if token == "" or events:
                            self.deliver(self, events, token == "")
                        token = reply.get("token", "")
            except xapi.XapiError as exc:
                if self.stopped.is_set():
                    return
                if failing is None:
                    log.warning("%s; retrying with backoff up to %g s",
                                exc.message, self.max_backoff)
                failing = exc.code
                backoff = min(self.max_backoff, max(MIN_BACKOFF, backoff * 2))
                self.stopped.wait(backoff)
            except Exception:   # a bug must not silently end the daemon's view of XAPI
                log.exception("unexpected failure following XAPI events")
                self.stopped.wait(self.max_backoff)
