"""The RPM ``make rpm`` builds: file list, modes, config files, requirements,
scriptlets, and an install into a private root that runs on Python 3.6.

test_rpm_host.py installs it beside stand-ins of the vendor packages."""

import os
import re
import shutil
import subprocess

import pytest

from tests.support.rpm_root import unit_assignments
from tools import build_rpm
from xsovs_common.system import hostconfig
from xsovs_dev.skips import need, python36

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SITELIB = "/usr/lib/python3.6/site-packages"
LIBEXEC = "/opt/xensource/libexec"
PLUGINS = "/usr/libexec/xsovs/xapi-plugins"     # XAPI's paths link here (scriptlets)
UNITDIR = "/usr/lib/systemd/system"
UNITS = sorted(name for name in os.listdir(os.path.join(REPO, "packaging"))
               if name.endswith(".service"))
DROPINS = [UNITDIR + "/openvswitch.service.d/xsovs.conf"]
if "xsovs-xapi-sync.service" in UNITS:
    DROPINS.append(UNITDIR + "/openvswitch-xapi-sync.service.d/xsovs.conf")
CONFIG = ["/etc/sysconfig/xsovs", "/etc/logrotate.d/xsovs", "/etc/rsyslog.d/xsovs.conf"]
RPMFILE_CONFIG, RPMFILE_DOC, RPMFILE_NOREPLACE = 1, 2, 16


@pytest.fixture(scope="module")
def rpm_path(tmp_path_factory):
    need(None if shutil.which("rpmbuild") else "rpmbuild is not installed (run make setup)")
    return build_rpm.build(topdir=str(tmp_path_factory.mktemp("rpm")))


def _rpm(*args):
    return subprocess.run(["rpm"] + list(args), check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True).stdout


def _dump(rpm_path):
    """path -> (mode, flags, symlink target) of every entry of the package."""
    listing = _rpm("-qp", "--qf", "[%{FILENAMES}\t%{FILEMODES:octal}\t%{FILEFLAGS}\t"
                   "%{FILELINKTOS}\n]", rpm_path)
    entries = {}
    for line in listing.splitlines():
        path, mode, flags, target = line.split("\t")
        entries[path] = (int(mode, 8), int(flags), target)
    return entries


def _tracked(prefix):
    return sorted(name for name in build_rpm.tracked_files(REPO) if name.startswith(prefix))


def test_name_version_and_arch(rpm_path):
    import xsovs_common
    with open(os.path.join(REPO, "pyproject.toml")) as handle:
        project_version = re.search(r'^version = "(.*)"', handle.read(), re.M).group(1)
    assert _rpm("-qp", "--qf", "%{NAME} %{VERSION} %{ARCH}", rpm_path) \
        == "xsovs %s noarch" % project_version
    assert xsovs_common.__version__ == project_version


def test_file_list_and_modes(rpm_path):
    entries = _dump(rpm_path)
    expected = {SITELIB + "/xsovs_common": 0o40755, "/usr/libexec/xsovs": 0o40755,
                PLUGINS: 0o40755, "/var/lib/xsovs": 0o40755,
                "/var/lib/xsovs/vendor-files": 0o40755}
    for name in _tracked("xsovs_common/"):
        if name.count("/") > 1:   # its sub-package's directory
            expected[SITELIB + "/" + os.path.dirname(name)] = 0o40755
        expected[SITELIB + "/" + name] = 0o100644
    for name in _tracked("libexec/"):
        expected[LIBEXEC + "/" + os.path.basename(name)] = 0o100755
    for name in _tracked("xapi.d/plugins/"):
        expected[PLUGINS + "/" + os.path.basename(name)] = 0o100755
    for unit in UNITS:
        expected[UNITDIR + "/" + unit] = 0o100644
    for path in DROPINS:
        expected[os.path.dirname(path)] = 0o40755
        expected[path] = 0o100644
    for path in CONFIG:
        expected[path] = 0o100644
    # Nothing of a vendor package's: those paths are taken over by the scriptlets.
    assert not [path for path in entries if path.startswith("/etc/xapi.d/")]
    assert "/etc/sysconfig/openvswitch" not in entries
    docs = {path for path, (_, flags, _) in entries.items() if flags & RPMFILE_DOC}
    assert [os.path.basename(p) for p in docs] == ["README.md"]
    got = {path: mode for path, (mode, _, _) in entries.items()
           if path not in docs and not path.startswith("/usr/share/doc/")}
    assert got == expected
    assert LIBEXEC + "/openvswitch-boot" in got


def test_config_files_are_noreplace(rpm_path):
    entries = _dump(rpm_path)
    config = sorted(path for path, (_, flags, _) in entries.items() if flags & RPMFILE_CONFIG)
    assert config == sorted(CONFIG)
    for path in CONFIG:
        assert entries[path][1] & RPMFILE_NOREPLACE, path


