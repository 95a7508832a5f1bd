"""make setup states what it needs and stops early, naming what is missing; make test
cleans up after itself."""

import os
import subprocess

from xsovs_dev.xapisim import REPO_ROOT


def make(*args):
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT)] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_a_missing_python36_stops_setup_before_anything_is_installed():
    result = make("setup", "PY36=/nonexistent/python3.6")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "make setup:" in output
    assert "apt-get" not in output and "venv" not in result.stdout


def test_no_python36_at_all_says_how_to_get_one():
    result = make("setup-check", "PY36=")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "make setup: run it as root" in output or "pyenv's 3.6.15 or set PY36=" in output


def test_the_packages_include_python3_venv():
    """A stock Debian 12 has no python3 -m venv without it."""
    result = make("-n", "setup-system")
    assert result.returncode == 0
    install = [line for line in result.stdout.splitlines() if "apt-get install" in line]
    assert install and "python3-venv" in install[0].split()


def test_an_installed_busybox_static_is_kept_and_said_so(tmp_path):
    """busybox-static provides busybox; installing busybox would remove it."""
    dpkg_query = tmp_path / "dpkg-query"
    dpkg_query.write_text("#!/bin/sh\nprintf 'install ok installed'\n")
    dpkg_query.chmod(0o755)
    result = make("-n", "setup-system", "DPKG_QUERY=%s" % dpkg_query)
    assert result.returncode == 0, result.stderr
    install = [line for line in result.stdout.splitlines() if "apt-get install" in line][0]
    assert "busybox-static" in install.split() and "busybox" not in install.split()
    assert "busybox-static is installed and provides busybox: keeping it" in result.stdout
    # Where it is not installed, busybox is, without a word.
    result = make("-n", "setup-system", "DPKG_QUERY=false")
    install = [line for line in result.stdout.splitlines() if "apt-get install" in line][0]
    assert "busybox" in install.split() and "busybox-static" not in install.split()


def test_a_test_run_leaves_nothing_in_the_temporary_directory(tmp_path):
    """make's pytest runs keep their temporary files to themselves and remove them."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir))
    result = subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT), "test-py36",
                             "UNIT_TESTS=tests/unit/test_files.py"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "--basetemp" in result.stdout
    assert os.listdir(str(tmpdir)) == []
