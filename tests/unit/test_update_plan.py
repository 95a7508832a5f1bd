"""The plugin's plans: what update / set-manager would do, as plain data (no daemons)."""

import itertools

import pytest

from tests.support.sample_network import sample
from xsovs_common import paths
from xsovs_common.actions import cfg_update, update_plan, update_read
from xsovs_common.ovs.snapshot import Snapshot
from xsovs_common.system import firewall
from xsovs_common.xapi import controller
from xsovs_common.net.model import ModelError
from xsovs_common.ovs.change_kinds import DelSsl, EmerReset, Set, SetManager, SetSsl

ROOT = paths.Root("/")
PEM = paths.XAPI_SSL_PEM
CA = paths.VSWITCHD_CACERT
_ids = itertools.count(1)


def _uuid():
    return ["uuid", "00000000-0000-4000-8000-%012d" % next(_ids)]


def _map(values):
    return ["map", [[k, v] for k, v in sorted((values or {}).items())]]


def snapshot(bridges, managers=(), ssl=None):
    """A Snapshot from ovsdb-server-style rows.

    ``bridges``: {name: {"ports": [port names], "fail_mode": ..., "other_config": ...,
    "fakes": {name: tag}, "port_other_config": {port: {...}}, "controllers": count}}.
    """
    bridge_rows, port_rows = [], []
    for name, spec in bridges.items():
        port_uuids = []
        ports = [(name, None, False)] + [(p, None, False) for p in spec.get("ports", ())]
        ports += [(fake, tag, True) for fake, tag in spec.get("fakes", {}).items()]
        for port, tag, fake in ports:
            uuid = _uuid()
            port_uuids.append(uuid)
            port_rows.append({
                "_uuid": uuid, "name": port, "interfaces": ["set", []],
                "tag": tag if tag is not None else ["set", []], "fake_bridge": fake,
                "bond_mode": ["set", []], "lacp": ["set", []], "bond_updelay": 0,
                "bond_downdelay": 0,
                "other_config": _map(spec.get("port_other_config", {}).get(port)),
                "external_ids": _map({}), "mac": ["set", []]})
        bridge_rows.append({
            "_uuid": _uuid(), "name": name, "ports": ["set", port_uuids],
            "fail_mode": spec.get("fail_mode") or ["set", []],
            "other_config": _map(spec.get("other_config")), "external_ids": _map({}),
            "datapath_type": "",
            "controller": ["set", [_uuid() for _ in range(spec.get("controllers", 0))]]})
    ssl_rows = [dict(ssl)] if ssl else []
    return Snapshot({
        "Open_vSwitch": [{"_uuid": _uuid(), "bridges": ["set", []], "manager_options": ["set", []],
                          "ssl": ["set", []], "next_cfg": 1, "cur_cfg": 1,
                          "external_ids": _map({}), "other_config": _map({})}],
        "Bridge": bridge_rows, "Port": port_rows, "Interface": [],
        "Manager": [{"target": t} for t in managers], "SSL": ssl_rows})


BOND_OTHER_CONFIG = {"bond-miimon-interval": "100", "bond-detect-mode": "carrier",
                     "bond-rebalance-interval": "1800000"}


def host_switch(fail_mode="standalone", in_band=None, managers=(), ssl=None, bond=None,
                controllers=0):
    other = {"disable-in-band": in_band} if in_band else {}
    return snapshot({
        "xenbr0": {"ports": ["eth0"], "fail_mode": fail_mode, "other_config": other,
                   "fakes": {"xapi2": 100}, "controllers": controllers},
        "xapi1": {"ports": ["bond0"], "fail_mode": fail_mode,
                  "port_other_config": {"bond0": BOND_OTHER_CONFIG if bond is None else bond}},
        "foreign": {"ports": ["eth9"], "fail_mode": "secure",
                    "other_config": {"disable-in-band": "true"}},
    }, managers=managers, ssl=ssl)


def state(hn, target=None):
    return update_read.XapiState("host-uuid", hn, {}, controller.Wanted(target, "test"))


