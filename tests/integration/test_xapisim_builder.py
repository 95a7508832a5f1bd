"""Fixture builder, bundled fixtures and the simulator's CLI."""

import json
import os
import signal
import socket
import subprocess
import sys


from xsovs_dev.xapisim import (
    REPO_ROOT, PoolBuilder, Simulator, Store, builder, client, fixture_path)


def test_bundled_fixtures_match_their_recipes():
    for name, recipe in (("one-host", builder.one_host), ("three-host", builder.three_host)):
        with open(str(fixture_path(name))) as f:
            assert json.load(f) == recipe(), name


def test_bundled_fixtures_are_distinct_and_complete():
    for name in ("one-host", "three-host"):
        store = Store(fixture_path(name))
        uuids = [r["uuid"] for cls in store.tables for r in store.tables[cls].values()]
        assert len(uuids) == len(set(uuids))
        macs = [p["MAC"] for p in store.tables["PIF"].values() if p["VLAN"] == -1
                and not p["bond_master_of"]]
        assert len(macs) == len(set(macs))
        assert all(m.startswith("02:00:") for m in macs)
    store = Store(fixture_path("one-host"))
    (pool,) = store.tables["pool"].values()
    assert pool["vswitch_controller"] == "" and pool["other_config"] == {}
    eth0 = store.tables["PIF"][store.find("PIF", device="eth0")[0]]
    assert (eth0["management"], eth0["ip_configuration_mode"], eth0["IP"], eth0["netmask"],
            eth0["gateway"], eth0["DNS"]) == (
        True, "Static", "192.0.2.10", "255.255.255.0", "192.0.2.1", "192.0.2.53")
    assert store.tables["network"][eth0["network"]]["bridge"] == "xenbr0"
    eth1 = store.tables["PIF"][store.find("PIF", device="eth1")[0]]
    assert eth1["ip_configuration_mode"] == "None"


def test_builder_lookups_and_options():
    b = (PoolBuilder(vswitch_controller="192.0.2.5")
         .host("a", uuid="11111111-2222-4333-8444-555555555555")
         .physical_pif("eth0", "xenbr0", mode="DHCP", other_config={"mtu": "9000"})
         .vlan("eth0", 7, "xapi7")
         .sdn_controller("pssl", "", 0))
    fixture = b.build()
    s = Store(fixture)
    assert s.field("host", b.host_ref("a"), "uuid") == "11111111-2222-4333-8444-555555555555"
    assert b.host_uuid("a") == "11111111-2222-4333-8444-555555555555"
    vlan_pif = b.pif_ref("eth0", vlan=7)
    assert s.field("PIF", vlan_pif, "VLAN") == 7
    assert s.field("PIF", vlan_pif, "network") == b.network_ref("xapi7")
    assert s.field("PIF", b.pif_ref("eth0"), "ip_configuration_mode") == "DHCP"
    assert len(s.refs("SDN_controller")) == 1
    assert b.build() == fixture  # building twice gives the same pool


def test_thousands_of_vlans():
    b = PoolBuilder().host("big").physical_pif("eth0", "xenbr0", management=True,
                                               ip="192.0.2.10/24")
    for tag in range(1, 4001):
        b.vlan("eth0", tag, "xapi%d" % tag)
    fixture = b.build()
    assert len(fixture["PIF"]) == 4001 and len(fixture["VLAN"]) == 4000
    with Simulator(fixture) as sim:
        sess = client.session(sim.url)
        sess.xenapi.login_with_password("root", "")
        eth0 = b.pif_ref("eth0")
        assert len(sess.xenapi.PIF.get_VLAN_slave_of(eth0)) == 4000
        recs = sess.xenapi.PIF.get_all_records_where('field "VLAN"="4000"')
        assert [r["device"] for r in recs.values()] == ["eth0"]
        sess.xenapi.session.logout()


def test_cli_serves_until_killed(tmp_path):
    sock = str(tmp_path / "cli_sock")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for extra, where in (([], None), (["--unix", sock], sock),
                         (["--port", str(port)], "http://127.0.0.1:%d/" % port)):
        proc = subprocess.Popen(
            [sys.executable, "-m", "xsovs_dev.xapisim", "one-host"] + extra,
            cwd=str(REPO_ROOT), stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline().strip()
            assert line == where if where else line.startswith("http://127.0.0.1:")
            sess = client.session(line)
            sess.xenapi.login_with_password("root", "")
            assert len(sess.xenapi.host.get_all()) == 1
            sess.xenapi.session.logout()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
            proc.stdout.close()
        if where == sock:
            assert not os.path.exists(sock)

