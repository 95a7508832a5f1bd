"""What the two sync daemons share as daemons: the ``ovs`` library (with a fast JSON
parser where it has none: :mod:`.json_parser`) and its logging,
the command line, the unixctl server, signals, the loop's wake-up pipe and
the XAPI batches it hands over, writing map keys through the IDL, and when
to try again what a server refused or could not take (:class:`Retry`).

Both are built on the library's daemon (``--pidfile``, ``--detach``,
``--monitor``), unixctl (``ovs-appctl -t PROGRAM ...``) and vlog
(``--log-file``, ``-v``) modules; the host's openvswitch package ships it and
the units put it on ``PYTHONPATH``.
"""

import argparse
import logging
import os
import queue
import signal
import sys
import time

from . import json_parser
from ..log import log
from ..paths import Root

MAX_RETRY_DELAY = 5.0      # seconds: the longest wait before a refused change is tried again


def load_ovs(program):
    """The ovs library's modules, or exit with a clear reason."""
    try:
        import ovs.daemon
        import ovs.db.idl
        import ovs.dirs
        import ovs.poller
        import ovs.stream
        import ovs.unixctl
        import ovs.unixctl.server
        import ovs.util
        import ovs.vlog
    except ImportError as exc:
        sys.stderr.write("%s: the Open vSwitch Python library is missing (%s); "
                         "set PYTHONPATH=/usr/share/openvswitch/python\n" % (program, exc))
        sys.exit(1)
    json_parser.install(ovs)
    return ovs


class _ToVlog(logging.Handler):
    """Send the shared ``xsovs`` logger through vlog, so --log-file and -v apply."""

    def __init__(self, vlog):
        logging.Handler.__init__(self)
        self.vlog = vlog

    def emit(self, record):
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.levelno >= logging.ERROR:
            self.vlog.err(message)
        elif record.levelno >= logging.WARNING:
            self.vlog.warn(message)
        elif record.levelno >= logging.INFO:
            self.vlog.info(message)
        else:
            self.vlog.dbg(message)


def parse_args(ovs, program, description, argv, add_arguments, epilog=None):
    """(root, options): ``--root-prefix``, vlog's and daemon's options, and the
    program's own (``add_arguments(parser, root)``); ``epilog`` ends ``--help``.
    The library's default pidfile, unixctl socket and log file follow the root."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--root-prefix", metavar="DIR", default=None)
    known, _ = early.parse_known_args(argv)
    root = Root.from_environment(known.root_prefix)
    ovs.dirs.RUNDIR = root.ovs_rundir()
    ovs.dirs.LOGDIR = root.ovs_logdir()
    parser = argparse.ArgumentParser(prog=program, description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, root)
    parser.add_argument("--root-prefix", metavar="DIR", default=None,
                        help="use DIR as the host's root directory (for testing)")
    ovs.vlog.add_args(parser)
    ovs.daemon.add_args(parser)
    return root, parser.parse_args(argv)


def start(ovs, program, parse):
    """Parse the command line (``parse()``: (root, options)) and send the log
    through vlog; (root, options)."""
    vlog = ovs.vlog.Vlog(program)    # before vlog's set-up, as the library requires
    root, args = parse()
    ovs.vlog.handle_args(args)
    ovs.daemon.handle_args(args)
    for handler in list(log.handlers):
        log.removeHandler(handler)
    log.addHandler(_ToVlog(vlog))
    log.setLevel(logging.DEBUG)
    return root, args


class Wakeup:
    """A pipe that wakes the loop's poll from another thread or a signal handler."""

    def __init__(self):
        self.read_fd, self.write_fd = os.pipe()
        for fd in (self.read_fd, self.write_fd):
            os.set_blocking(fd, False)

    def wake(self):
        try:
            os.write(self.write_fd, b"x")
        except OSError:   # the pipe is full: a wake-up is already pending
            pass

    def drain(self):
        try:
            while os.read(self.read_fd, 4096):
                pass
        except OSError:
            pass


class Batches:
    """``event.from`` batches handed from the follower's thread to the loop, waking it."""

    def __init__(self):
        self.queue = queue.Queue()
        self.wakeup = Wakeup()

    def deliver(self, follower, events, reset):
        """The follower's ``deliver``: runs in its thread."""
        self.queue.put((follower, events, reset))
        self.wakeup.wake()

    def take(self, follower, apply):
        """``apply(events, reset)`` each batch that came from ``follower`` (the current
        one: a stopped follower's last batches are dropped)."""
        self.wakeup.drain()
        while True:
            try:
                sender, events, reset = self.queue.get_nowait()
            except queue.Empty:
                return
            if sender is follower:
                apply(events, reset=reset)


