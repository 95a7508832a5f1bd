"""The libexec programs' command lines: every numeric option is checked."""

import argparse

import pytest

from xsovs_common import cli
from xsovs_common.actions import boot, pool_update
from xsovs_common.actions.commands import (openvswitch_boot, openvswitch_pool_update,
                                           openvswitch_xapi_update)
from xsovs_common.xapi import session as xapi
from xsovs_common.errors import UsageError

BAD_SECONDS = ["-1", "0", "nan", "inf", "-inf", "1e9", "x", ""]


def _usage_error(main, argv, capsys):
    assert main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err
    return err


@pytest.mark.parametrize("value", BAD_SECONDS)
def test_pool_update_timeout(value, capsys):
    err = _usage_error(openvswitch_pool_update.main, ["status", "--timeout", value], capsys)
    assert "--timeout" in err


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "nan", "100000", "x"])
def test_pool_update_workers(value, capsys):
    err = _usage_error(openvswitch_pool_update.main, ["--workers=" + value], capsys)
    assert "--workers" in err


@pytest.mark.parametrize("option", ["--wait", "--interval"])
@pytest.mark.parametrize("value", BAD_SECONDS + ["0.01"])
def test_xapi_update_wait_and_interval(option, value, capsys):
    err = _usage_error(openvswitch_xapi_update.main, ["%s=%s" % (option, value)], capsys)
    assert option in err


def test_boot_needs_a_known_command(capsys):
    _usage_error(openvswitch_boot.main, ["reload"], capsys)


def test_good_values_and_defaults():
    parser = openvswitch_pool_update.parser()
    options = parser.parse_args([])
    assert (options.fn, options.workers, options.timeout) == (
        "update", pool_update.DEFAULT_WORKERS, xapi.DEFAULT_TIMEOUT)
    options = parser.parse_args(["status", "--workers", "3", "--timeout", "2.5"])
    assert (options.fn, options.workers, options.timeout) == ("status", 3, 2.5)
    options = openvswitch_xapi_update.parser().parse_args(["--wait=30", "--interval=0.5"])
    assert (options.wait, options.interval) == (30.0, 0.5)
    with pytest.raises(UsageError):
        parser.parse_args(["--timeout"])


def test_number_bounds_are_inclusive():
    check = cli.number(1, 10, integer=True)
    assert (check("1"), check("10")) == (1, 10)
    for text in ("0", "11", "2.0"):
        with pytest.raises(argparse.ArgumentTypeError):
            check(text)


@pytest.mark.parametrize("command", boot.COMMANDS)
def test_boot_commands_and_the_common_options(command):
    options = openvswitch_boot.parser().parse_args([command, "--root-prefix=/srv/h", "--no-syslog"])
    assert (options.command, options.root_prefix, options.no_syslog) == (command, "/srv/h", True)
    options = openvswitch_boot.parser().parse_args([command])
    assert (options.root_prefix, options.no_syslog) == (None, False)


@pytest.mark.parametrize("argv", [[], ["start", "stop"]])
def test_boot_needs_exactly_one_command(argv, capsys):
    _usage_error(openvswitch_boot.main, argv, capsys)
