"""Reading this host's network from XAPI (simulator), through the cache and back."""

import pytest

from xsovs_common import dbcache, mgmt_flows, openflow, paths, vswitch, xapi, xapi_network
from xsovs_dev.xapisim import PoolBuilder, Simulator

HOST2 = "00000002-0000-4000-8000-000000000002"


@pytest.fixture
def three_host(monkeypatch):
    with Simulator("three-host") as sim:
        monkeypatch.setenv("XSOVS_XAPI_URL", sim.url)
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
    with xapi.connect() as api:
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


def test_constant_number_of_calls(monkeypatch):
    counts = []
    for vlans in (10, 400):
        builder = PoolBuilder().host("h1").physical_pif("eth0", "xenbr0", management=True)
        for tag in range(1, vlans + 1):
            builder.vlan("eth0", tag, "xapi%d" % tag)
        with Simulator(builder.build()) as sim:
            monkeypatch.setenv("XSOVS_XAPI_URL", sim.url)
            with xapi.connect() as api:
                calls = _counting(api)
                hn = xapi_network.load(api, builder.host_uuid("h1"))
        assert len(hn.pifs) == vlans + 1
        counts.append(len(calls))
    assert counts[0] == counts[1] == 7


def test_cache_round_trip_keeps_everything(three_host, tmp_path):
    with xapi.connect() as api:
        hn = xapi_network.load(api, HOST2)
    path = str(tmp_path / "network.dbcache")
    dbcache.write(path, hn)
    again = dbcache.read(path)
    for ref, record in hn.pifs.items():
        assert again.pifs[ref] == dict(record, currently_attached=False)
    for attr in ("networks", "bonds", "vlans", "tunnels", "pools"):
        assert getattr(again, attr) == getattr(hn, attr)


def test_management_flows_on_a_live_switch(ovs, three_host):
    with xapi.connect() as api:
        hn = xapi_network.load(api, HOST2)
    path = mgmt_flows.management_path(hn)
    ovs.vsctl("add-br", path.bridge, "--", "add-port", path.bridge, path.nics[0],
              "--", "set", "Bridge", path.bridge, "fail_mode=secure")
    root = paths.Root("/")
    mgmt_flows.install(root, path)
    mgmt_flows.install(root, path)   # a second run replaces, never duplicates
    ours = openflow.dump_flows(root, path.bridge, "cookie=%s/-1" % mgmt_flows.COOKIE)
    assert len(ours) == 4
    text = ovs.ofctl("dump-flows", path.bridge)
    assert "priority=65000,arp,in_port=1 actions=LOCAL" in text
    with vswitch.connect(root) as conn:
        assert vswitch.Snapshot.read(conn).bridges[path.bridge].fail_mode == "secure"
