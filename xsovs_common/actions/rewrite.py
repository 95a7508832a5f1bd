"""``rewrite``: bring the cache and the bridges' network ids up to date.

Shared by ``interface-reconfigure rewrite`` and the plugin's ``rewrite`` and
``update`` (called in-process there): read this host's network from XAPI,
store it as the cache the next boot will use, and set ``xs-network-uuids``
on every bridge of this host that exists in OVSDB -- in one transaction.
"""

from .. import paths
from ..net import dbcache, netconfig
from ..ovs import transaction
from ..ovs.snapshot import Snapshot
from ..system import hostconfig
from ..xapi import network as xapi_network


class RewriteResult:
    def __init__(self, cache_changed, bridges_changed):
        self.cache_changed = cache_changed
        self.bridges_changed = bridges_changed   # bridge names whose ids were set

    def notes(self, join=", ".join):
        """What changed, in a few words; ``join`` lists the bridges (a caller may shorten)."""
        notes = ["network cache rewritten"] if self.cache_changed else []
        if self.bridges_changed:
            notes.append("xs-network-uuids set on " + join(self.bridges_changed))
        return notes

    def summary(self):
        return "; ".join(self.notes())


def rewrite(root, api, host_network=None, connection=None, snapshot=None):
    """Refresh the cache and xs-network-uuids; ``host_network`` if already read.

    ``connection``: the caller's OVSDB connection (and so its timeout), left
    open; ``snapshot``: what the caller read on it, so as not to read twice.
    """
    if host_network is None:
        host_network = xapi_network.load(api, hostconfig.host_uuid(root))
    cache_changed = dbcache.write(root.path(paths.NETWORK_DBCACHE), host_network)
    if connection is None:
        with transaction.connect(root) as own:
            changes = _set_network_uuids(own, host_network, None)
    else:
        changes = _set_network_uuids(connection, host_network, snapshot)
    return RewriteResult(cache_changed, [change.bridge for change in changes])


def _set_network_uuids(connection, host_network, snapshot):
    if snapshot is None:
        snapshot = Snapshot.read(connection, interfaces=False)
    changes = netconfig.network_uuid_changes(host_network, snapshot)
    transaction.apply(connection, changes, snapshot)
    return changes
