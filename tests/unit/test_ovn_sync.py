"""ovn-xapi-sync's model and plan, without any daemon: XAPI records as event.from
delivers them (from the simulator's store), NB rows as plain data."""

import pytest

from xsovs_common.ovn_sync import plan as nbplan
from xsovs_common.ovn_sync import records as ovnrecords
from xsovs_common.ovn_sync.wanted import nb_remote, wanted
from xsovs_common.errors import InvalidValue
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


# -- the model ------------------------------------------------------------------
def test_locking_modes_as_xapi_applies_them():
    b = pool()
    b.vif("vm1", "xenbr9", locking_mode="locked", ipv4_allowed=["10.0.0.5", "10.0.0.4"],
          ipv6_allowed=["2001:db8::5"], mac="02:AA:00:00:00:01")
    b.vif("vm1", "xenbr9", device="1", locking_mode="locked")
    b.vif("vm1", "xenbr9", device="2")                              # network_default: unlocked
    b.vif("vm1", "xenbr9", device="3", locking_mode="disabled", ipv4_allowed=["10.0.0.9"])
    b.vif("vm1", "xenbr9", device="4", locking_mode="unlocked", ipv4_allowed=["10.0.0.8"])
    want = wanted(records(b.build()))
    v = vif_uuids(b)
    assert want.refused == []
    assert list(want.switches) == [net_uuid(b)]
    got = {p.vif: (p.addresses, p.port_security, p.enabled) for p in want.ports.values()}
    locked = "02:aa:00:00:00:01 10.0.0.5 10.0.0.4 2001:db8::5"    # XAPI's order
    assert got == {
        v[0]: ((locked,), (locked,), True),
        v[1]: (("02:01:00:00:00:02",), ("02:01:00:00:00:02 0.0.0.0/32",), True),
        v[2]: (("02:01:00:00:00:03", "unknown"), (), True),
        v[3]: (("02:01:00:00:00:04 10.0.0.9",), (), False),
        v[4]: (("02:01:00:00:00:05 10.0.0.8", "unknown"), (), True),
    }
    assert {p.name for p in want.ports.values()} == set(v)


def test_network_default_locking_mode_disabled():
    b = pool(default_locking_mode="disabled")
    b.vif("vm1", "xenbr9")
    (port,) = wanted(records(b.build())).ports.values()
    assert port.enabled is False


def test_names_templates_and_other_networks():
    b = pool(other_config=dict(OVN, **{"xsovs:ovn-logical-switch": "tenant-a"}))
    b.network("xenbr1")                                             # not OVN
    b.network("xenbr2", other_config={"xsovs:ovn": "false"})
    b.vm("template", template=True)
    b.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "port-a"})
    b.vif("template", "xenbr9")
    b.vif("vm1", "xenbr1", device="1")
    b.vif("vm1", "xenbr2", device="2")
    want = wanted(records(b.build()))
    assert list(want.switches) == ["tenant-a"]
    assert want.switches["tenant-a"].networks == (net_uuid(b),)
    assert list(want.ports) == ["port-a"]
    assert want.ports["port-a"].switch == "tenant-a"
    assert want.refused == []


@pytest.mark.parametrize("network_oc, reason", [
    ({"xsovs:ovn": "maybe"}, "not true or false"),
    (dict(OVN, **{"xsovs:ovn-logical-switch": 'a"b'}), "not a logical switch name"),
    (dict(OVN, **{"xsovs:ovn-logical-switch": "x" * 65}), "not a logical switch name"),
])
def test_bad_network_values_refused_and_frozen(network_oc, reason):
    b = pool(other_config=network_oc)
    b.vif("vm1", "xenbr9")
    want = wanted(records(b.build()))
    ((what, why),) = want.refused
    assert what == "network %s" % net_uuid(b) and reason in why
    assert want.switches == {} and want.ports == {}
    assert want.frozen_networks == {net_uuid(b)}
    assert want.frozen_vifs == set(vif_uuids(b))


def test_network_with_pifs_is_no_logical_switch():
    b = PoolBuilder().host("h1").physical_pif("eth1", "xenbr9")
    b.tables["network"][b.network_ref("xenbr9")]["other_config"] = dict(OVN)
    want = wanted(records(b.build()))
    assert "has PIFs" in dict(want.refused)["network %s" % net_uuid(b)]
    assert want.switches == {}


