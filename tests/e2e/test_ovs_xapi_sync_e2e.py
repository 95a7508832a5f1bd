"""ovs-xapi-sync end to end: a "VM" namespace plugged into a userspace switch.

The host namespace runs ovs-vswitchd with the userspace datapath; the VM's
eth0 is one end of a veth whose other end, vif1.0, is plugged into xenbr0 the
way XAPI's vif script does it (one ovs-vsctl transaction with the four
external ids).  The daemon (Python 3.6 when available) then adds the ids a
controller binds by, and a fail-mode change in XAPI decides whether the VM's
packets pass.
"""

import os
import time

import pytest

from xsovs_dev import netns, ovs
from xsovs_dev.skips import need
from xsovs_dev.pythons import host_python
from xsovs_dev.xapi_sync_run import (MAC, NET0, VIF, VIF_UUID, SyncDaemon,
                                     historical_fixture, make_root, vif_script_add,
                                     vif_script_ids, wait_for)
from xsovs_dev.xapisim import Simulator


@pytest.fixture
def lab(netns_ok, tmp_path):
    need(ovs.available())
    host = netns.Namespace(netns.unique("xsync%d-host" % os.getpid())).create()
    vm = netns.Namespace(netns.unique("xsync%d-vm" % os.getpid())).create()
    instance = ovs.OvsInstance(str(tmp_path / "ovs"), vswitchd="netdev", netns=host.name)
    fixture = historical_fixture()
    fixture["network"][NET0]["other_config"]["vswitch-controller-fail-mode"] = "standalone"
    sim = Simulator(fixture)
    daemon = None
    try:
        instance.start()
        sim.start()
        python = host_python()
        daemon = SyncDaemon(str(tmp_path), make_root(str(tmp_path / "root")), instance,
                            sim.url, python=python).start()
        yield host, vm, instance, sim
    finally:
        if daemon is not None:
            daemon.stop()
        sim.stop()
        instance.stop()
        netns.kill_processes(host.name)
        host.delete()
        vm.delete()


def pings(ns, address, within):
    deadline = time.time() + within
    while time.time() < deadline:
        if ns.run(["ping", "-c", "1", "-W", "1", address], check=False).returncode == 0:
            return True
    return False


def test_vm_vif_plugged_like_the_vif_script(lab):
    host, vm, switch, sim = lab
    switch.vsctl("add-br", "xenbr0", "--", "set", "Bridge", "xenbr0", "datapath_type=netdev")
    host.run(["ip", "addr", "add", "10.77.0.1/24", "dev", "xenbr0"])
    host.run(["ip", "link", "set", "xenbr0", "up"])
    # The VM's NIC: eth0 inside the VM, vif1.0 on the host.
    netns.veth(host, "vif1.0", vm, "eth0")
    vm.run(["ip", "link", "set", "eth0", "down"])
    vm.run(["ip", "link", "set", "eth0", "address", MAC])
    vm.run(["ip", "addr", "add", "10.77.0.2/24", "dev", "eth0"])
    vm.run(["ip", "link", "set", "eth0", "up"])
    # As XAPI's vif script: down, plug with the ids in one transaction, up.
    host.run(["ip", "link", "set", "vif1.0", "down"])
    switch.vsctl("--timeout=30", *vif_script_add("xenbr0", "vif1.0", vif_script_ids()))
    host.run(["ip", "link", "set", "vif1.0", "up"])

    def ids():
        return switch.vsctl("get", "Interface", "vif1.0", "external-ids").strip()

    assert wait_for(lambda: "iface-id" in ids() and "vm-id" in ids()), ids()
    assert 'iface-id="custom iface ID"' in ids()
    assert "iface-status=active" in ids() and 'vm-id="custom vm ID"' in ids()
    assert wait_for(lambda: switch.get("Bridge", "xenbr0", "fail_mode") == "standalone")
    assert pings(vm, "10.77.0.1", within=15)

    # XAPI says secure: with no controller, the VM's packets stop.
    sim.store.set("network", NET0, "other_config", {"vswitch-controller-fail-mode": "secure"})
    assert wait_for(lambda: switch.get("Bridge", "xenbr0", "fail_mode") == "secure")
    assert wait_for(lambda: not pings(vm, "10.77.0.1", within=1), timeout=10)
    # A controller binding by iface-id finds the VIF's new id.
    sim.store.set("VIF", VIF, "other_config", {"nicira-iface-id": "lsp-" + VIF_UUID})
    assert wait_for(lambda: switch.get("Interface", "vif1.0", "external-ids:iface-id")
                    .strip('"') == "lsp-" + VIF_UUID)
    ofport = switch.get("Interface", "vif1.0", "ofport")
    assert int(ofport) > 0
