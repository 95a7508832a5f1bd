"""The host lock serializes runs; a second take in the holding thread is refused."""

import subprocess
import sys
import threading
import time

import pytest

from xsovs_common import paths
from xsovs_common.system import lock


def test_a_second_take_in_the_holding_thread_is_refused(tmp_path):
    root = paths.Root(str(tmp_path))
    outcome = []

    def other():
        try:
            with lock.host_lock(root, timeout=0.2):
                outcome.append("taken")
        except lock.LockTimeout:
            outcome.append("timed out")

    with lock.host_lock(root):
        # Not a wait for itself until the timeout: the programming error, at once.
        with pytest.raises(lock.LockAlreadyHeld):
            with lock.host_lock(root, timeout=30):
                pass
        # The refused take did not release the lock the thread holds.
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(5)
        assert outcome == ["timed out"]
    # Nor did it leave the thread marked as holding it.
    with lock.host_lock(root, timeout=0.2):
        pass


def test_second_thread_waits(tmp_path):
    root = paths.Root(str(tmp_path))
    events = []

    def other():
        with lock.host_lock(root, timeout=5):
            events.append("other")

    with lock.host_lock(root):
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)
        events.append("first-done")
    thread.join(5)
    assert events == ["first-done", "other"]


def test_other_process_times_out(tmp_path):
    root = paths.Root(str(tmp_path))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; sys.path.insert(0, %r)\n"
         "from xsovs_common import paths\n"
         "from xsovs_common.system import lock\n"
         "with lock.host_lock(paths.Root(%r)):\n"
         "    print('held', flush=True); time.sleep(30)" % (sys.path[0], str(tmp_path))],
        stdout=subprocess.PIPE, universal_newlines=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(lock.LockTimeout):
            with lock.host_lock(root, timeout=0.3):
                pass
    finally:
        holder.kill()
        holder.wait()
    with lock.host_lock(root, timeout=2):
        pass
