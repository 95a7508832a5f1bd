"""Every program runs from the checkout with either virtualenv's Python, no PYTHONPATH.

``make setup`` installs the project into .venv and .venv36 in editable mode;
these runs start in an unrelated directory with PYTHONPATH removed, so only
that install can make ``xsovs_common`` importable.
"""

import configparser
import os
import re
import shutil
import subprocess
import tomllib
import xmlrpc.client
import zipfile

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
    # The license only in setup.cfg, in both spellings (the test below reads it back).
    assert "license" not in project["project"] and "license" in project["project"]["dynamic"]
    assert cfg["metadata"]["license"] == cfg["metadata"]["license_expression"] == LICENSE
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert cfg["options.packages.find"]["include"].split() == include


# What make setup's editable install must not print (setuptools' warnings, and pip's).
NOISE = ("deprecated", "warning", "overwritten")
LICENSE = "Apache-2.0"


def _makefile_pip36():
    """The pip make setup puts in .venv36 (``pip==X``)."""
    with open(REPO_ROOT / "Makefile") as handle:
        return re.search(r'"(pip==[0-9.]+)"', handle.read()).group(1)


def _source_copy(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.cfg"):
        (source / name).write_bytes((REPO_ROOT / name).read_bytes())
    shutil.copytree(str(REPO_ROOT / "xsovs_common"), str(source / "xsovs_common"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    return source


def _quiet(result):
    """The lines of a pip run that must have succeeded without a warning (but for this
    machine's pip configuration: an index directory it names that is not there)."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lines = [line for line in output.splitlines()
             if "is ignored: it is neither a file nor a directory" not in line]
    assert not [line for line in lines if any(word in line.lower() for word in NOISE)], output
    return lines


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_building_the_project_warns_of_nothing(version, tmp_path):
    """pip builds it (isolated, with the setuptools pyproject.toml asks for) without a warning,
    the license in the wheel's metadata."""
    source = _source_copy(tmp_path)
    _quiet(_run(PYTHONS[version], ["-m", "pip", "wheel", "--no-deps", "-w",
                                   str(tmp_path / "wheels"), str(source)], tmp_path))
    wheels = list((tmp_path / "wheels").glob("xsovs-0.1.0-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(str(wheels[0])) as wheel:
        metadata = wheel.read("xsovs-0.1.0.dist-info/METADATA").decode()
    field = "License-Expression" if version == "3.11" else "License"
    assert "%s: %s" % (field, LICENSE) in metadata.splitlines()


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_the_editable_install_of_make_setup_is_quiet_and_keeps_the_license(version, tmp_path):
    """make setup's last step, ``pip install -q -e .``, into a virtualenv of that Python
    made as make makes it: nothing printed, the license installed."""
    source = _source_copy(tmp_path)
    venv = tmp_path / "venv"
    python, pip = venv / "bin" / "python", [str(venv / "bin" / "python"), "-m", "pip"]
    if version == "3.11":
        # Without a pip of its own: .venv's pip, the one make setup leaves, installs into it.
        _quiet(_run(PYTHONS[version], ["-m", "venv", "--without-pip", str(venv)], tmp_path))
        pip = [str(PYTHONS[version]), "-m", "pip", "--python", str(python)]
    else:
        _quiet(_run(PYTHONS[version], ["-m", "venv", str(venv)], tmp_path))
        upgrade = _run(python, ["-m", "pip", "install", "-q", _makefile_pip36()], tmp_path)
        assert upgrade.returncode == 0, upgrade.stderr
    result = subprocess.run(pip + ["install", "-q", "--no-deps", "-e", str(source)],
                            cwd=str(tmp_path), timeout=300, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert _quiet(result) == []
    shown = subprocess.run(pip + ["show", "xsovs"], capture_output=True, text=True, timeout=120)
    field = "License-Expression" if version == "3.11" else "License"
    assert "%s: %s" % (field, LICENSE) in shown.stdout.splitlines(), shown.stdout
