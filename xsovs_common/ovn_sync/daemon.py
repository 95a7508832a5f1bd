"""ovn-xapi-sync: the OVN northbound database kept in step with XAPI, on the pool master.

Event-driven on both sides, as ``ovs-xapi-sync`` is: XAPI's pool, network,
VIF and VM records arrive through ``event.from`` (:mod:`~xsovs_common.xapi.events`),
the NB rows through the ``ovs`` library's IDL (:mod:`.nb`); either wakes
one loop that plans from the two replicas (:mod:`.wanted`, :mod:`.plan`)
and commits the differences as one NB transaction, without blocking.  A
plan with nothing in it writes nothing.

The NB remote is the pool's ``other_config:xsovs:ovn-nb``.  A new value is
used at once; an invalid one is refused and the current one kept; once it
is unset, every row this pool owns is removed from the remote last used
(kept in ``OVN_SYNC_REMOTE``, so this also happens after a restart) and the
daemon idles.  On a pool member (``/etc/xensource/pool.conf`` is not
``master``) it does nothing and asks XAPI nothing; it looks again every few
seconds, as a member becomes master.

unixctl commands: ``exit``; ``status`` (JSON: the pool, the remote, what
the pool owns in NB, whether it is in step, the last error and what was
refused and why).
"""

import json
import time

from . import nb as northbound
from . import plan as nbplan
from .records import CLASSES, OvnRecords
from .wanted import Memo, nb_remote, wanted
from .. import validate
from ..errors import InvalidValue
from ..log import log
from ..paths import OVN_SYNC_REMOTE, POOL_CONF, SDN_CONTROLLER_CA, XAPI_SSL_PEM
from ..sync import service
from ..system import files
from ..xapi.events import Follower

PROGRAM = "ovn-xapi-sync"
MASTER_CHECK_INTERVAL = 2.0     # seconds between reads of pool.conf
FIRST_RETRY_DELAY = 0.25        # seconds before a transaction NB refused is tried again


def is_master(root):
    """Whether this host is the pool master (no pool.conf: a lone host, or a test root)."""
    text = files.read_text(root.path(POOL_CONF), default="master")
    return text.strip() == "master"