def test_bad_vif_values_refused_and_frozen():
    b = pool()
    b.vif("vm1", "xenbr9", mac="not-a-mac")
    b.vif("vm1", "xenbr9", device="1", locking_mode="locked", ipv4_allowed=["10.0.0.300"])
    b.vif("vm1", "xenbr9", device="2", other_config={"nicira-iface-id": "same"})
    b.vif("vm1", "xenbr9", device="3", other_config={"nicira-iface-id": "same"})
    b.vif("vm1", "xenbr9", device="4", other_config={"nicira-iface-id": "bad\\name"})
    b.vif("vm1", "xenbr9", device="5")
    fixture = b.build()
    want = wanted(records(fixture))
    v = vif_uuids(b)
    reasons = dict(want.refused)
    assert set(reasons) == {"VIF %s" % u for u in v[:5]}
    assert "MAC" in reasons["VIF %s" % v[0]]
    assert "10.0.0.300" in reasons["VIF %s" % v[1]]
    assert "'same' is that of 2 VIFs" in reasons["VIF %s" % v[2]]
    assert want.frozen_vifs == set(v[:5])
    assert list(want.ports) == [v[5]]


def test_nb_remotes():
    def remote(value):
        return nb_remote({"uuid": POOL, "other_config": {"xsovs:ovn-nb": value}})

    assert remote("") is None
    assert remote("tcp:192.0.2.1") == "tcp:192.0.2.1:6641"
    for good in ("tcp:192.0.2.1:6641", "ssl:192.0.2.1:6641,ssl:192.0.2.2:6641",
                 "tcp:[2001:db8::1]:6641"):
        assert remote(good) == good
    for bad in ("192.0.2.1:6641", "tcp:192.0.2.1:0", "ptcp:6641", "tcp:192.0.2.1:6641,",
                "unix:/run/ovn/ovnnb_db.sock", "tcp:bad host:1", "tcp:192.0.2.1:1\n"):
        with pytest.raises(InvalidValue):
            remote(bad)


# -- the plan ---------------------------------------------------------------------
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


def test_plan_then_nothing_and_foreign_rows_untouched():
    b = pool()
    b.vif("vm1", "xenbr9")
    want = wanted(records(b.build()))
    fake = FakeNb()
    foreign_port = fake.add_port("theirs", {"owner": "openstack"})
    foreign = fake.add_switch("theirs", {"neutron:network": "x"}, ports=(foreign_port,))
    before = dict(fake.switches), dict(fake.ports)
    assert converge(fake, want) == [2]
    assert names(fake) == sorted([(net_uuid(b), tuple(vif_uuids(b))), ("theirs", ("theirs",))])
    assert fake.switches[foreign] == before[0][foreign]
    assert fake.ports[foreign_port] == before[1][foreign_port]
    # Gone from XAPI: removed, and still nothing of theirs touched.
    assert converge(fake, wanted(records(pool().build()))) == [1]
    assert names(fake) == sorted([(net_uuid(b), ()), ("theirs", ("theirs",))])
    assert converge(fake, wanted(records(PoolBuilder().host("h1").build()))) == [1]
    assert names(fake) == [("theirs", ("theirs",))]
    assert fake.switches[foreign] == before[0][foreign]


def test_foreign_names_refused_and_nothing_written():
    b = pool(other_config=dict(OVN, **{"xsovs:ovn-logical-switch": "theirs"}))
    b.network("xenbr8", other_config=OVN)
    b.vif("vm1", "xenbr9")
    b.vif("vm1", "xenbr8", device="1", other_config={"nicira-iface-id": "taken"})
    fake = FakeNb()
    fake.add_switch("theirs")
    fake.add_switch("other", ports=(fake.add_port("taken", {"xsovs:pool": OTHER_POOL}),))
    result = nbplan.plan(wanted(records(b.build())), fake.nb(), POOL)
    reasons = dict(result.refused)
    assert "xsovs does not own it" in reasons["network %s" % net_uuid(b)]
    assert OTHER_POOL in reasons["VIF %s" % vif_uuids(b)[1]]
    assert result.steps == [nbplan.AddSwitch(nbplan.NEW_SWITCH + net_uuid(b, "xenbr8"),
                                             net_uuid(b, "xenbr8"),
                                             {"xsovs:pool-" + POOL: net_uuid(b, "xenbr8")})]


def shared_pool(pool_uuid, ports):
    b = PoolBuilder().pool(uuid=pool_uuid).host("h").vm("vm")
    b.network("xenbr9", other_config=dict(OVN, **{"xsovs:ovn-logical-switch": "shared"}))
    for n, name in enumerate(ports):
        b.vif("vm", "xenbr9", device=str(n), other_config={"nicira-iface-id": name})
    return wanted(records(b.build()))


