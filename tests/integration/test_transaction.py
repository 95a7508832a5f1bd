"""Snapshots read, changes committed as one transaction, against a real ovsdb-server
and a live (dummy) ovs-vswitchd.

Results are read back with the real ovs-vsctl, so these tests check that
what xsovs writes is what Open vSwitch's own tool sees.
"""

import json
import socket
import threading
import time

import pytest

from xsovs_common import paths
from xsovs_common.ovs import ovsdb, transaction
from xsovs_common.ovs.changes import ChangeSet
from xsovs_common.ovs.snapshot import Snapshot


@pytest.fixture
def conn(ovs):
    with transaction.connect(paths.Root("/", ovs_rundir=ovs.rundir)) as connection:
        yield connection


def _apply(conn, build):
    changes = ChangeSet()
    build(changes)
    transaction.apply(conn, changes, Snapshot.read(conn))
    return changes


def test_snapshot_sees_what_ovs_vsctl_made(ovs, conn):
    ovs.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
              "--", "add-br", "xapi2", "xenbr0", "100", "--", "add-port", "xapi2", "vif1.0",
              "--", "add-bond", "xenbr0", "bond0", "eth1", "eth2",
              "--", "set-manager", "ssl:192.0.2.5:6632")
    snap = Snapshot.read(conn)
    assert snap.real_bridges() == ["xenbr0"]
    assert snap.fake_bridges() == ["xapi2"]
    fake = snap.bridges["xapi2"]
    assert (fake.parent.name, fake.vlan) == ("xenbr0", 100)
    assert sorted(p.name for p in fake.ports) == ["vif1.0", "xapi2"]
    assert sorted(p.name for p in snap.bridges["xenbr0"].ports) == ["bond0", "eth0", "xenbr0"]
    assert sorted(snap.ports["bond0"].interface_names) == ["eth1", "eth2"]
    assert snap.port_of_interface("eth2").bridge.name == "xenbr0"
    assert snap.port_of_interface("vif1.0").bridge.name == "xapi2"
    assert snap.managers == ["ssl:192.0.2.5:6632"]


def test_apply_builds_bridges_ports_bonds_and_ids(ovs, conn):
    _apply(conn, lambda c: (
        c.add_br("xenbr0", datapath_type="netdev"),
        c.add_port("xenbr0", "eth0"),
        c.set("Bridge", "xenbr0", {"fail_mode": "secure",
                                   "other_config:hwaddr": "02:00:00:00:00:01"}),
        c.br_set_external_id("xenbr0", "xs-network-uuids", "n1;n2"),
        c.add_br("xapi2", "xenbr0", 100),
        c.br_set_external_id("xapi2", "xs-network-uuids", "n2"),
        c.add_br("xapi1"),
        c.add_port("xapi1", "bond0", ["eth1", "eth2"],
                   {"bond_mode": "active-backup", "bond_updelay": 31000,
                    "other_config:bond-miimon-interval": "100"}),
    ))
    assert ovs.vsctl("list-br").split() == ["xapi1", "xapi2", "xenbr0"]
    assert ovs.vsctl("br-to-parent", "xapi2").strip() == "xenbr0"
    assert ovs.vsctl("br-to-vlan", "xapi2").strip() == "100"
    assert ovs.vsctl("br-get-external-id", "xapi2", "xs-network-uuids").strip() == "n2"
    assert ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == "n1;n2"
    assert ovs.get("Bridge", "xenbr0", "fail_mode") == "secure"
    assert ovs.get("Bridge", "xenbr0", "datapath_type") == "netdev"
    assert ovs.get("Bridge", "xenbr0", "other_config:hwaddr") == '"02:00:00:00:00:01"'
    assert ovs.vsctl("list-ports", "xenbr0").split() == ["eth0"]
    assert ovs.vsctl("list-ifaces", "xapi1").split() == ["eth1", "eth2"]
    assert ovs.get("Port", "bond0", "bond_mode") == "active-backup"
    assert ovs.get("Port", "bond0", "bond_updelay") == "31000"
    assert ovs.get("Port", "bond0", "other_config:bond-miimon-interval") == '"100"'
    # ovs-vswitchd took it in: every interface got an OpenFlow port number.
    assert int(ovs.get("Interface", "eth0", "ofport")) > 0


def test_delete_fake_and_real_bridges(ovs, conn):
    ovs.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
              "--", "add-br", "xapi2", "xenbr0", "100", "--", "add-port", "xapi2", "vif1.0",
              "--", "add-br", "xapi3", "xenbr0", "200", "--", "add-br", "xenbr1")
    _apply(conn, lambda c: c.del_br("xapi2"))
    assert ovs.vsctl("list-br").split() == ["xapi3", "xenbr0", "xenbr1"]
    assert "vif1.0" not in ovs.vsctl("list", "Port")
    _apply(conn, lambda c: (c.del_br("xenbr0"), c.del_br("missing")))
    assert ovs.vsctl("list-br").split() == ["xenbr1"]
    assert ovs.vsctl("--columns=name", "list", "Interface").split().count("name") == 1


