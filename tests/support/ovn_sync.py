"""ovn-xapi-sync's tests: the daemon and the simulator as fixtures, pools, and waits.

Shared by tests/integration/test_ovn_sync*.py (import the fixtures ``run`` and
``sims`` into the test module).
"""

import json

import pytest

from xsovs_dev.ovn_nb import NB_SCHEMA
from xsovs_dev.ovn_sync_run import OvnSyncDaemon, nb_state
from xsovs_dev.skips import python36
from xsovs_dev.xapi_sync_run import make_root, wait_for
from xsovs_dev.xapisim import PoolBuilder, Simulator

POOL_A = "00000001-0000-4000-8000-0000000000aa"
RULES = "xo:sdn-controller:of-rules"
DENY_SSH = '{"allow":false,"protocol":"tcp","port":22,"ipRange":"","direction":"to"}'
ALLOW_ICMP = '{"allow":true,"protocol":"icmp","ipRange":"10.0.0.0/8","direction":"from"}'
DROP_NET = '{"allow":false,"protocol":"ip","ipRange":"192.0.2.0/24","direction":"to"}'
POOL_B = "00000001-0000-4000-8000-0000000000bb"
OVN = {"xsovs:ovn": "true"}


@pytest.fixture
def run(tmp_path):
    """``run(sim, name="a", root=None)``: a started daemon (dom0's Python), stopped afterwards."""
    started = []

    def start(sim, name="a", root=None, python=None):
        root = root or make_root(str(tmp_path / ("root-" + name)))
        daemon = OvnSyncDaemon(str(tmp_path / name), root, sim.url,
                               python=python or python36()).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


@pytest.fixture
def sims():
    started = []

    def start(fixture):
        sim = Simulator(fixture)
        sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def pool(remote, uuid=POOL_A, shared=None):
    """A pool whose NB is ``remote``: host h1, VM vm1; xenbr9 an OVN network (switch ``shared`` when
    given), xenbr1 not; Xen Orchestra's rules in its current format."""
    b = PoolBuilder(other_config={"xsovs:ovn-nb": remote,
                                  "xo:sdn-controller:of-format": "xapi-plugin"}).pool(uuid=uuid)
    b.host("h1").vm("vm1", host="h1")
    net_oc = dict(OVN, **({"xsovs:ovn-logical-switch": shared} if shared else {}))
    b.network("xenbr9", other_config=net_oc).network("xenbr1")
    return b


def in_step(daemon, timeout=15):
    """Wait until the daemon says it is in step; its status."""
    status = wait_for(lambda: _in_step(daemon), timeout=timeout, interval=0.1)
    assert status, "not in step: %r\n%s" % (daemon.status(), daemon.log()[-3000:])
    return status


def _in_step(daemon):
    status = daemon.status()
    return status if status and status["in_step"] and status["nb"]["connected"] else None


def until_state(nb, check, timeout=15):
    state = wait_for(lambda: _checked(nb, check), timeout=timeout, interval=0.1)
    assert state, "NB never got there: %r" % nb_state(nb)
    return state


def _checked(nb, check):
    state = nb_state(nb)
    return state if check(state) else None


def vif_ref(b, n):
    return sorted(b.tables["VIF"])[n]


def uuid_of(b, cls, ref):
    return b.tables[cls][ref]["uuid"]


def refusals(daemon, count):
    """The status once it lists at least ``count`` refusals, else None."""
    status = daemon.status()
    return status if status and len(status["refused"]) >= count else None


def schema_before_allow_stateless(path):
    """The installed NB schema as OVN had it before 21.06 (schema 5.31.0): no ACL action
    ``allow-stateless``.  Written to ``path``; returns it."""
    with open(NB_SCHEMA) as handle:
        schema = json.load(handle)
    schema["version"] = "5.31.0"
    enum = schema["tables"]["ACL"]["columns"]["action"]["type"]["key"]["enum"]
    enum[1].remove("allow-stateless")
    with open(path, "w") as handle:
        json.dump(schema, handle)
    return path