def test_shared_switch_stays_while_another_pool_uses_it():
    fake = FakeNb()
    converge(fake, shared_pool(POOL, ["a1"]), POOL)
    converge(fake, shared_pool(OTHER_POOL, ["b1"]), OTHER_POOL)
    ((switch),) = fake.switches.values()
    assert set(switch.external_ids) == {"xsovs:pool-" + POOL, "xsovs:pool-" + OTHER_POOL}
    assert names(fake) == [("shared", ("a1", "b1"))]
    converge(fake, shared_pool(POOL, []), POOL)          # this pool's network left OVN
    converge(fake, wanted(records(PoolBuilder().pool(uuid=POOL).build())), POOL)
    assert names(fake) == [("shared", ("b1",))]
    assert set(fake.nb().switches[switch.uuid].external_ids) == {"xsovs:pool-" + OTHER_POOL}
    converge(fake, wanted(records(PoolBuilder().pool(uuid=OTHER_POOL).build())), OTHER_POOL)
    assert names(fake) == []


def test_duplicate_switches_merge_on_the_lowest_uuid():
    """Two pools (or two instances of one) that created one name at once converge."""
    fake = FakeNb()
    mine = fake.add_switch("shared", {"xsovs:pool-" + POOL: "n1"})
    theirs = fake.add_switch("shared", {"xsovs:pool-" + OTHER_POOL: "n2"})
    fake.switches[mine] = fake.switches[mine]._replace(
        ports=(fake.add_port("a1", {"xsovs:pool": POOL}),))
    assert mine < theirs
    converge(fake, shared_pool(OTHER_POOL, ["b1"]), OTHER_POOL)
    converge(fake, shared_pool(POOL, ["a1"]), POOL)
    assert names(fake) == [("shared", ("a1", "b1"))]
    assert list(fake.switches) == [mine]
    # Both pools in step: neither plans anything more.
    assert nbplan.plan(shared_pool(POOL, ["a1"]), fake.nb(), POOL).steps == []
    assert nbplan.plan(shared_pool(OTHER_POOL, ["b1"]), fake.nb(), OTHER_POOL).steps == []


def test_frozen_rows_stay_as_they_are():
    b = pool()
    b.vif("vm1", "xenbr9")
    fake = FakeNb()
    converge(fake, wanted(records(b.build())))
    before = names(fake), dict(fake.ports)
    # A bad switch name freezes the network: its switch and port stay, unchanged.
    bad = pool(other_config=dict(OVN, **{"xsovs:ovn-logical-switch": "bad\nname"}))
    bad.vif("vm1", "xenbr9", locking_mode="disabled")
    assert nbplan.plan(wanted(records(bad.build())), fake.nb(), POOL).steps == []
    # A bad MAC freezes the port alone.
    bad = pool()
    bad.vif("vm1", "xenbr9", mac="02:00:00:00:00:zz")
    assert nbplan.plan(wanted(records(bad.build())), fake.nb(), POOL).steps == []
    assert (names(fake), dict(fake.ports)) == before


def test_port_moves_when_its_switch_is_renamed_and_updates_in_place():
    b = pool()
    b.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "p"})
    fake = FakeNb()
    converge(fake, wanted(records(b.build())))
    (port_uuid,) = fake.ports
    renamed = pool(other_config=dict(OVN, **{"xsovs:ovn-logical-switch": "renamed"}))
    renamed.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "p"}, locking_mode="locked")
    steps = nbplan.plan(wanted(records(renamed.build())), fake.nb(), POOL).steps
    assert {type(s).__name__ for s in steps} == {"AddSwitch", "SetPort", "LinkPort",
                                                 "DeleteSwitch"}
    fake.apply(steps)
    assert names(fake) == [("renamed", ("p",))]
    assert list(fake.ports) == [port_uuid]
    assert fake.ports[port_uuid].port_security == ["02:01:00:00:00:01 0.0.0.0/32"]
    assert converge(fake, wanted(records(renamed.build()))) == []


# -- traffic rules as ACLs ----------------------------------------------------------
DENY_SSH = '{"allow":false,"protocol":"tcp","port":22,"ipRange":"","direction":"from"}'
ALLOW_ICMP = '{"allow":true,"protocol":"icmp","ipRange":"10.0.0.0/8","direction":"from/to"}'
DROP_NET = '{"allow":false,"protocol":"ip","ipRange":"192.0.2.0/24","direction":"to"}'
RULES = "xo:sdn-controller:of-rules"


def rules_pool(vif_rules=(), network_rules=(), of_format="xapi-plugin"):
    import json
    b = PoolBuilder(other_config={"xo:sdn-controller:of-format": of_format})
    b.host("h1").vm("vm1", host="h1")
    net_oc = dict(OVN)
    if network_rules:
        net_oc[RULES] = json.dumps(list(network_rules))
    b.network("xenbr9", other_config=net_oc)
    b.vif("vm1", "xenbr9", other_config=dict(
        {"nicira-iface-id": "web"}, **({RULES: json.dumps(list(vif_rules))} if vif_rules
                                       else {})))
    b.vif("vm1", "xenbr9", device="1", other_config={"nicira-iface-id": "db"})
    return b


