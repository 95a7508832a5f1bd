"""ovs-xapi-sync moves the VIFs of OVN networks to the integration bridge (sync.ovn_ports).

A real ovsdb-server with a dummy ovs-vswitchd, the XAPI simulator, the daemon
as a process.  VIFs are plugged and unplugged with xenopsd's own commands,
bridges made with xcp-networkd's: neither is changed, and the port ends up on
``br-int`` with its interface's ids, iface-id included.
"""

import subprocess

import pytest

from xsovs_common.net import ovn
from xsovs_dev.fakeroot import FakeRoot
from xsovs_dev.xapi_sync_run import SyncDaemon, make_root, wait_for
from xsovs_dev.xapisim import Simulator
from xsovs_dev.toolstack import create_bridge, plug_vif, unplug_vif

POOL = "OpaqueRef:pool"
OVN_NET, PLAIN_NET = "OpaqueRef:net-ovn", "OpaqueRef:net-plain"
OVN_UUID = "0b3c1f3e-0000-4000-8000-00000000a001"
PLAIN_UUID = "0b3c1f3e-0000-4000-8000-00000000a002"
VM_UUID = "0b3c1f3e-0000-4000-8000-00000000b001"
VIF1, VIF2 = "0b3c1f3e-0000-4000-8000-00000000c001", "0b3c1f3e-0000-4000-8000-00000000c002"
HOST_UUID = "0b3c1f3e-0000-4000-8000-00000000e001"
SB = "tcp:192.0.2.1:6642"


def fixture():
    return {
        "pool": {POOL: {"uuid": "0b3c1f3e-0000-4000-8000-00000000d001",
                        "other_config": {ovn.POOL_SB: SB}}},
        "host": {"OpaqueRef:host": {"uuid": HOST_UUID, "name_label": "host1"}},
        "network": {
            OVN_NET: {"uuid": OVN_UUID, "bridge": "xapi5",
                      "other_config": {ovn.NETWORK_OVN: "true"}},
            PLAIN_NET: {"uuid": PLAIN_UUID, "bridge": "xapi6", "other_config": {}}},
        "PIF": {"OpaqueRef:pif": {"uuid": "0b3c1f3e-0000-4000-8000-00000000f001",
                                  "host": "OpaqueRef:host", "network": PLAIN_NET,
                                  "device": "eth6"}},          # xapi6 is a NIC's network
        "VM": {"OpaqueRef:vm": {"uuid": VM_UUID, "other_config": {}}},
        "VIF": {"OpaqueRef:vif1": {"uuid": VIF1, "VM": "OpaqueRef:vm", "network": OVN_NET,
                                   "device": "0", "MAC": "02:00:00:00:01:01"},
                "OpaqueRef:vif2": {"uuid": VIF2, "VM": "OpaqueRef:vm", "network": PLAIN_NET,
                                   "device": "1", "MAC": "02:00:00:00:01:02"}},
    }


@pytest.fixture
def lab(ovs, tmp_path):
    sim = Simulator(fixture())
    sim.start()
    ovs.vsctl("add-br", "br-int")
    for bridge, uuid in (("xapi5", OVN_UUID), ("xapi6", PLAIN_UUID)):
        ovs.vsctl(*create_bridge(bridge, uuid))
    root = make_root(str(tmp_path / "root"))
    FakeRoot(root, host_uuid=HOST_UUID)            # its inventory: which host it is
    daemon = SyncDaemon(str(tmp_path), root, ovs, sim.url).start()
    try:
        yield ovs, sim, daemon
    finally:
        daemon.stop()
        sim.stop()


def bridge_of(ovs, port):
    """The bridge holding ``port``, or "" when there is none."""
    try:
        return ovs.vsctl("port-to-br", port).strip()
    except subprocess.CalledProcessError:
        return ""


def ids(ovs, iface):
    return ovs.vsctl("get", "Interface", iface, "external_ids").strip()


def test_vif_of_an_ovn_network_lands_on_br_int_with_its_ids(lab):
    ovs, sim, daemon = lab
    ovs.vsctl(*plug_vif("xapi5", "vif1.0", OVN_UUID, VIF1, VM_UUID, "02:00:00:00:01:01"))
    ovs.vsctl(*plug_vif("xapi6", "vif1.1", PLAIN_UUID, VIF2, VM_UUID, "02:00:00:00:01:02"))
    assert wait_for(lambda: bridge_of(ovs, "vif1.0") == "br-int"), daemon.log()
    assert wait_for(lambda: 'iface-id="%s"' % VIF1 in ids(ovs, "vif1.0"))
    found = ids(ovs, "vif1.0")
    for key in ("attached-mac", "xs-network-uuid", "xs-vif-uuid", "xs-vm-uuid"):
        assert key in found
    assert wait_for(lambda: "iface-id" in ids(ovs, "vif1.1"))
    assert bridge_of(ovs, "vif1.1") == "xapi6"          # not an OVN network: left there

    # xenopsd's unplug finds it on br-int; its re-plug (a new domain: vif2.0) lands there too.
    ovs.vsctl(*unplug_vif("vif1.0"))
    assert bridge_of(ovs, "vif1.0") == ""
    ovs.vsctl(*plug_vif("xapi5", "vif2.0", OVN_UUID, VIF1, VM_UUID, "02:00:00:00:01:01"))
    assert wait_for(lambda: bridge_of(ovs, "vif2.0") == "br-int")
    assert wait_for(lambda: 'iface-id="%s"' % VIF1 in ids(ovs, "vif2.0"))
    # xcp-networkd recreating the network's bridge does not pull it back.
    ovs.vsctl(*create_bridge("xapi5", OVN_UUID))
    assert bridge_of(ovs, "vif2.0") == "br-int"


