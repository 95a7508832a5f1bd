"""ovs-xapi-sync's command line: the database and the ovs library's files follow the root."""

import os

import pytest

from xsovs_common.actions.commands import ovs_xapi_sync
from xsovs_common.paths import Root
from xsovs_common.sync import daemon, service
from xsovs_dev.skips import need


@pytest.fixture
def ovs(monkeypatch):
    """The ovs library, its directories put back after the test (parse sets them)."""
    ovs = service.load_ovs(daemon.PROGRAM)
    monkeypatch.setattr(ovs.dirs, "RUNDIR", ovs.dirs.RUNDIR)
    monkeypatch.setattr(ovs.dirs, "LOGDIR", ovs.dirs.LOGDIR)
    monkeypatch.delenv("OVS_LOGDIR", raising=False)
    return ovs


def test_database_pidfile_and_log_directory_follow_the_root_prefix(ovs, tmp_path):
    root = str(tmp_path)
    _, args = ovs_xapi_sync.parse(ovs, ["--root-prefix", root, "--pidfile"])
    assert args.database == "unix:%s/var/run/openvswitch/db.sock" % root
    # (The files' names are the running program's: only their directories are the root's;
    # the ovs library makes the default log file's name in LOGDIR when it sets up logging.)
    assert os.path.dirname(args.pidfile) == "%s/var/run/openvswitch" % root
    assert ovs.dirs.LOGDIR == "%s/var/log/openvswitch" % root


def test_a_database_given_is_kept(ovs):
    _, args = ovs_xapi_sync.parse(ovs, ["unix:/run/db.sock", "--detach", "--monitor"])
    assert (args.database, args.detach, args.monitor) == ("unix:/run/db.sock", True, True)


@pytest.mark.parametrize("argv", [["--no-such-option"], ["unix:/a", "unix:/b"]])
def test_a_bad_command_line_exits_2_with_the_program_named(ovs, argv, capsys):
    with pytest.raises(SystemExit) as info:
        ovs_xapi_sync.parse(ovs, argv)
    assert info.value.code == 2
    assert "ovs-xapi-sync" in capsys.readouterr().err


def test_help_shows_the_default_database_once(ovs, capsys):
    with pytest.raises(SystemExit) as info:
        ovs_xapi_sync.parse(ovs, ["--root-prefix", "/srv/h", "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())     # argparse wraps long lines
    assert "(default: unix:/srv/h/var/run/openvswitch/db.sock)" in out
    assert "unix:unix:" not in out


@pytest.fixture
def unconnected(ovs, tmp_path):
    """A Daemon whose IDL points at a socket nobody serves."""
    need(None if os.path.exists(daemon.VSWITCH_SCHEMA)
         else "no vswitch schema at %s (make setup)" % daemon.VSWITCH_SCHEMA)
    return daemon.Daemon(ovs, Root.from_environment(str(tmp_path)),
                         "unix:%s/db.sock" % tmp_path, daemon.VSWITCH_SCHEMA)


def test_ovsdb_is_tried_again_every_second(unconnected):
    reconnect = unconnected.idl._session.reconnect
    assert reconnect.get_max_backoff() == daemon.RECONNECT_BACKOFF_MS == 1000


def test_a_new_ovsdb_connection_ends_the_retry_wait(unconnected, monkeypatch):
    d = unconnected
    session = d.idl._session
    d.retry.at, d.retry.delay, d.seen = float("inf"), 5.0, (3, 4)
    d._note_connection()                      # still away: the wait stands
    assert (d.retry.connection, d.retry.at, d.seen) == (None, float("inf"), (3, 4))
    monkeypatch.setattr(session, "is_connected", lambda: True)
    d._note_connection()
    assert (d.retry.at, d.retry.delay, d.seen) == (None, 0.0, (None, None))
    d.retry.at = float("inf")
    d._note_connection()                      # the same connection: a refusal's wait stands
    assert d.retry.at == float("inf")
