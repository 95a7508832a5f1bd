"""The host lock serializes runs and is re-entrant within a thread."""

import subprocess
import sys
import threading
import time

import pytest

from xsovs_common import paths
from xsovs_common.system import lock


def test_reentrant(tmp_path):
    root = paths.Root(str(tmp_path))
    with lock.host_lock(root):
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
