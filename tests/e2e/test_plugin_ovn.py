"""The plugin's ``update`` makes the host an OVN chassis, and takes it back.

XAPI (the simulator) runs the plugin; the host's switch is a real
ovsdb-server with a dummy ovs-vswitchd, its firewall real iptables in a
namespace, and ``ovn-controller`` the real one, started by the OVN package's
own ``ovn-ctl`` and connecting to a real central (NB and SB Raft clusters,
ovn-northd): the southbound ``Chassis`` row is the proof.
"""

import json
import os

import pytest

from xsovs_common import paths
from xsovs_common.net import ovn
from xsovs_dev import netns, pki
from xsovs_dev import ovs as ovsmod
from xsovs_dev.ovn import central as centralmod
from xsovs_dev.skips import need
from xsovs_dev.xapi_sync_run import wait_for
from tests.support.plugin_host import ovsdb_state

OVN_KEYS = ("ovn-remote", "ovn-encap-type", "ovn-encap-ip", "ovn-bridge",
            "ovn-bridge-datapath-type", "xsovs-ovn")


@pytest.fixture
def host(netns_ok, plugin_host, fake_root):
    namespace = netns.Namespace().create()
    try:
        h = plugin_host()
        fake_root.netns_program("iptables", namespace.name)
        fake_root.link_program("ovn-ctl")
        fake_root.link_program("ovn-controller")
        h.pool = h.x.pool.get_all()[0]
        yield h, namespace
    finally:
        ovsmod.kill_daemons(fake_root.file(paths.OVN_RUNDIR))
        namespace.delete()


def _ids(host):
    text = host.ovs.vsctl("--format=json", "--columns=external_ids", "list", "Open_vSwitch")
    pairs = json.loads(text)["data"][0][0][1]
    return dict(pairs)


def ovn_rules(namespace):
    return [line for line in namespace.run(["iptables", "-S", "INPUT"]).stdout.splitlines()
            if "xsovs-ovn" in line]


def chassis(central, name):
    """(hostname, encap type, encap ip) of SB Chassis ``name``, or None."""
    found = central.sbctl("--bare", "--columns=hostname,encaps", "find", "Chassis",
                          "name=" + name).split()
    if not found:
        return None
    hostname, encap = found[0], found[1]
    kind = central.sbctl("--bare", "--columns=type", "list", "Encap", encap).strip()
    ip = central.sbctl("--bare", "--columns=ip", "list", "Encap", encap).strip()
    return hostname, kind, ip


def test_update_makes_a_chassis_then_takes_it_back(host, ovn_central):
    (host, namespace), central = host, ovn_central
    assert "OVN" not in host.call("update")       # the host's bridges, no OVN
    assert host.call("update") == "No change to configuration"
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, central.sb_remote)

    result = host.call("update")
    assert "OVN chassis %s" % host.uuid in result and "ovn-controller started" in result
    found = _ids(host)
    assert {k: found.get(k) for k in OVN_KEYS + ("system-id", "hostname")} == {
        "system-id": host.uuid, "hostname": "host1", "ovn-remote": central.sb_remote,
        "ovn-encap-type": "geneve", "ovn-encap-ip": "192.0.2.10", "ovn-bridge": "br-int",
        "ovn-bridge-datapath-type": "system", "xsovs-ovn": "true"}
    assert [r for r in ovn_rules(namespace) if "-p udp" in r and "--dport 6081" in r]
    assert len(ovn_rules(namespace)) == 1
    assert wait_for(lambda: chassis(central, host.uuid), timeout=30) == \
        ("host1", "geneve", "192.0.2.10")
    assert host.call("update") == "No change to configuration"
    status = host.status()
    assert status["in_step"] and status["ovn"]["ovn_controller"] == "running"

    # VXLAN instead: its port opens, Geneve's closes, the chassis follows.
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_ENCAP_TYPE, "vxlan")
    assert not host.status()["in_step"]
    host.call("update")
    rules = ovn_rules(namespace)
    assert len(rules) == 1 and "--dport 4789" in rules[0]
    assert wait_for(lambda: (chassis(central, host.uuid) or (0, 0))[1] == "vxlan", timeout=30)

    # Off: ovn-controller stopped (its chassis leaves the SB), keys gone, port closed.
    host.x.pool.remove_from_other_config(host.pool, ovn.POOL_SB)
    result = host.call("update")
    assert "ovn-controller stopped" in result and "OVN chassis settings removed" in result
    assert not set(OVN_KEYS) & set(_ids(host))
    assert _ids(host)["system-id"] == host.uuid
    assert ovn_rules(namespace) == []
    assert wait_for(lambda: chassis(central, host.uuid) is None, timeout=30)
    assert host.status()["ovn"] == {"enabled": False}      # not ours any more
    assert host.call("update") == "No change to configuration"


