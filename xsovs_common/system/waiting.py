"""Waiting for something to become true, bounded: the one wait-until-deadline loop.

Every wait in host code -- for the host lock, a link-local address, a
dhclient to exit, XAPI to answer -- is :func:`poll`, and a wait the server
does itself (ovsdb-server's ``wait``) counts down a :class:`Deadline`.
The clock is monotonic, so setting the host's time does not cut a wait
short or make it endless.
"""

from time import monotonic, sleep


class Deadline:
    """A moment ``seconds`` from now."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._end = monotonic() + seconds

    def remaining(self):
        """Seconds left, never below 0."""
        return max(0.0, self._end - monotonic())

    def passed(self):
        return self.remaining() <= 0


def poll(ready, timeout, interval, waiting=None):
    """Call ``ready()`` until it returns true, for at most ``timeout`` seconds.

    ``ready`` runs at once, then every ``interval`` seconds, and once more
    at the deadline (no sleep goes past it).  ``waiting``, if given, is
    called once, before the first sleep (to say that this waits).  Returns
    True when ``ready`` did, False when the time ran out.
    """
    deadline = Deadline(timeout)
    first = True
    while True:
        if ready():
            return True
        remaining = deadline.remaining()
        if remaining <= 0:
            return False
        if first and waiting is not None:
            waiting()
        first = False
        sleep(min(interval, remaining))
