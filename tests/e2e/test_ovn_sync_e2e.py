"""What VMs see of what ovn-xapi-sync writes: traffic rules and port security, end to end.

One pool of two hosts on an OVN central (xsovs_dev.ovn.lab: namespaces with
userspace Open vSwitch and ovn-controller, NB and SB Raft clusters and
ovn-northd); the pool's master runs ovn-xapi-sync, which writes the logical
ports and their ACLs from XAPI.  Rules and locking modes are set through
XAPI's own calls, as Xen Orchestra and an administrator make them.
Outcomes asserted: TCP connections made or refused, pings answered or not.
"""

import json
import threading

import pytest

from xsovs_common.net import traffic_rules as tr
from xsovs_dev import netns
from xsovs_dev.ovn import central as centralmod
from xsovs_dev.ovn.lab import Lab
from xsovs_dev.skips import need
from xsovs_dev.xapi_sync_run import wait_for

PORT = 8080
DENY_PORT = json.dumps({"allow": False, "protocol": "tcp", "port": PORT, "ipRange": "",
                        "direction": "to"})


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    need(netns.unavailable_reason())
    need(centralmod.available())
    the_lab = Lab(str(tmp_path_factory.mktemp("ovn-sync-lab")),
                  pools=(("pool-a", ("host1", "host2")),))
    try:
        the_lab.start()
        pool = the_lab.pools["pool-a"]
        pool.x.pool.add_to_other_config(pool.pool_ref, tr.OF_FORMAT_KEY, tr.FORMAT_PLUGIN)
        yield the_lab
    finally:
        assert the_lab.close() == [], "processes left behind"


@pytest.fixture(scope="module")
def vms(lab):
    a = lab.vm("a", "10.99.0.1", "host1")
    b = lab.vm("b", "10.99.0.2", "host2")
    assert lab.pings("a", "b", within=60), "the sync's ports never carried traffic"
    listener = netns.socket_in(b.ns.name)
    listener.bind(("0.0.0.0", PORT))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    accepting = threading.Thread(target=_accept, args=(listener, stop), daemon=True)
    accepting.start()
    yield a, b
    stop.set()
    accepting.join()
    listener.close()


def _accept(listener, stop):
    """Take every connection and close it, so the backlog never fills."""
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except OSError:
            continue
        conn.close()


def connects(src, dst, timeout=1.0):
    """Whether a TCP connection from VM ``src`` to ``dst``:PORT is made."""
    client = netns.socket_in(src.ns.name)
    client.settimeout(timeout)
    try:
        client.connect((dst.ip, PORT))
        return True
    except OSError:
        return False
    finally:
        client.close()


def new_mac(lab, vm, mac):
    """The guest puts another MAC on its NIC; both ends forget their neighbours."""
    vm.run(["ip", "link", "set", "eth0", "down"])
    vm.run(["ip", "link", "set", "eth0", "address", mac])
    vm.run(["ip", "link", "set", "eth0", "up"])
    for other in lab.vms.values():
        other.run(["ip", "neigh", "flush", "all"])


def test_a_rule_denying_tcp_holds_while_ping_passes_whatever_the_guests_mac(lab, vms):
    a, b = vms
    x = a.pool.x
    assert wait_for(lambda: connects(a, b), timeout=30)
    x.VIF.add_to_other_config(a.vif_ref, tr.RULES_KEY, json.dumps([DENY_PORT]))
    assert wait_for(lambda: not connects(a, b), timeout=30), "the rule never held"
    assert lab.pings("a", "b")
    # Bound to the port, not to a MAC: another MAC on the guest changes nothing.
    new_mac(lab, a, "02:bb:00:00:00:01")
    assert lab.pings("a", "b", within=30)
    assert not connects(a, b, timeout=2)
    new_mac(lab, a, a.mac)
    x.VIF.remove_from_other_config(a.vif_ref, tr.RULES_KEY)
    assert wait_for(lambda: connects(a, b), timeout=30), "the rule outlived its removal"


def test_a_locked_vif_gets_nowhere_with_a_spoofed_mac(lab, vms):
    a, b = vms
    x = a.pool.x
    x.VIF.set_ipv4_allowed(a.vif_ref, [a.ip])
    x.VIF.set_locking_mode(a.vif_ref, "locked")
    assert lab.pings("a", "b", within=30)
    new_mac(lab, a, "02:bb:00:00:00:02")
    assert not lab.pings("a", "b", within=5)
    new_mac(lab, a, a.mac)
    assert lab.pings("a", "b", within=30)
    x.VIF.set_locking_mode(a.vif_ref, "network_default")
