"""ovs-xapi-sync's rules and XAPI record cache, without any daemon."""

from xsovs_common.sync import rules
from xsovs_common.sync.cache import XapiCache, trim

NET = "9b66c68b-a74e-4d34-89a5-20a8ab352d1e"
VIF = "6ab1b260-398e-49ba-827b-c7696108964c"
VM = "fcb8a3f6-dc04-41d2-8b8a-55afd2b755b8"
VIF_IDS = {"attached-mac": "00:11:22:33:44:55", "xs-network-uuid": NET,
           "xs-vif-uuid": VIF, "xs-vm-uuid": VM}


def add(cls, ref, snapshot):
    return {"class": cls, "operation": "add", "ref": ref, "snapshot": snapshot}


def cache(network_oc=None, pool_oc=None, vif_oc=None, vm_oc=None):
    c = XapiCache()
    c.apply([
        add("network", "OpaqueRef:n", {"uuid": NET, "bridge": "xenbr0",
                                       "other_config": dict(network_oc or {})}),
        add("pool", "OpaqueRef:p", {"uuid": "p", "other_config": dict(pool_oc or {})}),
        add("vif", "OpaqueRef:v", {"uuid": VIF, "other_config": dict(vif_oc or {})}),
        add("vm", "OpaqueRef:m", {"uuid": VM, "other_config": dict(vm_oc or {})}),
    ], reset=True)
    return c


def bridge(name="xenbr0", external_ids=None, other_config=None, fail_mode=None):
    return rules.row("br-" + name, name, external_ids, other_config, fail_mode)


def iface(name, external_ids=None):
    return rules.row("if-" + name, name, external_ids)


def test_bridge_defaults_and_overrides():
    plan = rules.plan(cache(), [bridge()], [], [])
    assert plan == {
        ("Bridge", "br-xenbr0"): {"external_ids": {"bridge-id": NET}, "fail_mode": "standalone"}}
    c = cache(network_oc={"nicira-bridge-id": "B", "vswitch-disable-in-band": "true"},
              pool_oc={"vswitch-controller-fail-mode": "secure"})
    plan = rules.plan(c, [bridge(other_config={"x": "1"})], [], [])
    assert plan == {("Bridge", "br-xenbr0"): {"external_ids": {"bridge-id": "B"},
                                              "fail_mode": "secure",
                                              "other_config": {"disable-in-band": "true"}}}


def test_in_step_bridge_and_unknown_bridge_need_nothing():
    c = cache(network_oc={"vswitch-controller-fail-mode": "secure"})
    done = bridge(external_ids={"bridge-id": NET}, fail_mode="secure")
    assert rules.plan(c, [done, bridge("other")], [], []) == {}


def test_disable_in_band_removed_when_unset_and_kept_when_invalid():
    kept = bridge(external_ids={"bridge-id": NET}, fail_mode="standalone",
                  other_config={"disable-in-band": "true"})
    assert rules.plan(cache(), [kept], [], []) == {
        ("Bridge", "br-xenbr0"): {"other_config": {"disable-in-band": None}}}
    assert rules.plan(cache(network_oc={"vswitch-disable-in-band": "maybe"}), [kept], [], []) == {}


def test_fake_bridge_port_gets_bridge_id():
    fake = rules.row("port-1", "xenbr0", {})
    assert rules.plan(cache(), [], [fake], []) == {
        ("Port", "port-1"): {"external_ids": {"bridge-id": NET}}}


