"""ovn-xapi-sync against an OVN central: NB as a 3-member Raft cluster, and ovn-northd.

ovn-northd takes what the sync writes (port security of every locking mode,
the ACLs of traffic rules) into logical flows; the NB leader killed, the sync
follows the new leader and converges.
"""

import json

from tests.support.ovn_sync import DENY_SSH, RULES, in_step, pool, run, sims
from xsovs_dev.xapi_sync_run import wait_for

__all__ = ["run", "sims"]     # fixtures


def lflows(central):
    return central.sbctl("lflow-list")


def ports(central, switch):
    """The names ovn-nbctl lists as the switch's ports ("UUID (NAME)" lines)."""
    return {line.split()[1].strip("()") for line in central.nbctl("lsp-list", switch).splitlines()}


def test_northd_takes_what_the_sync_writes_and_a_killed_leader_changes_nothing(
        ovn_central, sims, run):
    b = pool(ovn_central.nb_remote, shared="tenant")
    b.vif("vm1", "xenbr9", locking_mode="locked", other_config={"nicira-iface-id": "locked"})
    b.vif("vm1", "xenbr9", device="1", locking_mode="locked", ipv4_allowed=["10.0.0.5"],
          other_config={"nicira-iface-id": "web", RULES: json.dumps([DENY_SSH])})
    b.vif("vm1", "xenbr9", device="2", other_config={"nicira-iface-id": "free"})
    sim = sims(b.build())
    daemon = run(sim)
    in_step(daemon, timeout=30)
    assert ports(ovn_central, "tenant") == {"locked", "web", "free"}
    # northd took each in: the ACL of the rule as a drop flow of the port, the
    # unknown destinations of the unlocked VIF (OVN learns the MACs it uses), and the
    # port security of the locked ones into their port bindings (ovn-controller
    # enforces it).
    flows = wait_for(lambda: _has(lflows(ovn_central), [
        '(ls_in_acl          ), priority=2011 , match=(inport == "web" && ip && tcp && '
        'tcp.dst == 22), action=(/* drop */)',
        'match=(inport == "free" && reg0[11] == 0), action=(put_fdb(inport, eth.src); next;)',
        'match=(eth.dst == 02:01:00:00:00:01), action=(outport = "locked"; output;)']),
        timeout=30)
    assert flows, lflows(ovn_central)
    assert _binding(ovn_central, "locked") == "02:01:00:00:00:01 0.0.0.0/32"
    assert _binding(ovn_central, "web") == "02:01:00:00:00:02 10.0.0.5"
    assert _binding(ovn_central, "free") == ""
    # The NB leader dies; XAPI adds a VIF; the sync writes it to the new leader.
    killed = ovn_central.kill_leader("nb")
    b2 = sim.store.add("VIF", {"VM": b.vm_ref("vm1"), "network": b.network_ref("xenbr9"),
                               "device": "3", "MAC": "02:01:00:00:00:09",
                               "other_config": {"nicira-iface-id": "after"}})
    assert wait_for(lambda: "after" in ports(ovn_central, "tenant"), timeout=60), \
        daemon.log()[-3000:]
    leader = ovn_central.nb.leader()
    assert leader is not None and leader is not killed
    status = in_step(daemon, timeout=30)
    assert status["owned"]["logical_switch_ports"] == 4
    assert status["refused"] == []
    assert sim.store.get("VIF", b2)["other_config"] == {"nicira-iface-id": "after"}


def _has(text, needles):
    return text if all(needle in text for needle in needles) else None


def _binding(central, port):
    return central.sbctl("--bare", "--columns=port_security", "find", "Port_Binding",
                         "logical_port=" + port).strip()
