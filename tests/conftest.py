"""Shared fixtures: real Open vSwitch daemons, host roots, namespaces, the plugin's host.

A test that needs something this machine lacks (root, namespaces, the OVS
packages) skips with the reason -- unless ``XSOVS_NO_SKIP=1`` (set by CI,
which runs as root after ``make setup``), where a skip would hide a failure
and fails instead.
"""

import contextlib

import pytest

from xsovs_common import paths
from xsovs_dev.skips import need

HOST_UUID = "5f1c8ab2-0c47-4a8e-9d0b-0000000000a1"


@pytest.fixture(scope="session")
def ovs_server(tmp_path_factory):
    """One ovsdb-server + dummy ovs-vswitchd for the whole test session."""
    from xsovs_dev import ovs as ovsmod
    need(ovsmod.available())
    instance = ovsmod.OvsInstance(str(tmp_path_factory.mktemp("ovs")), vswitchd="dummy")
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def ovs(ovs_server, monkeypatch):
    """The session's switch, emptied, with OVS_RUNDIR pointing at it (for the
    programs a test starts; in-process code gets it with its root)."""
    ovs_server.reset()
    monkeypatch.setenv("OVS_RUNDIR", ovs_server.rundir)
    return ovs_server


@pytest.fixture
def root(tmp_path):
    """An empty host root: every file and program resolved under the test's directory."""
    return paths.Root(str(tmp_path))


@pytest.fixture
def fake_root(tmp_path, request):
    """A host root with an inventory and network.conf saying openvswitch; with
    the ``ovs`` fixture its root finds that switch (OVS_RUNDIR of a program)."""
    from xsovs_dev.fakeroot import FakeRoot
    fake = FakeRoot(str(tmp_path / "root"), host_uuid=HOST_UUID)
    if "ovs" in request.fixturenames:
        fake.configure(ovs_rundir=request.getfixturevalue("ovs").rundir)
    return fake


@pytest.fixture
def plugin_host(ovs, fake_root):
    """``plugin_host(builder=None)``: the plugin's simulated host, stopped after the test.

    The pool is ``builder`` (default: plugin_host.one_host()), served by the
    XAPI simulator; the switch has the bridges of plugin_host.build_bridges.
    """
    from tests.support.plugin_host import simulated_host
    with contextlib.ExitStack() as running:
        def start(builder=None):
            return running.enter_context(simulated_host(ovs, fake_root, builder))
        yield start


@pytest.fixture
def ovn_central(tmp_path):
    """A fresh OVN central on loopback (xsovs_dev.ovn.central): NB and SB as
    3-member Raft clusters and ovn-northd; stopped after the test."""
    from xsovs_dev.ovn import central
    need(central.available())
    with central.OvnCentral(str(tmp_path / "ovn-central")) as running:
        yield running


@pytest.fixture(scope="session")
def netns_ok():
    from xsovs_dev import netns
    need(netns.unavailable_reason())


@pytest.fixture(autouse=True, scope="session")
def _no_leftover_namespaces():
    yield
    from xsovs_dev import netns
    netns.cleanup_all()
