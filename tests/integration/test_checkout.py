"""Every program runs from the checkout with either virtualenv's Python, no PYTHONPATH.

``make setup`` installs the project into .venv and .venv36 in editable mode;
these runs start in an unrelated directory with PYTHONPATH removed, so only
that install can make ``xsovs_common`` importable.
"""

import configparser
import os
import shutil
import subprocess
import tomllib
import xmlrpc.client

import pytest

from xsovs_dev.skips import need
from xsovs_dev.xapisim import REPO_ROOT

PYTHONS = {"3.11": REPO_ROOT / ".venv" / "bin" / "python",
           "3.6": REPO_ROOT / ".venv36" / "bin" / "python"}
LIBEXEC = sorted((REPO_ROOT / "libexec").iterdir())
PLUGINS = sorted((REPO_ROOT / "xapi.d" / "plugins").iterdir())


def _run(python, argv, cwd):
    need(None if python.exists() else "%s is missing (run make setup)" % python)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(python)] + argv, cwd=str(cwd), env=env, timeout=60,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)


@pytest.mark.parametrize("version", sorted(PYTHONS))
@pytest.mark.parametrize("program", LIBEXEC, ids=lambda p: p.name)
def test_each_executable_runs_from_the_checkout(version, program, tmp_path):
    result = _run(PYTHONS[version], [str(program), "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower() and "Traceback" not in result.stderr
    # Where XAPI is, for every program that talks to it; the root for all.
    if program.name != "openvswitch-boot":
        assert "XSOVS_XAPI_URL" in result.stdout
    assert "XSOVS_ROOT" in result.stdout


@pytest.mark.parametrize("version", sorted(PYTHONS))
@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_the_plugin_runs_from_the_checkout(version, plugin, tmp_path):
    """Without its XML-RPC argument the plugin still answers in the protocol."""
    result = _run(PYTHONS[version], [str(plugin)], tmp_path)
    assert result.returncode == 0, result.stderr
    (answer,), _ = xmlrpc.client.loads(result.stdout)
    assert answer["Status"] == "Failure"
    assert answer["ErrorDescription"][0] == "XENAPI_PLUGIN_FAILURE"


def test_setup_cfg_matches_pyproject():
    """Python 3.6's setuptools reads setup.cfg: it must say what pyproject.toml says."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)
    cfg = configparser.ConfigParser()
    cfg.read(REPO_ROOT / "setup.cfg")
    assert cfg["metadata"]["name"] == project["project"]["name"]
    assert cfg["metadata"]["version"] == project["project"]["version"]
    assert cfg["metadata"]["license"] == project["project"]["license"]
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert cfg["options.packages.find"]["include"].split() == include


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_building_the_project_warns_of_nothing_deprecated(version, tmp_path):
    """pip builds it as make setup does (isolated, the setuptools pyproject.toml asks for)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.cfg"):
        (source / name).write_bytes((REPO_ROOT / name).read_bytes())
    shutil.copytree(str(REPO_ROOT / "xsovs_common"), str(source / "xsovs_common"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    result = _run(PYTHONS[version], ["-m", "pip", "wheel", "--no-deps", "-w",
                                     str(tmp_path / "wheels"), str(source)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "deprecated" not in output.lower(), output
    assert list((tmp_path / "wheels").glob("xsovs-0.1.0-*.whl"))