SSL_TARGET = controller.target("ssl", "192.0.2.1", 6632)
OUR_SSL = {"private_key": PEM, "certificate": PEM, "ca_cert": CA, "bootstrap_ca_cert": True}


def test_nothing_to_change():
    plan = update_plan.plan_update(ROOT, state(sample()), host_switch())
    assert plan.is_empty() and plan.notes == [] and plan.warnings == []
    assert cfg_update.summary(plan.notes) == "No change to configuration"
    plan = update_plan.plan_update(ROOT, state(sample(), SSL_TARGET),
                                  host_switch(managers=["ssl:192.0.2.1:6632"], ssl=OUR_SSL))
    assert plan.is_empty()


def test_a_new_controller_resets_and_restores_in_one_change_set():
    hn = sample(net_other_config={"vswitch-disable-in-band": "true"},
                bond_other_config={"bond-miimon": "70"})
    plan = update_plan.plan_update(ROOT, state(hn, SSL_TARGET), host_switch())
    changes = plan.changes.changes
    assert changes[:3] == [EmerReset(), SetSsl(PEM, PEM, CA, True),
                           SetManager(("ssl:192.0.2.1:6632",))]
    assert Set("Bridge", "xenbr0", {"fail_mode": "standalone",
                                        "other_config:disable-in-band": "true"}) in changes
    assert Set("Bridge", "xapi1", {"fail_mode": "standalone"}) in changes
    (port,) = [c for c in changes if isinstance(c, Set) and c.table == "Port"]
    assert port.record == "bond0" and port.values["other_config:bond-miimon-interval"] == "70"
    assert not [c for c in changes if c.kind == "set" and c.record in ("foreign", "xapi2")]
    # No listening port for an active manager; the OpenFlow channel's port (of-method
    # absent means "channel") is open while a controller is set.
    assert plan.delete_ca and plan.firewall_open == [firewall.OPENFLOW_RULE]
    assert plan.firewall_close == [firewall.MANAGER_RULE]
    assert plan.notes[0] == "Successfully set controller to ssl:192.0.2.1:6632"
    assert plan.management_flows is None        # standalone: the host stays reachable
    text = str(plan.changes)
    assert text.splitlines()[:3] == ["emer-reset", "--bootstrap set-ssl %s %s %s" % (PEM, PEM, CA),
                                     "set-manager ssl:192.0.2.1:6632"]


def test_removing_the_controller():
    plan = update_plan.plan_update(ROOT, state(sample()),
                                  host_switch(managers=["ssl:192.0.2.1:6632"], ssl=OUR_SSL))
    assert plan.changes.changes[:3] == [EmerReset(), SetManager(()), DelSsl()]
    assert plan.notes[0] == "Successfully removed controller config"
    assert plan.delete_ca


def test_ssl_not_as_needed_means_set_again():
    other_ssl = dict(OUR_SSL, ca_cert="/etc/elsewhere.pem")
    plan = update_plan.plan_update(ROOT, state(sample(), SSL_TARGET),
                                  host_switch(managers=["ssl:192.0.2.1:6632"], ssl=other_ssl))
    assert EmerReset() in plan.changes.changes
    tcp = controller.target("tcp", "192.0.2.1", 6632)
    plan = update_plan.plan_update(ROOT, state(sample(), tcp),
                                  host_switch(managers=["tcp:192.0.2.1:6632"]))
    assert plan.is_empty()


SDN_CA = paths.SDN_CONTROLLER_CA
PSSL = controller.target("pssl", "", 6640)
PSSL_SSL = {"private_key": PEM, "certificate": PEM, "ca_cert": SDN_CA, "bootstrap_ca_cert": False}


