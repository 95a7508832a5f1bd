"""Every executable is the same thin shell around one ``main`` with a tested parser.

A new program under libexec/ or xapi.d/plugins/ fails here until it has its
module in xsovs_common.actions.commands (named after it, its parser tested:
test_commands.py, test_interface_reconfigure_args.py, test_sync_daemon.py,
test_plugin.py).
"""

import ast
import importlib
import os
import xmlrpc.client

import pytest

from xsovs_common import cli
from xsovs_common.actions.commands import (interface_reconfigure, openvswitch_boot,
                                           openvswitch_cfg_update, openvswitch_pool_update,
                                           openvswitch_xapi_update, ovn_xapi_sync, ovs_xapi_sync)
from xsovs_common.sync import daemon, service

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMANDS = "xsovs_common.actions.commands"

# The command-line programs, run as their executable runs them: (program, argv -> status).
COMMAND_LINES = {
    "interface-reconfigure": interface_reconfigure.main,
    "openvswitch-boot": openvswitch_boot.main,
    "openvswitch-xapi-update": openvswitch_xapi_update.main,
    "openvswitch-pool-update": openvswitch_pool_update.main,
    "ovs-xapi-sync": ovs_xapi_sync.main,
    "ovn-xapi-sync": ovn_xapi_sync.main,
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


def _module_of(executable):
    name = os.path.basename(executable)
    name = name[:-len(".py")] if name.endswith(".py") else name
    return "%s.%s" % (COMMANDS, name.replace("-", "_"))


def _shape(path):
    """The executable's code after its docstring, its command module named COMMAND."""
    with open(path) as handle:
        text = handle.read()
    head, opening, rest = text.partition('"""')
    assert head.startswith("#!") and "\n" not in head.strip(), "%s: a docstring first" % path
    code = rest.split('"""', 1)[1]
    return code.replace(_module_of(path).rsplit(".", 1)[1], "COMMAND")


def test_every_executable_has_its_command_module():
    for executable in _executables():
        module = importlib.import_module(_module_of(executable))
        assert callable(module.main), executable


def test_every_executable_has_one_shape():
    shapes = {executable: _shape(os.path.join(REPO, executable))
              for executable in _executables()}
    assert len(set(shapes.values())) == 1, shapes
    calls = _main_calls(os.path.join(REPO, _executables()[0]))
    assert {"sys.exit", _module_of(_executables()[0]) + ".main"} <= calls


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
    assert openvswitch_cfg_update.main([]) == cli.EXIT_OK
    (answer,), _ = xmlrpc.client.loads(capsys.readouterr().out)
    assert answer["Status"] == "Failure"
    assert answer["ErrorDescription"][0] == "XENAPI_PLUGIN_FAILURE"
