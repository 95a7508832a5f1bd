"""The simulator's event.from and VIF/VM classes, through the real XenAPI client."""

import threading
import time
import xmlrpc.client

import pytest
import XenAPI

from xsovs_dev.xapisim import Simulator


@pytest.fixture
def sim():
    s = Simulator("one-host")
    s.start()
    yield s
    s.stop()


@pytest.fixture
def x(sim):
    session = XenAPI.Session(sim.url)
    session.xenapi.login_with_password("root", "", "1.0", "xsovs-tests")
    return session.xenapi


def event_from(x, classes, token, timeout):
    return getattr(x, "event.from")(classes, token, timeout)


def add_vm_vif(sim, other_config=None):
    net = sorted(sim.store.refs("network"))[0]
    vm = sim.store.add("VM", {"name_label": "vm1"})
    vif = sim.store.add("VIF", {"VM": vm, "network": net, "device": "0",
                                "other_config": dict(other_config or {})})
    return net, vm, vif


def test_empty_token_is_everything_now_and_classes_filter(sim, x):
    net, vm, vif = add_vm_vif(sim)
    reply = event_from(x, ["VIF", "vm"], "", 1.0)
    got = {(e["class"], e["operation"], e["ref"]) for e in reply["events"]}
    assert got == {("vif", "add", vif), ("vm", "add", vm)}
    for event in reply["events"]:
        assert set(event) == {"id", "timestamp", "class", "operation", "ref", "snapshot"}
    snap = [e for e in reply["events"] if e["class"] == "vif"][0]["snapshot"]
    assert snap["uuid"] == sim.store.field("VIF", vif, "uuid")
    assert snap["VM"] == vm and snap["network"] == net
    assert reply["valid_ref_counts"]["vif"] == 1
    head, tail = reply["token"].split(",")
    assert len(head) == len(tail) == 20 and head.isdigit()
    # Back-references are derived.
    assert x.VM.get_VIFs(vm) == [vif]
    assert vif in x.network.get_VIFs(net)


def test_token_returns_mod_and_del_since(sim, x):
    _, vm, vif = add_vm_vif(sim)
    token = event_from(x, ["VIF"], "", 1.0)["token"]
    x.VIF.add_to_other_config(vif, "nicira-iface-id", "iface-a")
    x.VM.add_to_other_config(vm, "nicira-vm-id", "vm-a")   # not subscribed
    reply = event_from(x, ["VIF"], token, 1.0)
    assert [(e["operation"], e["ref"]) for e in reply["events"]] == [("mod", vif)]
    assert reply["events"][0]["snapshot"]["other_config"] == {"nicira-iface-id": "iface-a"}
    sim.store.remove("VIF", vif)
    reply = event_from(x, ["VIF"], reply["token"], 1.0)
    assert reply["events"] == [{"id": reply["events"][0]["id"],
                                "timestamp": reply["events"][0]["timestamp"],
                                "class": "vif", "operation": "del", "ref": vif}]
    assert x.VM.get_other_config(vm) == {"nicira-vm-id": "vm-a"}


def test_object_subscription_and_star(sim, x):
    _, vm, vif = add_vm_vif(sim)
    only = event_from(x, ["VM/" + vm], "", 1.0)
    assert [e["ref"] for e in only["events"]] == [vm]
    everything = event_from(x, ["*"], "", 1.0)
    assert {"pool", "host", "pif", "network", "vm", "vif"} <= {
        e["class"] for e in everything["events"]}


def test_waits_up_to_timeout_when_nothing_changed(sim, x):
    token = event_from(x, ["VIF"], "", 1.0)["token"]
    started = time.monotonic()
    reply = event_from(x, ["VIF"], token, 0.5)
    assert reply["events"] == []
    assert time.monotonic() - started >= 0.45


def test_wakes_as_soon_as_something_changed(sim, x):
    _, _, vif = add_vm_vif(sim)
    token = event_from(x, ["VIF"], "", 1.0)["token"]
    timer = threading.Timer(0.2, lambda: sim.store.set(
        "VIF", vif, "other_config", {"nicira-iface-id": "b"}))
    timer.start()
    started = time.monotonic()
    reply = event_from(x, ["VIF"], token, 10.0)
    timer.join()
    assert time.monotonic() - started < 5
    assert reply["events"][0]["snapshot"]["other_config"] == {"nicira-iface-id": "b"}


def test_bad_token_and_ended_session(sim, x):
    with pytest.raises(XenAPI.Failure) as info:
        event_from(x, ["VIF"], "nonsense", 1.0)
    assert info.value.details == ["EVENT_FROM_TOKEN_PARSE_FAILURE", "nonsense"]
    # Raw calls: XenAPI's own session would log in again by itself.
    proxy = xmlrpc.client.ServerProxy(sim.url)
    ref = sim.login()
    token = getattr(proxy, "event.from")(ref, ["VIF"], "", 1.0)["Value"]["token"]
    threading.Timer(0.2, sim.forget_sessions).start()
    started = time.monotonic()
    reply = getattr(proxy, "event.from")(ref, ["VIF"], token, 10.0)
    assert reply["ErrorDescription"] == ["SESSION_INVALID", ref]
    assert time.monotonic() - started < 5


def test_vif_vm_other_config_setters(sim, x):
    _, vm, vif = add_vm_vif(sim)
    x.VIF.set_other_config(vif, {"nicira-iface-id": "i"})
    x.VIF.remove_from_other_config(vif, "nicira-iface-id")
    x.VM.set_other_config(vm, {"nicira-vm-id": "v"})
    assert x.VIF.get_other_config(vif) == {}
    assert x.VM.get_record(vm)["other_config"] == {"nicira-vm-id": "v"}
    assert x.VIF.get_by_uuid(sim.store.field("VIF", vif, "uuid")) == vif
    with pytest.raises(XenAPI.Failure) as info:
        x.VIF.get_record("OpaqueRef:gone")
    assert info.value.details[0] == "HANDLE_INVALID"
    assert sim.api.calls["VIF.set_other_config"] == 1