def test_pssl_ssl_as_xapi_sets_it_and_its_ports():
    plan = update_plan.plan_update(ROOT, state(sample(), PSSL), host_switch())
    # XAPI's key and certificate, the pool's SDN controller CA, no bootstrap.
    assert plan.changes.changes[:3] == [EmerReset(), SetSsl(PEM, PEM, SDN_CA, False),
                                        SetManager(("pssl:6640",))]
    assert str(plan.changes).splitlines()[1] == "set-ssl %s %s %s" % (PEM, PEM, SDN_CA)
    assert plan.firewall_open == [firewall.MANAGER_RULE, firewall.OPENFLOW_RULE]
    assert plan.firewall_close == []
    plan = update_plan.plan_update(ROOT, state(sample(), PSSL),
                                  host_switch(managers=["pssl:6640"], ssl=PSSL_SSL))
    assert plan.is_empty() and plan.firewall_open == [firewall.MANAGER_RULE,
                                                      firewall.OPENFLOW_RULE]


def test_pssl_with_a_bootstrapped_ca_is_set_again():
    """What earlier versions set for pssl (bootstrap, vswitchd.cacert) lets no client in."""
    plan = update_plan.plan_update(ROOT, state(sample(), PSSL),
                                  host_switch(managers=["pssl:6640"], ssl=OUR_SSL))
    assert SetSsl(PEM, PEM, SDN_CA, False) in plan.changes.changes
    plan = update_plan.plan_update(ROOT, state(sample(), PSSL),
                                  host_switch(managers=["pssl:6640"],
                                              ssl=dict(PSSL_SSL, bootstrap_ca_cert=True)))
    assert EmerReset() in plan.changes.changes


def test_of_method_other_than_channel_closes_6653():
    hn = sample()
    st = update_read.XapiState("host-uuid", hn, {"other_config": {
        update_plan.OF_METHOD_KEY: "openflow-plugin"}}, controller.Wanted(PSSL, "test"))
    plan = update_plan.plan_update(ROOT, st, host_switch())
    assert plan.firewall_open == [firewall.MANAGER_RULE]
    assert plan.firewall_close == [firewall.OPENFLOW_RULE]
    plan = update_plan.plan_update(ROOT, state(hn), host_switch())     # no controller
    assert plan.firewall_open == [] and plan.firewall_close == list(firewall.MANAGER_RULES)


def test_missing_ssl_files_are_named(tmp_path):
    root = paths.Root(str(tmp_path))
    pem, ca = root.path(PEM), root.path(SDN_CA)
    plan = update_plan.plan_update(root, state(sample(), PSSL), host_switch())
    assert SetSsl(pem, pem, ca, False) in plan.changes.changes    # set all the same
    assert [w.split(" is missing")[0] for w in plan.warnings] == [
        "SSL key and certificate file " + pem, "SDN controller CA file " + ca]
    (tmp_path / "etc/xensource").mkdir(parents=True)
    (tmp_path / "etc/xensource/xapi-ssl.pem").write_text("key and certificate\n")
    (tmp_path / "etc/stunnel/certs").mkdir(parents=True)
    (tmp_path / "etc/stunnel/certs/sdn-controller-ca.pem").write_text("CA\n")
    assert update_plan.plan_update(root, state(sample(), PSSL), host_switch()).warnings == []
    # An active manager bootstraps its CA: only the key and certificate must be there.
    plan = update_plan.plan_update(root, state(sample(), SSL_TARGET), host_switch())
    assert plan.warnings == []


def test_bridge_settings_only_where_they_differ():
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"},
                net_other_config={"vswitch-controller-fail-mode": "standalone"})
    plan = update_plan.plan_update(ROOT, state(hn), host_switch(fail_mode="standalone",
                                                               in_band="true"))
    # xenbr0: network says standalone (as it is); in-band absent in XAPI -> removed.
    # xapi1: the pool's secure.  foreign: not XAPI's, untouched.
    assert plan.changes.changes == [
        Set("Bridge", "xapi1", {"fail_mode": "secure"}),
        Set("Bridge", "xenbr0", {"other_config:disable-in-band": None})]
    assert plan.notes == ["disable-in-band removed from xenbr0",
                          "fail_mode=secure set on xapi1"]
    assert plan.management_flows is None          # no controller newly set


