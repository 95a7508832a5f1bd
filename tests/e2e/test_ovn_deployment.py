"""Two pools as one OVN deployment, end to end (xsovs_dev.ovn.lab).

Three simulated hosts in two pools (namespaces, each with its own userspace
Open vSwitch, root and ovn-controller), one OVN central (NB and SB 3-member
Raft clusters, ovn-northd) in the namespace that routes between them.  Each
pool's ``other_config`` has the OVN keys; XAPI runs the plugin's ``update``,
which makes every host a chassis; each pool's master runs ``ovn-xapi-sync``,
which writes the pool's logical switch and ports to NB.  VMs are namespaces
plugged with xenopsd's own command on the bridge xcp-networkd's own command
made; ``ovs-xapi-sync`` moves them where ``ovn-controller`` binds them.
Outcomes asserted: SB Chassis rows, Port_Binding rows, packets.
"""

import pytest

from tests.support.ovn_sync import in_step
from xsovs_common.net import ovn
from xsovs_dev import netns
from xsovs_dev.ovn import central as centralmod
from xsovs_dev.ovn.lab import Lab, NETWORK_BRIDGE
from xsovs_dev.skips import need
from xsovs_dev.xapi_sync_run import wait_for


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    need(netns.unavailable_reason())
    need(centralmod.available())
    the_lab = Lab(str(tmp_path_factory.mktemp("ovn-lab")))
    try:
        the_lab.start()
        yield the_lab
    finally:
        assert the_lab.close() == [], "processes left behind"


def bound(lab, vm, host):
    return wait_for(lambda: lab.chassis_of(vm) == host.uuid, timeout=30)


def logical_port(lab, vm):
    """The NB row of ``vm``'s logical switch port, as ovn-nbctl lists it."""
    return lab.central.nbctl("--columns=_uuid,name,addresses,port_security,enabled,"
                             "external_ids", "find", "Logical_Switch_Port",
                             "name=" + vm.vif_uuid)


def test_every_host_is_a_chassis_and_vms_ping_across_hosts_and_pools(lab):
    hosts = lab.hosts
    assert wait_for(lambda: len(lab.encap_ips()) == 3, timeout=30)
    assert lab.encap_ips() == {h.uuid: ("geneve", h.address) for h in hosts.values()}
    for host in hosts.values():
        rules = host.run(["iptables", "-S", "INPUT"]).stdout
        assert "-p udp -m udp --dport 6081 -m comment --comment xsovs-ovn -j ACCEPT" in rules
        assert "-P INPUT DROP" in rules

    a = lab.vm("a", "10.99.0.1", "host1")
    b = lab.vm("b", "10.99.0.2", "host2")
    c = lab.vm("c", "10.99.0.3", "host3")         # the other pool
    for vm, host in ((a, "host1"), (b, "host2"), (c, "host3")):
        assert bound(lab, vm, hosts[host])
        assert hosts[host].bridge_of(vm.dev) == "br-int"
        iface_id = hosts[host].vsctl("get", "Interface", vm.dev, "external_ids:iface-id")
        assert iface_id.strip().strip('"') == vm.vif_uuid
    assert lab.pings("a", "b") and lab.pings("b", "a")          # across hosts
    assert lab.pings("c", "a") and lab.pings("b", "c")          # across pools
    # Nothing crossed the hosts but Geneve: the VMs' network has no other path.
    assert hosts["host1"].vsctl("list-ports", NETWORK_BRIDGE).split() == []


def test_migration_moves_the_binding_and_traffic_resumes(lab):
    b = lab.vms["b"]
    source, target = lab.hosts["host2"], lab.hosts["host1"]
    old_dev = b.dev
    sync = b.pool.nb_sync
    written = in_step(sync)["nb"]["transactions"]
    port = logical_port(lab, b)
    lab.migrate(b, target)                       # unplugged on host2, vif2.0 on host1
    assert b.dev != old_dev and source.bridge_of(old_dev) == ""
    assert bound(lab, b, target)
    assert target.bridge_of(b.dev) == "br-int"
    assert lab.pings("c", "b") and lab.pings("a", "b")
    # The binding moved on its own: the logical port is the same row, unchanged, and
    # ovn-xapi-sync saw XAPI's changes (VM resident_on, domid) but wrote nothing to NB.
    assert logical_port(lab, b) == port
    assert in_step(sync)["nb"]["transactions"] == written


def test_nb_and_sb_leaders_killed_traffic_goes_on_and_a_new_vif_is_bound(lab):
    central = lab.central
    nb = central.kill_leader("nb")
    sb = central.kill_leader("sb")
    assert not nb.alive and not sb.alive
    assert lab.pings("a", "c", within=10)
    d = lab.vm("d", "10.99.0.4", "host2")
    assert bound(lab, d, lab.hosts["host2"])
    assert lab.pings("d", "a") and lab.pings("d", "c")
    central.nb.restart(nb)
    central.sb.restart(sb)


def test_ovn_off_for_a_pool_takes_its_hosts_back(lab):
    pool = lab.pools["pool-b"]
    host = lab.hosts["host3"]
    pool.x.pool.remove_from_other_config(pool.pool_ref, ovn.POOL_SB)
    # ovs-xapi-sync sees the pool change and has XAPI run the plugin's update.
    assert wait_for(lambda: host.uuid not in lab.encap_ips(), timeout=60)
    assert wait_for(lambda: host.bridge_of(lab.vms["c"].dev) == NETWORK_BRIDGE, timeout=30)
    # The plugin's last step closes the port: it may still be running.
    assert wait_for(lambda: "xsovs-ovn" not in host.run(["iptables", "-S", "INPUT"]).stdout)
    ids = host.vsctl("get", "Open_vSwitch", ".", "external_ids")
    assert "ovn-remote" not in ids and "xsovs-ovn" not in ids
    assert not lab.pings("a", "c", within=3)
    assert lab.pings("a", "b")                   # the other pool is still on OVN
