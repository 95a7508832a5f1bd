"""The root prefix applies to every file and program."""

import pytest

from xsovs_common import paths


def test_prefix_from_argument_and_environment():
    environ = {"XSOVS_ROOT": "/srv/host1"}
    assert paths.Root.from_environment(None, environ).path("/etc/xensource-inventory") == \
        "/srv/host1/etc/xensource-inventory"
    assert paths.Root.from_environment("/other", environ).program("ovs-vsctl") == \
        "/other/usr/bin/ovs-vsctl"
    assert paths.Root("/other").program("ovs-vsctl") == "/other/usr/bin/ovs-vsctl"
    assert paths.Root.from_environment(None, {}).path("/etc/x") == "/etc/x"


def test_ovsdb_socket():
    assert paths.Root("/r").ovsdb_socket() == "/r/var/run/openvswitch/db.sock"
    assert paths.Root.from_environment("/r", {}).ovsdb_socket() == \
        "/r/var/run/openvswitch/db.sock"
    assert paths.Root.from_environment("/r", {"OVS_RUNDIR": "/tmp/ovsrun"}).ovsdb_socket() == \
        "/tmp/ovsrun/db.sock"


def test_the_environment_is_read_once_into_the_root(monkeypatch):
    environ = {"XSOVS_XAPI_URL": "http://192.0.2.1:80/", "XSOVS_DATAPATH_TYPE": "netdev",
               "OVS_LOGDIR": "/tmp/ovslog"}
    root = paths.Root.from_environment("/r", environ)
    environ.clear()
    monkeypatch.setenv("XSOVS_XAPI_URL", "http://192.0.2.2:80/")
    assert (root.xapi_url, root.datapath_type, root.ovs_logdir()) == \
        ("http://192.0.2.1:80/", "netdev", "/tmp/ovslog")
    assert paths.Root("/r").ovs_logdir() == "/r/var/log/openvswitch"


def test_relative_host_paths_are_refused():
    with pytest.raises(ValueError):
        paths.Root("/r").path("etc/x")
