"""ovn-xapi-sync as a process: a real NB ovsdb-server, the XAPI simulator, dom0's Python.

What NB holds is read back with ovsdb-client (``nb_state``); that nothing
was written is the database file not growing (a standalone ovsdb-server
appends every committed transaction to it) and every row's ``_version``
staying the same.  (test_ovn_sync_central.py: against a Raft central with
ovn-northd.)
"""

import json
import os
import signal
import time

import pytest

from tests.support.ovn_sync import (ALLOW_ICMP, DENY_SSH, DROP_NET, OVN, POOL_A, POOL_B, RULES,
                                    in_step, pool, refusals, run,
                                    schema_before_allow_stateless, sims, uuid_of, until_state,
                                    vif_ref)
from xsovs_dev import ovn_nb
from xsovs_dev.ovn_sync_run import OvnSyncDaemon, db_size, nb_state
from xsovs_dev.skips import need, python36
from xsovs_dev.xapi_sync_run import make_root, wait_for

__all__ = ["run", "sims"]     # fixtures


@pytest.fixture(scope="module")
def nb_server(tmp_path_factory):
    need(ovn_nb.available())
    server = ovn_nb.NbServer(str(tmp_path_factory.mktemp("nb"))).start()
    yield server
    server.stop()


@pytest.fixture
def nb(nb_server):
    """The module's NB server, emptied (switches go, and their ports and ACLs with them)."""
    if nb_server.proc is None:
        nb_server.start()
    nb_server.nbctl("--if-exists", "destroy", "Logical_Switch",
                    *[row["_uuid"][1] for row in
                      nb_server.dump({"Logical_Switch": ["name"]})["Logical_Switch"]])
    return nb_server


def test_switches_and_ports_follow_xapi(nb, sims, run):
    b = pool(nb.remote)
    b.vm("template", template=True)
    b.vif("vm1", "xenbr9", locking_mode="locked", ipv4_allowed=["10.0.0.5"],
          ipv6_allowed=["2001:db8::5"], other_config={"nicira-iface-id": "web"})
    b.vif("vm1", "xenbr9", device="1")
    b.vif("vm1", "xenbr1", device="2")
    b.vif("template", "xenbr9")
    sim = sims(b.build())
    net = uuid_of(b, "network", b.network_ref("xenbr9"))
    second = uuid_of(b, "VIF", vif_ref(b, 1))
    daemon = run(sim)
    status = in_step(daemon)
    assert status["owned"] == {"logical_switches": 1, "logical_switch_ports": 2, "acls": 0}
    assert status["pool"] == POOL_A and status["refused"] == []
    state = nb_state(nb)
    assert list(state["switches"]) == [net]
    (switch,) = state["switches"][net]
    assert switch["ports"] == sorted(["web", second])
    assert switch["external_ids"] == {"xsovs:pool-" + POOL_A: net}
    locked = "02:01:00:00:00:01 10.0.0.5 2001:db8::5"
    assert state["ports"]["web"] == {
        "addresses": [locked], "port_security": [locked], "enabled": [],
        "external_ids": {"xsovs:pool": POOL_A, "xsovs:network": net,
                         "xsovs:vif": uuid_of(b, "VIF", vif_ref(b, 0)),
                         "xsovs:vm": uuid_of(b, "VM", b.vm_ref("vm1"))}}
    assert state["ports"][second]["addresses"] == ["02:01:00:00:00:02", "unknown"]
    assert state["ports"][second]["port_security"] == []

    # Changes in XAPI, as XAPI's own messages make them.
    session = sim.login()
    sim.call("VIF.set_locking_mode", session, vif_ref(b, 1), "disabled")
    sim.call("VIF.add_ipv4_allowed", session, vif_ref(b, 0), "10.0.0.6")
    until_state(nb, lambda s: s["ports"][second]["enabled"] == [False])
    until_state(nb, lambda s: s["ports"]["web"]["port_security"] == [
        "02:01:00:00:00:01 10.0.0.5 10.0.0.6 2001:db8::5"])
    sim.store.remove("VIF", vif_ref(b, 1))
    until_state(nb, lambda s: list(s["ports"]) == ["web"])
    sim.call("network.add_to_other_config", session, b.network_ref("xenbr9"),
             "xsovs:ovn-logical-switch", "renamed")
    until_state(nb, lambda s: list(s["switches"]) == ["renamed"]
                and s["switches"]["renamed"][0]["ports"] == ["web"])
    sim.call("network.remove_from_other_config", session, b.network_ref("xenbr9"), "xsovs:ovn")
    until_state(nb, lambda s: s["switches"] == {} and s["ports"] == {})
    assert in_step(daemon)["owned"] == {
        "logical_switches": 0, "logical_switch_ports": 0, "acls": 0}


