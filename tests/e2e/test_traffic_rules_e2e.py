"""Traffic rules end to end: VMs in namespaces, real TCP, UDP and ICMP through a userspace switch.

A host namespace runs a userspace (netdev) Open vSwitch whose bridges
``interface-reconfigure`` builds from XAPI (the simulator): a NIC (xenbr0),
a VLAN on it (xapi2, a fake bridge) and an active-backup bond (xapi1).  Its
NICs are veths to a peer namespace, whose own userspace switch carries the
untagged network, VLAN 100 and the bond's far end.  A "VM" namespace per
network is plugged the way xenopsd plugs a VIF; ``ovs-xapi-sync`` enforces
the VIF's rules from XAPI, with nobody calling any plugin.  The peer listens
with ``nc`` and answers ``ping``.
"""

import json
import os
import shutil
import socket

import pytest

from tests.support import traffic_host as th
from tests.support.traffic_host import rule, stored
from tests.support.traffic_lab import (ALLOWED, DENIED, PEER, PEER6, SECOND_PEER, VMS, Lab)
from xsovs_dev import netns, ovs, toolstack
from xsovs_dev.skips import need
from xsovs_dev.xapi_sync_run import wait_for

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    need(netns.unavailable_reason())
    need(ovs.available())
    for program in ("ping", "nc", "ethtool"):
        need(None if shutil.which(program) else "%s is not installed (make setup)" % program)
    the_lab = Lab(str(tmp_path_factory.mktemp("traffic-e2e")))
    try:
        yield the_lab.start()
    finally:
        leftovers = the_lab.stop()
    assert leftovers == [], "processes left running in the lab's namespaces"


def deny_port_rules():
    return stored(rule(False, "TCP", DENIED, "", "to"))


def passes(check):
    """``check`` succeeds (the switch revalidates its cached flows within moments)."""
    return bool(wait_for(check, timeout=8, interval=0.2))


def blocked(check):
    """``check`` fails, and again once more: a deny that holds, not a lost packet."""
    return bool(wait_for(lambda: not check(), timeout=8, interval=0.2)) and not check()


@pytest.mark.parametrize("n", sorted(VMS), ids=[VMS[n][0] for n in sorted(VMS)])
def test_a_denied_tcp_port_fails_and_an_allowed_one_passes(lab, n):
    peer = PEER[VMS[n][0]]
    assert passes(lambda: lab.tcp(n, peer, ALLOWED)), "no path to the peer"
    assert lab.tcp(n, peer, DENIED)
    lab.wait_rules(n, deny_port_rules())
    assert blocked(lambda: lab.tcp(n, peer, DENIED))
    assert passes(lambda: lab.tcp(n, peer, ALLOWED))
    lab.wait_rules(n, None)
    assert passes(lambda: lab.tcp(n, peer, DENIED))


def test_udp_icmp_and_ip_ranges(lab):
    lab.wait_rules(1, stored(rule(False, "UDP", DENIED, "192.0.2.1", "to"),
                             rule(False, "ICMP", None, SECOND_PEER, "to"),
                             rule(False, "ICMP", None, SECOND_PEER, "from")))
    assert blocked(lambda: lab.udp(1, PEER["xenbr0"], DENIED))
    assert passes(lambda: lab.udp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.ping(1, SECOND_PEER))                 # the range denied
    assert passes(lambda: lab.ping(1, PEER["xenbr0"]))               # outside it
    assert blocked(lambda: lab.peer_ping(SECOND_PEER, VMS[1][1]))    # into the VM, from it
    assert passes(lambda: lab.peer_ping(PEER["xenbr0"], VMS[1][1]))
    lab.wait_rules(1, None)
    assert passes(lambda: lab.ping(1, SECOND_PEER))


def test_an_allow_punches_through_a_wider_deny_and_other_owners_still_decide(lab):
    lab.wait_rules(1, stored(rule(False, "IP", None, "", "to"),
                             rule(True, "TCP", ALLOWED, "192.0.2.0/24", "to"),
                             rule(True, "ARP", None, "", "to")))
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    assert blocked(lambda: lab.ping(1, PEER["xenbr0"]))
    # Another owner's deny (XAPI's locking flows' cookie) still holds for what xsovs allows.
    target = "unix:%s/xenbr0.mgmt" % lab.host_ovs.rundir
    ofport = lab.host_ovs.get("Interface", "vif1.0", "ofport")
    lab.host_ovs.ofctl("add-flow", target, "cookie=0x1,priority=4000,in_port=%s,tcp,tp_dst=%d,"
                       "actions=drop" % (ofport, ALLOWED))
    try:
        assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    finally:
        lab.host_ovs.ofctl("del-flows", target, "cookie=0x1/-1")
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    lab.wait_rules(1, None)