@pytest.mark.parametrize("key, value", [
    (ovn.POOL_SB, "tcp:192.0.2.1:6642;reboot"),
    (ovn.POOL_ENCAP_TYPE, "stt"),
    (ovn.POOL_ENCAP_NETWORK, "00000000-0000-4000-8000-00000000dead"),
])
def test_bad_keys_fail_update_with_their_reason_and_change_nothing(host, key, value):
    """The OVN step fails alone (tests/integration/test_update_ovn.py): with the rest in
    step, nothing changes."""
    host, namespace = host
    host.call("update")
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, "tcp:192.0.2.1:6642")
    host.x.pool.remove_from_other_config(host.pool, key)
    host.x.pool.add_to_other_config(host.pool, key, value)
    before = ovsdb_state(host.ovs) + [_ids(host)]
    details = host.failure("update")
    assert details[0] == "XSOVS_INVALID_OVN_CONFIG"
    assert details[1] == "pool other_config:" + key and details[2] == value
    assert key in details[-1]
    assert ovsdb_state(host.ovs) + [_ids(host)] == before
    assert ovn_rules(namespace) == []
    assert not host.root.exists(paths.OVN_RUNDIR + "/ovn-controller.pid")
    status = host.status()
    assert status["ovn"]["error"][0] == "XSOVS_INVALID_OVN_CONFIG" and not status["in_step"]


def test_encap_network_gives_the_tunnel_endpoint(host, ovn_central):
    (host, _), central = host, ovn_central
    pif, record = host.x.PIF.get_all_records_where('field "device"="eth1"').popitem()
    net = host.x.network.get_uuid(record["network"])
    host.sim.store.set("PIF", pif, "IP", "198.51.100.10")
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, central.sb_remote)
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_ENCAP_NETWORK, net)
    host.call("update")
    assert _ids(host)["ovn-encap-ip"] == "198.51.100.10"
    assert wait_for(lambda: (chassis(central, host.uuid) or (0, 0, 0))[2] == "198.51.100.10",
                    timeout=30)


def test_a_host_configured_for_ovn_by_hand_is_left_alone(host):
    host, namespace = host
    host.ovs.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-remote=tcp:192.0.2.99:6642",
                   "external_ids:ovn-encap-type=geneve")
    assert "OVN" not in host.call("update")
    assert _ids(host)["ovn-encap-type"] == "geneve"
    assert _ids(host)["ovn-remote"] == "tcp:192.0.2.99:6642"


def test_status_names_the_package_when_ovn_controller_is_missing(host):
    host, namespace = host
    os.unlink(host.root.file(paths.PROGRAMS["ovn-controller"]))
    host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, "tcp:192.0.2.1:6642")
    status = host.status()
    assert status["ovn"]["ovn_controller"] == \
        "/usr/bin/ovn-controller is not installed: install the ovn-host package"
    result = host.call("update")
    assert "ovn-controller cannot run: /usr/bin/ovn-controller is not installed: install " \
        "the ovn-host package" in result
    assert _ids(host)["ovn-remote"] == "tcp:192.0.2.1:6642"   # ready once it is installed


def test_ssl_remote_uses_xapis_key_and_certificate_and_the_pool_ca(host, tmp_path):
    """The central (TLS only) accepts what the pool's CA signed: ovn-controller presents
    /etc/xensource/xapi-ssl.pem and trusts /etc/stunnel/certs/sdn-controller-ca.pem."""
    host, _ = host
    need(pki.unavailable_reason())
    certs = str(tmp_path / "certs")
    pool_ca = pki.CA(certs, "pool")
    central_leaf = pool_ca.issue("ovn-central")
    with centralmod.OvnCentral(str(tmp_path / "central"),
                               ssl=(central_leaf.key, central_leaf.cert, pool_ca.cert)) as central:
        assert central.sb_remote.startswith("ssl:127.0.0.1:")
        with open(pool_ca.cert) as handle:
            host.root.write(paths.SDN_CONTROLLER_CA, handle.read())
        # XAPI's own self-signed certificate: the central refuses it.
        with open(pki.self_signed(certs, "host1").pem) as handle:
            host.root.write(paths.XAPI_SSL_PEM, handle.read(), mode=0o600)
        host.x.pool.add_to_other_config(host.pool, ovn.POOL_SB, central.sb_remote)
        assert "ovn-controller started" in host.call("update")
        status = host.status()["ovn"]
        assert status["ssl"] == {"private_key": host.root.file(paths.XAPI_SSL_PEM),
                                 "certificate": host.root.file(paths.XAPI_SSL_PEM),
                                 "ca_cert": host.root.file(paths.SDN_CONTROLLER_CA)}
        assert not wait_for(lambda: chassis(central, host.uuid), timeout=4)
        # A certificate the pool's CA signed, in the same file: the chassis registers.
        with open(pool_ca.issue("host1-signed").pem) as handle:
            host.root.write(paths.XAPI_SSL_PEM, handle.read(), mode=0o600)
        assert wait_for(lambda: chassis(central, host.uuid), timeout=30)
        host.x.pool.remove_from_other_config(host.pool, ovn.POOL_SB)
        assert "ovn-controller stopped" in host.call("update")
