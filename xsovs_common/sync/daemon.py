"""ovs-xapi-sync: tell OVS controllers which XAPI network, VIF and VM each row is.

Event-driven on both sides: OVSDB changes arrive through the ``ovs``
library's IDL monitor, XAPI changes through ``event.from`` (see
:mod:`.xapi_events`); either wakes one loop that recomputes the plan
(:mod:`.xapi_sync_rules`) from the two local replicas and commits the
differences as one OVSDB transaction.  Map keys are written with mutations,
so keys other clients own are never overwritten.  No XAPI call is made per
interface or bridge.

Built on the ``ovs`` library's daemon, unixctl and vlog modules (the host's
openvswitch package ships it; ``PYTHONPATH`` points there).  unixctl
commands: ``exit``, and ``flush-cache`` (read everything from XAPI again).
"""

import argparse
import logging
import os
import queue
import signal
import sys
import time

from . import rules, traffic, traffic_commands
from ..log import log
from ..cli import environment_help
from ..paths import ENV_ROOT, ENV_XAPI_URL, VSWITCH_SCHEMA, Root
from .cache import XapiCache
from .rows import RowReader
from ..xapi.events import Follower

PROGRAM = "ovs-xapi-sync"
COLUMNS = {
    "Bridge": ["name", "external_ids", "other_config", "fail_mode"],
    "Port": ["name", "fake_bridge", "external_ids"],
    "Interface": ["name", "external_ids"],
}
for _table, _columns in traffic.COLUMNS.items():
    COLUMNS[_table] = sorted(set(COLUMNS[_table]) | set(_columns))
MAX_RETRY_DELAY = 5.0      # seconds between retries of a transaction OVSDB refused
# ovsdb-server is a local socket: try it again every second (the ovs library's
# floor) rather than backing off to its default 8 s.
RECONNECT_BACKOFF_MS = 1000


def _ovs():
    """The ovs library's modules, or exit with a clear reason."""
    try:
        import ovs.daemon
        import ovs.db.idl
        import ovs.dirs
        import ovs.poller
        import ovs.unixctl
        import ovs.unixctl.server
        import ovs.util
        import ovs.vlog
    except ImportError as exc:
        sys.stderr.write("%s: the Open vSwitch Python library is missing (%s); "
                         "set PYTHONPATH=/usr/share/openvswitch/python\n" % (PROGRAM, exc))
        sys.exit(1)
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


def _idl_rows(reader, idl):
    """The rows rules.plan reads, through ``reader`` (a RowReader: unchanged rows kept)."""
    def ids(row, column):
        return dict(getattr(row, column))

    bridges = reader.rows(idl, "Bridge", lambda r: rules.row(
        r.uuid, r.name, ids(r, "external_ids"), ids(r, "other_config"),
        r.fail_mode[0] if r.fail_mode else None))
    ports = reader.rows(idl, "Port", lambda r: (bool(r.fake_bridge), rules.row(
        r.uuid, r.name, ids(r, "external_ids"))))
    ifaces = reader.rows(idl, "Interface", lambda r: rules.row(
        r.uuid, r.name, ids(r, "external_ids")))
    return bridges, [row for fake, row in ports if fake], ifaces


