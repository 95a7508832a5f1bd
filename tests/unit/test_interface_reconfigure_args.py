"""The historical command line of interface-reconfigure, parsed as it always was."""

import pytest

from xsovs_common import cli
from xsovs_common.errors import UsageError
from xsovs_common.actions.commands.interface_reconfigure import main, parse

REF = "OpaqueRef:0003-aaaa"


@pytest.mark.parametrize("argv,expected", [
    (["--session", "OpaqueRef:s", "--pif", REF, "up"],
     {"session": "OpaqueRef:s", "pif": REF, "action": "up", "management": False}),
    (["--session=OpaqueRef:s", "--pif=" + REF, "--management", "down"],
     {"pif": REF, "action": "down", "management": True}),
    (["up", "--session", "OpaqueRef:s", "--pif", REF],          # options after the action
     {"action": "up"}),
    (["--pif-uuid", "5d0c0f7e-0001-4000-8000-00000000a001", "up"],
     {"pif_uuid": "5d0c0f7e-0001-4000-8000-00000000a001"}),
    (["--force", "xenbr0", "up"], {"force": "xenbr0", "action": "up"}),
    (["--force=xenbr0", "down", "--root-prefix=/tmp/r", "--no-syslog"],
     {"force": "xenbr0", "action": "down", "root_prefix": "/tmp/r", "no_syslog": True}),
    (["rewrite"], {"action": "rewrite"}),
    (["rewrite-configuration"], {"action": "rewrite"}),
    (["--force", "xenbr0", "rewrite", "--device=eth0", "--mac=52:54:00:12:34:56",
      "--mode=static", "--ip=192.0.2.10", "--netmask=255.255.255.0",
      "--gateway=192.0.2.1"],
     {"device": "eth0", "mode": "static", "ip": "192.0.2.10", "gateway": "192.0.2.1"}),
    (["--force", "xenbr0", "rewrite", "--device", "eth0", "--mac", "52:54:00:12:34:56",
      "--mode", "DHCP"], {"mode": "DHCP", "ip": None}),
    (["--help"], {"help": True, "action": None}),
    (["-h", "whatever", "else"], {"help": True}),
])
def test_accepted(argv, expected):
    options = parse(argv)
    for name, value in expected.items():
        assert getattr(options, name) == value, name


@pytest.mark.parametrize("argv,message", [
    ([], "exactly one action"),
    (["up", "down", "--force", "xenbr0"], "exactly one action"),
    (["--force", "xenbr0", "sideways"], "unknown action"),
    (["--force"], "requires argument"),
    (["--bogus", "up"], "not recognized"),
    (["--session", "OpaqueRef:s", "up"], "must be used together"),
    (["--pif", REF, "up"], "must be used together"),
    (["--session", "OpaqueRef:s", "--pif", REF, "--pif-uuid", "u", "up"],
     "mutually exclusive"),
    (["--force", "xenbr0", "--pif-uuid", "u", "up"], "mutually exclusive"),
    (["up"], "needs --session"),
    (["--pif-uuid", "u", "rewrite"], "rewrite takes neither"),
    (["--management", "rewrite"], "--management only"),
    (["--force", "xenbr0", "--force", "xenbr1", "up"], "twice"),
    (["--force", "xenbr0", "up", "--device=eth0"], "--device only with --force BRIDGE rewrite"),
    (["--ip=192.0.2.1", "rewrite"], "--ip only with"),
    (["--force", "xenbr0", "rewrite", "--device=eth0", "--mac=52:54:00:12:34:56"],
     "needs --mode"),
    (["--force", "xenbr0", "rewrite", "--device=eth0", "--mac=m", "--mode=bootp"],
     "dhcp or static"),
    (["--force", "xenbr0", "rewrite", "--device=eth0", "--mac=m", "--mode=static",
      "--ip=192.0.2.1"], "needs --ip and --netmask"),
    (["--force", "xenbr0", "rewrite", "--device=eth0", "--mac=m", "--mode=dhcp",
      "--gateway=192.0.2.1"], "only with --mode=static"),
])
def test_refused(argv, message):
    with pytest.raises(UsageError, match=message):
        parse(argv)


@pytest.mark.parametrize("bad", ["--mac=zz", "--mode=foo", "--device=eth0 x", "--mac="])
def test_a_bad_value_is_a_usage_error_like_a_bad_mode(bad):
    """--mac=zz and --mode=foo are the same kind of mistake: both exit 2."""
    argv = ["--force", "xenbr0", "rewrite", "--device=eth0", "--mac=52:54:00:12:34:56",
            "--mode=dhcp"]
    name = bad.split("=", 1)[0]
    argv = [a for a in argv if not a.startswith(name + "=")] + [bad]
    with pytest.raises(UsageError) as info:
        parse(argv)
    assert name in info.value.message


@pytest.mark.parametrize("argv, named", [
    (["--pif-uuid", "nope", "up"], "--pif-uuid 'nope': expected a UUID"),
    (["--session", "nope", "--pif", REF, "up"], "--session 'nope'"),
    (["--session", "OpaqueRef:s", "--pif", "nope", "down"], "--pif 'nope'"),
    (["--session", "OpaqueRef:NULL", "--pif", REF, "up"], "not the null ref"),
    (["--force", "xen br0", "up"], "--force bridge 'xen br0'"),
])
def test_a_bad_value_on_any_form_exits_2_before_anything_runs(argv, named, capsys):
    """As the README says: a bad value on the command line is a usage error."""
    assert main(["--root-prefix", "/nonexistent", "--no-syslog"] + argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