def test_invalid_in_band_is_left_and_named():
    hn = sample(net_other_config={"vswitch-disable-in-band": "maybe"})
    plan = update_plan.plan_update(ROOT, state(hn), host_switch(in_band="true"))
    assert plan.is_empty()
    assert plan.warnings == ["invalid vswitch-disable-in-band 'maybe' for xenbr0 left as it is"]
    # Nothing changed: exactly the no-change line (the value is logged, and in status).
    assert cfg_update._summary(plan.notes, [], plan.warnings) == "No change to configuration"
    # Named when something did change, or something failed.
    assert cfg_update._summary(["fail_mode=secure set on xapi1"], [], plan.warnings) == \
        "fail_mode=secure set on xapi1; invalid vswitch-disable-in-band 'maybe' for xenbr0 " \
        "left as it is"
    assert cfg_update._summary([], ["rewrite failed: x"], plan.warnings).startswith(
        "No change to configuration; rewrite failed: x; invalid")


def test_bond_settings_come_back_after_an_emergency_reset():
    plan = update_plan.plan_update(ROOT, state(sample()), host_switch(bond={}))
    assert plan.changes.changes == [Set("Port", "bond0", {
        "other_config:" + k: v for k, v in BOND_OTHER_CONFIG.items()})]
    assert plan.notes == ["bond settings set on bond0"]


SECURE_POOL = {"vswitch-controller-fail-mode": "secure"}
# sample()'s management flows on xenbr0 as ``ovs-ofctl --names dump-flows`` prints them.
XENBR0_FLOWS = [
    " cookie=0x78736f7673, priority=0,arp,in_port=eth0,arp_op=1 actions=LOCAL",
    " cookie=0x78736f7673, priority=0,in_port=eth0,dl_dst=02:00:00:00:00:01 actions=LOCAL",
    " cookie=0x78736f7673, priority=0,arp,in_port=LOCAL,dl_src=02:00:00:00:00:01"
    " actions=output:eth0",
    " cookie=0x78736f7673, priority=0,in_port=LOCAL,dl_src=02:00:00:00:00:01 actions=output:eth0",
]


def _flows(plan):
    flows = plan.management_flows
    return None if flows is None else (flows.path.bridge, flows.before, flows.after)


def test_management_flows_when_the_management_bridge_turns_secure_without_a_controller():
    hn = sample(pool_other_config=SECURE_POOL)
    plan = update_plan.plan_update(ROOT, state(hn), host_switch())
    # Turning secure flushes the flows: they go in after the transaction (before
    # would only put them beside the bridge's NORMAL flow until the flush).
    assert _flows(plan) == ("xenbr0", False, True)
    assert plan.management_flows.path.nics == ["eth0"]
    assert plan.notes == ["fail_mode=secure set on xapi1, xenbr0",
                          "management flows installed on xenbr0"]
    # The same when only the management network says secure, or the mode is unset.
    hn = sample(net_other_config=SECURE_POOL)
    assert _flows(update_plan.plan_update(ROOT, state(hn), host_switch(fail_mode=None))) \
        == ("xenbr0", False, True)


def test_management_flows_on_a_secure_bridge_only_when_missing():
    hn = sample(pool_other_config=SECURE_POOL)
    switch = host_switch(fail_mode="secure")
    # Missing (or unread): before the transaction, which leaves the bridge alone.
    for installed in (None, [], XENBR0_FLOWS[:3]):
        plan = update_plan.plan_update(ROOT, state(hn), switch, installed=installed)
        assert _flows(plan) == ("xenbr0", True, False)
        assert plan.notes == ["management flows installed on xenbr0"]
    # In place: nothing to do, and update says so.
    plan = update_plan.plan_update(ROOT, state(hn), switch, installed=XENBR0_FLOWS)
    assert plan.is_empty() and plan.notes == [] and plan.warnings == []
    assert cfg_update._summary(plan.notes, [], plan.warnings) == "No change to configuration"
    # Flows for another MAC (the NIC was replaced) are not in place.
    stale = [f.replace("02:00:00:00:00:01", "02:00:00:00:00:99") for f in XENBR0_FLOWS]
    assert _flows(update_plan.plan_update(ROOT, state(hn), switch, installed=stale)) \
        == ("xenbr0", True, False)


