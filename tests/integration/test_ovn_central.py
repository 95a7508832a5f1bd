"""The OVN central the tests start (xsovs_dev.ovn.central): real Raft clusters, real northd.

What the OVN tests rely on is checked here once: three members per database,
one leader, ovn-northd turning NB into SB, a killed leader replaced while
writes go on, a restarted member catching up, nothing left after stop, and the
same central in a namespace reached from another namespace over TCP.
"""

import subprocess

from xsovs_dev import netns
from xsovs_dev.ovn import central as centralmod
from xsovs_dev.skips import need


def servers(member):
    """The server ids a member's cluster/status lists under Servers."""
    text = member.cluster_status()
    listed = text.split("Servers:", 1)[1] if "Servers:" in text else ""
    return [line.split()[0] for line in listed.splitlines() if line.strip()]


def datapaths(central):
    """The names of the SB Datapath_Binding rows (ovn-northd's work) as a set."""
    out = central.sbctl("--bare", "--columns=external_ids", "list", "Datapath_Binding")
    return {item.split("=", 1)[1] for item in out.replace(",", " ").split()
            if item.startswith("name=")}


def test_clusters_of_three_with_one_leader_and_northd_at_work(ovn_central):
    for cluster in (ovn_central.nb, ovn_central.sb):
        assert all(m.alive for m in cluster.members)
        assert [len(servers(m)) for m in cluster.members] == [3, 3, 3]
        roles = [m.cluster_status().split("Role: ", 1)[1].split()[0] for m in cluster.members]
        assert sorted(roles) == ["follower", "follower", "leader"]
    assert ovn_central.nb_remote.count("tcp:127.0.0.1:") == 3
    assert ovn_central.nb_remote != ovn_central.sb_remote
    ovn_central.nbctl("ls-add", "sw0")
    assert ovn_central.wait(lambda: "sw0" in datapaths(ovn_central), "sw0 in SB")


def test_killed_nb_leader_is_replaced_and_a_restarted_member_catches_up(ovn_central):
    ovn_central.nbctl("ls-add", "before")
    killed = ovn_central.kill_leader("nb")
    assert not killed.alive
    ovn_central.nbctl("ls-add", "during")      # waits out the election
    leader = ovn_central.nb.leader()
    assert leader is not None and leader is not killed
    assert ovn_central.wait(lambda: "during" in datapaths(ovn_central), "northd goes on")
    ovn_central.nb.restart(killed)
    assert "Role: follower" in killed.cluster_status()
    # The restarted member holds what was written while it was dead.
    on_it = subprocess.run(["ovn-nbctl", "--no-leader-only", "--db=unix:" + killed.sock,
                            "ls-list"], stdout=subprocess.PIPE, universal_newlines=True,
                           check=True).stdout
    assert "before" in on_it and "during" in on_it


def test_killed_sb_leader_northd_still_fills_sb(ovn_central):
    killed = ovn_central.kill_leader("sb")
    ovn_central.nbctl("ls-add", "after-sb-kill")
    assert ovn_central.wait(lambda: "after-sb-kill" in datapaths(ovn_central),
                            "northd writes to the new SB leader")
    assert ovn_central.sb.leader() is not killed


def test_stop_leaves_no_process(tmp_path):
    need(centralmod.available())
    central = centralmod.OvnCentral(str(tmp_path)).start()
    procs = central.processes()
    assert len(procs) == 7                      # 3 NB + 3 SB + northd
    central.stop()
    assert central.processes() == []
    assert all(p.poll() is not None for p in procs)


def test_central_in_a_namespace_is_reached_over_tcp_from_another(netns_ok, tmp_path):
    need(centralmod.available())
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    with netns.Namespace() as ns_central, netns.Namespace() as ns_client:
        netns.veth(ns_central, "c0", ns_client, "h0")
        for address in addresses:
            ns_central.run(["ip", "addr", "add", address + "/24", "dev", "c0"])
        ns_client.run(["ip", "addr", "add", "198.51.100.10/24", "dev", "h0"])
        with centralmod.OvnCentral(str(tmp_path), netns=ns_central,
                                   addresses=addresses) as central:
            assert central.nb_remote == ",".join("tcp:%s:6641" % a for a in addresses)
            assert central.sb_remote == ",".join("tcp:%s:6642" % a for a in addresses)
            central.nbctl("ls-add", "from-unix")
            listed = ns_client.run(["ovn-nbctl", "--db=" + central.nb_remote, "--timeout=20",
                                    "ls-list"]).stdout
            assert "from-unix" in listed
            # Not reachable from this machine's own namespace: it really is in ns_central.
            refused = subprocess.run(["ovn-nbctl", "--db=tcp:198.51.100.1:6641",
                                      "--timeout=2", "ls-list"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, check=False)
            assert refused.returncode != 0
