"""The network cache: old formats read, damage refused, writes round-trip."""

import os

import pytest

from tests.support.sample_network import sample
from xsovs_common.net import dbcache

DESIGN_EXAMPLE = """<?xml version="1.0" ?>
<xenserver-network-configuration>
  <pif ref="OpaqueRef:p1">
    <uuid>5d0c0f7e-0001-4000-8000-00000000a001</uuid>
    <device>eth0</device>
    <MAC>52:54:00:12:34:56</MAC>
    <network>OpaqueRef:n1</network>
    <management>True</management>
    <VLAN>-1</VLAN>
    <VLAN_master_of>OpaqueRef:NULL</VLAN_master_of>
    <VLAN_slave_of/>
    <bond_master_of/>
    <bond_slave_of>OpaqueRef:NULL</bond_slave_of>
    <tunnel_access_PIF_of/>
    <tunnel_transport_PIF_of/>
    <ip_configuration_mode>Static</ip_configuration_mode>
    <IP>192.0.2.10</IP>
    <netmask>255.255.255.0</netmask>
    <gateway>192.0.2.1</gateway>
    <DNS>192.0.2.53</DNS>
    <currently_attached>True</currently_attached>
    <other_config/>
  </pif>
  <network ref="OpaqueRef:n1">
    <uuid>7e1f0a11-0002-4000-8000-00000000b001</uuid>
    <bridge>xenbr0</bridge>
    <MTU>1500</MTU>
    <PIFs><PIF>OpaqueRef:p1</PIF></PIFs>
    <other_config/>
  </network>
  <pool ref="OpaqueRef:pool">
    <other_config><vswitch-controller-fail-mode>standalone</vswitch-controller-fail-mode></other_config>
  </pool>
</xenserver-network-configuration>
"""

# As minidom's toprettyxml wrote it: every value on an indented line of its own.
OLD_PRETTY = """<?xml version="1.0" ?>
<xenserver-network-configuration>
\t<pif ref="OpaqueRef:p1">
\t\t<uuid>
\t\t\tpif-uuid
\t\t</uuid>
\t\t<device>
\t\t\teth0
\t\t</device>
\t\t<network>
\t\t\tOpaqueRef:n1
\t\t</network>
\t\t<management>
\t\t\tTrue
\t\t</management>
\t\t<bond_master_of/>
\t\t<VLAN_slave_of>
\t\t\t<master>
\t\t\t\tOpaqueRef:v1
\t\t\t</master>
\t\t</VLAN_slave_of>
\t\t<other_config>
\t\t\t<mtu>
\t\t\t\t9000
\t\t\t</mtu>
\t\t\t<unknown-key>x</unknown-key>
\t\t</other_config>
\t</pif>
\t<network ref="OpaqueRef:n1">
\t\t<uuid>
\t\t\tnet-uuid
\t\t</uuid>
\t\t<bridge>
\t\t\txenbr0
\t\t</bridge>
\t\t<PIFs>
\t\t\t<PIF>
\t\t\t\tOpaqueRef:p1
\t\t\t</PIF>
\t\t</PIFs>
\t</network>
</xenserver-network-configuration>
"""


def _write(tmp_path, text):
    path = str(tmp_path / "network.dbcache")
    with open(path, "w") as handle:
        handle.write(text)
    return path


def test_reads_the_documented_format(tmp_path):
    hn = dbcache.read(_write(tmp_path, DESIGN_EXAMPLE))
    pif = hn.pif("OpaqueRef:p1")
    assert pif["management"] is True
    assert pif["currently_attached"] is False      # nothing is attached after a reboot
    assert pif["IP"] == "192.0.2.10"
    assert pif["VLAN_slave_of"] == []
    assert pif["ipv6_configuration_mode"] == "None"   # a field the file predates
    assert hn.bridge("OpaqueRef:p1") == "xenbr0"
    assert hn.pool()["other_config"] == {"vswitch-controller-fail-mode": "standalone"}


def test_reads_old_pretty_printed_caches(tmp_path):
    hn = dbcache.read(_write(tmp_path, OLD_PRETTY))
    pif = hn.pif("OpaqueRef:p1")
    assert (pif["uuid"], pif["device"], pif["management"]) == ("pif-uuid", "eth0", True)
    assert pif["VLAN_slave_of"] == ["OpaqueRef:v1"]
    assert pif["other_config"] == {"mtu": "9000"}
    assert hn.network("OpaqueRef:n1")["MTU"] == "1500"   # missing MTU: the default
    assert hn.networks_with_bridge("xenbr0") == ["OpaqueRef:n1"]


