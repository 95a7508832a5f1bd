"""Reading this host's network from XAPI (simulator), through the cache and back."""

import pytest

from xsovs_common import paths
from xsovs_common.net import dbcache
from xsovs_common.net.management import management_path
from xsovs_common.ovs import mgmt_flows, transaction
from xsovs_common.ovs.snapshot import Snapshot
from xsovs_common.xapi import session as xapi, network as xapi_network
from xsovs_common.errors import InvalidValue
from xsovs_dev.xapisim import PoolBuilder, Simulator

HOST2 = "00000002-0000-4000-8000-000000000002"


def at(sim):
    """The root of a run pointed at ``sim`` (XSOVS_XAPI_URL)."""
    return paths.Root("/", xapi_url=sim.url)


@pytest.fixture
def three_host():
    with Simulator("three-host") as sim:
        yield sim


def _counting(api):
    calls = []
    original = api.call

    def call(method, *args):
        calls.append(method)
        return original(method, *args)
    api.call = call
    return calls


def test_only_this_hosts_objects(three_host):
    with xapi.connect(root=at(three_host)) as api:
        hn = xapi_network.load(api, HOST2)
    devices = sorted(rec["device"] for rec in hn.pifs.values())
    assert devices == ["bond0", "bond0", "eth0", "eth0", "eth1", "eth2", "tunnel0"]
    host_refs = {three_host.store.field("PIF", ref, "host") for ref in hn.pifs}
    assert host_refs == {three_host.store.by_uuid("host", HOST2)}
    for network in hn.networks.values():
        assert set(network["PIFs"]) <= set(hn.pifs)
    bond_pif = [r for r, rec in hn.pifs.items() if hn.is_bond_master(r)][0]
    assert [hn.pif(s)["device"] for s in hn.bond_slaves(bond_pif)] == ["eth1", "eth2"]
    assert hn.pif(bond_pif)["other_config"]["bond-mode"] == "active-backup"
    vlan200 = [r for r in hn.pifs if hn.is_vlan(r) and hn.vlan_tag(r) == 200][0]
    assert hn.datapath_pif(vlan200) == bond_pif
    assert hn.bridge(vlan200) == "xapi3"
    assert len(hn.tunnels) == 1 and len(hn.pools) == 1


def test_constant_number_of_calls():
    counts = []
    for vlans in (10, 400):
        builder = PoolBuilder().host("h1").physical_pif("eth0", "xenbr0", management=True)
        for tag in range(1, vlans + 1):
            builder.vlan("eth0", tag, "xapi%d" % tag)
        with Simulator(builder.build()) as sim:
            with xapi.connect(root=at(sim)) as api:
                calls = _counting(api)
                hn = xapi_network.load(api, builder.host_uuid("h1"))
        assert len(hn.pifs) == vlans + 1
        counts.append(len(calls))
    # host, PIFs, networks, VLANs, pool (no bonds or tunnels to ask for)
    assert counts[0] == counts[1] == 5


def _pool_of(hosts, vlans):
    builder = PoolBuilder()
    for n in range(1, hosts + 1):
        builder.host("h%d" % n).physical_pif("eth0", "xenbr0", management=True)
        builder.physical_pif("eth1", "xenbr1").physical_pif("eth2", "xenbr2")
        builder.bond("bond0", ["eth1", "eth2"], "xapi0")
        builder.tunnel("eth0", "xapi1")
        for tag in range(1, vlans + 1):
            builder.vlan("eth0", tag, "xapi%d" % (tag + 1))
    return builder


def test_reads_follow_this_host_not_the_pool():
    """Alone or in a pool of 8: the same calls, and no other host's VLAN, Bond, tunnel
    or network record comes back."""
    seen = []
    for hosts in (1, 8):
        builder = _pool_of(hosts, 20)
        with Simulator(builder.build()) as sim:
            with xapi.connect(root=at(sim)) as api:
                answers = []
                original = api.call

                def call(method, *args, original=original, answers=answers):
                    value = original(method, *args)
                    answers.append((method, value))
                    return value
                api.call = call
                hn = xapi_network.load(api, builder.host_uuid("h1"))
            mine = set(hn.pifs)
            for method, value in answers:
                if method.endswith("get_all_records_where"):
                    for rec in value.values():
                        named = {rec.get(f) for f in ("host", "master", "untagged_PIF",
                                                      "access_PIF")} | set(rec.get("PIFs", ()))
                        assert named & (mine | {builder.host_ref("h1")}), (method, rec)
            seen.append(([m for m, _ in answers], len(hn.pifs), len(hn.vlans), len(hn.bonds),
                         len(hn.tunnels), len(hn.networks)))
    assert seen[0] == seen[1]
    assert seen[0][1:] == (5 + 20, 20, 1, 1, 5 + 20)


def test_a_malformed_ref_never_reaches_a_query():
    builder = _pool_of(1, 2)
    with Simulator(builder.build()) as sim:
        with xapi.connect(root=at(sim)) as api:
            original = api.call
            queries = []

            def call(method, *args):
                value = original(method, *args)
                if method == "PIF.get_all_records_where":
                    ref = next(iter(value))
                    value = dict(value)
                    value['OpaqueRef:x" or true or "'] = dict(value.pop(ref))
                elif method.endswith("get_all_records_where"):
                    queries.append(args)
                return value
            api.call = call
            with pytest.raises(InvalidValue) as info:
                xapi_network.load(api, builder.host_uuid("h1"))
    assert "malformed PIF reference" in info.value.message
    assert queries == []


def test_cache_round_trip_keeps_everything(three_host, tmp_path):
    with xapi.connect(root=at(three_host)) as api:
        hn = xapi_network.load(api, HOST2)
    path = str(tmp_path / "network.dbcache")
    dbcache.write(path, hn)
    again = dbcache.read(path)
    for ref, record in hn.pifs.items():
        assert again.pifs[ref] == dict(record, currently_attached=False)
    for attr in ("networks", "bonds", "vlans", "tunnels", "pools"):
        assert getattr(again, attr) == getattr(hn, attr)


def test_management_flows_on_a_live_switch(ovs, three_host):
    with xapi.connect(root=at(three_host)) as api:
        hn = xapi_network.load(api, HOST2)
    path = management_path(hn)
    ovs.vsctl("add-br", path.bridge, "--", "add-port", path.bridge, path.nics[0],
              "--", "set", "Bridge", path.bridge, "fail_mode=secure")
    root = paths.Root("/", ovs_rundir=ovs.rundir)
    mgmt_flows.install(root, path)
    mgmt_flows.install(root, path)   # a second run replaces, never duplicates
    ours = ovs.ofctl("--no-stats", "dump-flows", path.bridge, "cookie=%s/-1" % mgmt_flows.COOKIE)
    assert len([line for line in ours.splitlines() if "actions=" in line]) == 4
    text = ovs.ofctl("dump-flows", path.bridge)
    assert "priority=0,arp,in_port=1,arp_op=1 actions=LOCAL" in text
    with transaction.connect(root) as conn:
        assert Snapshot.read(conn).bridges[path.bridge].fail_mode == "secure"