def test_ovn_off_brings_the_port_home_and_a_bad_key_moves_nothing(lab):
    ovs, sim, daemon = lab
    ovs.vsctl(*plug_vif("xapi5", "vif1.0", OVN_UUID, VIF1, VM_UUID, "02:00:00:00:01:01"))
    assert wait_for(lambda: bridge_of(ovs, "vif1.0") == "br-int")
    sim.store.set("pool", POOL, "other_config", {ovn.POOL_SB: "nonsense"})
    assert not wait_for(lambda: bridge_of(ovs, "vif1.0") != "br-int", timeout=1.5)
    assert "OVN ports left where they are" in daemon.log()
    sim.store.set("pool", POOL, "other_config", {})
    assert wait_for(lambda: bridge_of(ovs, "vif1.0") == "xapi5")
    sim.store.set("pool", POOL, "other_config", {ovn.POOL_SB: SB})
    assert wait_for(lambda: bridge_of(ovs, "vif1.0") == "br-int")
    sim.store.set("network", OVN_NET, "other_config", {ovn.NETWORK_OVN: "false"})
    assert wait_for(lambda: bridge_of(ovs, "vif1.0") == "xapi5")


def test_a_network_with_a_pif_is_no_ovn_network_and_its_vifs_stay(lab):
    """xsovs:ovn=true set by mistake on a NIC's network (xenbr0's, say) is refused, as
    ovn-xapi-sync refuses it: its VIFs stay on its bridge, where the NIC carries them;
    on br-int nothing would bind them."""
    ovs, sim, daemon = lab
    sim.store.set("network", PLAIN_NET, "other_config",
                  {ovn.NETWORK_OVN: "true", "nicira-bridge-id": "seen"})
    # The daemon has the change: it wrote the bridge id the same record carries.
    assert wait_for(lambda: ovs.vsctl("--if-exists", "get", "Bridge", "xapi6",
                                      "external_ids:bridge-id").strip().strip('"') == "seen")
    ovs.vsctl(*plug_vif("xapi6", "vif1.1", PLAIN_UUID, VIF2, VM_UUID, "02:00:00:00:01:02"))
    ovs.vsctl(*plug_vif("xapi5", "vif1.0", OVN_UUID, VIF1, VM_UUID, "02:00:00:00:01:01"))
    assert wait_for(lambda: bridge_of(ovs, "vif1.0") == "br-int")     # planned together
    assert wait_for(lambda: "iface-id" in ids(ovs, "vif1.1"))
    assert bridge_of(ovs, "vif1.1") == "xapi6"
    assert "the network has PIFs" in daemon.log()


def test_without_br_int_nothing_moves(lab):
    ovs, sim, daemon = lab
    ovs.vsctl("del-br", "br-int")
    ovs.vsctl(*plug_vif("xapi5", "vif1.0", OVN_UUID, VIF1, VM_UUID, "02:00:00:00:01:01"))
    assert wait_for(lambda: "iface-id" in ids(ovs, "vif1.0"))
    assert bridge_of(ovs, "vif1.0") == "xapi5"
    ovs.vsctl("add-br", "br-int")              # as ovn-controller makes it
    assert wait_for(lambda: bridge_of(ovs, "vif1.0") == "br-int")


def test_a_change_of_the_pool_keys_runs_the_plugins_update_on_this_host(lab):
    ovs, sim, daemon = lab
    assert wait_for(lambda: ovs.vsctl("--if-exists", "get", "Bridge", "xapi5",
                                      "external_ids:bridge-id").strip())   # it is ready
    sim.store.set("pool", POOL, "other_config", {ovn.POOL_SB: SB, ovn.POOL_ENCAP_TYPE: "vxlan"})

    def updates():
        return [c for c in sim.plugin_calls if c.fn == "update"]
    assert wait_for(updates, timeout=10), daemon.log()
    call = updates()[0]
    assert (call.plugin, call.args) == ("openvswitch-cfg-update", {})
    sim.store.set("network", OVN_NET, "name_label", "renamed")   # not a pool key change
    assert not wait_for(lambda: len(updates()) > 1, timeout=1.5)