@pytest.mark.parametrize("text,what", [
    (DESIGN_EXAMPLE[: len(DESIGN_EXAMPLE) // 2], "damaged"),
    ("", "damaged"),
    ("<other-root/>", "root element"),
    (DESIGN_EXAMPLE.replace("<pool ref", "<frob ref").replace("</pool>", "</frob>"),
     "unknown element"),
    (DESIGN_EXAMPLE.replace("<management>True", "<management>yes"), "True or False"),
    (DESIGN_EXAMPLE.replace('<pif ref="OpaqueRef:p1">', "<pif>"), "without a ref"),
    (DESIGN_EXAMPLE.replace("<device>eth0</device>", ""), "has no device"),
    (DESIGN_EXAMPLE.replace("<VLAN>-1</VLAN>", "<VLAN>abc</VLAN>"), "not -1 or a tag"),
])
def test_damage_is_named(tmp_path, text, what):
    path = _write(tmp_path, text)
    with pytest.raises(dbcache.CacheError) as info:
        dbcache.read(path)
    assert path in info.value.message and what in info.value.message


def test_missing_file(tmp_path):
    with pytest.raises(dbcache.CacheError) as info:
        dbcache.read(str(tmp_path / "nope"))
    assert "cannot read" in info.value.message


def test_round_trip(tmp_path):
    original = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"},
                      bond_other_config={"bond-mode": "lacp", "bond-x": "1", "not-kept": "z"})
    original.pifs["eth0"]["other_config"]["domain"] = 'example.com <&> "\x01'
    original.pifs["eth1"]["MAC"] = "02:00:00:00:00:\ud800\x00"    # XAPI may hand over anything
    path = str(tmp_path / "c")
    dbcache.write(path, original)
    again = dbcache.read(path)
    for ref, record in original.pifs.items():
        expected = dict(record, currently_attached=False)
        if ref == "bond0":
            expected["other_config"] = {"bond-mode": "lacp", "bond-x": "1"}
        if ref == "eth0":
            expected["other_config"] = {"domain": 'example.com <&> "'}
        if ref == "eth1":
            expected["MAC"] = "02:00:00:00:00:\ufffd"
        assert again.pifs[ref] == expected
    for attr in ("networks", "bonds", "vlans", "tunnels", "pools"):
        assert getattr(again, attr) == getattr(original, attr)
    assert dbcache.render(again) == dbcache.render(dbcache.read(path))
    assert os.listdir(str(tmp_path)) == ["c"]


def _part(hn, pifs, networks=(), vlans=(), pools=True):
    from xsovs_common.net.model import HostNetwork
    return HostNetwork({r: hn.pifs[r] for r in pifs}, {r: hn.networks[r] for r in networks},
                       {}, {r: hn.vlans[r] for r in vlans}, {},
                       dict(hn.pools) if pools else {})


def test_merged_splices_fresh_records_into_our_own_file(tmp_path):
    """Records read afresh replace theirs, new ones go in order, the rest stay as
    stored (currently_attached included): the text a full render of the merge gives."""
    old = sample()
    for record in old.pifs.values():
        record["currently_attached"] = True
    path = str(tmp_path / "c")
    dbcache.write(path, old)
    fresh = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"})
    fresh.pifs["v100"]["other_config"] = {"mtu": "9000", "domain": "a&b"}
    fresh.pifs["v100"]["currently_attached"] = False
    fresh.pifs["OpaqueRef:new"] = dict(fresh.pifs["eth2"], uuid="new", device="eth9")
    part = _part(fresh, ["v100", "OpaqueRef:new"], ["n-xapi2"], ["vlan100"])
    text = dbcache.merged(path, part)
    assert text == dbcache.render(old.updated(part))
    spliced = dbcache.read(_write(tmp_path, text), as_stored=True)
    assert spliced.pif("v100")["other_config"] == {"mtu": "9000", "domain": "a&b"}
    assert spliced.pif("v100")["currently_attached"] is False
    assert spliced.pif("eth1")["currently_attached"] is True     # not read: as it was
    assert spliced.pif("OpaqueRef:new")["device"] == "eth9"
    assert spliced.pool()["other_config"] == {"vswitch-controller-fail-mode": "secure"}


def test_merged_reads_another_tools_file_whole(tmp_path):
    path = _write(tmp_path, OLD_PRETTY)
    hn = dbcache.read(path)
    fresh = _part(hn, ["OpaqueRef:p1"], pools=False)
    fresh.pifs["OpaqueRef:p1"] = dict(fresh.pifs["OpaqueRef:p1"], MAC="02:00:00:00:00:09")
    text = dbcache.merged(path, fresh)
    assert text == dbcache.render(dbcache.read(path, as_stored=True).updated(fresh))
    assert "<MAC>02:00:00:00:00:09</MAC>" in text


@pytest.mark.parametrize("text", ["", DESIGN_EXAMPLE[: len(DESIGN_EXAMPLE) // 2]])
def test_merged_refuses_a_damaged_file(tmp_path, text):
    with pytest.raises(dbcache.CacheError):
        dbcache.merged(_write(tmp_path, text), sample())
    with pytest.raises(dbcache.CacheError):
        dbcache.merged(str(tmp_path / "nope"), sample())


@pytest.mark.parametrize("with_pool", [True, False])
def test_merged_replaces_records_in_place(tmp_path, with_pool):
    """Every fresh record already cached: each is rendered where it stands."""
    old = sample()
    path = str(tmp_path / "c")
    dbcache.write(path, old)
    fresh = sample(pool_other_config={"vswitch-controller-fail-mode": "secure"})
    fresh.pifs["bond0"]["other_config"] = {"bond-mode": "lacp"}
    fresh.networks["n-xapi2"]["MTU"] = "9000"
    part = _part(fresh, ["bond0", "v100"], ["n-xapi2"], ["vlan100"], pools=with_pool)
    assert dbcache.merged(path, part) == dbcache.render(old.updated(part))
