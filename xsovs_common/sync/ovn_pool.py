"""A change of the pool's OVN keys makes this host run the plugin's ``update``.

XAPI runs the plugin when the pool's controller changes, not when its
``other_config`` does; ``ovs-xapi-sync`` sees every pool change through
``event.from``.  When one of the OVN keys (``xsovs:ovn-*``, :mod:`..net.ovn`)
differs from what it saw before, it asks XAPI to run ``update`` on this host
(``host.call_plugin``, as ``xe host-call-plugin`` would), so the chassis
settings, the firewall and ``ovn-controller`` follow (:mod:`..net.ovn_chassis`),
under the plugin's lock and with its checks.  The first snapshot after a
start only records the keys: XAPI runs ``update`` itself at its start.
The call runs in a thread of its own, one at a time; a change that arrives
meanwhile is run after it.
"""

import threading

from ..log import log
from ..net import ovn
from ..system import hostconfig
from ..xapi import plugin, session as xapi

TIMEOUT = 300.0


def pool_keys(cache):
    """The pool's OVN keys as the cache holds them (a comparable tuple)."""
    other_config = cache.pool().get("other_config", {})
    return tuple((key, other_config.get(key)) for key in ovn.POOL_KEYS)


class PoolWatch:
    """Run ``update`` on this host when the pool's OVN keys change."""

    def __init__(self, root):
        self.root = root
        self.seen = None
        self._pending = threading.Event()
        self._thread = None
        self._lock = threading.Lock()
        self.runs = 0

    def check(self, cache):
        """After a batch: compare the keys; True when an ``update`` was asked for."""
        if not cache.ready:
            return False
        keys = pool_keys(cache)
        if self.seen is None or keys == self.seen:
            self.seen = keys
            return False
        self.seen = keys
        log.info("the pool's OVN keys changed: asking XAPI to run the plugin's update here")
        self._pending.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ovn-update")
                self._thread.daemon = True
                self._thread.start()
        return True

    def _run(self):
        while self._pending.is_set():
            self._pending.clear()
            try:
                result = run_update(self.root)
                log.info("update after the OVN keys changed: %s", result)
            except xapi.XapiError as exc:
                log.error("update after the OVN keys changed failed: %s", exc.message)
            except Exception:    # a bug must not end the daemon
                log.exception("update after the OVN keys changed failed")
            self.runs += 1


def run_update(root):
    """``host.call_plugin(this host, openvswitch-cfg-update, update)``; its answer."""
    host_uuid = hostconfig.host_uuid(root)
    with xapi.connect(root=root, timeout=TIMEOUT) as api:
        host_ref = api.host.get_by_uuid(host_uuid)
        return api.host.call_plugin(host_ref, plugin.PLUGIN_NAME, "update", {})
