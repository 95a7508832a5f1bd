"""ovn-xapi-sync's model and plan, without a daemon: XAPI records as event.from
delivers them (from the simulator's store), and NB as plain rows the plans
are applied to as the server would (``FakeNb``)."""

from xsovs_common.ovn_sync import plan as nbplan
from xsovs_common.ovn_sync import records as ovnrecords
from xsovs_dev.xapisim import PoolBuilder, Store
from xsovs_dev.xapisim.api import _wire_record
from xsovs_dev.xapisim.events import changes_since, parse_subscriptions

POOL = "00000001-0000-4000-8000-000000000001"
OTHER_POOL = "99999999-0000-4000-8000-000000000001"
OVN = {"xsovs:ovn": "true"}


def records(fixture):
    """The records the daemon keeps after event.from's first (empty token) batch."""
    store = Store(fixture)
    events = changes_since(store, parse_subscriptions(ovnrecords.CLASSES), 0, _wire_record)
    kept = ovnrecords.OvnRecords()
    kept.apply(events, reset=True)
    return kept


def pool(**network_kw):
    """One host, VM vm1, and network xenbr9 (OVN unless told) with no VIF yet."""
    b = PoolBuilder().host("h1").vm("vm1", host="h1")
    network_kw.setdefault("other_config", OVN)
    b.network("xenbr9", **network_kw)
    return b


def net_uuid(b, bridge="xenbr9"):
    return b.tables["network"][b.network_ref(bridge)]["uuid"]


def vif_uuids(b):
    return [rec["uuid"] for rec in b.tables["VIF"].values()]


class FakeNb:
    """NB rows made by applying plans, as the server would (uuids counted)."""

    def __init__(self):
        self.switches, self.ports, self.acls = {}, {}, {}
        self.count = 0

    def nb(self):
        return nbplan.Nb(dict(self.switches), dict(self.ports), dict(self.acls))

    def _uuid(self):
        self.count += 1
        return "%08d-0000-4000-8000-000000000000" % self.count

    def add_switch(self, name, external_ids=None, ports=(), acls=()):
        uuid = self._uuid()
        self.switches[uuid] = nbplan.NbSwitch(uuid, name, dict(external_ids or {}),
                                              tuple(ports), tuple(acls))
        return uuid

    def add_port(self, name, external_ids=None):
        uuid = self._uuid()
        self.ports[uuid] = nbplan.NbPort(uuid, name, [], [], [], dict(external_ids or {}))
        return uuid

    def _switch(self, uuid, **changes):
        self.switches[uuid] = self.switches[uuid]._replace(**changes)

    def apply(self, steps):
        new = {}
        for step in steps:
            if isinstance(step, nbplan.AddSwitch):
                new[step.ref] = self.add_switch(step.name, step.external_ids)
        for step in steps:
            if isinstance(step, nbplan.AddPort):
                uuid = new[step.ref] = self._uuid()
                c = step.columns
                self.ports[uuid] = nbplan.NbPort(uuid, c["name"], c["addresses"],
                                                 c["port_security"], c["enabled"],
                                                 c["external_ids"])
                sw = self.switches[new.get(step.switch, step.switch)]
                self._switch(sw.uuid, ports=sw.ports + (uuid,))
            elif isinstance(step, nbplan.SetSwitchKey):
                ids = dict(self.switches[step.switch].external_ids)
                ids.pop(step.key, None)
                if step.value is not None:
                    ids[step.key] = step.value
                self._switch(step.switch, external_ids=ids)
            elif isinstance(step, nbplan.DeleteSwitch):
                del self.switches[step.switch]
            elif isinstance(step, nbplan.SetPort):
                row = self.ports[step.port]
                columns = {k: v for k, v in step.columns.items() if k != "external_ids"}
                ids = dict(row.external_ids)
                for key, value in step.columns.get("external_ids", {}).items():
                    ids.pop(key, None)
                    if value is not None:
                        ids[key] = value
                self.ports[step.port] = row._replace(external_ids=ids, **columns)
            elif isinstance(step, (nbplan.LinkPort, nbplan.UnlinkPort)):
                sw = self.switches[new.get(step.switch, step.switch)]
                ports = [p for p in sw.ports if p != step.port]
                if isinstance(step, nbplan.LinkPort):
                    ports.append(step.port)
                self._switch(sw.uuid, ports=tuple(ports))
            elif isinstance(step, nbplan.AddAcl):
                uuid = self._uuid()
                c = step.columns
                self.acls[uuid] = nbplan.NbAcl(uuid, c["direction"], c["priority"], c["match"],
                                               c["action"], dict(c["external_ids"]))
                sw = self.switches[new.get(step.switch, step.switch)]
                self._switch(sw.uuid, acls=sw.acls + (uuid,))
            elif isinstance(step, nbplan.UnlinkAcl):
                sw = self.switches[step.switch]
                self._switch(sw.uuid, acls=tuple(a for a in sw.acls if a != step.acl))
            else:
                assert isinstance(step, nbplan.AddSwitch), step
        used = {p for s in self.switches.values() for p in s.ports + s.acls}   # NB's GC
        self.ports = {u: p for u, p in self.ports.items() if u in used}
        self.acls = {u: a for u, a in self.acls.items() if u in used}


def converge(fake, want, pool_uuid=POOL):
    """Plan and apply until in step; the plans' step counts."""
    counts = []
    for _ in range(5):
        steps = nbplan.plan(want, fake.nb(), pool_uuid).steps
        if not steps:
            return counts
        counts.append(len(steps))
        fake.apply(steps)
    raise AssertionError("no convergence: %r" % counts)


def names(fake):
    return sorted((s.name, tuple(sorted(fake.ports[p].name for p in s.ports)))
                  for s in fake.switches.values())
