"""What makes ovs-xapi-sync have XAPI run the plugin's update on its host (no daemon, no XAPI)."""

import types

import pytest

from xsovs_common import paths
from xsovs_common.sync import plugin_update
from xsovs_common.sync.cache import XapiCache

SECURE = {"vswitch-controller-fail-mode": "secure"}


def _bridge(name, *ports):
    return types.SimpleNamespace(name=name, ports=[types.SimpleNamespace(name=p)
                                                   for p in (name,) + ports])


def idl(*bridges):
    """The IDL's Bridge table as the daemon reads it: rows with a name and ports."""
    rows = {n: b for n, b in enumerate(bridges)}
    return types.SimpleNamespace(tables={"Bridge": types.SimpleNamespace(rows=rows)})


@pytest.fixture
def root(tmp_path):
    def with_inventory(management):
        inventory = tmp_path / paths.INVENTORY.lstrip("/")
        inventory.parent.mkdir(parents=True, exist_ok=True)
        text = "INSTALLATION_UUID='5f1c8ab2-0c47-4a8e-9d0b-0000000000a1'\n"
        if management is not None:
            text += "MANAGEMENT_INTERFACE='%s'\n" % management
        inventory.write_text(text)
        return paths.Root(str(tmp_path))
    return with_inventory


def test_the_management_bridge_is_the_real_bridge_of_the_inventorys_interface(root):
    switch = idl(_bridge("xenbr0", "eth0", "xapi2"), _bridge("xenbr1", "eth1"))
    assert plugin_update.management_bridge(root("xenbr1"), switch) == "xenbr1"
    # On a VLAN: the bridge its fake bridge is on, whose fail mode counts.
    assert plugin_update.management_bridge(root("xapi2"), switch) == "xenbr0"
    # Not in OVSDB (yet): the name as the inventory has it.
    assert plugin_update.management_bridge(root("xenbr7"), switch) == "xenbr7"
    assert plugin_update.management_bridge(root(""), switch) is None
    assert plugin_update.management_bridge(root(None), switch) is None
    assert plugin_update.management_bridge(paths.Root("/nonexistent"), switch) is None


def cache(pool_oc=None, **networks):
    c = XapiCache()
    c.apply([{"class": "pool", "operation": "add", "ref": "OpaqueRef:p",
              "snapshot": {"uuid": "p", "other_config": dict(pool_oc or {})}}]
            + [{"class": "network", "operation": "add", "ref": "OpaqueRef:" + bridge,
                "snapshot": {"uuid": "u-" + bridge, "bridge": bridge,
                             "other_config": dict(oc)}}
               for bridge, oc in sorted(networks.items())], reset=True)
    return c


def test_update_runs_when_the_management_bridges_fail_mode_or_the_ovn_keys_change(
        root, monkeypatch):
    runs = []
    monkeypatch.setattr(plugin_update, "run_update", lambda r: runs.append(r) or "done")
    watch = plugin_update.UpdateWatch(root("xenbr0"))
    switch = idl(_bridge("xenbr0", "eth0"), _bridge("xenbr1", "eth1"))

    def check(c):
        asked = watch.check(c, switch)
        if asked:
            watch._thread.join(10)
        return asked

    assert not check(cache(xenbr0={}, xenbr1={}))            # the first snapshot: recorded
    assert not check(cache(xenbr0={}, xenbr1=SECURE))        # another network's: the daemon's
    assert check(cache(SECURE, xenbr0={}, xenbr1=SECURE))    # the pool's, which xenbr0 follows
    assert not check(cache(SECURE, xenbr0=SECURE, xenbr1=SECURE))    # the same mode
    assert check(cache(SECURE, xenbr0={"vswitch-controller-fail-mode": "standalone"},
                       xenbr1=SECURE))                       # the network's own
    assert check(cache(dict(SECURE, **{"xsovs:ovn-sb": "ssl:192.0.2.9:6642"}),
                       xenbr0={"vswitch-controller-fail-mode": "standalone"}, xenbr1=SECURE))
    assert len(runs) == 3 and watch.runs == 3