def test_management_flows_when_a_controller_is_set_or_removed_on_a_secure_bridge():
    hn = sample(pool_other_config=SECURE_POOL)
    # Newly set, the bridge secure already with its flows: the reset changes the
    # bridge, so they go in again after it.
    plan = update_plan.plan_update(ROOT, state(hn, SSL_TARGET), host_switch(fail_mode="secure"),
                                   installed=XENBR0_FLOWS)
    assert _flows(plan) == ("xenbr0", False, True)
    # Turning secure with it.
    plan = update_plan.plan_update(ROOT, state(hn, SSL_TARGET), host_switch(fail_mode=None))
    assert _flows(plan) == ("xenbr0", False, True)
    # Removed while secure, with the controller the manager had put on the bridge:
    # emer-reset takes that too, and ovs-vswitchd flushes the flows.
    switch = host_switch(fail_mode="secure", managers=["ssl:192.0.2.1:6632"], ssl=OUR_SSL,
                         controllers=1)
    plan = update_plan.plan_update(ROOT, state(hn), switch, installed=[])
    assert plan.notes[0] == "Successfully removed controller config"
    assert _flows(plan) == ("xenbr0", True, True)
    assert "management flows installed on xenbr0" in plan.notes


def test_no_management_flows_on_a_standalone_management_bridge():
    assert update_plan.plan_update(ROOT, state(sample(), SSL_TARGET),
                                   host_switch()).management_flows is None
    hn = sample(pool_other_config=SECURE_POOL,
                net_other_config={"vswitch-controller-fail-mode": "standalone"})
    plan = update_plan.plan_update(ROOT, state(hn), host_switch(fail_mode="secure"))
    assert plan.management_flows is None            # turning standalone: none needed
    # set-manager leaves the bridges as they are: a standalone one gets none.
    plan = update_plan.plan_update(ROOT, state(sample(pool_other_config=SECURE_POOL)),
                                   host_switch(), bridges=False)
    assert plan.is_empty()


def test_a_management_pif_the_flows_cannot_be_made_of():
    hn = sample(pool_other_config=SECURE_POOL)
    hn.pifs["eth0"]["MAC"] = ""
    # Turning secure without flows would cut the host off: the run fails, nothing changes.
    with pytest.raises(ModelError) as caught:
        update_plan.plan_update(ROOT, state(hn), host_switch())
    assert "no MAC" in caught.value.message
    # A standalone management bridge needs no flows: the rest goes on.
    hn.pools["pool"]["other_config"] = {}
    assert update_plan.plan_update(ROOT, state(hn), host_switch()).is_empty()


def test_a_secure_management_bridge_missing_from_ovsdb_is_named():
    hn = sample(pool_other_config=SECURE_POOL)
    switch = snapshot({"xapi1": {"ports": ["bond0"], "fail_mode": "secure",
                                 "port_other_config": {"bond0": BOND_OTHER_CONFIG}}})
    plan = update_plan.plan_update(ROOT, state(hn), switch)
    assert plan.management_flows is None
    assert plan.warnings == ["management bridge xenbr0 is not in OVSDB: no flows installed"]


def test_set_manager_leaves_bridges_alone():
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"})
    plan = update_plan.plan_update(ROOT, state(hn), host_switch(), bridges=False)
    assert plan.is_empty()


def test_summary_is_one_line():
    assert cfg_update.summary(["a\nb", "", "c"]) == "a b; c"
    assert cfg_update.summary([]) == "No change to configuration"
    names = ["br%d" % n for n in range(10)]
    assert update_plan.bridge_names(names) == "10 bridges (br0, br1, br2, ...)"