def test_foreign_rows_untouched_and_their_names_refused(nb, sims, run):
    nb.nbctl("ls-add", "theirs", "--", "lsp-add", "theirs", "taken", "--",
             "acl-add", "theirs", "to-lport", "100", "tcp.dst == 22", "drop")
    b = pool(nb.remote, shared="theirs")
    b.network("xenbr8", other_config=OVN)
    b.vif("vm1", "xenbr9")
    b.vif("vm1", "xenbr8", device="1", other_config={"nicira-iface-id": "taken"})
    b.vif("vm1", "xenbr8", device="2", other_config={"nicira-iface-id": "free"})
    foreign = nb_state(nb)
    sim = sims(b.build())
    daemon = run(sim)
    status = in_step(daemon)
    reasons = {r["what"]: r["reason"] for r in status["refused"]}
    assert "'theirs' exists and xsovs does not own it" in reasons[
        "network " + uuid_of(b, "network", b.network_ref("xenbr9"))]
    assert "'taken' exists and xsovs does not own it" in reasons[
        "VIF " + uuid_of(b, "VIF", vif_ref(b, 1))]
    state = nb_state(nb)
    mine = uuid_of(b, "network", b.network_ref("xenbr8"))
    assert sorted(state["switches"]) == sorted(["theirs", mine])
    assert state["switches"][mine][0]["ports"] == ["free"]
    assert state["switches"]["theirs"] == foreign["switches"]["theirs"]
    assert {u: v for u, v in state["versions"].items() if u in foreign["versions"]} == \
        foreign["versions"]
    # Someone adds a port of theirs to a switch of ours: when our network leaves OVN,
    # our port goes and the switch stays, theirs now.
    nb.nbctl("lsp-add", mine, "added-by-hand")
    sim.store.set("network", b.network_ref("xenbr8"), "other_config", {})
    state = until_state(nb, lambda s: s["switches"].get(mine, [{}])[0].get("ports")
                        == ["added-by-hand"])
    assert state["switches"][mine][0]["external_ids"] == {}
    assert state["switches"]["theirs"] == foreign["switches"]["theirs"]


def test_shared_switch_across_two_pools(nb, sims, run):
    pools = []
    for uuid, name in ((POOL_A, "a"), (POOL_B, "b")):
        b = pool(nb.remote, uuid=uuid, shared="tenant")
        b.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "port-" + name})
        pools.append((b, sims(b.build())))
    daemons = [run(sim, name=name) for (b, sim), name in zip(pools, "ab")]
    for daemon in daemons:
        in_step(daemon)
    state = until_state(nb, lambda s: len(s["switches"].get("tenant", [])) == 1
                        and s["switches"]["tenant"][0]["ports"] == ["port-a", "port-b"])
    assert set(state["switches"]["tenant"][0]["external_ids"]) == {
        "xsovs:pool-" + POOL_A, "xsovs:pool-" + POOL_B}
    (b, sim) = pools[0]
    sim.store.remove("VIF", vif_ref(b, 0))
    sim.store.set("network", b.network_ref("xenbr9"), "other_config", {})
    state = until_state(nb, lambda s: s["switches"]["tenant"][0]["ports"] == ["port-b"])
    assert list(state["switches"]["tenant"][0]["external_ids"]) == ["xsovs:pool-" + POOL_B]
    (b, sim) = pools[1]
    sim.store.set("network", b.network_ref("xenbr9"), "other_config", {})
    until_state(nb, lambda s: s["switches"] == {} and s["ports"] == {})


def big_pool(nb, networks=20, vifs=3):
    """Networks with no VIF (even) and with ``vifs`` (odd), every VIF with a rule of its
    own, every fourth network with a rule."""
    b = pool(nb.remote)
    for n in range(networks):
        bridge = "xapi%d" % n
        b.network(bridge, other_config=dict(OVN, **({RULES: json.dumps([DROP_NET])}
                                                    if n % 4 == 1 else {})))
        for v in range(vifs if n % 2 else 0):
            b.vif("vm1", bridge, device="%d" % (n * 10 + v),
                  other_config={RULES: json.dumps([DENY_SSH])})
    return b


