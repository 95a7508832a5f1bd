"""Running the plugin through XAPI: on this host at XAPI's start, on every host of a pool.

:func:`update_this_host` is the start-up hook for XAPI versions that do not
call the plugin themselves: it waits (bounded) for XAPI to answer, then asks
it to run ``update`` on this host, as ``xe host-call-plugin`` would.

:func:`call_all` runs ``update`` (or ``status``) on every host of the pool
through ``host.call_plugin``, in parallel: each host's run mostly waits for
that host, so with enough workers the pool takes about as long as its
slowest host.  Each worker has its own XAPI connection (XenAPI sessions are
not thread-safe), all on the one session logged in here.
"""

import json
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed

from ..system import hostconfig, waiting
from ..xapi import plugin, session as xapi
from ..log import log

PLUGIN = plugin.PLUGIN_NAME
FUNCTIONS = ("update", "status")
DEFAULT_WORKERS = 64          # a XenServer pool's largest size: no host waits for a worker
DEFAULT_WAIT = 240.0          # for XAPI to answer: within the unit's 300 s start timeout
DEFAULT_INTERVAL = 2.0
# XAPI is not (fully) up yet: worth another try.
STARTING_CODES = ("XAPI_UNREACHABLE", "HOST_STILL_BOOTING")


# -- the start-up hook --------------------------------------------------------

def update_this_host(root, wait=DEFAULT_WAIT, interval=DEFAULT_INTERVAL):
    """``update`` on this host through XAPI; None when the Linux bridge is in use.

    Retries while XAPI is starting, for at most ``wait`` seconds; any other
    failure (the plugin's own included) is raised at once.
    """
    if hostconfig.network_backend(root) == hostconfig.BACKEND_BRIDGE:
        log.info("network.conf says bridge: Open vSwitch is not in use, nothing to do")
        return None
    host_uuid = hostconfig.host_uuid(root)
    outcome = {}

    def answered():
        try:
            with xapi.connect(root=root) as api:
                host_ref = api.host.get_by_uuid(host_uuid)
                outcome["value"] = api.host.call_plugin(host_ref, PLUGIN, "update", {})
            return True
        except xapi.XapiError as exc:
            if exc.code not in STARTING_CODES:
                raise
            log.info("XAPI is not ready (%s); trying again within %ss", exc.message, interval)
            outcome["error"] = exc
            return False

    if not waiting.poll(answered, wait, interval):
        raise outcome["error"]
    return outcome["value"]


# -- every host of the pool ---------------------------------------------------

class HostResult:
    def __init__(self, name, uuid, ok, text):
        self.name = name
        self.uuid = uuid
        self.ok = ok
        self.text = text     # the plugin's value, or the failure's code and params


def _call_one(session_ref, root, host_ref, record, fn, timeout):
    try:
        with xapi.connect(session_ref, root=root, timeout=timeout) as api:
            value = api.host.call_plugin(host_ref, PLUGIN, fn, {})
        return HostResult(record.get("name_label", ""), record.get("uuid", ""), True, value)
    except xapi.XapiError as exc:
        log.error("%s %s on host %s: %s", PLUGIN, fn, record.get("name_label"), exc.message)
        return HostResult(record.get("name_label", ""), record.get("uuid", ""), False,
                          " ".join(exc.error_description()))


def call_all(root, fn="update", workers=DEFAULT_WORKERS, timeout=xapi.DEFAULT_TIMEOUT,
             progress=None):
    """Run plugin function ``fn`` on every host; ``[HostResult]`` sorted by host name.

    ``progress(done, total)`` is called as hosts finish.
    """
    with xapi.connect(root=root, timeout=timeout) as api:
        hosts = api.host.get_all_records()
        results = []
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(hosts) or 1))) as pool:
            futures = [pool.submit(_call_one, api.session_ref, root, ref, record, fn, timeout)
                       for ref, record in hosts.items()]
            for future in as_completed(futures):
                results.append(future.result())
                if progress is not None:
                    progress(len(results), len(futures))
    return sorted(results, key=lambda r: (r.name, r.uuid))


def _status_line(value):
    """A ``status`` JSON document in a few words, for the table."""
    try:
        status = json.loads(value)
        update = status.get("update", {})
        pending = len(update.get("changes", [])) + len(update.get("network_ids", []))
        if update.get("error"):
            return "update would fail: " + " ".join(update["error"])
        wanted = status.get("xapi", {}).get("manager") or "none"
        state = "in step" if status.get("in_step") else "%d change(s) pending" % pending
        return "manager %s (XAPI: %s); %s" % (
            ", ".join(status.get("managers", [])) or "none", wanted, state)
    except (ValueError, AttributeError, TypeError):
        return value


def table(results, fn="update"):
    """The results as a text table: host, uuid, result (failures marked)."""
    rows = [("HOST", "UUID", "RESULT")]
    for result in results:
        if result.ok:
            text = _status_line(result.text) if fn == "status" else result.text
        else:
            text = "FAILED: " + result.text
        rows.append((result.name, result.uuid, " ".join(text.split())))
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    return "\n".join("%-*s  %-*s  %s" % (widths[0], r[0], widths[1], r[1], r[2])
                     for r in rows) + "\n"


class Progress:
    """``[done/total]`` on a terminal, rewritten in place; silent otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()

    def __call__(self, done, total):
        if self.enabled:
            self.stream.write("\r%s: %d/%d hosts done" % (PLUGIN, done, total))
            self.stream.flush()

    def finish(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
