"""ovs-xapi-sync: tell OVS controllers which XAPI network, VIF and VM each row is.

Event-driven on both sides: OVSDB changes arrive through the ``ovs``
library's IDL monitor, XAPI changes through ``event.from`` (see
:mod:`~xsovs_common.xapi.events`); either wakes one loop that recomputes the plan
(:mod:`.rules`) from the two local replicas and commits the
differences as one OVSDB transaction.  Map keys are written with mutations,
so keys other clients own are never overwritten.  No XAPI call is made per
interface or bridge.

Built on the ``ovs`` library's daemon, unixctl and vlog modules (the host's
openvswitch package ships it; ``PYTHONPATH`` points there).  unixctl
commands: ``exit``, and ``flush-cache`` (read everything from XAPI again).
"""

import os

from . import ovn_ports, plugin_update, rules, service, traffic, traffic_commands
from ..log import log
from ..paths import VSWITCH_SCHEMA
from .cache import CLASSES, XapiCache
from .rows import RowReader
from ..xapi.events import Follower

PROGRAM = "ovs-xapi-sync"
COLUMNS = {
    "Bridge": ["name", "external_ids", "other_config", "fail_mode", "ports"],
    "Port": ["name", "fake_bridge", "external_ids"],
    "Interface": ["name", "external_ids"],
}
for _table, _columns in traffic.COLUMNS.items():
    COLUMNS[_table] = sorted(set(COLUMNS[_table]) | set(_columns))
FIRST_RETRY_DELAY = 0.1    # seconds before a transaction OVSDB refused is tried again
# ovsdb-server is a local socket: try it again every second (the ovs library's
# floor) rather than backing off to its default 8 s.
RECONNECT_BACKOFF_MS = 1000


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
        service.set_reconnect_backoff(self.idl, RECONNECT_BACKOFF_MS, RECONNECT_BACKOFF_MS)
        self.cache = XapiCache()
        self.batches = service.Batches()
        self.follower = None
        self.plugin_update = plugin_update.UpdateWatch(root)
        self.exiting = False
        self.seen = (None, None)      # (IDL change_seqno, cache generation) last planned
        self.retry = service.Retry(FIRST_RETRY_DELAY)     # and the OVSDB connection
        self.unixctl = None
        self.rows = RowReader(COLUMNS)
        self.traffic = traffic.TrafficRules(root)

    def start_follower(self):
        if self.follower is not None:
            self.follower.stop()
        self.follower = Follower(self.root, CLASSES, self.batches.deliver).start()

    # -- unixctl ------------------------------------------------------------------
    def _exit(self, conn, unused_argv, unused_aux):
        self.exiting = True
        conn.reply(None)

    def _flush_cache(self, conn, unused_argv, unused_aux):
        log.info("flushing the cache: reading everything from XAPI again")
        self.start_follower()
        conn.reply(None)

    def register_commands(self):
        traffic_commands.register_commands(self.ovs.unixctl, self.traffic, self.cache, self.idl)
        self.unixctl = service.unixctl_server(self.ovs, PROGRAM, {
            "exit": ("", 0, 0, self._exit),
            "flush-cache": ("", 0, 0, self._flush_cache),
        })

    # -- the loop -------------------------------------------------------------------
    def _apply(self, events, reset):
        """One batch from XAPI; a change the plugin acts on runs its update (plugin_update)."""
        self.cache.apply(events, reset=reset)
        self.plugin_update.check(self.cache, self.idl)

    def _ready(self):
        return self.cache.ready and self.idl.has_ever_connected()

    def _note_connection(self):
        """On a new OVSDB connection, what waited for it is tried at once, not on the timer."""
        if self.retry.note_connection(self.idl):
            self.seen = (None, None)

    def _due(self):
        """Whether sync() has something to try now (nothing while OVSDB is away)."""
        return self._ready() and self.retry.due(
            (self.idl.change_seqno, self.cache.generation) != self.seen)

    def sync(self):
        """Plan from both replicas and commit the differences as one transaction."""
        if not self._due():
            return
        now = (self.idl.change_seqno, self.cache.generation)
        self.retry.trying()
        bridges, fakes, ifaces = _idl_rows(self.rows, self.idl)
        changes = rules.plan(self.cache, bridges, fakes, ifaces,
                             plugin_update.management_bridge(self.root, self.idl))
        moves = ovn_ports.plan(self.cache, *ovn_ports.rows(self.idl, ifaces, self.cache)) \
            if ovn_ports.wanted(self.cache, self.idl) else []
        if not changes and not moves:
            self.seen = now
            self.retry.succeeded()
            return
        status = self._commit(changes, moves)
        Txn = self.ovs.db.idl.Transaction
        if status in (Txn.SUCCESS, Txn.UNCHANGED, Txn.TRY_AGAIN):
            # TRY_AGAIN: the IDL changes (new rows, or a new connection) before a retry helps.
            self.seen = now
            self.retry.succeeded()
            if status != Txn.TRY_AGAIN:
                log.debug("wrote %d keys and columns", rules.count(changes))
        else:
            delay = self.retry.refused()
            log.warning("OVSDB transaction failed (%s); retrying in %.1f s",
                        Txn.status_to_string(status), delay)

    def _commit(self, changes, moves=()):
        txn = self.ovs.db.idl.Transaction(self.idl)
        ovn_ports.write(self.idl, moves)
        tables = {name: self.idl.tables[name].rows for name in COLUMNS}
        for (table, uuid), columns in sorted(changes.items()):
            row = tables[table].get(uuid)
            if row is None:
                continue
            for column, value in sorted(columns.items()):
                if isinstance(value, dict):
                    service.set_keys(row, column, value)
                else:
                    setattr(row, column, [value])
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
            self.batches.take(self.follower, self._apply)
            self.traffic.run(self.cache, self.idl)     # flows first: they are the safety
            self.sync()
            poller = poller_cls()
            self.unixctl.wait(poller)
            self.idl.wait(poller)
            self.traffic.wait(poller)
            poller.fd_wait(self.batches.wakeup.read_fd, self.ovs.poller.POLLIN)
            # Due at once after a commit that took in others' changes: their socket data
            # is read already.
            self.retry.wait(poller, due=self._due())
            if self.exiting:   # a signal came after its wake-up byte was read above
                break
            poller.block()
        if self.follower is not None:
            self.follower.stop()
        self.unixctl.close()
        self.idl.close()


def schema_path(root):
    """The vswitch schema under the root prefix when there is one, else the host's."""
    path = root.path(VSWITCH_SCHEMA)
    return path if os.path.exists(path) else VSWITCH_SCHEMA


def serve(ovs, root, args):
    """Run the daemon with the command line ``args`` (parsed, and logging set up, by
    :mod:`xsovs_common.actions.commands.ovs_xapi_sync`) until it is told to exit."""
    daemon = Daemon(ovs, root, args.database, schema_path(root))

    def stop():
        daemon.exiting = True

    service.on_signals(daemon.batches.wakeup, stop)
    ovs.daemon.daemonize()
    daemon.register_commands()
    daemon.start_follower()
    log.info("started: OVSDB %s", args.database)
    daemon.run()
    log.info("exiting")
    return 0
