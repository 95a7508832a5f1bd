"""The pool-wide command on 64 hosts: about as long as the slowest host.

The XAPI simulator holds a 64-host pool whose hosts each take a second to
answer ``host.call_plugin`` (one takes two): the time is XAPI's and the
host's, the plugin itself answers at once.  ``openvswitch-pool-update`` runs
as a subprocess, as an administrator runs it.  Reported against two
baselines measured in the same run: the slowest host alone, and the same
command with one worker (the hosts one after the other).

Target: 64 hosts take little longer than the slowest one.
"""

import os
import subprocess
import sys
import tempfile
import time

from xsovs_dev.xapisim import REPO_ROOT, PoolBuilder, Simulator, most_at_once

HOSTS = 64
DELAY = 1.0
SLOWEST = 2.0
POOL_UPDATE = str(REPO_ROOT / "libexec" / "openvswitch-pool-update")
# Stands in for the plugin: answers at once (the delay is the simulator's).
QUICK_PLUGIN = r'''
import sys, xmlrpc.client
(session, args), fn = xmlrpc.client.loads(sys.argv[1])
print(xmlrpc.client.dumps(({"Status": "Success", "Value": "ok " + fn},), methodresponse=True))
'''


def _pool():
    builder = PoolBuilder()
    for n in range(1, HOSTS + 1):
        builder.host("host%d" % n).physical_pif("eth0", "xenbr0", host="host%d" % n,
                                                  management=True)
    return builder.build()


def _run(sim, *args):
    env = dict(os.environ, XSOVS_XAPI_URL=sim.url, PYTHONPATH=str(REPO_ROOT), XSOVS_LOG="stderr")
    start = time.monotonic()
    done = subprocess.run([sys.executable, POOL_UPDATE] + list(args), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        raise RuntimeError("openvswitch-pool-update failed: %s" % done.stderr[-2000:])
    return elapsed


def main():
    with tempfile.TemporaryDirectory() as plugins, Simulator(_pool()) as sim:
        with open(os.path.join(plugins, "openvswitch-cfg-update"), "w") as handle:
            handle.write(QUICK_PLUGIN)
        sim.plugin_dirs = [plugins]
        uuids = sorted(rec["uuid"] for rec in sim.store.all("host").values())
        for uuid in uuids:
            sim.plugin_delay[uuid] = DELAY
        sim.plugin_delay[uuids[17]] = SLOWEST

        parallel = _run(sim)
        at_once = most_at_once(sim.plugin_calls)
        del sim.plugin_calls[:]
        sequential = _run(sim, "--workers", "1")
    print("openvswitch-pool-update on %d hosts (each %.1f s, the slowest %.1f s)"
          % (HOSTS, DELAY, SLOWEST))
    print("  default workers                %6.2f s  %d hosts at once; %.2fx the slowest host"
          % (parallel, at_once, parallel / SLOWEST))
    print("  one worker (one after another) %6.2f s  %.0fx the default"
          % (sequential, sequential / parallel))
    verdict = "met" if parallel < 2 * SLOWEST else "NOT met"
    print("  target: little longer than the slowest host (< %.1f s): %s" % (2 * SLOWEST, verdict))
