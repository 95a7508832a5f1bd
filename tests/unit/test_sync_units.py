"""The systemd units of the two sync daemons, and the command line each starts its daemon with."""

import os
import shlex

import pytest

from tests.support.rpm_root import REPO, unit_assignments
from xsovs_common.actions.commands import ovn_xapi_sync, ovs_xapi_sync
from xsovs_common.sync import service

# program -> (its unit in packaging/, its command line's module)
DAEMONS = {"ovs-xapi-sync": ("xsovs-xapi-sync.service", ovs_xapi_sync),
           "ovn-xapi-sync": ("xsovs-ovn-xapi-sync.service", ovn_xapi_sync)}


def unit(program):
    """{(section, key): value} of the daemon's unit file."""
    path = os.path.join(REPO, "packaging", DAEMONS[program][0])
    return {(section, key): value for section, key, value in unit_assignments(path)}


@pytest.mark.parametrize("program", sorted(DAEMONS))
def test_the_unit_restarts_on_failure_after_boot_and_xapi(program):
    u = unit(program)
    assert u[("Service", "Restart")] == "on-failure"
    assert set(u[("Unit", "After")].split()) == {"openvswitch-boot.service", "xapi.service"}
    assert u[("Service", "Environment")] == "PYTHONPATH=/usr/share/openvswitch/python"
    assert u[("Install", "WantedBy")] == "multi-user.target"


def test_ovs_xapi_sync_does_not_conflict_with_the_vendors_unit():
    # The vendor's unit is taken over by a drop-in that makes it pull this one
    # in (packaging/vendor-openvswitch-xapi-sync.conf); a Conflicts= with it
    # would contradict that, and neither would start.
    assert ("Unit", "Conflicts") not in unit("ovs-xapi-sync")


@pytest.mark.parametrize("program", sorted(DAEMONS))
def test_exec_start_is_the_packaged_daemon_with_a_valid_command_line(program, monkeypatch):
    argv = shlex.split(unit(program)[("Service", "ExecStart")])
    assert argv[0] == "/opt/xensource/libexec/" + program
    assert os.access(os.path.join(REPO, "libexec", program), os.X_OK)
    ovs = service.load_ovs(program)
    monkeypatch.setattr(ovs.dirs, "RUNDIR", ovs.dirs.RUNDIR)     # parse sets them
    monkeypatch.setattr(ovs.dirs, "LOGDIR", ovs.dirs.LOGDIR)
    root, args = DAEMONS[program][1].parse(ovs, argv[1:])
    assert root.prefix == "/"
    assert args.pidfile == "/var/run/openvswitch/%s.pid" % program
    assert args.log_file == "/var/log/openvswitch/%s.log" % program
    assert not args.detach
    if program == "ovs-xapi-sync":
        assert args.database == "unix:/var/run/openvswitch/db.sock"