class Daemon:
    """The loop: unixctl, the XAPI follower's batches, the NB IDL, one transaction at a time."""

    def __init__(self, ovs, root):
        self.ovs = ovs
        self.root = root
        self.records = OvnRecords()
        self.memo = Memo()          # what wanted() worked out of each record, kept
        self.batches = service.Batches()
        self.follower = None
        self.exiting = False
        self.master = None
        self.next_master_check = 0.0
        self.nb = None              # northbound.Northbound of the remote in use
        self.leaving = False        # the remote was unset: removing this pool's rows
        self.pool = None            # the pool's uuid
        self.seen = None            # (IDL change_seqno, records generation, leaving) planned
        self.retry = service.Retry(FIRST_RETRY_DELAY)     # and the NB connection
        self.in_step = False
        self.last_error = None
        self.refused = []           # [(what, reason)] of the last plan
        self.remote_refused = None  # (what, reason) of a refused remote
        self.owned = {}
        self.unixctl = None

    # -- XAPI --------------------------------------------------------------------
    def check_master(self):
        """Follow XAPI only on the pool master; a member forgets what it had."""
        self.next_master_check = time.monotonic() + MASTER_CHECK_INTERVAL
        master = is_master(self.root)
        if master == self.master:
            return
        self.master = master
        log.info("this host is %s", "the pool master" if master else "a pool member: idle")
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        self.records = OvnRecords()
        self._close_nb()
        if master:
            self.follower = Follower(self.root, CLASSES, self.batches.deliver).start()

    # -- the NB remote -------------------------------------------------------------
    def _close_nb(self):
        if self.nb is not None:
            self.nb.close()
        self.nb = None
        self.leaving = False
        self.seen = None
        self.retry.disconnected()

    def _open_nb(self, remote, leaving):
        self._close_nb()
        log.info("%s northbound database %s", "removing this pool's rows from the"
                 if leaving else "following the", remote)
        if "ssl:" in remote:
            # As the host's ovn-controller and a listening manager: the host's key and
            # certificate, the pool's CA.
            stream = self.ovs.stream.Stream
            stream.ssl_set_private_key_file(self.root.path(XAPI_SSL_PEM))
            stream.ssl_set_certificate_file(self.root.path(XAPI_SSL_PEM))
            stream.ssl_set_ca_cert_file(self.root.path(SDN_CONTROLLER_CA))
        self.nb = northbound.Northbound(self.ovs, remote)
        self.leaving = leaving
        if not leaving:
            files.replace_if_changed(self.root.path(OVN_SYNC_REMOTE), remote + "\n")

    def follow_remote(self):
        """Open, keep, switch or leave the NB remote as the pool's record says."""
        pool = self.records.pool() if self.records.ready else None
        if pool is None:
            return
        try:
            self.pool = validate.uuid(pool["uuid"], what="pool uuid")
        except InvalidValue as exc:
            self.remote_refused = ("pool", exc.message)
            return
        what = "pool %s" % self.pool
        try:
            remote = nb_remote(pool)
        except InvalidValue as exc:
            if self.remote_refused != (what, exc.message):
                log.warning("refused: %s; keeping the remote in use", exc.message)
            self.remote_refused = (what, exc.message)
            return
        self.remote_refused = None
        if remote is None:
            if self.nb is not None and not self.leaving:
                self._open_nb(self.nb.remote, leaving=True)
            elif self.nb is None:
                last = files.read_text(self.root.path(OVN_SYNC_REMOTE), default="").strip()
                if last:
                    self._open_nb(last, leaving=True)
            return
        if self.nb is None or self.leaving or self.nb.remote != remote:
            self._open_nb(remote, leaving=False)

    def _left(self):
        log.info("no row of this pool is left in %s", self.nb.remote)
        files.remove(self.root.path(OVN_SYNC_REMOTE))
        self._close_nb()

    # -- planning and committing ---------------------------------------------------------
    def _note_connection(self):
        """On a new NB connection, what waited for it is tried at once, not on the timer."""
        if self.retry.note_connection(self.nb.idl):
            self.seen = None

    def _now(self):
        return (self.nb.idl.change_seqno, self.records.generation, self.leaving)

    def _due(self):
        if (self.nb is None or self.nb.txn is not None
                or not self.nb.idl.has_ever_connected() or self.pool is None):
            return False
        return self.retry.due(self._now() != self.seen)

    def _finished(self, status):
        Txn = self.ovs.db.idl.Transaction
        if status in (Txn.SUCCESS, Txn.UNCHANGED, Txn.TRY_AGAIN):
            # TRY_AGAIN: the replica changes (others wrote, or a new connection) before
            # a new plan can do better; its change wakes the loop.
            self.retry.succeeded()
            if status == Txn.SUCCESS:
                self.last_error = None
            return
        self.last_error = "NB transaction failed (%s)%s" % (
            Txn.status_to_string(status),
            ": " + self.nb.error if self.nb.error else "")
        delay = self.retry.refused()
        self.seen = None
        log.warning("%s; retrying in %.2f s", self.last_error, delay)

    def sync(self):
        """Finish the transaction in flight, or plan again and start the next one."""
        if self.nb is None:
            return
        if self.nb.txn is not None:
            status = self.nb.status()
            if status is not None:
                self._finished(status)
        if not self._due():
            return
        self.retry.trying()
        self.seen = self._now()
        rows = self.nb.read()
        problem = None if self.leaving else self.nb.schema_problem()
        if problem is not None:        # nothing is written to a server that would refuse it
            result = nbplan.Plan([], [])
            refused = [("northbound database %s" % self.nb.remote, problem)]
        elif self.leaving:
            result = nbplan.remove_all(rows, self.pool)
            refused = []
        else:
            want = wanted(self.records, self.memo)
            result = nbplan.plan(want, rows, self.pool)
            refused = sorted(set(want.refused) | set(result.refused))
        for what, reason in sorted(set(refused) - set(self.refused)):
            log.warning("refused: %s: %s", what, reason)
        self.refused = refused
        self.owned = _owned(rows, self.pool)
        self.in_step = not result.steps and problem is None
        if not result.steps:
            if self.leaving:
                self._left()
            return
        log.info("writing %s to %s", _summary(result.steps), self.nb.remote)
        status = self.nb.begin(result.steps, "%s: pool %s" % (PROGRAM, self.pool))
        if status is not None:
            self._finished(status)

    # -- unixctl ---------------------------------------------------------------------
    def status(self):
        refused = list(self.refused)
        if self.remote_refused is not None:
            refused.insert(0, self.remote_refused)
        return {
            "pool": self.pool,
            "master": bool(self.master),
            "xapi": "ready" if self.records.ready else "waiting",
            "nb": None if self.nb is None else {
                "remote": self.nb.remote, "connected": self.nb.connected(),
                "leaving": self.leaving, "transactions": self.nb.transactions},
            "owned": self.owned,
            "in_step": self._in_step(),
            "last_error": self.last_error,
            "refused": [{"what": what, "reason": reason} for what, reason in refused],
        }

    def _in_step(self):
        """The last plan was empty, and nothing came since that could change it."""
        return (self.in_step and self.nb is not None and self.nb.txn is None
                and self.retry.connection is not None and self.retry.at is None
                and self.seen == self._now())

    def _status_command(self, conn, unused_argv, unused_aux):
        conn.reply(json.dumps(self.status(), indent=2, sort_keys=True))

    def _exit_command(self, conn, unused_argv, unused_aux):
        self.exiting = True
        conn.reply(None)

    def register_commands(self):
        self.unixctl = service.unixctl_server(self.ovs, PROGRAM, {
            "exit": ("", 0, 0, self._exit_command),
            "status": ("", 0, 0, self._status_command),
        })

    # -- the loop ----------------------------------------------------------------------
    def run(self):
        poller_cls = self.ovs.poller.Poller
        while not self.exiting:
            self.unixctl.run()
            if self.exiting:
                break
            if time.monotonic() >= self.next_master_check:
                self.check_master()
            self.batches.take(self.follower, self.records.apply)
            self.follow_remote()
            if self.nb is not None:
                self.nb.idl.run()
                self._note_connection()
            self.sync()
            poller = poller_cls()
            self.unixctl.wait(poller)
            if self.nb is not None:
                self.nb.wait(poller)
            poller.fd_wait(self.batches.wakeup.read_fd, self.ovs.poller.POLLIN)
            self.retry.wait(poller, due=self._due())
            service.wake_at(poller, self.next_master_check, time.monotonic())
            if self.exiting:   # a signal came after its wake-up byte was read above
                break
            poller.block()
        if self.follower is not None:
            self.follower.stop()
        self._close_nb()
        self.unixctl.close()


def _owned(rows, pool):
    key = nbplan.SWITCH_KEY_PREFIX + pool
    return {
        "logical_switches": sum(1 for s in rows.switches.values() if key in s.external_ids),
        "logical_switch_ports": sum(1 for p in rows.ports.values()
                                    if p.external_ids.get(nbplan.POOL_KEY) == pool),
        "acls": sum(1 for a in rows.acls.values()
                    if a.external_ids.get(nbplan.POOL_KEY) == pool),
    }


def _summary(steps):
    counts = {}
    for step in steps:
        counts[type(step).__name__] = counts.get(type(step).__name__, 0) + 1
    return ", ".join("%d %s" % (n, kind) for kind, n in sorted(counts.items()))


def serve(ovs, root):
    """Run the daemon (its command line parsed, and logging set up, by
    :mod:`xsovs_common.actions.commands.ovn_xapi_sync`) until it is told to exit."""
    daemon = Daemon(ovs, root)

    def stop():
        daemon.exiting = True

    service.on_signals(daemon.batches.wakeup, stop)
    ovs.daemon.daemonize()
    daemon.register_commands()
    log.info("started")
    daemon.run()
    log.info("exiting")
    return 0
