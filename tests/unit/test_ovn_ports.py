"""sync.ovn_ports: which VIF ports move between their network's bridge and br-int."""

from xsovs_common.net import ovn
from xsovs_common.sync import ovn_ports
from xsovs_common.sync.cache import XapiCache

OVN_UUID = "0b3c1f3e-0000-4000-8000-00000000a001"
PLAIN_UUID = "0b3c1f3e-0000-4000-8000-00000000a002"


def cache(pool_other_config, ovn_value="true", pifs=()):
    c = XapiCache()
    c.apply([
        {"class": "pool", "ref": "OpaqueRef:p", "operation": "add",
         "snapshot": {"uuid": "p", "other_config": pool_other_config}},
        {"class": "network", "ref": "OpaqueRef:n1", "operation": "add",
         "snapshot": {"uuid": OVN_UUID, "bridge": "xapi5", "PIFs": list(pifs),
                      "other_config": {ovn.NETWORK_OVN: ovn_value}}},
        {"class": "network", "ref": "OpaqueRef:n2", "operation": "add",
         "snapshot": {"uuid": PLAIN_UUID, "bridge": "xapi6", "other_config": {}}},
    ], reset=True)
    return c


BRIDGES = [ovn_ports.BridgeRow("u-int", "br-int", {"p3"}),
           ovn_ports.BridgeRow("u-5", "xapi5", {"p1", "p2"}),
           ovn_ports.BridgeRow("u-6", "xapi6", {"p4", "p5"})]
PORTS = [ovn_ports.PortRow("p1", "vif1.0", OVN_UUID),
         ovn_ports.PortRow("p2", "tap1.0", OVN_UUID),
         ovn_ports.PortRow("p3", "vif2.0", OVN_UUID),
         ovn_ports.PortRow("p4", "vif3.0", PLAIN_UUID),
         ovn_ports.PortRow("p5", "eth7", OVN_UUID)]
ON = {ovn.POOL_SB: "tcp:192.0.2.1:6642"}


def test_ovn_on_moves_the_ovn_vifs_and_taps_to_br_int_only():
    moves = ovn_ports.plan(cache(ON), BRIDGES, PORTS)
    assert moves == [ovn_ports.Move("p2", "u-5", "u-int", "tap1.0", "br-int"),
                     ovn_ports.Move("p1", "u-5", "u-int", "vif1.0", "br-int")]


def test_off_moves_them_home_and_bad_values_move_nothing():
    home = [ovn_ports.Move("p3", "u-int", "u-5", "vif2.0", "xapi5")]
    assert ovn_ports.plan(cache({}), BRIDGES, PORTS) == home
    assert ovn_ports.plan(cache(ON, ovn_value="false"), BRIDGES, PORTS) == home
    assert ovn_ports.plan(cache({ovn.POOL_SB: "bogus"}), BRIDGES, PORTS) == []
    assert ovn_ports.plan(cache(ON, ovn_value="maybe"), BRIDGES, PORTS) == []


def test_no_integration_bridge_no_move():
    assert ovn_ports.plan(cache(ON), BRIDGES[1:], PORTS) == []


def test_a_network_with_pifs_is_refused_and_its_ports_stay():
    pifs = ["OpaqueRef:pif-%d" % n for n in range(64)]
    kept = cache(ON, pifs=pifs)
    assert kept.network_by_uuid(OVN_UUID)["PIFs"] == pifs[:1]     # all the check needs
    assert ovn_ports.plan(kept, BRIDGES, PORTS) == []