def test_move_a_nic_and_recreate_a_bridge_in_one_transaction(ovs, conn):
    ovs.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0", "--", "add-br", "xenbr1")
    _apply(conn, lambda c: (c.del_port("eth0"), c.add_port("xenbr1", "eth0"),
                            c.del_br("xenbr0"), c.add_br("xenbr0")))
    assert ovs.vsctl("port-to-br", "eth0").strip() == "xenbr1"
    assert ovs.vsctl("list-ports", "xenbr0").split() == []


def test_values_are_data_never_syntax(ovs, conn):
    nasty = 'a b,c "d" \\e -- del-br xenbr0\nnewline=x {}[]'
    _apply(conn, lambda c: (c.add_br("xenbr0"),
                            c.set("Bridge", "xenbr0", {"external_ids:" + nasty: nasty})))
    ids = json.loads(ovs.vsctl("--format=json", "--data=json", "--columns=external_ids",
                               "list", "Bridge", "xenbr0"))["data"][0][0]
    assert ids == ["map", [[nasty, nasty]]]
    assert ovs.vsctl("list-br").split() == ["xenbr0"]


def test_values_beyond_the_argv_limit(ovs, conn):
    """4094 network uuids on one bridge: more than one argv element may hold."""
    value = ";".join("%08d-0000-4000-8000-000000000000" % i for i in range(4094))
    assert len(value) > 128 * 1024
    _apply(conn, lambda c: (c.add_br("xenbr0"),
                            c.br_set_external_id("xenbr0", "xs-network-uuids", value)))
    assert ovs.vsctl("br-get-external-id", "xenbr0", "xs-network-uuids").strip() == value


def test_a_failing_change_applies_nothing(ovs, conn):
    ovs.vsctl("add-br", "xenbr0")
    before = ovs.vsctl("show")
    # Refused before sending: the port does not exist.
    with pytest.raises(transaction.VswitchError):
        _apply(conn, lambda c: (c.add_br("xenbr9"), c.set("Port", "nope", {"tag": 5})))
    # Refused by ovsdb-server: fail_mode has only two legal values.
    with pytest.raises(ovsdb.OvsdbError):
        _apply(conn, lambda c: (c.add_br("xenbr9"),
                                c.set("Bridge", "xenbr0", {"fail_mode": "bogus"})))
    # A duplicate fake bridge for the same VLAN.
    with pytest.raises(transaction.VswitchError):
        _apply(conn, lambda c: (c.add_br("xapi2", "xenbr0", 5), c.add_br("xapi3", "xenbr0", 5)))
    assert ovs.vsctl("show") == before


def _state(ovs):
    return {table: sorted(json.loads(ovs.vsctl("--format=json", "--data=json",
                                               "--columns=" + columns, "list", table))["data"])
            for table, columns in (("Bridge", "name,fail_mode,other_config,controller"),
                                   ("Port", "name,other_config"),
                                   ("Open_vSwitch", "manager_options,ssl"),
                                   ("Manager", "target"), ("SSL", "private_key"))}


def _setup_for_reset(ovs):
    ovs.vsctl("add-br", "xenbr0", "--", "set", "Bridge", "xenbr0", "fail_mode=secure",
              "other_config:hwaddr=02:00:00:00:00:01", "other_config:disable-in-band=true",
              "--", "add-bond", "xenbr0", "bond0", "eth1", "eth2",
              "--", "set", "Port", "bond0", "other_config:bond-detect-mode=miimon",
              "--", "add-br", "xenbr1", "--", "set-controller", "xenbr1", "tcp:192.0.2.7:6653",
              "--", "set-manager", "ssl:192.0.2.5:6632", "--", "set-ssl", "/k", "/c", "/ca")


def test_emer_reset_matches_ovs_vsctl(ovs, conn):
    _setup_for_reset(ovs)
    _apply(conn, lambda c: c.emer_reset())
    ours = _state(ovs)
    ovs.reset()
    _setup_for_reset(ovs)
    ovs.vsctl("emer-reset")
    assert ours == _state(ovs)
    assert ovs.get("Bridge", "xenbr0", "other_config") == '{hwaddr="02:00:00:00:00:01"}'


def test_manager_and_ssl(ovs, conn):
    _apply(conn, lambda c: (c.set_ssl("/etc/xensource/xapi-ssl.pem", "/etc/xensource/xapi-ssl.pem",
                                      "/etc/openvswitch/vswitchd.cacert"),
                            c.set_manager(["ssl:[2001:db8::5]:6632"])))
    assert ovs.vsctl("get-manager").split() == ["ssl:[2001:db8::5]:6632"]
    assert ovs.vsctl("get-ssl").split("\n")[0] == "Private key: /etc/xensource/xapi-ssl.pem"
    assert "Bootstrap: true" in ovs.vsctl("get-ssl")
    _apply(conn, lambda c: (c.set_manager([]), c.del_ssl()))
    assert ovs.vsctl("get-manager").split() == []
    assert ovs.vsctl("get-ssl").strip() == ""


