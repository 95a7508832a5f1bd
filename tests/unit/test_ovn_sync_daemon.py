"""ovn-xapi-sync's choice of NB remote, without a server: the pool's key, refused values,
the remote kept for removing this pool's rows, the SSL files, master or member."""

import os

import pytest

from xsovs_common.ovn_sync import daemon as ovn_daemon
from xsovs_common.paths import OVN_SYNC_REMOTE, Root
from xsovs_common.sync import service

POOL = "00000001-0000-4000-8000-000000000001"


@pytest.fixture
def ovs(monkeypatch):
    ovs = service.load_ovs(ovn_daemon.PROGRAM)
    for name in ("_SSL_private_key_file", "_SSL_certificate_file", "_SSL_ca_cert_file"):
        monkeypatch.setattr(ovs.stream.Stream, name, getattr(ovs.stream.Stream, name, None))
    return ovs


@pytest.fixture
def daemon(ovs, tmp_path):
    made = ovn_daemon.Daemon(ovs, Root(str(tmp_path)))
    yield made
    made._close_nb()


def pool_says(daemon, other_config):
    daemon.records.apply([{"class": "pool", "operation": "add", "ref": "OpaqueRef:p",
                           "snapshot": {"uuid": POOL, "other_config": other_config}}],
                         reset=True)
    daemon.follow_remote()


def remembered(daemon):
    path = daemon.root.path(OVN_SYNC_REMOTE)
    return open(path).read() if os.path.exists(path) else None


def test_the_pools_remote_is_followed_and_remembered(daemon):
    pool_says(daemon, {"xsovs:ovn-nb": "tcp:192.0.2.1,tcp:192.0.2.2:6641"})
    assert daemon.nb.remote == "tcp:192.0.2.1:6641,tcp:192.0.2.2:6641"
    assert not daemon.leaving and daemon.pool == POOL
    assert remembered(daemon) == "tcp:192.0.2.1:6641,tcp:192.0.2.2:6641\n"
    first = daemon.nb
    pool_says(daemon, {"xsovs:ovn-nb": "tcp:192.0.2.1:6641,tcp:192.0.2.2:6641"})
    assert daemon.nb is first              # the same remote: the same connection


def test_a_bad_remote_is_refused_and_the_one_in_use_kept(daemon):
    pool_says(daemon, {"xsovs:ovn-nb": "tcp:192.0.2.1:6641"})
    first = daemon.nb
    pool_says(daemon, {"xsovs:ovn-nb": "tcp:nb.example:6641"})
    assert daemon.nb is first
    (refused,) = daemon.status()["refused"]
    assert refused["what"] == "pool " + POOL and "nb.example" in refused["reason"]
    pool_says(daemon, {"xsovs:ovn-nb": "tcp:192.0.2.1:6641"})
    assert daemon.status()["refused"] == []


def test_unset_removes_from_the_remote_last_used_also_after_a_restart(daemon, ovs):
    pool_says(daemon, {"xsovs:ovn-nb": "tcp:192.0.2.1:6641"})
    pool_says(daemon, {})
    assert daemon.leaving and daemon.nb.remote == "tcp:192.0.2.1:6641"
    again = ovn_daemon.Daemon(ovs, daemon.root)
    try:
        pool_says(again, {})
        assert again.leaving and again.nb.remote == "tcp:192.0.2.1:6641"
    finally:
        again._close_nb()
    os.unlink(daemon.root.path(OVN_SYNC_REMOTE))
    fresh = ovn_daemon.Daemon(ovs, daemon.root)
    pool_says(fresh, {})
    assert fresh.nb is None                # nothing to remove anywhere


def test_ssl_remotes_use_the_hosts_key_and_the_pools_ca(daemon, ovs):
    pool_says(daemon, {"xsovs:ovn-nb": "ssl:192.0.2.1:6641"})
    stream = ovs.stream.Stream
    assert stream._SSL_private_key_file == daemon.root.path("/etc/xensource/xapi-ssl.pem")
    assert stream._SSL_certificate_file == daemon.root.path("/etc/xensource/xapi-ssl.pem")
    assert stream._SSL_ca_cert_file == daemon.root.path(
        "/etc/stunnel/certs/sdn-controller-ca.pem")


@pytest.mark.parametrize("text, master", [(None, True), ("master\n", True),
                                          ("slave:192.0.2.10", False)])
def test_master_or_member(tmp_path, text, master):
    root = Root(str(tmp_path))
    if text is not None:
        os.makedirs(root.path("/etc/xensource"))
        with open(root.path("/etc/xensource/pool.conf"), "w") as handle:
            handle.write(text)
    assert ovn_daemon.is_master(root) is master
