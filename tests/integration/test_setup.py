"""make setup states what it needs and stops early, naming what is missing."""

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