def test_two_instances_converge_and_never_fight(nb, sims, run):
    b = big_pool(nb)
    sim = sims(b.build())
    first, second = run(sim, name="first"), run(sim, name="second")
    in_step(first)
    in_step(second)
    state = nb_state(nb)
    assert len(state["switches"]) == 21
    assert all(len(rows) == 1 for rows in state["switches"].values())
    assert len(state["ports"]) == 30
    assert len(state["acls"]) == 30 + 5 * 3     # one per VIF, one per VIF of networks 4n+1
    sim.store.set("VIF", vif_ref(b, 0), "locking_mode", "locked")
    until_state(nb, lambda s: any(p["port_security"] for p in s["ports"].values()))
    in_step(first)
    in_step(second)
    size = db_size(nb)
    time.sleep(1.0)
    assert db_size(nb) == size
    assert in_step(first)["in_step"] and in_step(second)["in_step"]


def test_traffic_rules_as_acls(nb, sims, run):
    b = pool(nb.remote)
    b.tables["network"][b.network_ref("xenbr9")]["other_config"][RULES] = json.dumps([DROP_NET])
    b.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "web",
                                         RULES: json.dumps([DENY_SSH, ALLOW_ICMP])})
    sim = sims(b.build())
    daemon = run(sim)
    assert in_step(daemon)["owned"]["acls"] == 3
    state = nb_state(nb)
    web = [a[:2] + a[2:] for a in state["acls"]]
    assert sorted((d, m, a) for d, _, m, a in web) == [
        ("from-lport", 'inport == "web" && ip && tcp && tcp.dst == 22', "drop"),
        ("from-lport", 'inport == "web" && ip4 && ip4.dst == 192.0.2.0/24', "drop"),
        ("to-lport", 'outport == "web" && icmp4 && ip4.src == 10.0.0.0/8', "allow-stateless")]
    (switch,) = state["switches"].values()
    assert len(switch[0]["acls"]) == 3
    # A bad list is refused and its ACLs stay; the other list's go on following XAPI.
    before, vif = state["acls"], vif_ref(b, 0)
    sim.store.set("VIF", vif, "other_config",
                  {"nicira-iface-id": "web", RULES: json.dumps(["{"])})
    status = wait_for(lambda: refusals(daemon, 1), timeout=10)
    assert "rule 1" in status["refused"][0]["reason"]
    sim.store.set("network", b.network_ref("xenbr9"), "other_config", OVN)
    state = until_state(nb, lambda s: len(s["acls"]) == 2)
    assert set(state["acls"]) < set(before)
    sim.store.set("VIF", vif, "other_config", {"nicira-iface-id": "web"})
    until_state(nb, lambda s: s["acls"] == [])
    assert in_step(daemon)["refused"] == []


