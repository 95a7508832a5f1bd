"""The steps that bring the northbound database in step with what one pool wants.

:func:`plan` compares a :class:`~.wanted.Wanted` with the NB rows (plain
data, :class:`Nb`) and returns a :class:`Plan`: steps in NB's own words
(``AddSwitch``, ``LinkPort``, ...), empty when NB is in step, and the
conflicts it refused.  Ownership is in ``external_ids``:

- a ``Logical_Switch`` carries ``xsovs:pool-<pool uuid>`` = the comma list of
  that pool's networks on it, one such key per pool using it.  Several
  pools (or several of one pool's networks) with one switch name share the
  switch; a pool removes only its own key, and the switch goes with the last
  key.  Should two switches of one name appear (two pools, or two instances
  of one pool's sync, creating it at once), every instance picks the same
  one, the lowest uuid, and moves its rows there, so they converge;
- a ``Logical_Switch_Port`` and an ``ACL`` carry ``xsovs:pool`` = the pool
  uuid, ``xsovs:vif`` (and a port ``xsovs:network``, ``xsovs:vm``; an ACL
  ``xsovs:source``: ``vif`` or ``network``, where its rule came from).

A row without its pool's key is never written.  A switch or port name
taken by a row xsovs does not own (or, for a port, that another pool owns)
is refused and its network or VIF frozen.  A switch is deleted only when
no other pool's key and no row of others remain on it, and only if its
owners, ports and ACLs are still those read (the transaction verifies
them), so a pool joining it meanwhile makes the deletion fail and be
planned again.
"""

import collections

from .wanted import NOTHING

POOL_KEY = "xsovs:pool"
SWITCH_KEY_PREFIX = "xsovs:pool-"
VIF_KEY = "xsovs:vif"
NETWORK_KEY = "xsovs:network"
VM_KEY = "xsovs:vm"
SOURCE_KEY = "xsovs:source"
NEW_SWITCH = "new-switch:"
NEW_PORT = "new-port:"

NbSwitch = collections.namedtuple("NbSwitch", "uuid name external_ids ports acls")
NbPort = collections.namedtuple("NbPort", "uuid name addresses port_security enabled external_ids")
NbAcl = collections.namedtuple("NbAcl", "uuid direction priority match action external_ids")
Nb = collections.namedtuple("Nb", "switches ports acls")     # each: {uuid: row}

# Steps.  A switch or port is its row's uuid, or NEW_SWITCH/NEW_PORT + name for a row
# this plan adds; ``columns`` are NB columns; a map value None removes that key.
AddSwitch = collections.namedtuple("AddSwitch", "ref name external_ids")
SetSwitchKey = collections.namedtuple("SetSwitchKey", "switch key value")
DeleteSwitch = collections.namedtuple("DeleteSwitch", "switch")
AddPort = collections.namedtuple("AddPort", "ref switch columns")
SetPort = collections.namedtuple("SetPort", "port columns")
LinkPort = collections.namedtuple("LinkPort", "switch port")
UnlinkPort = collections.namedtuple("UnlinkPort", "switch port")
AddAcl = collections.namedtuple("AddAcl", "switch columns")
UnlinkAcl = collections.namedtuple("UnlinkAcl", "switch acl")
Plan = collections.namedtuple("Plan", "steps refused")


def switch_owners(switch):
    """{pool uuid: networks text} of the pools that use a switch."""
    return {key[len(SWITCH_KEY_PREFIX):]: value for key, value in switch.external_ids.items()
            if key.startswith(SWITCH_KEY_PREFIX)}


def port_columns(port, pool):
    ids = {POOL_KEY: pool, VIF_KEY: port.vif, NETWORK_KEY: port.network}
    if port.vm:
        ids[VM_KEY] = port.vm
    return {"name": port.name, "addresses": sorted(port.addresses),
            "port_security": sorted(port.port_security),
            "enabled": [] if port.enabled else [False], "external_ids": ids}


def _port_changes(row, wanted):
    changes = {}
    for column in ("addresses", "port_security"):
        if sorted(getattr(row, column)) != wanted[column]:
            changes[column] = wanted[column]
    if (row.enabled in ([], [True])) != (wanted["enabled"] == []):
        changes["enabled"] = wanted["enabled"]
    ids = {key: value for key, value in wanted["external_ids"].items()
           if row.external_ids.get(key) != value}
    ids.update((key, None) for key in row.external_ids
               if key.startswith("xsovs:") and key not in wanted["external_ids"])
    if ids:
        changes["external_ids"] = ids
    return changes


