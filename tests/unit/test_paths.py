"""The root prefix applies to every file and program."""

import pytest

from xsovs_common import paths


def test_prefix_from_argument_and_environment(monkeypatch):
    monkeypatch.setenv("XSOVS_ROOT", "/srv/host1")
    assert paths.Root().path("/etc/xensource-inventory") == "/srv/host1/etc/xensource-inventory"
    assert paths.Root("/other").program("ovs-vsctl") == "/other/usr/bin/ovs-vsctl"
    monkeypatch.delenv("XSOVS_ROOT")
    assert paths.Root().path("/etc/x") == "/etc/x"


def test_ovsdb_socket(monkeypatch):
    monkeypatch.delenv("OVS_RUNDIR", raising=False)
    assert paths.Root("/r").ovsdb_socket() == "/r/var/run/openvswitch/db.sock"
    monkeypatch.setenv("OVS_RUNDIR", "/tmp/ovsrun")
    assert paths.Root("/r").ovsdb_socket() == "/tmp/ovsrun/db.sock"


def test_relative_host_paths_are_refused():
    with pytest.raises(ValueError):
        paths.Root("/r").path("etc/x")