def test_an_over_long_rule_list_is_refused_and_the_acls_in_force_stay(nb, sims, run):
    """As ovs-xapi-sync: a list past the size a list may have is refused, never taken for
    an empty list; the VIF's ACLs stay as they are until it is fixed."""
    b = pool(nb.remote)
    b.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "web", RULES: json.dumps([DENY_SSH])})
    sim = sims(b.build())
    daemon = run(sim)
    assert in_step(daemon)["owned"]["acls"] == 1
    before, size = nb_state(nb), db_size(nb)
    huge = json.dumps([DENY_SSH] * (256 * 1024 // len(DENY_SSH) + 1))
    sim.store.set("VIF", vif_ref(b, 0), "other_config", {"nicira-iface-id": "web", RULES: huge})
    status = wait_for(lambda: refusals(daemon, 1), timeout=10)
    assert status, daemon.status()
    ((refusal),) = status["refused"]
    assert refusal["what"] == "VIF " + uuid_of(b, "VIF", vif_ref(b, 0))
    assert "xo:sdn-controller:of-rules" in refusal["reason"]
    assert "longer than 262144 bytes" in refusal["reason"]
    assert "longer than 262144 bytes" in daemon.log()
    in_step(daemon)
    assert db_size(nb) == size and nb_state(nb) == before
    sim.store.set("VIF", vif_ref(b, 0), "other_config", {"nicira-iface-id": "web"})
    until_state(nb, lambda s: s["acls"] == [])
    assert in_step(daemon)["refused"] == []


def test_restart_writes_nothing_when_in_step(nb, sims, run):
    b = big_pool(nb, networks=6)
    b.vif("vm1", "xenbr9", locking_mode="locked", ipv4_allowed=["10.0.0.5"])
    sim = sims(b.build())
    daemon = run(sim)
    in_step(daemon)
    assert daemon.stop() == 0
    before, size = nb_state(nb), db_size(nb)
    again = run(sim, name="again", root=daemon.root)
    status = in_step(again)
    assert status["nb"]["transactions"] == 0
    assert status["owned"]["logical_switch_ports"] == 10
    assert db_size(nb) == size
    assert nb_state(nb) == before


def test_xapi_restart_resyncs_without_duplicates(nb, sims, run):
    b = big_pool(nb, networks=4)
    sim = sims(b.build())
    daemon = run(sim)
    in_step(daemon)
    port = int(sim.url.rsplit(":", 1)[1].strip("/"))
    sim.stop()
    sim.store.remove("VIF", vif_ref(b, 0))
    new = sim.store.add("VIF", {"VM": b.vm_ref("vm1"), "network": b.network_ref("xapi1"),
                                "device": "7", "MAC": "02:02:00:00:00:07"})
    sim.forget_sessions()
    sim.start(port=port)
    new_uuid = sim.store.get("VIF", new)["uuid"]
    gone = uuid_of(b, "VIF", vif_ref(b, 0))
    state = until_state(nb, lambda s: new_uuid in s["ports"] and gone not in s["ports"])
    assert len(state["ports"]) == 6
    assert all(len(rows) == 1 for rows in state["switches"].values())
    assert in_step(daemon)["refused"] == []


def test_nb_unreachable_then_converges(nb, sims, run):
    b = pool(nb.remote)
    b.vif("vm1", "xenbr9")
    sim = sims(b.build())
    daemon = run(sim)
    in_step(daemon)
    nb.stop()
    sim.store.set("VIF", vif_ref(b, 0), "locking_mode", "disabled")
    assert wait_for(lambda: daemon.status()["nb"]["connected"] is False, timeout=10)
    time.sleep(6)          # the reconnection backoff has reached its ceiling
    assert daemon.status()["in_step"] is False
    nb.start()
    started = time.monotonic()
    until_state(nb, lambda s: s["ports"] and list(s["ports"].values())[0]["enabled"] == [False],
                timeout=20)
    # The reconnection backoff is bounded (4 s); generous for a loaded machine.
    assert time.monotonic() - started < 4 + 5
    assert in_step(daemon)["last_error"] is None


def test_bad_input_refused_changes_nothing(nb, sims, run):
    b = pool(nb.remote)
    b.vif("vm1", "xenbr9", other_config={"nicira-iface-id": "p0"})
    b.vif("vm1", "xenbr9", device="1", other_config={"nicira-iface-id": "p1"})
    sim = sims(b.build())
    daemon = run(sim)
    in_step(daemon)
    before, size = nb_state(nb), db_size(nb)
    net = b.network_ref("xenbr9")
    pool_ref = sim.store.refs("pool")[0]
    # A switch name with a quote, a bad MAC (as a pool admin could write it past XAPI's
    # checks), a bad remote: refused with their reasons, NB untouched.  (The network's
    # VIFs are frozen with it: the MAC is not even looked at yet.)
    sim.store.set("network", net, "other_config",
                  dict(OVN, **{"xsovs:ovn-logical-switch": 'a"b'}))
    sim.store.set("VIF", vif_ref(b, 0), "MAC", "02:00:00:00:00:zz")
    sim.store.set("pool", pool_ref, "other_config", {"xsovs:ovn-nb": "tcp:nb.example:6641"})
    status = wait_for(lambda: refusals(daemon, 2), timeout=10)
    assert status, daemon.status()
    reasons = {r["what"]: r["reason"] for r in status["refused"]}
    net_uuid = uuid_of(b, "network", net)
    assert 'a"b' in reasons["network " + net_uuid]
    assert "xsovs:ovn-nb 'tcp:nb.example:6641'" in reasons["pool " + POOL_A]
    assert status["nb"]["remote"] == nb.remote
    time.sleep(0.5)
    assert db_size(nb) == size and nb_state(nb) == before
    # The network fixed: the bad MAC still freezes its port alone; the remote stays.
    sim.store.set("network", net, "other_config", OVN)
    sim.store.set("VIF", vif_ref(b, 1), "locking_mode", "disabled")
    state = until_state(nb, lambda s: s["ports"]["p1"]["enabled"] == [False])
    assert state["ports"]["p0"] == before["ports"]["p0"]
    reasons = {r["what"]: r["reason"] for r in in_step(daemon)["refused"]}
    assert "MAC" in reasons["VIF " + uuid_of(b, "VIF", vif_ref(b, 0))]


def test_an_nb_too_old_for_the_acls_is_refused_until_upgraded(sims, run, tmp_path):
    """OVN before 21.06 has no allow-stateless: the daemon says so in status, and writes
    nothing (not one transaction failing after the other); upgraded, it converges."""
    need(ovn_nb.available())
    with ovn_nb.NbServer(str(tmp_path / "nb"),
                         schema=schema_before_allow_stateless(str(tmp_path / "old.ovsschema"))
                         ) as old:
        b = pool(old.remote)
        b.vif("vm1", "xenbr9", other_config={RULES: json.dumps([ALLOW_ICMP])})
        daemon = run(sims(b.build()))
        status = wait_for(lambda: refusals(daemon, 1), timeout=15)
        assert status, daemon.status()
        (refusal,) = status["refused"]
        assert refusal["what"] == "northbound database " + old.remote
        assert "NB schema 5.31.0" in refusal["reason"]
        assert "no ACL action allow-stateless" in refusal["reason"]
        assert "to 21.06 or later" in refusal["reason"]
        time.sleep(1)
        status = daemon.status()
        assert status["in_step"] is False and status["last_error"] is None
        assert status["nb"]["transactions"] == 0 and nb_state(old)["switches"] == {}
        old.upgrade(ovn_nb.NB_SCHEMA)                  # the central upgraded
        state = until_state(old, lambda s: len(s["acls"]) == 1)
        assert state["acls"][0][3] == "allow-stateless"
        assert in_step(daemon)["refused"] == []


def test_remote_unset_removes_this_pools_rows_also_after_a_restart(nb, sims, run):
    nb.nbctl("ls-add", "theirs")
    b = pool(nb.remote)
    b.vif("vm1", "xenbr9")
    sim = sims(b.build())
    pool_ref = sim.store.refs("pool")[0]
    daemon = run(sim)
    in_step(daemon)
    sim.store.set("pool", pool_ref, "other_config", {})
    until_state(nb, lambda s: list(s["switches"]) == ["theirs"] and s["ports"] == {})
    assert wait_for(lambda: daemon.status()["nb"] is None, timeout=10)
    # Set again, then unset while the daemon is down: its next start cleans up.
    sim.store.set("pool", pool_ref, "other_config", {"xsovs:ovn-nb": nb.remote})
    until_state(nb, lambda s: len(s["switches"]) == 2)
    in_step(daemon)
    daemon.stop()
    sim.store.set("pool", pool_ref, "other_config", {})
    again = run(sim, name="again", root=daemon.root)
    until_state(nb, lambda s: list(s["switches"]) == ["theirs"] and s["ports"] == {})
    assert wait_for(lambda: again.status()["nb"] is None, timeout=10)


def test_pool_member_idles_until_master(nb, sims, run, tmp_path):
    b = pool(nb.remote)
    b.vif("vm1", "xenbr9")
    sim = sims(b.build())
    root = make_root(str(tmp_path / "member"))
    conf = os.path.join(root, "etc", "xensource", "pool.conf")
    os.makedirs(os.path.dirname(conf))
    with open(conf, "w") as handle:
        handle.write("slave:192.0.2.10\n")
    daemon = run(sim, root=root)
    assert wait_for(lambda: daemon.status(), timeout=10)
    time.sleep(1)
    assert daemon.status()["master"] is False and sim.logins == 0
    assert nb_state(nb)["switches"] == {}
    with open(conf, "w") as handle:
        handle.write("master\n")
    until_state(nb, lambda s: len(s["ports"]) == 1)


def test_detach_pidfile_status_and_exit(nb, sims, tmp_path):
    b = pool(nb.remote)
    sim = sims(b.build())
    daemon = OvnSyncDaemon(str(tmp_path / "d"), make_root(str(tmp_path / "root")), sim.url,
                           python=python36(), extra=["--detach"])
    daemon.start()
    assert daemon.proc.wait(timeout=20) == 0          # the parent returns once detached
    assert wait_for(lambda: os.path.exists(daemon.pidfile), timeout=10)
    with open(daemon.pidfile) as handle:
        pid = int(handle.read())
    status = in_step(daemon)
    assert set(status) == {"pool", "master", "xapi", "nb", "owned", "in_step", "last_error",
                           "refused"}
    assert daemon.appctl("exit").returncode == 0
    assert wait_for(lambda: not os.path.exists(daemon.pidfile), timeout=10)
    assert wait_for(lambda: not _alive(pid), timeout=10)
    result = daemon.appctl("status")
    assert result.returncode != 0


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def test_sigterm_exits_zero(nb, sims, run):
    daemon = run(sims(pool(nb.remote).build()))
    in_step(daemon)
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=10) == 0
    assert not os.path.exists(daemon.pidfile)