def test_requires_names_the_python_dependencies(rpm_path):
    requires = {line.split()[0] for line in _rpm("-qp", "--requires", rpm_path).splitlines()}
    # dom0's Python 3, and the modules imported, by the files their packages ship.
    assert {"openvswitch", "python3", SITELIB + "/XenAPI.py",
            SITELIB + "/netaddr/__init__.py"} <= requires


def _scriptlets(rpm_path):
    """{'postinstall': body, ...} from rpm --scripts."""
    scripts, name = {}, None
    for line in _rpm("-qp", "--scripts", rpm_path).splitlines():
        match = re.match(r"^(\w+) scriptlet \(using /bin/sh\):$", line)
        if match:
            name = match.group(1)
            scripts[name] = []
        else:
            scripts[name].append(line)
    return {key: "\n".join(lines) + "\n" for key, lines in scripts.items()}


def test_scriptlets_are_the_library_plus_one_call(rpm_path):
    """Each scriptlet is packaging/scriptlets.sh and the call for its job."""
    with open(os.path.join(REPO, "packaging", "scriptlets.sh")) as handle:
        library = handle.read()
    scripts = _scriptlets(rpm_path)
    assert sorted(scripts) == ["postinstall", "postuninstall", "preinstall", "preuninstall"]
    for name, call in [("preinstall", "xsovs_pre"), ("postinstall", "xsovs_post"),
                       ("preuninstall", "xsovs_preun"), ("postuninstall", "xsovs_postun")]:
        assert scripts[name].rstrip("\n") == "XSOVS_SITELIB=%s\n%s%s \"$@\"" % (
            SITELIB, library, call)
    triggers = _rpm("-qp", "--triggers", rpm_path)
    for kind in ("triggerin", "triggerpostun"):
        assert "%s scriptlet (using /bin/sh) -- openvswitch, xapi-core" % kind in triggers


@pytest.fixture(scope="module")
def installed(rpm_path, tmp_path_factory):
    """The package installed (files only) into a private root."""
    root = tmp_path_factory.mktemp("installed")
    subprocess.run(["rpm", "--root", str(root), "--dbpath", str(root / "rpmdb"), "-i",
                    "--nodeps", "--noscripts", "--nosignature", rpm_path],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return root


def _unit(installed, name):
    """{(section, key): [values]} of an installed unit file."""
    entries = {}
    for section, key, value in unit_assignments(str(installed) + UNITDIR + "/" + name):
        entries.setdefault((section, key), []).extend(value.split())
    return entries


def test_units_order_the_boot(installed):
    boot = _unit(installed, "openvswitch-boot.service")
    for unit in ("xapi.service", "xcp-networkd.service", "network.target"):
        assert unit in boot[("Unit", "Before")]
    assert boot[("Service", "ExecStart")] == [LIBEXEC + "/openvswitch-boot", "start"]
    assert boot[("Service", "ExecStop")] == [LIBEXEC + "/openvswitch-boot", "stop"]
    assert os.access(str(installed) + LIBEXEC + "/openvswitch-boot", os.X_OK)
    assert boot[("Install", "WantedBy")] == ["multi-user.target"]
    assert boot[("Service", "OOMScoreAdjust")] == ["-1000"]
    hook = _unit(installed, "openvswitch-xapi-update.service")
    assert {"xapi.service", "openvswitch-boot.service"} <= set(hook[("Unit", "After")])
    assert hook[("Service", "ExecStart")] == [LIBEXEC + "/openvswitch-xapi-update"]
    assert hook[("Install", "WantedBy")] == ["multi-user.target"]


def test_installed_tree_runs_on_python36(installed, tmp_path):
    python = python36()
    root = installed
    with open(str(root) + "/etc/sysconfig/xsovs") as handle:
        sysconfig = hostconfig.parse_shell_vars(handle.read())
    # As shipped, the file sets nothing: the defaults, or the vendor file's values, apply.
    assert sysconfig == {}
    env = dict(os.environ, PYTHONPATH=str(root) + SITELIB, XSOVS_LOG="stderr")
    # A simulated host in bridge mode: the installed script runs and does nothing.
    host = tmp_path / "sim"
    (host / "etc" / "xensource").mkdir(parents=True)
    (host / "etc" / "xensource" / "network.conf").write_text("bridge\n")
    result = subprocess.run([python, str(root) + LIBEXEC + "/openvswitch-boot",
                             "--root-prefix", str(host), "start"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, cwd=str(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    probe = "import xsovs_common.actions.boot as b; print(b.__file__)"
    modules = subprocess.run([python, "-c", probe],
                             env=env, stdout=subprocess.PIPE, universal_newlines=True,
                             cwd=str(tmp_path), check=True).stdout.strip()
    assert modules == str(root) + SITELIB + "/xsovs_common/actions/boot.py"
