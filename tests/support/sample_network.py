"""A hand-built HostNetwork (no simulator: these tests also run on Python 3.6)."""

from xsovs_common.net.model import DEFAULTS, HostNetwork

NULL = "OpaqueRef:NULL"


def _pif(ref, device, mac, network, **fields):
    record = dict(DEFAULTS["pif"])
    record.update(uuid="uuid-" + ref, device=device, MAC=mac, network=network,
                  VLAN_slave_of=[], bond_master_of=[], tunnel_access_PIF_of=[],
                  tunnel_transport_PIF_of=[], IPv6=[], IP="", netmask="", gateway="", DNS="",
                  ipv6_gateway="", other_config={})
    record.update(fields)
    return ref, record


def net_uuid(bridge):
    """The sample's network uuid for ``bridge`` (a real uuid, as XAPI makes)."""
    return "7e1f0a11-0002-4000-8000-%012x" % sum(ord(c) << (8 * i) for i, c in
                                                 enumerate(bridge[-5:]))


def _network(ref, bridge, pifs, **other_config):
    return ref, {"uuid": net_uuid(bridge), "bridge": bridge, "MTU": "1500", "PIFs": pifs,
                 "other_config": other_config}


def sample(pool_other_config=None, bond_other_config=None, net_other_config=None):
    pifs = dict([
        _pif("eth0", "eth0", "02:00:00:00:00:01", "n-xenbr0", management=True,
             ip_configuration_mode="Static", IP="192.0.2.10", netmask="255.255.255.0",
             gateway="192.0.2.1", DNS="192.0.2.53", VLAN_slave_of=["vlan100"],
             tunnel_transport_PIF_of=["tun0"]),
        _pif("eth1", "eth1", "02:00:00:00:00:02", "n-xenbr1", bond_slave_of="bond0"),
        _pif("eth2", "eth2", "02:00:00:00:00:03", "n-xenbr2", bond_slave_of="bond0"),
        _pif("bond0", "bond0", "02:00:00:00:00:02", "n-xapi1", bond_master_of=["bond0"],
             VLAN_slave_of=["vlan200"], other_config=dict(bond_other_config or {})),
        _pif("v100", "eth0", "02:00:00:00:00:01", "n-xapi2", VLAN="100",
             VLAN_master_of="vlan100"),
        _pif("v200", "bond0", "02:00:00:00:00:02", "n-xapi3", VLAN="200",
             VLAN_master_of="vlan200"),
        _pif("tun0", "tunnel0", "02:00:00:00:00:09", "n-xapi4", tunnel_access_PIF_of=["tun0"]),
    ])
    networks = dict([
        _network("n-xenbr0", "xenbr0", ["eth0"], **(net_other_config or {})),
        _network("n-xenbr1", "xenbr1", ["eth1"]),
        _network("n-xenbr2", "xenbr2", ["eth2"]),
        _network("n-xapi1", "xapi1", ["bond0"]),
        _network("n-xapi2", "xapi2", ["v100"]),
        _network("n-xapi3", "xapi3", ["v200"]),
        _network("n-xapi4", "xapi4", ["tun0"]),
    ])
    bonds = {"bond0": {"uuid": "b0", "master": "bond0", "slaves": ["eth2", "eth1"]}}
    vlans = {"vlan100": {"uuid": "v1", "tagged_PIF": "eth0", "untagged_PIF": "v100", "tag": "100"},
             "vlan200": {"uuid": "v2", "tagged_PIF": "bond0", "untagged_PIF": "v200",
                         "tag": "200"}}
    tunnels = {"tun0": {"uuid": "t0", "access_PIF": "tun0", "transport_PIF": "eth0"}}
    pools = {"pool": {"other_config": dict(pool_other_config or {})}}
    return HostNetwork(pifs, networks, bonds, vlans, tunnels, pools)