class Daemon:
    """The loop: unixctl, the IDL, and batches from the XAPI follower."""

    def __init__(self, ovs, root, remote, schema):
        self.ovs = ovs
        self.root = root
        helper = ovs.db.idl.SchemaHelper(location=schema)
        for table, columns in COLUMNS.items():
            helper.register_columns(table, columns)
        self.idl = ovs.db.idl.Idl(remote, helper)
        # The library has no public setter; every version since 2.6 names it so.
        self.idl._session.reconnect.set_backoff(RECONNECT_BACKOFF_MS, RECONNECT_BACKOFF_MS)
        self.cache = XapiCache()
        self.batches = queue.Queue()
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        self.follower = None
        self.exiting = False
        self.seen = (None, None)      # (IDL change_seqno, cache generation) last planned
        self.connection = None        # the OVSDB session's seqno while connected
        self.retry_at = None
        self.retry_delay = 0.0
        self.unixctl = None
        self.rows = RowReader(COLUMNS)
        self.traffic = traffic.TrafficRules(root)

    # -- wake-ups from other threads and signals ------------------------------
    def wake(self):
        try:
            os.write(self.wake_w, b"x")
        except OSError:   # the pipe is full: a wake-up is already pending
            pass

    def _deliver(self, follower, events, reset):
        self.batches.put((follower, events, reset))
        self.wake()

    def start_follower(self):
        if self.follower is not None:
            self.follower.stop()
        self.follower = Follower(self.root, self._deliver).start()

    # -- unixctl ------------------------------------------------------------------
    def _exit(self, conn, unused_argv, unused_aux):
        self.exiting = True
        conn.reply(None)

    def _flush_cache(self, conn, unused_argv, unused_aux):
        log.info("flushing the cache: reading everything from XAPI again")
        self.start_follower()
        conn.reply(None)

    def register_commands(self):
        self.ovs.unixctl.command_register("exit", "", 0, 0, self._exit, None)
        self.ovs.unixctl.command_register("flush-cache", "", 0, 0, self._flush_cache, None)
        traffic_commands.register_commands(self.ovs.unixctl, self.traffic, self.cache, self.idl)
        path = os.path.join(self.ovs.dirs.RUNDIR, "%s.%d.ctl" % (PROGRAM, os.getpid()))
        error, self.unixctl = self.ovs.unixctl.server.UnixctlServer.create(path)
        if error:
            self.ovs.util.ovs_fatal(error, "could not create unixctl server")

    # -- the loop -------------------------------------------------------------------
    def _take_batches(self):
        try:
            while os.read(self.wake_r, 4096):
                pass
        except OSError:
            pass
        while True:
            try:
                follower, events, reset = self.batches.get_nowait()
            except queue.Empty:
                return
            if follower is self.follower:
                self.cache.apply(events, reset=reset)

    def _ready(self):
        return self.cache.ready and self.idl.has_ever_connected()

    def _note_connection(self):
        """On a new OVSDB connection, what waited for it is tried at once, not on the timer."""
        session = self.idl._session
        connection = session.get_seqno() if session.is_connected() else None
        if connection is not None and connection != self.connection:
            self.retry_at = None
            self.retry_delay = 0.0
            self.seen = (None, None)
        self.connection = connection

    def _due(self):
        """Whether sync() has something to try now."""
        if not self._ready() or self.connection is None:
            return False      # while OVSDB is away nothing can be written
        if self.retry_at is not None:
            return time.monotonic() >= self.retry_at
        return (self.idl.change_seqno, self.cache.generation) != self.seen

    def sync(self):
        """Plan from both replicas and commit the differences as one transaction."""
        if not self._due():
            return
        now = (self.idl.change_seqno, self.cache.generation)
        self.retry_at = None
        changes = rules.plan(self.cache, *_idl_rows(self.rows, self.idl))
        if not changes:
            self.seen = now
            self.retry_delay = 0.0
            return
        status = self._commit(changes)
        Txn = self.ovs.db.idl.Transaction
        if status in (Txn.SUCCESS, Txn.UNCHANGED, Txn.TRY_AGAIN):
            # TRY_AGAIN: the IDL changes (new rows, or a new connection) before a retry helps.
            self.seen = now
            self.retry_delay = 0.0
            if status != Txn.TRY_AGAIN:
                log.debug("wrote %d keys and columns", rules.count(changes))
        else:
            self.retry_delay = min(MAX_RETRY_DELAY, max(0.1, self.retry_delay * 2))
            self.retry_at = time.monotonic() + self.retry_delay
            log.warning("OVSDB transaction failed (%s); retrying in %.1f s",
                        Txn.status_to_string(status), self.retry_delay)

    def _commit(self, changes):
        txn = self.ovs.db.idl.Transaction(self.idl)
        tables = {name: self.idl.tables[name].rows for name in COLUMNS}
        for (table, uuid), columns in sorted(changes.items()):
            row = tables[table].get(uuid)
            if row is None:
                continue
            for column, value in sorted(columns.items()):
                if not isinstance(value, dict):
                    setattr(row, column, [value])
                    continue
                for key, item in sorted(value.items()):
                    if item is None:
                        row.delkey(column, key)
                    else:
                        row.setkey(column, key, item)
        txn.add_comment("%s: updating records from XAPI" % PROGRAM)
        return txn.commit_block()

    def run(self):
        poller_cls = self.ovs.poller.Poller
        while not self.exiting:
            self.unixctl.run()
            if self.exiting:
                break
            self.idl.run()
            self._note_connection()
            self._take_batches()
            self.traffic.run(self.cache, self.idl)     # flows first: they are the safety
            self.sync()
            poller = poller_cls()
            self.unixctl.wait(poller)
            self.idl.wait(poller)
            self.traffic.wait(poller)
            poller.fd_wait(self.wake_r, self.ovs.poller.POLLIN)
            if self._due():
                # A commit took in changes of others: their socket data is read already.
                poller.immediate_wake()
            elif self.retry_at is not None:
                poller.timer_wait(max(0, int((self.retry_at - time.monotonic()) * 1000)) + 1)
            if self.exiting:   # a signal came after its wake-up byte was read above
                break
            poller.block()
        if self.follower is not None:
            self.follower.stop()
        self.unixctl.close()
        self.idl.close()


