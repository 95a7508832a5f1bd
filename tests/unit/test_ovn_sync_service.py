"""The systemd unit of ovn-xapi-sync, and the daemon's command line it uses."""

import configparser
import os
import shlex

from xsovs_common.actions.commands import ovn_xapi_sync
from xsovs_common.ovn_sync import daemon as ovn_sync
from xsovs_common.sync import service

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(REPO, "packaging", "xsovs-ovn-xapi-sync.service")


def unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNIT)
    return parser


def test_unit_restarts_on_failure_after_xapi():
    u = unit()
    assert u["Service"]["Restart"] == "on-failure"
    assert set(u["Unit"]["After"].split()) == {"openvswitch-boot.service", "xapi.service"}
    assert u["Service"]["Environment"] == "PYTHONPATH=/usr/share/openvswitch/python"
    assert u["Install"]["WantedBy"] == "multi-user.target"


def test_exec_start_is_the_packaged_daemon_with_a_valid_command_line():
    argv = shlex.split(unit()["Service"]["ExecStart"])
    assert argv[0] == "/opt/xensource/libexec/ovn-xapi-sync"
    assert os.access(os.path.join(REPO, "libexec", "ovn-xapi-sync"), os.X_OK)
    ovs = service.load_ovs(ovn_sync.PROGRAM)
    saved = ovs.dirs.RUNDIR, ovs.dirs.LOGDIR
    try:
        root, args = ovn_xapi_sync.parse(ovs, argv[1:])
    finally:
        ovs.dirs.RUNDIR, ovs.dirs.LOGDIR = saved
    assert root.prefix == "/"
    assert args.pidfile == "/var/run/openvswitch/ovn-xapi-sync.pid"
    assert args.log_file == "/var/log/openvswitch/ovn-xapi-sync.log"
    assert not args.detach