def acl_columns(acl, pool):
    return {"direction": acl.direction, "priority": acl.priority, "match": acl.match,
            "action": acl.action,
            "external_ids": {POOL_KEY: pool, VIF_KEY: acl.vif, SOURCE_KEY: acl.source}}


def _acl_key(direction, priority, match, action, external_ids):
    """What tells two ACLs apart: their columns and their xsovs keys."""
    return (direction, priority, match, action,
            tuple(sorted((k, v) for k, v in external_ids.items() if k.startswith("xsovs:"))))


class _Planner:
    def __init__(self, wanted, nb, pool):
        self.wanted, self.nb, self.pool = wanted, nb, pool
        self.key = SWITCH_KEY_PREFIX + pool
        self.steps, self.refused = [], []
        self.frozen_networks = set(wanted.frozen_networks)
        self.frozen_vifs = set(wanted.frozen_vifs)
        self.owned = {u: s for u, s in nb.switches.items() if switch_owners(s)}
        self.parents = collections.defaultdict(list)        # port uuid -> switch uuids
        self.acl_parents = collections.defaultdict(list)    # ACL uuid -> switch uuids
        for switch in nb.switches.values():
            for port in switch.ports:
                self.parents[port].append(switch.uuid)
            for acl in switch.acls:
                self.acl_parents[acl].append(switch.uuid)
        self.mine_ports = {u: p for u, p in nb.ports.items()
                           if p.external_ids.get(POOL_KEY) == pool}
        self.mine_acls = {u: a for u, a in nb.acls.items()
                          if a.external_ids.get(POOL_KEY) == pool}
        self.target = {}        # switch name -> uuid or NEW_SWITCH + name
        self.ports = {}         # port name -> wanted Port, not refused

    def refuse(self, what, reason):
        self.refused.append((what, reason))

    def targets(self):
        named, foreign = collections.defaultdict(list), set()
        for uuid, switch in sorted(self.nb.switches.items()):
            if uuid in self.owned:
                named[switch.name].append(uuid)
            else:
                foreign.add(switch.name)
        for name, switch in sorted(self.wanted.switches.items()):
            if named.get(name):
                self.target[name] = named[name][0]
            elif name in foreign:
                for network in switch.networks:
                    self.refuse("network %s" % network,
                                "logical switch %r exists and xsovs does not own it; "
                                "give the network another name with xsovs:ovn-logical-switch"
                                % name)
                    self.frozen_networks.add(network)
            else:
                self.target[name] = NEW_SWITCH + name

    def port_conflicts(self):
        by_name = {p.name: p for p in self.nb.ports.values()}
        for name, port in sorted(self.wanted.ports.items()):
            if port.switch not in self.target or port.network in self.frozen_networks:
                self.frozen_vifs.add(port.vif)
                continue
            row = by_name.get(name)
            if row is not None and row.uuid not in self.mine_ports:
                owner = row.external_ids.get(POOL_KEY)
                self.refuse("VIF %s" % port.vif, "logical switch port %r exists and %s" % (
                    name, "belongs to pool %s" % owner if owner else "xsovs does not own it"))
                self.frozen_vifs.add(port.vif)
                continue
            self.ports[name] = (port, row)

    def frozen_port(self, row):
        ids = row.external_ids
        return ids.get(VIF_KEY) in self.frozen_vifs or ids.get(NETWORK_KEY) in self.frozen_networks

    def frozen_acl(self, row):
        ids = row.external_ids
        return (ids.get(VIF_KEY) in self.frozen_vifs
                or (ids.get(VIF_KEY), ids.get(SOURCE_KEY)) in self.wanted.frozen_rules)

    def port_steps(self):
        kept = set()
        for name, (port, row) in sorted(self.ports.items()):
            target = self.target[port.switch]
            columns = port_columns(port, self.pool)
            if row is None:
                self.steps.append(AddPort(NEW_PORT + name, target, columns))
                continue
            kept.add(row.uuid)
            changes = _port_changes(row, columns)
            if changes:
                self.steps.append(SetPort(row.uuid, changes))
            if target not in self.parents[row.uuid]:
                self.steps.append(LinkPort(target, row.uuid))
            for switch in self.parents[row.uuid]:
                if switch != target and switch in self.owned:
                    self.steps.append(UnlinkPort(switch, row.uuid))
        for uuid, row in sorted(self.mine_ports.items()):
            if uuid in kept or self.frozen_port(row):
                continue
            for switch in self.parents[uuid]:
                if switch in self.owned:
                    self.steps.append(UnlinkPort(switch, uuid))

    def acl_steps(self):
        wanted = collections.defaultdict(dict)       # switch -> {key: columns}
        for acl in self.wanted.acls:
            port = self.ports.get(acl.port)
            if port is None or (acl.vif, acl.source) in self.wanted.frozen_rules:
                continue
            columns = acl_columns(acl, self.pool)
            key = _acl_key(acl.direction, acl.priority, acl.match, acl.action,
                           columns["external_ids"])
            wanted[self.target[port[0].switch]][key] = columns
        have = collections.defaultdict(lambda: collections.defaultdict(list))
        for uuid, row in sorted(self.mine_acls.items()):
            if self.frozen_acl(row):
                continue
            key = _acl_key(row.direction, row.priority, row.match, row.action,
                           row.external_ids)
            for switch in self.acl_parents[uuid]:
                if switch in self.owned:
                    have[switch][key].append(uuid)
        for switch in sorted(set(wanted) | set(have)):
            for key, columns in sorted(wanted[switch].items()):
                if not have[switch].get(key):
                    self.steps.append(AddAcl(switch, columns))
            for key, uuids in sorted(have[switch].items()):
                extra = uuids[1:] if key in wanted[switch] else uuids
                self.steps.extend(UnlinkAcl(switch, uuid) for uuid in extra)

    def switch_steps(self):
        mine = {u for u, s in self.owned.items() if self.key in s.external_ids}
        pinned = set()
        for uuid, row in self.mine_ports.items():
            if self.frozen_port(row):
                pinned.update(self.parents[uuid])
        for uuid, row in self.mine_acls.items():
            if self.frozen_acl(row):
                pinned.update(self.acl_parents[uuid])
        for uuid in mine:
            networks = set(self.owned[uuid].external_ids[self.key].split(","))
            if networks & self.frozen_networks:
                pinned.add(uuid)
        added = []
        for name, target in sorted(self.target.items()):
            networks = set(self.wanted.switches[name].networks)
            if target.startswith(NEW_SWITCH):
                added.append(AddSwitch(target, name, {self.key: ",".join(sorted(networks))}))
                continue
            current = self.owned[target].external_ids.get(self.key)
            if current is not None:
                networks |= set(current.split(",")) & self.frozen_networks
            value = ",".join(sorted(networks))
            if current != value:
                self.steps.append(SetSwitchKey(target, self.key, value))
        self.steps[:0] = added
        for uuid in sorted(mine - set(self.target.values()) - pinned):
            self.leave(uuid)

    def leave(self, uuid):
        """This pool no longer uses the switch: drop its key, and the switch if it was the last."""
        switch = self.owned[uuid]
        unlinked = {s.port for s in self.steps if isinstance(s, UnlinkPort) and s.switch == uuid}
        unlinked |= {s.acl for s in self.steps if isinstance(s, UnlinkAcl) and s.switch == uuid}
        if (set(switch_owners(switch)) == {self.pool}
                and set(switch.ports) | set(switch.acls) <= unlinked):
            self.steps = [s for s in self.steps if getattr(s, "switch", None) != uuid]
            self.steps.append(DeleteSwitch(uuid))
        else:
            self.steps.append(SetSwitchKey(uuid, self.key, None))


def plan(wanted, nb, pool):
    """The :class:`Plan` that makes NB hold what ``wanted`` says for ``pool`` (a uuid)."""
    planner = _Planner(wanted, nb, pool)
    planner.targets()
    planner.port_conflicts()
    planner.port_steps()
    planner.acl_steps()
    planner.switch_steps()
    return Plan(planner.steps, sorted(planner.refused))


def remove_all(nb, pool):
    """The plan that removes every row ``pool`` owns (its NB remote was unset)."""
    return plan(NOTHING, nb, pool)