def parse_args(ovs, argv):
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--root-prefix", metavar="DIR", default=None)
    known, _ = early.parse_known_args(argv)
    root = Root.from_environment(known.root_prefix)
    # The ovs library's defaults (pidfile, unixctl socket, log file) follow the root.
    ovs.dirs.RUNDIR = root.ovs_rundir()
    ovs.dirs.LOGDIR = root.ovs_logdir()
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Keep OVSDB's external ids in step with XAPI.",
        epilog=environment_help(ENV_ROOT, ENV_XAPI_URL),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", metavar="DATABASE", nargs="?",
                        default="unix:" + root.ovsdb_socket(),
                        help="ovsdb-server's socket (default: unix:%(default)s)")
    parser.add_argument("--root-prefix", metavar="DIR", default=None,
                        help="use DIR as the host's root directory (for testing)")
    ovs.vlog.add_args(parser)
    ovs.daemon.add_args(parser)
    return root, parser.parse_args(argv)


def schema_path(root):
    """The vswitch schema under the root prefix when there is one, else the host's."""
    path = root.path(VSWITCH_SCHEMA)
    return path if os.path.exists(path) else VSWITCH_SCHEMA


def main(argv=None):
    ovs = _ovs()
    argv = sys.argv[1:] if argv is None else argv
    vlog = ovs.vlog.Vlog(PROGRAM)    # before vlog's set-up, as the library requires
    root, args = parse_args(ovs, argv)
    ovs.vlog.handle_args(args)
    ovs.daemon.handle_args(args)
    for handler in list(log.handlers):
        log.removeHandler(handler)
    log.addHandler(_ToVlog(vlog))
    log.setLevel(logging.DEBUG)

    daemon = Daemon(ovs, root, args.database, schema_path(root))

    def on_signal(signr, unused_frame):
        daemon.exiting = True
        daemon.wake()

    # Installed before the ovs library's own handlers, which then leave them be:
    # the loop ends, and the pidfile goes at exit.
    for signr in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signr, on_signal)
    # The kernel may hand the signal to the XAPI thread; the byte written here wakes
    # the main loop's poll so that the handler runs at once.
    signal.set_wakeup_fd(daemon.wake_w)
    ovs.daemon.daemonize()
    daemon.register_commands()
    daemon.start_follower()
    log.info("started: OVSDB %s", args.database)
    daemon.run()
    log.info("exiting")
    return 0
