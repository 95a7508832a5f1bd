"""The *read* step of the plugin's actions: XAPI first, then OVSDB, checked.

Everything an action decides comes from these reads, so a failed read
or a bad value changes nothing: XAPI, one OVSDB snapshot, and the management
bridge's flows of xsovs where they matter (:func:`read_management_flows`).
"""

from .. import bulk
from ..errors import Error
from ..net import management, netconfig
from ..ovs import mgmt_flows
from ..ovs.snapshot import Snapshot
from ..system import hostconfig
from ..xapi import controller, network as xapi_network

# Per request to ovsdb-server, far above what a full read of 1000 bridges takes
# (make bench BENCH=ovsdb_read); a dead or silent server fails the one read an
# action makes within 5 s, well inside the 10 s it may take to report
# VSWITCH_CONFIG_MOD_FAILURE.
OVSDB_TIMEOUT = 5.0


class PoolError(Error):
    """XAPI has no pool, or more than one, for this host."""


class XapiState:
    """What XAPI says, read once: this host's network, its pool, the wanted manager."""

    def __init__(self, host_uuid, host_network, pool, wanted):
        self.host_uuid = host_uuid
        self.host_network = host_network
        self.pool = pool
        self.wanted = wanted        # controller.Wanted


def the_pool(pools):
    """The one pool record; NO_POOL_FOR_HOST / MORE_THAN_ONE_POOL_FOR_HOST otherwise."""
    if not pools:
        raise PoolError("XAPI has no pool for this host", params=[], code="NO_POOL_FOR_HOST")
    if len(pools) > 1:
        raise PoolError("XAPI has %d pools for this host" % len(pools),
                        params=sorted(pools), code="MORE_THAN_ONE_POOL_FOR_HOST")
    return next(iter(pools.values()))


def read_xapi(api, root, wanted=None):
    """Everything an action needs from XAPI, checked; ``wanted`` overrides XAPI's manager."""
    host_uuid = hostconfig.host_uuid(root)
    pool_records = api.pool.get_all_records()
    pool = the_pool(pool_records)
    host_network = xapi_network.load(api, host_uuid, pool_records)
    if wanted is None:
        wanted = controller.wanted(api, root, pool)
    return XapiState(host_uuid, host_network, pool, wanted)


def read_management_flows(root, host_network, snapshot):
    """The management bridge's flows of xsovs, read when the bridge is secure or
    XAPI's data makes it so; None otherwise (or when they cannot be read).

    ``update`` installs them only where they are missing, so that with
    nothing to change it changes nothing; a standalone bridge is not asked.
    """
    name = management.management_bridge(host_network)
    bridge = snapshot.bridges.get(name) if name else None
    if bridge is None or bridge.is_fake:
        return None
    pifs = host_network.pifs_on_bridge(name)
    wanted = netconfig.fail_mode(host_network, host_network.pif(pifs[0])["network"]) \
        if pifs else None
    if "secure" not in (bridge.fail_mode, wanted):
        return None
    return mgmt_flows.installed(root, name)


def read(api, root, connection, wanted=None):
    """The *read* step: ``(XapiState, Snapshot, management flows)``, XAPI first,
    then one OVSDB read, then the management bridge's flows where they matter."""
    with bulk.no_cycle_collection():
        state = read_xapi(api, root, wanted)
        snapshot = Snapshot.read(connection, interfaces=False)
    return state, snapshot, read_management_flows(root, state.host_network, snapshot)
