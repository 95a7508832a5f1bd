"""ovs-xapi-sync after an outage: how soon OVSDB is in step once a server is back.

For XAPI (a restart that lost every session) and for ovsdb-server, each away
for OUTAGES seconds while a VIF's nicira-iface-id changes in XAPI: the time
from the server accepting connections again to the new iface-id in OVSDB
(target: TARGET seconds), and the XAPI calls the daemon made meanwhile.
Baseline from the same run: the same change made with both servers up, from
the change to OVSDB.  Each round runs every case at once (a daemon,
ovsdb-server and simulator each, the daemon on Python 3.6 when .venv36
exists, as on dom0); ROUNDS rounds give median and maximum.
"""

import os
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor

from xsovs_dev import ovs as ovsmod
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import catch_up_time

OUTAGES = (2, 16)
ROUNDS = 3
TARGET = 3.0


def main():
    need = ovsmod.available()
    if need:
        print("skipped: %s" % need)
        return
    python = host_python()
    cases = [(None, 0)] + [(server, seconds) for server in ("xapi", "ovsdb")
                           for seconds in OUTAGES]
    took = {case: [] for case in cases}
    calls = {case: [] for case in cases}
    with tempfile.TemporaryDirectory(prefix="xsovs-bench-outage-") as tmp:
        for n in range(ROUNDS):
            with ThreadPoolExecutor(len(cases)) as pool:
                running = {case: pool.submit(
                    catch_up_time, os.path.join(tmp, "%d-%s-%d" % ((n,) + case)), *case,
                    python=python) for case in cases}
            for case, future in running.items():
                took[case].append(future.result().seconds)
                calls[case].append(future.result().xapi_calls)
    base = statistics.median(took[(None, 0)])
    rows = [("daemon interpreter", os.path.basename(os.path.dirname(os.path.dirname(python))),
             ""),
            ("baseline: change with both up -> OVSDB, median / max",
             "%.3f / %.3f s" % (base, max(took[(None, 0)])),
             "XAPI calls: %d at most" % max(calls[(None, 0)]))]
    for server, seconds in cases[1:]:
        values = took[(server, seconds)]
        median, worst = statistics.median(values), max(values)
        rows.append(("%s away %d s: its return -> in step, median / max"
                     % ("XAPI" if server == "xapi" else "ovsdb-server", seconds),
                     "%.3f / %.3f s" % (median, worst),
                     "%s, %.1fx baseline; XAPI calls: %d at most"
                     % ("ok" if worst < TARGET else "OVER %.1f s" % TARGET,
                        median / base if base else 0, max(calls[(server, seconds)]))))
    print("  (%d rounds, the %d cases of a round at once)" % (ROUNDS, len(cases)))
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print("  %-*s  %-18s %s" % (width, name, value, note))