def acl_set(want):
    return sorted((a.port, a.source, a.direction, a.match, a.action) for a in want.acls)


def test_rules_become_acls_bound_to_the_port():
    want = wanted(records(rules_pool([DENY_SSH, ALLOW_ICMP], [DROP_NET]).build()))
    assert want.refused == []
    assert acl_set(want) == [
        ("db", "network", "from-lport", 'inport == "db" && ip4 && ip4.dst == 192.0.2.0/24',
         "drop"),
        ("web", "network", "from-lport", 'inport == "web" && ip4 && ip4.dst == 192.0.2.0/24',
         "drop"),
        ("web", "vif", "from-lport", 'inport == "web" && icmp4 && ip4.dst == 10.0.0.0/8',
         "allow-stateless"),
        ("web", "vif", "to-lport", 'outport == "web" && icmp4 && ip4.src == 10.0.0.0/8',
         "allow-stateless"),
        ("web", "vif", "to-lport", 'outport == "web" && ip4 && tcp && tcp.src == 22', "drop"),
    ]
    # The most specific rule decides: the higher priority.
    priority = {(a.port, a.match.split(" && ")[1]): a.priority for a in want.acls}
    assert priority[("web", "icmp4")] > priority[("web", "ip4")]
    assert all(1000 <= a.priority < 1000 + 396 for a in want.acls)


def test_arp_rules_and_channel_format():
    arp = '{"allow":false,"protocol":"arp","ipRange":"10.0.0.1","direction":"to"}'
    want = wanted(records(rules_pool([arp]).build()))
    assert acl_set(want) == [("web", "vif", "from-lport",
                              'inport == "web" && arp && arp.tpa == 10.0.0.1/32', "drop")]
    # XO's older channel format swaps an ARP rule's direction (net.traffic_rules).
    want = wanted(records(rules_pool([arp], of_format="channel").build()))
    assert acl_set(want) == [("web", "vif", "to-lport",
                              'outport == "web" && arp && arp.spa == 10.0.0.1/32', "drop")]


def test_bad_rules_refused_and_their_acls_kept():
    fake = FakeNb()
    converge(fake, wanted(records(rules_pool([DENY_SSH], [DROP_NET]).build())))
    assert len(fake.acls) == 3
    before = dict(fake.acls), names(fake)
    # A bad VIF list freezes that VIF's own ACLs; the port and the network's rules go on.
    bad = rules_pool(["not json"], [DROP_NET])
    bad.vif("vm1", "xenbr9", device="2", other_config={"nicira-iface-id": "new"})
    want = wanted(records(bad.build()))
    assert "not JSON" in dict(want.refused)["VIF %s" % vif_uuids(bad)[0]]
    converge(fake, want)
    assert set(before[0]) <= set(fake.acls)
    assert len(fake.acls) == 4          # the new port's network rule
    # A bad network list freezes the network's ACLs on every port.
    want = wanted(records(rules_pool([], ['{"allow":"maybe"}']).build()))
    converge(fake, want)
    assert {a.match for a in fake.acls.values()} == {
        'inport == "web" && ip4 && ip4.dst == 192.0.2.0/24',
        'inport == "db" && ip4 && ip4.dst == 192.0.2.0/24'}
    # Fixed: in step with what the lists say.
    converge(fake, wanted(records(rules_pool([DENY_SSH]).build())))
    assert [a.match for a in fake.acls.values()] == [
        'outport == "web" && ip4 && tcp && tcp.src == 22']


def test_duplicate_acls_removed_and_foreign_acls_kept():
    fake = FakeNb()
    want = wanted(records(rules_pool([DENY_SSH]).build()))
    converge(fake, want)
    (switch,) = fake.switches.values()
    (mine,) = fake.acls.values()
    twin = fake._uuid()
    fake.acls[twin] = mine._replace(uuid=twin)
    theirs = fake._uuid()
    fake.acls[theirs] = nbplan.NbAcl(theirs, "to-lport", 1, "ip4", "drop", {})
    fake._switch(switch.uuid, acls=switch.acls + (twin, theirs))
    steps = nbplan.plan(want, fake.nb(), POOL).steps
    assert steps == [nbplan.UnlinkAcl(switch.uuid, max(mine.uuid, twin))]
    fake.apply(steps)
    assert set(fake.acls) == {min(mine.uuid, twin), theirs}