def set_keys(row, column, items):
    """Map keys one by one (a mutation: keys others own stay); None removes a key."""
    for key, item in sorted(items.items()):
        if item is None:
            row.delkey(column, key)
        else:
            row.setkey(column, key, item)


def on_signals(wakeup, handler):
    """SIGTERM and SIGINT call ``handler()`` and wake the loop.

    Installed before the ovs library's own handlers, which then leave them be:
    the loop ends, and the pidfile goes at exit.  The kernel may hand the
    signal to another thread; the byte written to the pipe wakes the main
    loop's poll so that the handler runs at once.
    """
    def on_signal(unused_signr, unused_frame):
        handler()
        wakeup.wake()

    for signr in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signr, on_signal)
    signal.set_wakeup_fd(wakeup.write_fd)


def unixctl_server(ovs, program, commands):
    """The unixctl server at the library's default path, with ``commands``:
    ``{name: (usage, min_args, max_args, callback)}``."""
    for name, (usage, low, high, callback) in sorted(commands.items()):
        ovs.unixctl.command_register(name, usage, low, high, callback, None)
    path = os.path.join(ovs.dirs.RUNDIR, "%s.%d.ctl" % (program, os.getpid()))
    error, server = ovs.unixctl.server.UnixctlServer.create(path)
    if error:
        ovs.util.ovs_fatal(error, "could not create unixctl server")
    return server


# -- the IDL's connection, and trying again ------------------------------------------

def wake_at(poller, when, now):
    """Wake the loop at monotonic time ``when`` (a millisecond after: its time has come)."""
    poller.timer_wait(max(0, int((when - now) * 1000)) + 1)


def set_reconnect_backoff(idl, min_ms, max_ms):
    """How long the IDL waits before trying a lost server again: ``min_ms``, doubling
    up to ``max_ms``.  The library has no public setter; every version since 2.6
    names it so."""
    idl._session.reconnect.set_backoff(min_ms, max_ms)


def connection_of(idl):
    """A number that changes with every new connection of the IDL (None while disconnected)."""
    session = idl._session
    return session.get_seqno() if session.is_connected() else None


class Retry:
    """When a loop tries again a change that was refused (a transaction, a flow bundle).

    A refusal (:meth:`refused`) waits ``first`` seconds, twice as long after
    each further one, up to :data:`MAX_RETRY_DELAY`; a success starts again
    from ``first``.  While the wait is on, nothing else makes the loop try.
    A daemon that writes through an IDL also follows its connection
    (:meth:`note_connection`): a new connection ends the wait and the backoff,
    so what waited for the server goes in at once, and nothing is tried while
    there is none (:meth:`due`).
    """

    def __init__(self, first, clock=time.monotonic):
        self.first = first
        self.clock = clock
        self.delay = 0.0        # the last wait; 0 since the last success
        self.at = None          # when the wait ends; None: no wait
        self.connection = None  # connection_of() the IDL, as last noted

    def refused(self):
        """Wait before the next try; returns the wait in seconds."""
        self.delay = min(MAX_RETRY_DELAY, max(self.first, self.delay * 2))
        self.at = self.clock() + self.delay
        return self.delay

    def succeeded(self):
        self.at, self.delay = None, 0.0

    def trying(self):
        """A try begins: the wait is over (its length kept for the next refusal)."""
        self.at = None

    def waiting(self, now):
        """A wait is on, not over at ``now``."""
        return self.at is not None and now < self.at

    def over(self, now):
        """A wait is on and over at ``now``."""
        return self.at is not None and now >= self.at

    def due(self, changed):
        """Whether to try now: connected, and the wait over, or with none, ``changed``."""
        if self.connection is None:
            return False
        if self.at is not None:
            return self.over(self.clock())
        return bool(changed)

    def wait(self, poller, due=False):
        """Wake the loop at once when a try is ``due``, else when the wait ends."""
        if due:
            poller.immediate_wake()
        elif self.at is not None:
            wake_at(poller, self.at, self.clock())

    def note_connection(self, idl):
        """Follow the IDL's connection; True when it is a new one (the wait is then over)."""
        connection = connection_of(idl)
        new = connection is not None and connection != self.connection
        if new:
            self.succeeded()
        self.connection = connection
        return new

    def disconnected(self):
        """The IDL is closed: no connection, nothing to wait for."""
        self.connection = None
        self.succeeded()
