"""Changes in XAPI that make this host run the plugin's ``update``.

XAPI runs the plugin when the pool's controller changes, not when the
pool's or a network's ``other_config`` does; ``ovs-xapi-sync`` sees every
such change through ``event.from``.  When one of these differs from what it
saw before, it asks XAPI to run ``update`` on this host
(``host.call_plugin``, as ``xe host-call-plugin`` would), which acts under
the plugin's lock and with its checks:

- the pool's OVN keys (``xsovs:ovn-*``, :mod:`..net.ovn`): the chassis
  settings, the firewall and ``ovn-controller`` follow
  (:mod:`..net.ovn_chassis`);
- the fail mode XAPI's data gives the management bridge (its network's
  ``vswitch-controller-fail-mode``, else the pool's).  The daemon leaves that
  bridge's fail mode to ``update`` (:func:`management_bridge`, and
  :mod:`.rules`), which puts the management flows in around the change
  (:mod:`..net.management`): a management bridge turned secure by the daemon
  alone, with no controller, would forward nothing and cut the host off.

The first snapshot after a start only records them: XAPI runs ``update``
itself at its start.  The call runs in a thread of its own, one at a time;
a change that arrives meanwhile is run after it.  A call that fails is
logged and not retried: the management bridge then keeps the fail mode it
had, and the plugin's ``status`` shows the change still to make.
"""

import threading

from ..log import log
from ..net import ovn
from ..net.netconfig import fail_mode_of
from ..system import hostconfig
from ..xapi import plugin, session as xapi

TIMEOUT = 300.0


def management_bridge(root, idl):
    """The real bridge of the management interface: the inventory's
    ``MANAGEMENT_INTERFACE``, or for one on a VLAN the bridge its fake bridge is
    on (the one whose fail mode counts); None when the host names none.
    """
    name = hostconfig.management_interface(root)
    if not name:
        return None
    bridges = list(idl.tables["Bridge"].rows.values())
    if any(row.name == name for row in bridges):
        return name
    for row in bridges:
        if any(port.name == name for port in row.ports):
            return row.name
    return name


def watched(cache, management):
    """What makes ``update`` run, as the cache holds it: {what: comparable value}."""
    other_config = cache.pool().get("other_config", {})
    network = cache.network_of_bridge(management) if management else None
    return {
        "the pool's OVN keys": tuple((key, other_config.get(key)) for key in ovn.POOL_KEYS),
        "the management bridge's fail mode": (
            management, fail_mode_of(network, cache.pool()) if network is not None else None),
    }


class UpdateWatch:
    """Run ``update`` on this host when what :func:`watched` returns changes."""

    def __init__(self, root):
        self.root = root
        self.seen = None
        self._pending = threading.Event()
        self._thread = None
        self._lock = threading.Lock()
        self.runs = 0

    def check(self, cache, idl):
        """After a batch: compare; True when an ``update`` was asked for."""
        if not cache.ready:
            return False
        values = watched(cache, management_bridge(self.root, idl))
        if self.seen is None or values == self.seen:
            self.seen = values
            return False
        changed = sorted(what for what in values if values[what] != self.seen.get(what))
        self.seen = values
        log.info("%s changed: asking XAPI to run the plugin's update here", " and ".join(changed))
        self._pending.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="plugin-update")
                self._thread.daemon = True
                self._thread.start()
        return True

    def _run(self):
        while self._pending.is_set():
            self._pending.clear()
            try:
                result = run_update(self.root)
                log.info("update after a change in XAPI: %s", result)
            except xapi.XapiError as exc:
                log.error("update after a change in XAPI failed: %s", exc.message)
            except Exception:    # a bug must not end the daemon
                log.exception("update after a change in XAPI failed")
            self.runs += 1


def run_update(root):
    """``host.call_plugin(this host, openvswitch-cfg-update, update)``; its answer."""
    host_uuid = hostconfig.host_uuid(root)
    with xapi.connect(root=root, timeout=TIMEOUT) as api:
        host_ref = api.host.get_by_uuid(host_uuid)
        return api.host.call_plugin(host_ref, plugin.PLUGIN_NAME, "update", {})
