"""rewrite: the cache and xs-network-uuids from XAPI, one transaction."""

import pytest

from xsovs_common import dbcache, paths, rewrite, xapi
from xsovs_dev.xapisim import Simulator

HOST2 = "00000002-0000-4000-8000-000000000002"


@pytest.fixture
def host2(ovs, fake_root, monkeypatch):
    fake_root.write_inventory(HOST2)
    with Simulator("three-host") as sim:
        monkeypatch.setenv("XSOVS_XAPI_URL", sim.url)
        yield sim, fake_root


def _net_uuid(sim, bridge):
    ref = sim.store.find("network", bridge=bridge)[0]
    return sim.store.field("network", ref, "uuid")


def test_rewrite_sets_ids_and_writes_the_cache(ovs, host2):
    sim, fake_root = host2
    ovs.vsctl("add-br", "xenbr0", "--", "add-br", "xapi2", "xenbr0", "100",
              "--", "add-br", "xapi1", "--", "add-br", "foreign",
              "--", "br-set-external-id", "foreign", "xs-network-uuids", "keep-me")
    with xapi.connect() as api:
        result = rewrite.rewrite(fake_root.root, api)
    eth0_list = ";".join([_net_uuid(sim, "xenbr0"), _net_uuid(sim, "xapi2")])
    assert ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == eth0_list
    assert ovs.vsctl("br-get-external-id", "xapi2", "xs-network-uuids").strip() == eth0_list
    assert ovs.vsctl("br-get-external-id", "xapi1", "xs-network-uuids").strip() == \
        ";".join([_net_uuid(sim, "xapi1"), _net_uuid(sim, "xapi3")])
    assert ovs.vsctl("br-get-external-id", "foreign", "xs-network-uuids").strip() == "keep-me"
    assert result.cache_changed
    assert sorted(result.bridges_changed) == ["xapi1", "xapi2", "xenbr0"]
    cached = dbcache.read(fake_root.file(paths.NETWORK_DBCACHE))
    assert sorted(rec["device"] for rec in cached.pifs.values()) == \
        ["bond0", "bond0", "eth0", "eth0", "eth1", "eth2", "tunnel0"]

    with xapi.connect() as api:
        again = rewrite.rewrite(fake_root.root, api)
    assert (again.cache_changed, again.bridges_changed, again.summary()) == (False, [], "")


def test_a_xapi_failure_changes_nothing(ovs, host2):
    sim, fake_root = host2
    fake_root.write_inventory("00000002-0000-4000-8000-0000000000ff")   # not a host XAPI knows
    ovs.vsctl("add-br", "xenbr0")
    with xapi.connect() as api:
        with pytest.raises(xapi.XapiError) as info:
            rewrite.rewrite(fake_root.root, api)
    assert info.value.code == "UUID_INVALID"
    assert not fake_root.exists(paths.NETWORK_DBCACHE)
    assert ovs.vsctl("br-get-external-id", "xenbr0").strip() == ""