def test_a_spoofed_mac_is_still_denied(lab):
    lab.wait_rules(1, deny_port_rules())
    vm = lab.vms[1]
    vm.run(["ip", "link", "set", "eth0", "address", "02:aa:bb:cc:dd:ee"])
    try:
        assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
        assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    finally:
        vm.run(["ip", "link", "set", "eth0", "address", th.mac(1)])
    lab.wait_rules(1, None)


def test_a_guest_that_takes_another_mac_still_meets_its_rules_on_traffic_to_it(lab):
    # XO's "from": replies from the peer's port DENIED, and ARP and ICMP from SECOND_PEER.
    lab.wait_rules(1, stored(rule(False, "TCP", DENIED, "", "from"),
                             rule(False, "ARP", None, SECOND_PEER, "from"),
                             rule(False, "ICMP", None, SECOND_PEER, "from")))
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    assert passes(lambda: lab.peer_ping(PEER["xenbr0"], VMS[1][1]))
    assert blocked(lambda: lab.peer_ping(SECOND_PEER, VMS[1][1]))
    # Another MAC: the switch would learn it on the VIF's port and deliver to it
    # unjudged; the port is pinned to the VIF's MAC instead, so none of it passes.
    lab.new_mac(1, "02:aa:bb:cc:dd:01")
    try:
        assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
        assert blocked(lambda: lab.peer_ping(SECOND_PEER, VMS[1][1]))
        assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))   # as XAPI's locked mode
    finally:
        lab.new_mac(1, th.mac(1))
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    lab.wait_rules(1, None)
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))


def test_a_rule_for_any_address_holds_for_ipv6_and_one_with_a_range_does_not(lab):
    def tcp6(port):
        return lab.tcp(1, PEER6, port)
    assert passes(lambda: tcp6(ALLOWED)), "no IPv6 path to the peer"
    assert tcp6(DENIED)
    # ICMPv6 denied too, yet TCP over IPv6 goes on: neighbour discovery is not judged.
    lab.wait_rules(1, stored(rule(False, "TCP", DENIED, "", "to"),
                             rule(False, "ICMP", None, "", "to")))
    lab.vms[1].run(["ip", "-6", "neigh", "flush", "all"])
    assert blocked(lambda: tcp6(DENIED))
    assert passes(lambda: tcp6(ALLOWED))
    assert blocked(lambda: lab.ping(1, PEER6))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    # An IPv4 range: IPv4 only.
    lab.wait_rules(1, stored(rule(False, "TCP", DENIED, "192.0.2.0/24", "to")))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    assert passes(lambda: tcp6(DENIED))
    assert passes(lambda: lab.ping(1, PEER6))
    lab.wait_rules(1, None)


