"""service.Retry: when both sync daemons, and the flows of traffic rules, try a refused change
again -- the backoff, the wait that holds everything else back, and a new connection ending it."""

import pytest

from xsovs_common.sync import service


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Session:
    """The ``ovs`` library's session as Retry reads it: connected or not, and its seqno."""

    def __init__(self):
        self.connected, self.seqno = False, 1

    def is_connected(self):
        return self.connected

    def get_seqno(self):
        return self.seqno


class Idl:
    def __init__(self):
        self._session = Session()

    def connect(self):
        """A new connection: the session's seqno moves on, as the library's does."""
        self._session.connected = True
        self._session.seqno += 1


class Poller:
    def __init__(self):
        self.timers = []
        self.woken = False

    def timer_wait(self, msec):
        self.timers.append(msec)

    def immediate_wake(self):
        self.woken = True


def connected(retry):
    """An IDL that has just connected, as ``retry`` has noted."""
    idl = Idl()
    idl.connect()
    assert retry.note_connection(idl)
    return idl


@pytest.fixture
def clock():
    return Clock()


def test_refusals_double_the_wait_from_first_to_the_cap_and_success_starts_again(clock):
    retry = service.Retry(0.25, clock)
    waits = [retry.refused() for _ in range(7)]
    assert waits == [0.25, 0.5, 1.0, 2.0, 4.0, service.MAX_RETRY_DELAY, service.MAX_RETRY_DELAY]
    assert retry.at == clock.now + service.MAX_RETRY_DELAY
    retry.succeeded()
    assert (retry.at, retry.delay) == (None, 0.0)
    assert retry.refused() == 0.25


def test_a_try_ends_the_wait_but_keeps_its_length_for_the_next_refusal(clock):
    retry = service.Retry(0.1, clock)
    retry.refused()
    retry.refused()
    retry.trying()
    assert retry.at is None
    assert retry.refused() == pytest.approx(0.4)


def test_waiting_and_over_at_a_given_time(clock):
    retry = service.Retry(0.1, clock)
    assert not retry.waiting(clock.now) and not retry.over(clock.now)
    retry.refused()
    assert retry.waiting(clock.now) and not retry.over(clock.now)
    assert not retry.waiting(clock.now + 0.1) and retry.over(clock.now + 0.1)


def test_nothing_is_due_without_a_connection(clock):
    retry = service.Retry(0.1, clock)
    assert not retry.due(True)
    connected(retry)
    assert retry.due(True) and not retry.due(False)


def test_while_a_wait_is_on_a_change_does_not_make_a_try_due(clock):
    retry = service.Retry(0.1, clock)
    connected(retry)
    retry.refused()
    assert not retry.due(True)
    clock.now += 0.1
    assert retry.due(False)                    # the wait is over, whatever changed


def test_a_new_connection_ends_the_wait_and_the_backoff(clock):
    retry = service.Retry(0.1, clock)
    idl = Idl()
    assert not retry.note_connection(idl)      # still away
    for _ in range(10):
        retry.refused()
    idl.connect()
    assert retry.note_connection(idl)
    assert (retry.at, retry.delay) == (None, 0.0)
    retry.refused()
    assert not retry.note_connection(idl)      # the same connection: the refusal's wait stands
    assert retry.at == clock.now + 0.1
    idl._session.connected = False
    assert not retry.note_connection(idl) and retry.connection is None
    assert retry.at == clock.now + 0.1         # a lost connection ends nothing
    idl.connect()
    assert retry.note_connection(idl) and retry.at is None


def test_disconnected_forgets_the_connection_and_the_wait(clock):
    retry = service.Retry(0.1, clock)
    idl = connected(retry)
    retry.refused()
    retry.disconnected()
    assert (retry.connection, retry.at, retry.delay) == (None, None, 0.0)
    assert retry.note_connection(idl)          # the same seqno, on another IDL: new again


def test_the_loop_wakes_when_the_wait_ends_and_not_before(clock):
    retry = service.Retry(0.5, clock)
    poller = Poller()
    retry.wait(poller)
    assert poller.timers == []                 # no wait: no timer
    retry.refused()
    clock.now += 0.25
    retry.wait(poller)
    assert poller.timers == [251]              # 250 ms left, and one more: the time has come
    clock.now += 1
    retry.wait(poller)
    assert poller.timers == [251, 1] and not poller.woken
    retry.wait(poller, due=True)               # something to try now: at once, no timer
    assert poller.timers == [251, 1] and poller.woken


def test_the_idl_reconnects_with_the_backoff_asked(tmp_path):
    """set_reconnect_backoff reaches the library's own reconnect state machine."""
    ovs = service.load_ovs("test")
    helper = ovs.db.idl.SchemaHelper(schema_json={
        "name": "T", "version": "1.0.0", "tables": {"R": {"columns": {"n": {"type": "string"}}}}})
    helper.register_all()
    idl = ovs.db.idl.Idl("unix:%s/nobody.sock" % tmp_path, helper)
    try:
        service.set_reconnect_backoff(idl, 1000, 4000)
        reconnect = idl._session.reconnect
        assert (reconnect.get_min_backoff(), reconnect.get_max_backoff()) == (1000, 4000)
        assert service.connection_of(idl) is None
    finally:
        idl.close()
