"""ovs-xapi-sync's command line: the database and the ovs library's files follow the root."""

import os

import pytest

from xsovs_common.actions.commands import ovs_xapi_sync
from xsovs_common.sync import daemon


@pytest.fixture
def ovs(monkeypatch):
    """The ovs library, its directories put back after the test (parse sets them)."""
    ovs = daemon.ovs_library()
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
