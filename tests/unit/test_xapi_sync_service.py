"""The systemd unit of ovs-xapi-sync, and the daemon's command line it uses."""

import configparser
import os
import shlex

from xsovs_common.actions.commands import ovs_xapi_sync
from xsovs_common.sync import daemon, service

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(REPO, "packaging", "xsovs-xapi-sync.service")


def unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNIT)
    return parser


def test_unit_restarts_on_failure_after_boot_and_xapi():
    u = unit()
    assert u["Service"]["Restart"] == "on-failure"
    assert set(u["Unit"]["After"].split()) == {"openvswitch-boot.service", "xapi.service"}
    assert u["Service"]["Environment"] == "PYTHONPATH=/usr/share/openvswitch/python"
    # The vendor's unit is taken over by a drop-in that makes it pull this one
    # in (packaging/vendor-openvswitch-xapi-sync.conf); a Conflicts= with it
    # would contradict that, and neither would start.
    assert "Conflicts" not in u["Unit"]


def test_exec_start_is_the_packaged_daemon_with_a_valid_command_line():
    argv = shlex.split(unit()["Service"]["ExecStart"])
    assert argv[0] == "/opt/xensource/libexec/ovs-xapi-sync"
    assert os.access(os.path.join(REPO, "libexec", "ovs-xapi-sync"), os.X_OK)
    ovs = service.load_ovs(daemon.PROGRAM)
    root, args = ovs_xapi_sync.parse(ovs, argv[1:])
    assert args.database == "unix:/var/run/openvswitch/db.sock"
    assert args.pidfile == "/var/run/openvswitch/ovs-xapi-sync.pid"
    assert args.log_file == "/var/log/openvswitch/ovs-xapi-sync.log"
    assert not args.detach
