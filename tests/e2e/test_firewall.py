"""Firewall rules in a private network namespace (root only)."""

import pytest

from xsovs_common.system import firewall
from xsovs_dev import netns


@pytest.fixture
def ns_root(netns_ok, fake_root):
    ns = netns.Namespace().create()
    fake_root.netns_program("iptables", ns.name)
    yield fake_root, ns
    ns.delete()


def _rules(ns):
    return [line for line in ns.run(["iptables", "-S", "INPUT"]).stdout.splitlines()
            if line.startswith("-A")]


def test_open_is_idempotent_and_close_removes_only_the_owners(ns_root):
    fake_root, ns = ns_root
    rules = [firewall.TUNNEL_RULES["gre"], firewall.TUNNEL_RULES["vxlan"]]
    assert firewall.open_rules(fake_root.root, rules, "xsovs-tunnels") == rules
    assert firewall.open_rules(fake_root.root, rules, "xsovs-tunnels") == []
    firewall.open_rules(fake_root.root, [firewall.Rule("tcp", 6640)], "xsovs-manager")
    listed = _rules(ns)
    assert len(listed) == 3
    assert any("-p gre" in r and "xsovs-tunnels" in r for r in listed)
    assert any("--dport 4789" in r for r in listed)
    assert firewall.close_rules(fake_root.root, "xsovs-tunnels") == 2
    listed = _rules(ns)
    assert len(listed) == 1 and "--dport 6640" in listed[0]


def test_close_keeps_wanted_rules(ns_root):
    fake_root, ns = ns_root
    firewall.open_rules(fake_root.root, [firewall.Rule("tcp", 6640), firewall.Rule("tcp", 6641)],
                        "xsovs-manager")
    firewall.close_rules(fake_root.root, "xsovs-manager", keep=[firewall.Rule("tcp", 6641)])
    listed = _rules(ns)
    assert len(listed) == 1 and "--dport 6641" in listed[0]


def test_xenserver_chain_is_preferred(ns_root):
    fake_root, ns = ns_root
    ns.run(["iptables", "-N", firewall.XENSERVER_CHAIN])
    firewall.open_rules(fake_root.root, [firewall.TUNNEL_RULES["gre"]], "xsovs-tunnels")
    assert "-p gre" in ns.run(["iptables", "-S", firewall.XENSERVER_CHAIN]).stdout
    assert _rules(ns) == []
