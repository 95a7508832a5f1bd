"""The one bounded wait: at once, every interval, and once more at the deadline."""

from xsovs_common.system import waiting


def test_ready_at_once_neither_sleeps_nor_says_it_waits(monkeypatch):
    slept, said = [], []
    monkeypatch.setattr(waiting, "sleep", slept.append)
    assert waiting.poll(lambda: True, 10, 1, waiting=lambda: said.append(1)) is True
    assert slept == [] and said == []


def test_ready_later_says_once_that_it_waits():
    answers = iter([False, False, True])
    said = []
    assert waiting.poll(lambda: next(answers), 5, 0.01, waiting=lambda: said.append(1)) is True
    assert said == [1]


class Clock:
    """Time that moves only when the wait sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_gives_up_after_a_last_try_at_the_deadline(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(waiting, "monotonic", clock.monotonic)
    monkeypatch.setattr(waiting, "sleep", clock.sleep)
    tries = []

    def ready():
        tries.append(clock.now - 1000.0)
        return False

    assert waiting.poll(ready, 0.5, 0.2) is False
    # at once, every interval, then at the deadline: no sleep goes past it
    assert [round(t, 6) for t in tries] == [0.0, 0.2, 0.4, 0.5]
    assert round(sum(clock.sleeps), 6) == 0.5


def test_a_deadline_counts_down_and_passes():
    deadline = waiting.Deadline(0)
    assert deadline.remaining() == 0.0 and deadline.passed()
    assert not waiting.Deadline(60).passed()
