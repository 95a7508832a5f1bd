"""ovn-xapi-sync: Xen Orchestra's traffic rules as ACLs, in the model and the plan."""

import json

import pytest

from tests.support.ovn_sync_model import (OVN, POOL, FakeNb, converge, names, net_uuid, records,
                                          vif_uuids)
from xsovs_common.errors import InvalidValue
from xsovs_common.net import traffic_rules as tr
from xsovs_common.ovn_sync import plan as nbplan
from xsovs_common.ovn_sync.wanted import wanted
from xsovs_dev.xapisim import PoolBuilder

DENY_SSH = '{"allow":false,"protocol":"tcp","port":22,"ipRange":"","direction":"from"}'
ALLOW_ICMP = '{"allow":true,"protocol":"icmp","ipRange":"10.0.0.0/8","direction":"from/to"}'
DROP_NET = '{"allow":false,"protocol":"ip","ipRange":"192.0.2.0/24","direction":"to"}'
RULES = "xo:sdn-controller:of-rules"


def rules_pool(vif_rules=(), network_rules=(), of_format="xapi-plugin"):
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
        # Any address: IPv4 and IPv6 (net.traffic_rules), in one ACL.
        ("web", "vif", "to-lport", 'outport == "web" && ip && tcp && tcp.src == 22', "drop"),
    ]
    # The most specific rule decides: the higher priority.
    priority = {(a.port, a.match.split(" && ")[1]): a.priority for a in want.acls}
    assert priority[("web", "icmp4")] > priority[("web", "ip")]     # /8 over any address
    assert all(1000 <= a.priority < 1000 + 396 for a in want.acls)


def test_a_rule_for_any_address_covers_ipv6_and_one_with_a_range_stays_ipv4():
    any_ip = '{"allow":false,"protocol":"ip","ipRange":"","direction":"to"}'
    any_icmp = '{"allow":true,"protocol":"icmp","ipRange":"","direction":"from"}'
    any_arp = '{"allow":false,"protocol":"arp","ipRange":"","direction":"from"}'
    ranged = '{"allow":false,"protocol":"udp","port":53,"ipRange":"10.0.0.0/8","direction":"to"}'
    want = wanted(records(rules_pool([any_ip, any_icmp, any_arp, ranged]).build()))
    assert want.refused == []
    assert {a.match for a in want.acls if a.port == "web"} == {
        'inport == "web" && ip',
        'outport == "web" && icmp',
        'outport == "web" && arp',
        'inport == "web" && ip4 && udp && ip4.dst == 10.0.0.0/8 && udp.dst == 53'}


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
        'outport == "web" && ip && tcp && tcp.src == 22']


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


def from_source(acls, source):
    """The ACLs of ``acls`` (by uuid) that come from a VIF's or a network's rules."""
    return sorted(a for a in acls.values() if a.external_ids.get("xsovs:source") == source)


def test_an_over_long_list_is_refused_as_net_traffic_rules_refuses_it_and_its_acls_kept():
    """A list over the size kept is no list of no rules: refused with the reason
    ovs-xapi-sync gives for it (net.traffic_rules), and the ACLs in force stay."""
    fake = FakeNb()
    converge(fake, wanted(records(rules_pool([DENY_SSH], [DROP_NET]).build())))
    before = dict(fake.acls)
    assert len(before) == 3
    huge = [DENY_SSH] * (tr.MAX_LIST_BYTES // len(DENY_SSH) + 1)
    with pytest.raises(InvalidValue) as info:
        tr.parse_rule_list(json.dumps(huge), tr.SCOPE_VIF)
    # On the VIF: its own ACL stays; the network's go on following XAPI.
    bad = rules_pool(huge, [])
    want = wanted(records(bad.build()))
    assert dict(want.refused) == {"VIF %s" % vif_uuids(bad)[0]: info.value.message}
    converge(fake, want)
    assert list(fake.acls.values()) == from_source(before, "vif")
    assert [a.match for a in fake.acls.values()][0].startswith('outport == "web" && ')
    # On the network: the network's ACLs stay on every port.
    converge(fake, wanted(records(rules_pool([DENY_SSH], [DROP_NET]).build())))
    before = dict(fake.acls)
    want = wanted(records(rules_pool([], huge).build()))
    assert list(dict(want.refused)) == ["network %s" % net_uuid(bad)]
    converge(fake, want)
    assert sorted(fake.acls.values()) == from_source(before, "network")
    assert sorted(a.match.split(" && ")[0] for a in fake.acls.values()) == [
        'inport == "db"', 'inport == "web"']
    assert set(fake.acls) < set(before)
