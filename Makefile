# xsovs: set-up, tests, benchmarks, demo and packaging.  See README.md.

# busybox-static provides busybox too: where it is installed it stays (installing
# busybox would remove it), and setup-system says so.
DPKG_QUERY   ?= dpkg-query
BUSYBOX      := $(shell $(DPKG_QUERY) -W -f='$${Status}' busybox-static 2>/dev/null | \
                  grep -q 'ok installed' && echo busybox-static || echo busybox)
APT_PACKAGES := openvswitch-switch openvswitch-common iproute2 iptables dnsmasq rpm \
                iputils-ping isc-dhcp-client ethtool openssl $(BUSYBOX) netcat-openbsd
APT_PACKAGES += ovn-central ovn-host
APT_PACKAGES += python3-venv
PYTHON3      ?= python3
PY36         ?= $(shell PYENV_VERSION=3.6.15 pyenv which python3.6 2>/dev/null)
VENV         := .venv
VENV36       := .venv36
PY           := $(VENV)/bin/python
HOST_CODE    := xsovs_common libexec xapi.d

.PHONY: setup setup-check setup-system setup-venv setup-venv36 play-up play-down test test-py36 lint check-py36 bench rpm clean demo

# What the machine needs (see README, "Set up"): checked before anything is installed.
setup: setup-check setup-system setup-venv setup-venv36

setup-check:
	@test "$$(id -u)" = 0 || { echo "make setup: run it as root (it installs Debian packages)"; exit 1; }
	@command -v apt-get >/dev/null || { echo "make setup: apt-get not found; a Debian 12 machine is needed"; exit 1; }
	@command -v $(PYTHON3) >/dev/null || { echo "make setup: $(PYTHON3) not found; set PYTHON3=/path/to/python3"; exit 1; }
	@test -n "$(PY36)" || { echo "make setup: Python 3.6 not found: install pyenv's 3.6.15 or set PY36=/path/to/python3.6"; exit 1; }
	@$(PY36) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 6))' 2>/dev/null || { echo "make setup: PY36=$(PY36) is not a working Python 3.6"; exit 1; }

setup-system:
	@test "$$(id -u)" = 0 || { echo "make setup installs Debian packages: run it as root"; exit 1; }
	@test "$(BUSYBOX)" = busybox || echo "make setup: busybox-static is installed and provides busybox: keeping it (installing busybox would remove it)"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_PACKAGES)

setup-venv:
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q -e .

setup-venv36:
	@test -n "$(PY36)" || { echo "Python 3.6 not found: install pyenv's 3.6.15 or set PY36=/path/to/python3.6"; exit 1; }
	$(PY36) -m venv $(VENV36)
	$(VENV36)/bin/pip install -q "pip==21.3.1"
	$(VENV36)/bin/pip install -q -r requirements-py36.txt
	$(VENV36)/bin/pip install -q -e .

# The whole suite: lint, host code on Python 3.6, every test on 3.11, unit tests on 3.6.
# Each pytest run keeps its temporary files (--basetemp) in a directory of its own,
# removed when the run ends, passed or failed: nothing is left in $TMPDIR.
UNIT_TESTS   ?= tests/unit
IN_TMPDIR     = base=$$(mktemp -d "$${TMPDIR:-/tmp}/xsovs-pytest.XXXXXX") && \
                trap 'rm -rf "$$base"' EXIT &&

test: lint check-py36
	$(IN_TMPDIR) $(PY) -m pytest --basetemp="$$base/tmp" tests
	$(MAKE) test-py36

test-py36:
	$(IN_TMPDIR) $(VENV36)/bin/python -m pytest -p no:cacheprovider --basetemp="$$base/tmp" \
	    $(UNIT_TESTS)

lint:
	$(VENV)/bin/ruff check .
	$(PY) tools/check_self_contained.py

check-py36:
	$(VENV36)/bin/python tools/check_py36.py $(HOST_CODE)

# Benchmarks: not part of make test; BENCH=name runs only the matching ones.
bench:
	$(PY) -m bench $(BENCH)

# The host package: source tarball of the tracked files, then rpmbuild in build/rpm;
# prints the RPM's path.
rpm:
	@$(PY) tools/build_rpm.py

# One simulated host booting with xsovs, step by step (root; see xsovs_dev/demo).
demo:
	$(PY) -m xsovs_dev.demo

# A simulated pool to drive by hand (README, "Try it by hand"); play-down removes it all.
play-up:
	@$(PY) -m xsovs_dev.play up

play-down:
	@$(PY) -m xsovs_dev.play down

clean:
	rm -rf $(VENV) $(VENV36) build dist .pytest_cache .ruff_cache xsovs.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
