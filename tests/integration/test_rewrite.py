"""rewrite: the cache and xs-network-uuids from XAPI, one transaction."""

import pytest

from xsovs_common import paths
from xsovs_common.actions import rewrite
from xsovs_common.net import dbcache
from xsovs_common.ovs import transaction
from xsovs_common.ovs.changes import ChangeSet
from xsovs_common.ovs.snapshot import Snapshot
from xsovs_common.xapi import session as xapi
from xsovs_dev.xapisim import Simulator

HOST2 = "00000002-0000-4000-8000-000000000002"


@pytest.fixture
def host2(ovs, fake_root):
    fake_root.write_inventory(HOST2)
    with Simulator("three-host") as sim:
        fake_root.configure(xapi_url=sim.url)
        yield sim, fake_root


def _net_uuid(sim, bridge):
    ref = sim.store.find("network", bridge=bridge)[0]
    return sim.store.field("network", ref, "uuid")


def test_rewrite_sets_ids_and_writes_the_cache(ovs, host2):
    sim, fake_root = host2
    ovs.vsctl("add-br", "xenbr0", "--", "add-br", "xapi2", "xenbr0", "100",
              "--", "add-br", "xapi1", "--", "add-br", "foreign",
              "--", "br-set-external-id", "foreign", "xs-network-uuids", "keep-me")
    with xapi.connect(root=fake_root.root) as api:
        result = rewrite.rewrite(fake_root.root, api)
    # As XAPI writes them: each bridge its network; a fake bridge its own, then its parent's.
    assert ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == \
        _net_uuid(sim, "xenbr0")
    assert ovs.vsctl("br-get-external-id", "xapi2", "xs-network-uuids").strip() == \
        _net_uuid(sim, "xapi2") + ";" + _net_uuid(sim, "xenbr0")
    assert ovs.vsctl("br-get-external-id", "xapi1", "xs-network-uuids").strip() == \
        _net_uuid(sim, "xapi1")
    assert ovs.vsctl("br-get-external-id", "foreign", "xs-network-uuids").strip() == "keep-me"
    assert result.cache_changed
    assert sorted(result.bridges_changed) == ["xapi1", "xapi2", "xenbr0"]
    cached = dbcache.read(fake_root.file(paths.NETWORK_DBCACHE))
    assert sorted(rec["device"] for rec in cached.pifs.values()) == \
        ["bond0", "bond0", "eth0", "eth0", "eth1", "eth2", "tunnel0"]

    with xapi.connect(root=fake_root.root) as api:
        again = rewrite.rewrite(fake_root.root, api)
    assert (again.cache_changed, again.bridges_changed, again.summary()) == (False, [], "")


def test_a_xapi_failure_changes_nothing(ovs, host2):
    sim, fake_root = host2
    fake_root.write_inventory("00000002-0000-4000-8000-0000000000ff")   # not a host XAPI knows
    ovs.vsctl("add-br", "xenbr0")
    with xapi.connect(root=fake_root.root) as api:
        with pytest.raises(xapi.XapiError) as info:
            rewrite.rewrite(fake_root.root, api)
    assert info.value.code == "UUID_INVALID"
    assert not fake_root.exists(paths.NETWORK_DBCACHE)
    assert ovs.vsctl("br-get-external-id", "xenbr0").strip() == ""


@pytest.mark.parametrize("stored", [
    "full-list",                              # what the historical scripts wrote
    "not;a;uuid\x01list",                     # malformed
    "x" * 300000,                             # huge (beyond one argv string)
])
def test_rewrite_replaces_what_an_older_tool_stored(ovs, host2, stored):
    """A host still carrying another form is converted; the stored value is never trusted."""
    sim, fake_root = host2
    eth0 = [_net_uuid(sim, "xenbr0"), _net_uuid(sim, "xapi2")]
    if stored == "full-list":
        stored = ";".join(eth0)
    with transaction.connect(fake_root.root) as connection:
        changes = ChangeSet()
        changes.add_br("xenbr0")
        changes.add_br("xapi2", "xenbr0", 100)
        changes.br_set_external_id("xenbr0", "xs-network-uuids", stored)
        changes.br_set_external_id("xapi2", "xs-network-uuids", stored)
        transaction.apply(connection, changes, Snapshot.read(connection), wait=False)
    with xapi.connect(root=fake_root.root) as api:
        result = rewrite.rewrite(fake_root.root, api)
    assert sorted(result.bridges_changed) == ["xapi2", "xenbr0"]
    assert ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == eth0[0]
    assert ovs.vsctl("br-get-external-id", "xapi2", "xs-network-uuids").strip() == \
        eth0[1] + ";" + eth0[0]