def test_xapis_locking_flows_and_the_rules_hold_together(lab):
    """VM 2, on the VLAN: XAPI's locking flows and xsovs's both on the parent bridge."""
    peer, address = PEER["xapi2"], VMS[2][1]
    spoofed = "198.51.100.99"
    lab.vms[2].run(["ip", "addr", "add", spoofed + "/24", "dev", "eth0"])
    lab.wait_rules(2, deny_port_rules())
    try:
        # XAPI locks the VIF: xenopsd runs setup-vif-rules again, which deletes the port's
        # cookie-1 flows, deletes and adds the port (a new ofport) and adds its locking flows.
        lab.set_locking(2, "vif2.0", toolstack.locked([address]))
        assert wait_for(lambda: lab.enforced(2, True, port="vif2.0"), timeout=30), \
            lab.daemon.log()
        xenbr0 = "unix:%s/xenbr0.mgmt" % lab.host_ovs.rundir
        assert "cookie=0x1," in lab.host_ovs.ofctl("dump-flows", xenbr0, "cookie=1/-1")
        assert passes(lambda: lab.tcp(2, peer, ALLOWED))
        assert blocked(lambda: lab.tcp(2, peer, DENIED))                 # the rule
        assert blocked(lambda: lab.tcp(2, peer, ALLOWED, source=spoofed))  # the locking
        # A rule edit under the lock.
        lab.wait_rules(2, stored(rule(False, "TCP", ALLOWED, "", "to")))
        assert blocked(lambda: lab.tcp(2, peer, ALLOWED))
        assert passes(lambda: lab.tcp(2, peer, DENIED))
        lab.wait_rules(2, deny_port_rules())
        # Unlocked again: setup-vif-rules once more; the rules stay, the locking goes.
        lab.set_locking(2, "vif2.0", toolstack.UNLOCKED)
        assert wait_for(lambda: lab.enforced(2, True, port="vif2.0"), timeout=30)
        assert lab.host_ovs.ofctl("dump-flows", xenbr0, "cookie=1/-1").count("cookie=") == 0
        assert blocked(lambda: lab.tcp(2, peer, DENIED))
        assert passes(lambda: lab.tcp(2, peer, ALLOWED, source=spoofed))
    finally:
        lab.vms[2].run(["ip", "addr", "del", spoofed + "/24", "dev", "eth0"], check=False)
    lab.wait_rules(2, None)


def test_a_restart_while_xapi_is_unreachable_keeps_enforcing_the_rules(lab):
    lab.wait_rules(1, deny_port_rules())
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    lab.daemon.stop()
    unreachable = socket.socket()          # bound, never listening: connections refused
    unreachable.bind(("127.0.0.1", 0))
    try:
        # ovs-vswitchd restarts while ovs-xapi-sync is down: its flow tables start empty.
        lab.host_ovs.stop_vswitchd()
        lab.host_ovs.start_vswitchd()
        assert passes(lambda: lab.tcp(1, PEER["xenbr0"], DENIED)), "nothing enforces now"
        # ovs-xapi-sync starts with XAPI out of reach: the rules kept on disk hold.
        lab.daemon = lab.start_daemon("http://127.0.0.1:%d/" % unreachable.getsockname()[1])
        assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED)), lab.daemon.log()
        assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
        report = json.loads(lab.daemon.appctl("traffic-rules/show").stdout)
        assert report["source"].startswith("kept on disk")
    finally:
        lab.daemon.stop()
        unreachable.close()
        lab.daemon = lab.start_daemon()
    # XAPI again: its records take over, and an edit goes through as before.
    assert wait_for(lambda: lab.enforced(1, True), timeout=30), lab.daemon.log()
    lab.wait_rules(1, None)
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))


def test_rules_hold_after_migration_and_vswitchd_restart(lab):
    lab.wait_rules(1, deny_port_rules())
    calls = len(lab.sim.plugin_calls)
    # Migrated back under another domain id: xenopsd unplugs vif1.0, plugs vif9.0.
    toolstack.vif_remove(lab.run, "vif1.0")
    lab.host.run(["ip", "link", "set", "vif1.0", "down"])
    lab.host.run(["ip", "link", "set", "vif1.0", "name", "vif9.0"])
    lab.host.run(["ip", "link", "set", "vif9.0", "up"])
    lab.plug(1, "vif9.0")
    assert wait_for(lambda: lab.enforced(1, True, port="vif9.0"), timeout=30)
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    # ovs-vswitchd restarts: its flow tables come back empty; the daemon notices.
    lab.host_ovs.stop_vswitchd()
    lab.host_ovs.start_vswitchd()
    with open(os.path.join(lab.host_ovs.rundir, "ovs-vswitchd.pid")) as handle:
        pid = int(handle.read())

    def reinstalled():
        answer = lab.daemon.appctl("traffic-rules/show")
        return answer.returncode == 0 and json.loads(answer.stdout)["vswitchd_pid"] == pid \
            and lab.enforced(1, True)
    assert wait_for(reinstalled, timeout=30)
    assert passes(lambda: lab.tcp(1, PEER["xenbr0"], ALLOWED))
    assert blocked(lambda: lab.tcp(1, PEER["xenbr0"], DENIED))
    assert len(lab.sim.plugin_calls) == calls           # no plugin call: XAPI's data alone
    lab.wait_rules(1, None)
