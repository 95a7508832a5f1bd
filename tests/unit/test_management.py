"""The management path, built on the management PIF's datapath, and when its flows go in."""

import pytest

from tests.support.sample_network import sample
from xsovs_common.errors import InvalidValue
from xsovs_common.net import management
from xsovs_common.net.model import ModelError


def _as_management(hn, ref):
    for each, record in hn.pifs.items():
        record["management"] = each == ref
    return hn


def test_physical():
    path = management.management_path(sample())
    assert path._asdict() == {"bridge": "xenbr0", "nics": ["eth0"], "mac": "02:00:00:00:00:01",
                          "host_port": "LOCAL", "vlan": None, "bonded": False}


def test_bond():
    path = management.management_path(_as_management(sample(), "bond0"))
    assert (path.bridge, path.nics, path.bonded, path.host_port) == \
        ("xapi1", ["eth1", "eth2"], True, "LOCAL")


def test_vlan():
    path = management.management_path(_as_management(sample(), "v100"))
    assert (path.bridge, path.nics, path.host_port, path.vlan) == \
        ("xenbr0", ["eth0"], "xapi2", 100)
    assert path.mac == "02:00:00:00:00:01"       # the datapath PIF's MAC


def test_no_management_pif():
    assert management.management_path(_as_management(sample(), None)) is None


def test_a_bridgeless_management_network_needs_no_flows():
    hn = sample()
    hn.networks[hn.pifs["eth0"]["network"]]["bridge"] = ""
    assert management.management_path(hn) is None


@pytest.mark.parametrize("field, value, error", [
    ("device", "eth0,actions=drop", InvalidValue),
    ("MAC", "02:00:00:00:00:01,in_port=1", InvalidValue),
    ("MAC", "", ModelError),
])
def test_values_are_checked_before_they_reach_a_flow(field, value, error):
    hn = sample()
    hn.pifs["eth0"][field] = value
    with pytest.raises(error) as caught:
        management.management_path(hn)
    assert "eth0" in caught.value.message or "uuid-eth0" in caught.value.message


def test_when_the_flows_go_in():
    path = management.management_path(sample())
    # The bridge is there and stays secure: before only.
    assert management.plan(path, True, "secure") == (path, True, False)
    # Turning secure flushes flows: again after.
    assert (management.plan(path, True, None).before, management.plan(path, True, None).after) \
        == (True, True)
    # The transaction makes the bridge: after only.
    created = management.plan(path, False, None)
    assert (created.before, created.after) == (False, True)
    assert str(created) == "management flows on xenbr0 (after the transaction)"


def test_the_management_bridge_by_name():
    assert management.management_bridge(sample()) == "xenbr0"
    assert management.management_bridge(_as_management(sample(), "v100")) == "xenbr0"
    assert management.management_bridge(_as_management(sample(), "bond0")) == "xapi1"
    assert management.management_bridge(_as_management(sample(), None)) is None
    hn = _as_management(sample(), "v100")
    hn.vlans["vlan100"]["tagged_PIF"] = "OpaqueRef:elsewhere"     # a model it cannot follow
    assert management.management_bridge(hn) is None


def test_when_the_flows_go_in_around_update():
    path = management.management_path(sample())
    # Secure, in place, the bridge left alone: nothing.
    assert management.plan_settings(path, True, True, False) is None
    # Secure and missing: before; the transaction changes the bridge: after as well.
    assert management.plan_settings(path, True, False, False) == (path, True, False)
    assert management.plan_settings(path, True, False, True) == (path, True, True)
    assert management.plan_settings(path, True, True, True) == (path, False, True)
    # Not secure yet: only after the change that makes it secure.
    assert management.plan_settings(path, False, False, True) == (path, False, True)
