"""ovn-xapi-sync's model and plan, without any daemon (tests/support/ovn_sync_model.py)."""

import pytest

from tests.support.ovn_sync_model import (OTHER_POOL, OVN, POOL, FakeNb, converge, names,
                                          net_uuid, pool, records, vif_uuids)
from xsovs_common.errors import InvalidValue
from xsovs_common.ovn_sync import plan as nbplan
from xsovs_common.ovn_sync.wanted import nb_remote, wanted
from xsovs_dev.xapisim import PoolBuilder


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


def test_values_not_kept_are_refused_never_read_as_empty():
    """A value over the size kept is refused and freezes what it
    would have changed: an over-long iface-id is no default name (two such VIFs no
    duplicate), an over-long address list no empty one, an over-long switch name no
    default one."""
    b = pool()
    b.network("xenbr8", other_config=dict(OVN, **{"xsovs:ovn-logical-switch": "x" * 5000}))
    b.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "p" * 5000})
    b.vif("vm1", "xenbr9", device="1", locking_mode="locked",
          ipv4_allowed=["10.0.%d.%d" % divmod(n, 250) for n in range(1025)])
    b.vif("vm1", "xenbr9", device="2", other_config={"nicira-iface-id": "q" * 5000})
    b.vif("vm1", "xenbr8", device="3")
    b.vif("vm1", "xenbr9", device="4")
    fixture = b.build()
    v = vif_uuids(b)
    want = wanted(records(fixture))
    reasons = dict(want.refused)
    assert set(reasons) == {"VIF %s" % u for u in (v[0], v[1], v[2])} | {
        "network %s" % net_uuid(b, "xenbr8")}
    assert "nicira-iface-id" in reasons["VIF %s" % v[0]] and "longer than" in \
        reasons["VIF %s" % v[0]]
    assert "ipv4_allowed" in reasons["VIF %s" % v[1]]
    assert "xsovs:ovn-logical-switch" in reasons["network %s" % net_uuid(b, "xenbr8")]
    assert want.frozen_vifs == {v[0], v[1], v[2], v[3]}
    assert want.frozen_networks == {net_uuid(b, "xenbr8")}
    assert list(want.switches) == [net_uuid(b)] and list(want.ports) == [v[4]]


def test_an_over_long_remote_keeps_the_one_in_use():
    pool_record = {"uuid": POOL, "other_config": {"xsovs:ovn-nb": "tcp:192.0.2.1:6641"}}
    fixture = PoolBuilder(other_config={"xsovs:ovn-nb": "tcp:192.0.2.1:6641," * 400}).build()
    (kept,) = records(fixture).tables["pool"].values()
    with pytest.raises(InvalidValue) as info:
        nb_remote(kept)
    assert "xsovs:ovn-nb" in info.value.message and "longer than 4096" in info.value.message
    assert nb_remote(pool_record) == "tcp:192.0.2.1:6641"


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
