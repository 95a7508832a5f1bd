"""VIFs of OVN networks moved to the integration bridge, where ``ovn-controller`` binds them.

XAPI plugs a VIF with xenopsd's one ``ovs-vsctl`` call -- ``--if-exists
del-port vifD.N -- add-port <network's bridge> vifD.N -- set interface vifD.N
external-ids:...`` -- onto the bridge xcp-networkd made for the network.
``ovn-controller`` only looks at its integration bridge (``br-int``), and owns
its flows.  Neither XAPI command is changed; instead ``ovs-xapi-sync`` moves
the port of a VIF on an OVN network (``xsovs:ovn=true`` while the pool's
``xsovs:ovn-sb`` is set) from the network's bridge to ``br-int``: the Port row
leaves one Bridge's ``ports`` and joins the other's in ONE transaction, so the
Interface row -- its ``external_ids`` with XAPI's four keys and the
``iface-id`` the daemon writes -- stays as it is, and ``ovn-controller`` binds
it to the logical switch port of that name.

Why this way, and not another:

- a patch port between the network's bridge and ``br-int`` would make all
  the network's VIFs on a host one OVN port: no binding per VIF, no port
  security per VIF, no migration of one VIF's binding;
- making the network's bridge ``br-int`` cannot serve two OVN networks, and
  xcp-networkd would recreate the bridge with its own settings;
- xenopsd's unplug (``--if-exists del-port vifD.N``) finds the port on
  whichever bridge holds it, and a re-plug (same command, with a new domain
  id after a migration) puts it back on the network's bridge, from where it
  is moved again.  xcp-networkd re-adds only the ``vif``/``tap`` ports still
  on a bridge it recreates, so a moved one is not pulled back.

A port goes back to its network's bridge when OVN is turned off for the pool
or the network.  Only ports moved between those two bridges are touched; a
bad OVN key leaves every port where it is (and is logged once).
"""

import collections

from ..errors import InvalidValue
from ..log import log
from ..net import ovn
from ..net.ovn import INTEGRATION_BRIDGE
from .rules import VIF_PORT_NAME

# One move: a Port row from one Bridge row to another (all by uuid), and names for the log.
Move = collections.namedtuple("Move", "port source target port_name target_name")
BridgeRow = collections.namedtuple("BridgeRow", "uuid name ports")
PortRow = collections.namedtuple("PortRow", "uuid name network_uuid")


class _Once:
    """Log each distinct bad value once, not on every pass."""

    def __init__(self):
        self.seen = set()

    def __call__(self, message):
        if message not in self.seen:
            self.seen.add(message)
            log.warning("%s", message)


warn_once = _Once()


def _config(cache):
    try:
        return ovn.pool_config(cache.pool().get("other_config"))
    except InvalidValue as exc:
        warn_once("OVN ports left where they are: %s" % exc.message)
        return None


def _is_ovn(record):
    try:
        return ovn.network_config(record) is not None
    except InvalidValue as exc:
        warn_once("network left as it is: %s" % exc.message)
        return None


def plan(cache, bridges, ports):
    """The :data:`Move` list that puts each VIF port where OVN wants it.

    ``bridges``: :data:`BridgeRow` (``ports`` a set of Port uuids);
    ``ports``: :data:`PortRow` of the ``vifD.N`` / ``tapD.N`` ports, with the
    ``xs-network-uuid`` of their interface.
    """
    config = _config(cache)
    if config is None:
        return []
    by_name = {b.name: b for b in bridges}
    holder = {port: b for b in bridges for port in b.ports}
    integration = by_name.get(INTEGRATION_BRIDGE)
    moves = []
    checked = {}               # network uuid -> OVN or not (None: a bad value), once a pass
    for port in sorted(ports, key=lambda p: p.name):
        if not VIF_PORT_NAME.match(port.name) or not port.network_uuid:
            continue
        network = cache.network_by_uuid(port.network_uuid)
        current = holder.get(port.uuid)
        if network is None or current is None:
            continue
        if port.network_uuid not in checked:
            checked[port.network_uuid] = _is_ovn(network)
        ovn_network = checked[port.network_uuid]
        if ovn_network is None:
            continue
        home = by_name.get(network.get("bridge"))
        if config.enabled and ovn_network:
            source, target = home, integration
        else:
            source, target = integration, home
        if target is None or source is None or current is not source:
            continue
        moves.append(Move(port.uuid, source.uuid, target.uuid, port.name, target.name))
    return moves


def write(idl, moves):
    """Add ``moves`` to the IDL's open transaction: set mutations of Bridge.ports."""
    bridges = idl.tables["Bridge"].rows
    ports = idl.tables["Port"].rows
    for move in moves:
        port = ports.get(move.port)
        source, target = bridges.get(move.source), bridges.get(move.target)
        if port is None or source is None or target is None:
            continue
        source.delvalue("ports", port)
        target.addvalue("ports", port)
        log.info("moving %s to %s", move.port_name, move.target_name)


def _ovn_bridges(cache):
    """The bridges of the networks that carry the OVN key (whatever its value)."""
    return {n.get("bridge") for n in cache.tables["network"].values()
            if ovn.NETWORK_OVN in n["other_config"]}


def wanted(cache, idl):
    """Whether any port may have to move: an OVN network in XAPI, or a ``br-int``
    that may hold ports to bring home.  Cheap: most hosts have neither."""
    if _ovn_bridges(cache):
        return True
    return any(r.name == INTEGRATION_BRIDGE for r in idl.tables["Bridge"].rows.values())


def rows(idl, interfaces, cache):
    """The :data:`BridgeRow` and :data:`PortRow` lists of the IDL's replica.

    ``interfaces``: rows with ``name`` and ``external_ids`` (the daemon's, read
    once per pass); xenopsd names a VIF's port and its one interface alike.
    Only ``br-int`` and the OVN networks' bridges list their ports: a port
    moves from or to one of them, so no other bridge's ports are read.
    """
    networks = {i.name: i.external_ids.get("xs-network-uuid") for i in interfaces
                if VIF_PORT_NAME.match(i.name)}
    listed = _ovn_bridges(cache) | {INTEGRATION_BRIDGE}
    bridges = [BridgeRow(r.uuid, r.name, {p.uuid for p in r.ports} if r.name in listed
                         else set())
               for r in idl.tables["Bridge"].rows.values()]
    found = [PortRow(r.uuid, r.name, networks.get(r.name))
             for r in idl.tables["Port"].rows.values() if r.name in networks]
    return bridges, found
