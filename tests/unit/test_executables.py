"""Every executable is a thin shell around one importable entry point with a tested parser.

A new program under libexec/ or xapi.d/plugins/ fails here until it is listed
with its entry point (and its parser has tests: test_commands.py,
test_interface_reconfigure_args.py, test_sync_daemon.py, test_plugin.py).
"""

import ast
import importlib
import os
import xmlrpc.client

import pytest

from xsovs_common import cli
from xsovs_common.actions import cfg_update, commands, interface_reconfigure
from xsovs_common.ovn_sync import daemon as ovn_daemon
from xsovs_common.sync import daemon, service
from xsovs_common.xapi import plugin

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Executable -> the function its ``__main__`` block calls, with the module's full name.
ENTRIES = {
    "libexec/interface-reconfigure": "xsovs_common.actions.interface_reconfigure.run",
    "libexec/openvswitch-boot": "xsovs_common.actions.commands.boot_main",
    "libexec/openvswitch-xapi-update": "xsovs_common.actions.commands.xapi_update_main",
    "libexec/openvswitch-pool-update": "xsovs_common.actions.commands.pool_update_main",
    "libexec/ovs-xapi-sync": "xsovs_common.sync.daemon.main",
    "libexec/ovn-xapi-sync": "xsovs_common.ovn_sync.daemon.main",
    "xapi.d/plugins/openvswitch-cfg-update": "xsovs_common.xapi.plugin.dispatch",
    "xapi.d/plugins/sdncontroller.py": "xsovs_common.xapi.plugin.dispatch",
}

# The command-line programs, run as their executable runs them: (program, argv -> status).
COMMAND_LINES = {
    "interface-reconfigure": interface_reconfigure.run,
    "openvswitch-boot": lambda argv: cli.run(commands.BOOT, commands.boot_main, argv),
    "openvswitch-xapi-update": lambda argv: cli.run(commands.XAPI_UPDATE,
                                                    commands.xapi_update_main, argv),
    "openvswitch-pool-update": lambda argv: cli.run(commands.POOL_UPDATE,
                                                    commands.pool_update_main, argv),
    "ovs-xapi-sync": daemon.main,
    "ovn-xapi-sync": ovn_daemon.main,
}


def _executables():
    found = []
    for folder in ("libexec", os.path.join("xapi.d", "plugins")):
        for name in sorted(os.listdir(os.path.join(REPO, folder))):
            found.append("%s/%s" % (folder.replace(os.sep, "/"), name))
    return found


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return base and base + "." + node.attr
    return None


def _main_calls(path):
    """The full names of the functions called and passed in the ``__main__`` block."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    imported = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module + "." + alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported[alias.asname or alias.name] = alias.name
    blocks = [node for node in tree.body if isinstance(node, ast.If)
              and "__main__" in ast.dump(node.test)]
    assert len(blocks) == 1, "%s: one `if __name__ == \"__main__\":` block" % path
    names = set()
    for node in ast.walk(blocks[0]):
        dotted = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if dotted:
            head, _, rest = dotted.partition(".")
            if head in imported:
                names.add(imported[head] + ("." + rest if rest else ""))
    return names


def test_every_executable_is_listed_with_its_entry_point():
    assert _executables() == sorted(ENTRIES)


@pytest.mark.parametrize("executable", sorted(ENTRIES))
def test_the_executable_calls_its_importable_entry_point(executable):
    entry = ENTRIES[executable]
    assert entry in _main_calls(os.path.join(REPO, executable))
    module, _, name = entry.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))


@pytest.fixture
def ovs_dirs(monkeypatch):
    """ovs-xapi-sync points the ovs library's directories at its root: put them back after."""
    ovs = service.load_ovs(daemon.PROGRAM)
    monkeypatch.setattr(ovs.dirs, "RUNDIR", ovs.dirs.RUNDIR)
    monkeypatch.setattr(ovs.dirs, "LOGDIR", ovs.dirs.LOGDIR)


@pytest.mark.parametrize("program", sorted(COMMAND_LINES))
def test_help_names_the_program_and_exits_0(program, ovs_dirs, capsys):
    try:
        status = COMMAND_LINES[program](["--help"])
    except SystemExit as exc:       # argparse's --help
        status = exc.code
    assert status == 0
    assert program in capsys.readouterr().out


@pytest.mark.parametrize("program", sorted(COMMAND_LINES))
def test_an_unknown_option_is_a_usage_error_with_a_message(program, ovs_dirs, capsys):
    try:
        status = COMMAND_LINES[program](["--no-such-option"])
    except SystemExit as exc:       # ovs-xapi-sync: plain argparse
        status = exc.code
    assert status == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert program in err and "Traceback" not in err


def test_the_plugin_answers_a_bad_invocation_with_a_failure(capsys):
    plugin.dispatch(cfg_update.PLUGIN_FUNCTIONS, [])
    (answer,), _ = xmlrpc.client.loads(capsys.readouterr().out)
    assert answer["Status"] == "Failure"
    assert answer["ErrorDescription"][0] == "XENAPI_PLUGIN_FAILURE"