def test_vif_alone_then_with_tap():
    c = cache(vif_oc={"nicira-iface-id": "I"}, vm_oc={"nicira-vm-id": "M"})
    vif = iface("vif1.0", VIF_IDS)
    assert rules.plan(c, [], [], [vif]) == {("Interface", "if-vif1.0"): {"external_ids": {
        "iface-status": "active", "iface-id": "I", "neutron-port-uuid": "I", "vm-id": "M"}}}
    plan = rules.plan(c, [], [], [vif, iface("tap1.0")])
    assert plan[("Interface", "if-vif1.0")]["external_ids"]["iface-status"] == "inactive"
    tap = plan[("Interface", "if-tap1.0")]["external_ids"]
    assert tap == dict(VIF_IDS, **{"iface-status": "active", "iface-id": "I",
                                   "neutron-port-uuid": "I", "vm-id": "M"})


def test_tap_without_vif_is_active_and_others_untouched():
    plan = rules.plan(cache(), [], [], [iface("tap3.1"), iface("eth0", {"iface-status": "x"})])
    assert plan == {("Interface", "if-tap3.1"): {"external_ids": {"iface-status": "active"}}}


def test_vif_unknown_to_xapi_keeps_ids_or_takes_the_uuids():
    c = cache()
    c.apply([{"class": "vif", "operation": "del", "ref": "OpaqueRef:v"},
             {"class": "vm", "operation": "del", "ref": "OpaqueRef:m"}])
    fresh = iface("vif1.0", VIF_IDS)
    assert rules.plan(c, [], [], [fresh])[("Interface", "if-vif1.0")]["external_ids"] == {
        "iface-status": "active", "iface-id": VIF, "vm-id": VM}
    kept = iface("vif1.0", dict(VIF_IDS, **{"iface-status": "active", "iface-id": "old",
                                           "vm-id": "oldvm", "neutron-port-uuid": "n"}))
    assert rules.plan(c, [], [], [kept]) == {}


def test_cache_validates_values_and_follows_mod_and_del():
    c = cache(vif_oc={"nicira-iface-id": "x" * 300, "unrelated": "y"},
              vm_oc={"nicira-vm-id": "bad\nvalue"})
    assert c.vif(VIF)["other_config"] == {}
    assert c.vm(VM)["other_config"] == {}
    generation = c.generation
    c.apply([{"class": "vif", "operation": "mod", "ref": "OpaqueRef:v",
              "snapshot": {"uuid": VIF, "other_config": {"nicira-iface-id": "ok"}}}])
    assert c.vif(VIF)["other_config"] == {"nicira-iface-id": "ok"} and c.generation > generation
    assert not c.apply([{"class": "vif", "operation": "mod", "ref": "OpaqueRef:v",
                         "snapshot": {"uuid": VIF, "other_config": {"nicira-iface-id": "ok"}}}])
    c.apply([{"class": "network", "operation": "mod", "ref": "OpaqueRef:n",
              "snapshot": {"uuid": NET, "bridge": "xenbr9", "other_config": {}}}])
    assert c.network_of_bridge("xenbr0") is None
    assert c.network_of_bridge("xenbr9")["uuid"] == NET
    assert trim("vif", "not a record") is None
    assert trim("vif", {"uuid": 7}) is None


def test_not_ready_until_a_full_snapshot():
    c = XapiCache()
    c.apply([add("pool", "OpaqueRef:p", {"uuid": "p", "other_config": {}})])
    assert not c.ready
    c.apply([], reset=True)
    assert c.ready and c.pool() == {}


def test_the_management_bridge_keeps_its_fail_mode_for_the_plugin():
    c = cache(network_oc={"vswitch-disable-in-band": "true"},
              pool_oc={"vswitch-controller-fail-mode": "secure"})
    standalone = bridge(fail_mode="standalone")
    # Its ids and in-band setting as any bridge's; its fail mode is update's to set.
    assert rules.plan(c, [standalone], [], [], management_bridge="xenbr0") == {
        ("Bridge", "br-xenbr0"): {"external_ids": {"bridge-id": NET},
                                  "other_config": {"disable-in-band": "true"}}}
    assert rules.plan(c, [standalone], [], [], management_bridge="xenbr9")[
        ("Bridge", "br-xenbr0")]["fail_mode"] == "secure"