def test_plan_is_plain_data():
    a, b = ChangeSet(), ChangeSet()
    for plan in (a, b):
        plan.add_br("xenbr0")
        plan.add_port("xenbr0", "bond0", ["eth0", "eth1"], {"bond_mode": "balance-slb"})
        plan.set("Bridge", "xenbr0", {"fail_mode": "secure", "other_config:disable-in-band": None})
        plan.set_manager(["ssl:192.0.2.5:6632"])
    assert a == b
    assert str(a).splitlines() == [
        "add-br xenbr0",
        "add-bond xenbr0 bond0 eth0 eth1 bond_mode=balance-slb",
        "set Bridge xenbr0 fail_mode=secure -- remove Bridge xenbr0 other_config disable-in-band",
        "set-manager ssl:192.0.2.5:6632"]
    b.del_ssl()
    assert a != b


def test_empty_plan_sends_nothing():
    class Refuse:
        def transact(self, ops):
            raise AssertionError("nothing should be sent")
    transaction.apply(Refuse(), ChangeSet(), snapshot=None)


def test_missing_server_fails_fast(tmp_path):
    started = time.time()
    with pytest.raises(ovsdb.OvsdbError):
        with ovsdb.Connection(str(tmp_path / "no.sock"), timeout=2) as conn:
            Snapshot.read(conn)
    assert time.time() - started < 2


def test_silent_server_times_out(tmp_path):
    path = str(tmp_path / "silent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()))
    thread.start()
    started = time.time()
    try:
        with pytest.raises(ovsdb.OvsdbError) as info:
            with ovsdb.Connection(path, timeout=0.5) as conn:
                Snapshot.read(conn)
        assert "did not answer" in info.value.message
        assert time.time() - started < 3
    finally:
        thread.join(2)
        for sock, _ in accepted:
            sock.close()
        server.close()


def test_wait_fails_when_vswitchd_is_gone(tmp_path):
    from xsovs_dev.ovs import OvsInstance, available
    from xsovs_dev.skips import need
    need(available())
    with OvsInstance(str(tmp_path / "ovs")) as lone:   # ovsdb-server only
        with ovsdb.Connection(lone.socket, timeout=0.5) as conn:
            with pytest.raises(transaction.VswitchError):
                _apply(conn, lambda c: c.add_br("xenbr0"))
            # Without waiting, the change is committed all the same.
            changes = ChangeSet()
            changes.add_br("xenbr1")
            transaction.apply(conn, changes, Snapshot.read(conn), wait=False)
        assert "xenbr1" in lone.vsctl("list-br").split()


def test_socket_paths_longer_than_sockaddr_un(ovs, tmp_path):
    """A db.sock path past 107 bytes (deep test directories) is still reached."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    link = deep / "db.sock"
    link.symlink_to(ovs.socket)
    assert len(str(link)) > 107
    with ovsdb.Connection(str(link), timeout=2) as conn:
        assert Snapshot.read(conn).bridges == {}


def test_non_ascii_values_across_read_boundaries(ovs, conn):
    """A reply larger than one read, full of multi-byte characters, decodes whole."""
    value = "é€😀" * 200000
    _apply(conn, lambda c: (c.add_br("xenbr0"),
                            c.set("Bridge", "xenbr0", {"external_ids:note": value})))
    with transaction.connect(paths.Root("/", ovs_rundir=ovs.rundir)) as fresh:
        assert Snapshot.read(fresh).bridges["xenbr0"].external_ids["note"] == value


def test_focused_snapshot_keeps_the_structure(ovs, conn):
    """A read focused on a few names has their whole rows, and every other row's
    place (fake bridges, which port holds which interface)."""
    ovs.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
              "--", "set", "Bridge", "xenbr0", "fail_mode=secure",
              "--", "add-br", "xapi2", "xenbr0", "100", "--", "add-br", "xapi3", "xenbr0", "101",
              "--", "add-bond", "xenbr0", "bond0", "eth1", "eth2",
              "--", "br-set-external-id", "xapi3", "xs-network-uuids", "a;b")
    whole = Snapshot.read(conn)
    focused = Snapshot.read(conn, focus={"xenbr0", "xapi3"})
    assert focused.fake_bridges("xenbr0") == whole.fake_bridges("xenbr0") == ["xapi2", "xapi3"]
    assert sorted(focused.ports) == sorted(whole.ports)
    assert focused.port_of_interface("eth2").name == "bond0"
    assert focused.bridges["xenbr0"].fail_mode == "secure"           # in focus: whole
    assert focused.bridges["xapi3"].external_ids == {"xs-network-uuids": "a;b"}
    assert focused.bridges["xapi2"].external_ids == {}                # an outline only


def test_waiting_for_a_vswitchd_that_is_not_there_fails_in_time(tmp_path):
    from xsovs_dev.ovs import OvsInstance
    with OvsInstance(str(tmp_path / "ovs")) as alone:      # ovsdb-server, no ovs-vswitchd
        with ovsdb.Connection(alone.socket, timeout=2) as connection:
            changes = ChangeSet()
            changes.add_br("xenbr0")
            start = time.time()
            with pytest.raises(transaction.VswitchError) as info:
                transaction.apply(connection, changes, Snapshot.read(connection),
                              timeout=1.5)
            assert 1.4 < time.time() - start < 4
    assert "is it running" in info.value.message
