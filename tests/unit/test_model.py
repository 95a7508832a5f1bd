"""The host model answers XenServer's structural questions."""

import pytest

from tests.support.sample_network import net_uuid, sample
from xsovs_common.net.model import ModelError


def test_lookups():
    hn = sample()
    assert hn.bridge("v100") == "xapi2"
    assert hn.management_pif() == "eth0"
    assert hn.pif_by_bridge("xapi3") == "v200"


def test_vlans_bonds_tunnels():
    hn = sample()
    assert hn.is_vlan("v200") and not hn.is_vlan("bond0")
    assert hn.vlan_tag("v200") == 200
    assert hn.vlan_slave("v200") == "bond0"
    assert hn.datapath_pif("v200") == "bond0"
    assert hn.datapath_pif("eth0") == "eth0"
    assert hn.is_bond_master("bond0") and not hn.is_bond_master("eth1")
    assert hn.bond_slaves("bond0") == ["eth1", "eth2"]
    assert hn.bond_master("eth2") == "bond0"
    assert hn.is_tunnel_access("tun0")
    assert hn.vlan_pifs_on("eth0") == ["v100"]


def test_which_pifs_hold_a_datapaths_nics():
    """One rule, for the plan of an up and for what XAPI is asked: a NIC's own PIF,
    and a bond over it, each once; never the datapath PIF itself."""
    hn = sample()
    assert hn.nic_holders("bond0", ["eth1", "eth2"]) == ["eth1", "eth2"]
    assert hn.nic_holders("eth1", ["eth1"]) == ["bond0"]
    assert hn.nic_holders("eth0", ["eth0"]) == []
    hn.pifs["eth3"] = dict(hn.pifs["eth2"], device="eth3")   # another slave of bond0
    assert hn.nic_holders("eth9", ["eth2", "eth3"]) == ["eth2", "bond0", "eth3"]


def test_network_uuids_as_xapi_writes_them():
    hn = sample()
    assert hn.network_uuids("eth0") == [net_uuid("xenbr0")]
    assert hn.network_uuids("bond0") == [net_uuid("xapi1")]
    # A VLAN: its own network, then its slave's.
    assert hn.network_uuids("v100") == [net_uuid("xapi2"), net_uuid("xenbr0")]
    assert hn.network_uuids("v200") == [net_uuid("xapi3"), net_uuid("xapi1")]


def test_other_config_merges_pool_network_pif():
    hn = sample(pool_other_config={"vswitch-controller-fail-mode": "secure", "mtu": "1400"},
                net_other_config={"mtu": "9000", "ethtool-tx": "off"})
    hn.pifs["eth0"]["other_config"]["ethtool-tx"] = "on"
    merged = hn.other_config("eth0")
    assert merged["vswitch-controller-fail-mode"] == "secure"
    assert merged["mtu"] == "9000"
    assert merged["ethtool-tx"] == "on"


def test_errors_name_the_object():
    hn = sample()
    with pytest.raises(ModelError) as info:
        hn.pif("OpaqueRef:other-host")
    assert "OpaqueRef:other-host" in info.value.message
    with pytest.raises(ModelError):
        hn.pif_by_bridge("nobridge")
    del hn.vlans["vlan200"]
    with pytest.raises(ModelError):
        hn.vlan_slave("v200")
    hn.bonds["bond0"]["slaves"] = []
    with pytest.raises(ModelError):
        hn.bond_slaves("bond0")


def test_two_pifs_on_one_bridge():
    hn = sample()
    hn.pifs["eth1"]["network"] = "n-xenbr0"
    hn.networks["n-xenbr0"]["PIFs"].append("eth1")
    from xsovs_common.net.model import HostNetwork
    hn = HostNetwork(hn.pifs, hn.networks, hn.bonds, hn.vlans, hn.tunnels, hn.pools)
    with pytest.raises(ModelError):
        hn.pif_by_bridge("xenbr0")


def test_a_malformed_network_uuid_cannot_corrupt_the_id_list():
    from xsovs_common.errors import InvalidValue
    hn = sample()
    hn.networks["n-xapi2"]["uuid"] = "a;b"
    with pytest.raises(InvalidValue) as info:
        hn.network_uuids("v100")
    assert "a;b" in info.value.message and "v100" in info.value.message
