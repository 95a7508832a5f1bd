"""The RPM on a host that has the vendor's packages: real rpm transactions.

Stand-ins for the vendor packages are built here with rpmbuild, owning the
paths the real ones own (XCP-ng's ``openvswitch`` and ``xapi-core``), in two
releases each.  They and xsovs are installed into a private rpm root with a
busybox shell, so every scriptlet and trigger runs as on a host.  The root has
no systemd: its ``systemctl`` is a stand-in that records each call and makes
the enable links from a unit's ``[Install]`` section as systemctl does; the
enable state it leaves is then judged by the real ``systemctl --root``.
"""

import os
import shutil
import stat
import subprocess
import sys
import threading
import xmlrpc.client

import pytest

from xsovs_common import paths
from xsovs_dev.skips import need

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import build_rpm  # noqa: E402

SITELIB = "/usr/lib/python3.6/site-packages"
UNITDIR = "/usr/lib/systemd/system"
PLUGINS = "/etc/xapi.d/plugins"
CFG_UPDATE = PLUGINS + "/openvswitch-cfg-update"        # the openvswitch package's
CONFIG_UPDATE = PLUGINS + "/openvswitch-config-update"  # xapi-core's
XSOVS_PLUGIN = "/usr/libexec/xsovs/xapi-plugins/openvswitch-cfg-update"
SAVED = "/var/lib/xsovs/vendor-files"
VENDOR_MARKER = "/var/run/openvswitch.booted"
CALLS = "/var/log/systemctl.calls"
ACTIVE = "/run/systemctl-standin"
PY36 = os.path.join(REPO, ".venv36", "bin", "python")
REAL_XENAPI = os.path.join(REPO, ".venv36", "lib", "python3.6", "site-packages",
                           "XenAPI", "XenAPI.py")
TARGETS = [name for name in ("sysinit.target", "basic.target", "shutdown.target",
                              "multi-user.target", "network.target", "network-pre.target")
           if os.path.exists("/usr/lib/systemd/system/" + name)]
SYNC_IN_TREE = os.path.exists(os.path.join(REPO, "packaging", "xsovs-xapi-sync.service"))

# The root's systemctl (see the module's docstring).
SYSTEMCTL = r"""#!/bin/sh
# systemctl stand-in for a test root without systemd.
echo "$*" >> /var/log/systemctl.calls
words=""
for word in "$@"; do
    case $word in -q|--quiet|--no-reload) ;; --*) ;; *) words="$words $word" ;; esac
done
set -- $words
verb=$1
shift
case $verb in
    daemon-reload|try-restart) ;;
    enable|preset)
        for unit; do
            file=/usr/lib/systemd/system/$unit
            [ -f "$file" ] || { echo "Unit file $unit does not exist." >&2; exit 1; }
            for target in $(sed -n '/^\[Install\]/,/^\[/s/^WantedBy=//p' "$file"); do
                mkdir -p "/etc/systemd/system/$target.wants"
                ln -sf "$file" "/etc/systemd/system/$target.wants/$unit"
            done
        done ;;
    disable)
        for unit; do rm -f /etc/systemd/system/*.wants/"$unit"; done ;;
    is-enabled)
        for unit; do ls /etc/systemd/system/*.wants/"$unit" >/dev/null 2>&1 || exit 1; done ;;
    start|restart)
        mkdir -p /run/systemctl-standin
        for unit; do touch "/run/systemctl-standin/$unit"; done ;;
    stop)
        for unit; do rm -f "/run/systemctl-standin/$unit"; done ;;
    is-active)
        for unit; do [ -e "/run/systemctl-standin/$unit" ] || exit 3; done ;;
    *) echo "systemctl stand-in: $verb is not implemented" >&2; exit 1 ;;
esac
"""

OVS_SERVICE = """[Unit]
Description=Open vSwitch
Before=xapi.service xcp-networkd.service network.target
After=syslog.target interface-rename.service network-pre.target
PartOf=network.target

[Service]
Type=forking
ExecStart=/usr/share/openvswitch/scripts/ovs-start
ExecStop=/usr/share/openvswitch/scripts/ovs-ctl stop
OOMScoreAdjust=-1000

[Install]
WantedBy=multi-user.target
"""

SYNC_SERVICE = """[Unit]
Description=Open vSwitch XAPI Sync
Requires=openvswitch.service
After=syslog.target openvswitch.service

[Service]
Environment=PYTHONPATH=/usr/share/openvswitch/python
ExecStart=/usr/share/openvswitch/scripts/ovs-xapi-sync unix:/var/run/openvswitch/db.sock
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def _script(text):
    return "#!/bin/sh\n" + text + "\n"


def _vendor_text(name, release):
    return _script("echo 'vendor %s %d'" % (name, release))


def _vendor_packages(release):
    """name -> (files {path: (mode, text, is_config)}, provides, scriptlets)."""
    ovs_files = {
        CFG_UPDATE: (0o755, _vendor_text("openvswitch-cfg-update", release), False),
        "/etc/sysconfig/openvswitch": (0o644, "# the vendor's template\n#FORCE_COREFILES=y\n",
                                       True),
        "/etc/logrotate.d/openvswitch": (0o644, "/var/log/openvswitch/*.log {}\n", True),
        "/usr/share/openvswitch/scripts/ovs-start": (0o755, _script("echo ovs-start"), False),
        "/usr/share/openvswitch/scripts/ovs-ctl": (0o755, _script("echo ovs-ctl"), False),
        "/usr/share/openvswitch/scripts/ovs-xapi-sync": (0o755, _script("echo sync"), False),
        UNITDIR + "/openvswitch.service": (0o644, OVS_SERVICE, False),
        UNITDIR + "/openvswitch-xapi-sync.service": (0o644, SYNC_SERVICE, False),
    }
    # The vendor's %systemd_post / _preun / _postun, as the real spec uses them.
    ovs_units = "openvswitch.service openvswitch-xapi-sync.service"
    ovs_scripts = {
        "post": 'if [ "$1" -eq 1 ]; then systemctl preset %s; fi' % ovs_units,
        "preun": 'if [ "$1" -eq 0 ]; then systemctl --no-reload disable %s; '
                 'systemctl stop %s; fi' % (ovs_units, ovs_units),
        "postun": "systemctl daemon-reload",
    }
    with open(REAL_XENAPI) as handle:
        xenapi = handle.read()
    xapi_files = {
        CONFIG_UPDATE: (0o755, _vendor_text("openvswitch-config-update", release), False),
        PLUGINS + "/firewall-port": (0o755, _script("echo firewall-port"), False),
        SITELIB + "/XenAPI.py": (0o644, xenapi, False),
    }
    return {"openvswitch": (ovs_files, [], ovs_scripts),
            "xapi-core": (xapi_files, [], {})}


def _host_packages():
    """The rest of dom0 the xsovs package needs, as stand-ins."""
    systemd = {"/usr/bin/systemctl": (0o755, SYSTEMCTL, False)}
    for target in TARGETS:      # what systemd-analyze needs to load a service
        with open("/usr/lib/systemd/system/" + target) as handle:
            systemd[UNITDIR + "/" + target] = (0o644, handle.read(), False)
    return {
        "dom0-base": ({}, ["/bin/sh"], {}),
        "systemd": (systemd, [], {}),
        "python3": ({"/usr/bin/python3": (0o755, _script("exit 127"), False)},
                    ["python(abi) = 3.6"], {}),
        # No public spec of these hosts names netaddr's package: a stand-in name.
        "python3-netaddr": ({SITELIB + "/netaddr/__init__.py": (0o644, "", False)}, [], {}),
    }


def _build_standin(topdir, name, release, files, provides, scripts):
    stage = os.path.join(topdir, "stage", "%s-%d" % (name, release))
    listing = []
    for path, (mode, text, config) in sorted(files.items()):
        real = stage + path
        os.makedirs(os.path.dirname(real), exist_ok=True)
        with open(real, "w") as handle:
            handle.write(text)
        os.chmod(real, mode)
        listing.append(("%config(noreplace) " if config else "") + path)
    lines = ["Name: " + name, "Version: 1.0", "Release: %d" % release,
             "Summary: stand-in for the host's %s" % name, "License: none", "BuildArch: noarch",
             "AutoReqProv: no"]
    lines += ["Provides: " + item for item in provides]
    if scripts:      # as the vendor's spec: systemctl is there for its scriptlets
        lines += ["Requires(%s): systemd" % when for when in ("post", "preun", "postun")]
    lines += ["%description", "stand-in", "%install", "mkdir -p %{buildroot}",
              "cp -a %s/. %%{buildroot}/" % stage if files else ""]
    for scriptlet, body in scripts.items():
        lines += ["%" + scriptlet, body]
    lines += ["%files"] + listing + [""]
    spec = os.path.join(topdir, "%s-%d.spec" % (name, release))
    with open(spec, "w") as handle:
        handle.write("\n".join(lines))
    subprocess.run(["rpmbuild", "-bb", "--define", "_topdir " + topdir, spec], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return os.path.join(topdir, "RPMS", "noarch", "%s-1.0-%d.noarch.rpm" % (name, release))


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """{'xsovs': path, ('openvswitch', 1): path, ..., 'host': [paths]}."""
    need(None if os.geteuid() == 0 else "rpm --root runs scriptlets in a chroot: needs root")
    need(None if shutil.which("rpmbuild") else "rpmbuild is not installed (run make setup)")
    need(None if shutil.which("busybox") else "busybox is not installed (run make setup)")
    need(None if os.path.exists(REAL_XENAPI) else "no .venv36 with XenAPI (run make setup)")
    topdir = str(tmp_path_factory.mktemp("standins"))
    built = {"xsovs": build_rpm.build(topdir=str(tmp_path_factory.mktemp("xsovs")))}
    built["host"] = [_build_standin(topdir, name, 1, *spec)
                     for name, spec in _host_packages().items()]
    for release in (1, 2):
        for name, spec in _vendor_packages(release).items():
            built[(name, release)] = _build_standin(topdir, name, release, *spec)
    return built


class Host:
    """A private rpm root with a busybox shell: a dom0 as far as rpm can tell."""

    def __init__(self, root):
        self.root = str(root)

    def path(self, host_path):
        return self.root + host_path

    def rpm(self, *args, wrap=()):
        """Run rpm on the root; (exit status, stderr)."""
        argv = ["rpm", "--root", self.root, "--dbpath", "/var/lib/rpm", "--nosignature"]
        result = subprocess.run(list(wrap) + argv + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)
        return result.returncode, result.stderr

    def ok(self, *args):
        code, err = self.rpm(*args)
        assert code == 0, err
        return err

    def read(self, host_path):
        with open(self.path(host_path)) as handle:
            return handle.read()

    def link(self, host_path):
        real = self.path(host_path)
        return os.readlink(real) if os.path.islink(real) else None

    def calls(self):
        if not os.path.exists(self.path(CALLS)):
            return []
        return self.read(CALLS).splitlines()

    def enable_links(self):
        """Every enable link under /etc/systemd/system, with its target."""
        found = {}
        top = self.path("/etc/systemd/system")
        for directory, _, names in os.walk(top):
            for name in names:
                real = os.path.join(directory, name)
                if os.path.islink(real):
                    found[real[len(top):]] = os.readlink(real)
        return found

    def is_enabled(self, unit):
        """The real systemctl's answer about the root's enable state."""
        result = subprocess.run(["systemctl", "--root=" + self.root, "is-enabled", unit],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)
        return result.stdout.strip()

    def unit(self, name):
        """{(section, key): [values]} of a unit with its drop-ins, merged as systemd does.

        Drop-ins apply in the order of their file names; an empty assignment
        resets a list, a single-valued key takes the last value.
        """
        files = [self.path(UNITDIR + "/" + name)]
        dropins = {}
        for directory in (UNITDIR, "/etc/systemd/system"):
            real = self.path(directory + "/" + name + ".d")
            if os.path.isdir(real):
                for entry in os.listdir(real):
                    if entry.endswith(".conf"):
                        dropins.setdefault(entry, os.path.join(real, entry))
        files += [dropins[entry] for entry in sorted(dropins)]
        lists = {"ExecStart", "ExecStop", "Requires", "Wants", "After", "Before", "WantedBy"}
        merged, section = {}, None
        for path in files:
            with open(path) as handle:
                for line in handle:
                    line = line.strip()
                    if line.startswith("["):
                        section = line.strip("[]")
                    elif line and not line.startswith("#"):
                        key, value = line.split("=", 1)
                        if not value:
                            merged[(section, key)] = []
                        elif key in lists:
                            merged.setdefault((section, key), []).append(value)
                        else:
                            merged[(section, key)] = [value]
        return merged

    def systemd_view(self, unit):
        """What the real systemd makes of a unit in the root: {key: [values]}.

        ``systemd-analyze verify`` loads the unit with its drop-ins as the
        manager does and, at debug level, dumps it ("Key: value" lines, an
        ``-> ExecStart:`` block of "Command Line:" lines).
        """
        result = subprocess.run(["systemd-analyze", "--root=" + self.root, "verify", unit],
                                env=dict(os.environ, SYSTEMD_LOG_LEVEL="debug"),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True)
        assert result.returncode == 0, result.stdout
        view, inside, block = {}, False, None
        for line in result.stdout.splitlines():
            if line.strip() == "-> Unit %s:" % unit:
                inside = True
            elif inside and line.startswith("\t\t-> "):
                block = line.strip()[3:].rstrip(":")
            elif inside and line.startswith("\t\t") and ": " in line:
                key, value = (part.strip() for part in line.split(": ", 1))
                if line.startswith("\t\t\t") and key == "Command Line":
                    key = block
                view.setdefault(key, []).append(value)
            elif inside and not line.startswith("\t"):
                break
        return view

    def run_plugin(self, host_path, fn):
        """Run a plugin path of the root as XAPI does; its stdout."""
        target = self.path(self.link(host_path)) if self.link(host_path) else self.path(host_path)
        python = PY36 if os.path.exists(PY36) else sys.executable
        call = xmlrpc.client.dumps(("OpaqueRef:NULL", {}), methodname=fn)
        env = dict(os.environ, PYTHONPATH=self.path(SITELIB), XSOVS_LOG="stderr",
                   XSOVS_ROOT=self.root)
        with open(target) as handle:
            interpreter = python if "python" in handle.readline() else "busybox"
        argv = [interpreter, target, call] if interpreter == python \
            else ["busybox", "sh", target, call]
        return subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, cwd=self.root).stdout


def _runs_xsovs(host, host_path):
    """XAPI's call of this path is answered by the xsovs plugin."""
    out = host.run_plugin(host_path, "no-such-function")
    if not out.startswith("<?xml"):
        return False        # the vendor's stand-in plugin says who it is
    reply = xmlrpc.client.loads(out)[0][0]
    return reply == {"Status": "Failure",
                     "ErrorDescription": ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", "no-such-function"]}


@pytest.fixture
def host(packages, tmp_path):
    """A dom0 with release 1 of the vendor packages; the switch they started runs."""
    host = Host(tmp_path / "root")
    for directory in ("/bin", "/lib/x86_64-linux-gnu", "/lib64", "/var/run", "/run",
                      "/etc/systemd/system", "/var/log"):
        os.makedirs(host.path(directory), exist_ok=True)
    os.makedirs(host.path("/dev"))
    os.mknod(host.path("/dev/null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    shutil.copy2(shutil.which("busybox"), host.path("/bin/busybox"))
    libraries = subprocess.run(["ldd", shutil.which("busybox")], stdout=subprocess.PIPE,
                               universal_newlines=True, check=True).stdout
    for word in libraries.split():
        if word.startswith("/"):
            os.makedirs(os.path.dirname(host.path(word)), exist_ok=True)
            shutil.copy2(os.path.realpath(word), host.path(word))
    subprocess.run(["chroot", host.root, "/bin/busybox", "--install", "-s", "/bin"], check=True)
    host.ok("-i", *(packages["host"] + [packages[("openvswitch", 1)], packages[("xapi-core", 1)]]))
    # This boot's switch, started by the vendor's unit.
    with open(host.path(VENDOR_MARKER), "w"):
        pass
    os.makedirs(host.path(ACTIVE))
    for unit in ("openvswitch.service", "openvswitch-xapi-sync.service"):
        with open(host.path(ACTIVE + "/" + unit), "w"):
            pass
    os.unlink(host.path(CALLS))
    return host


def _assert_vendor_files(host, release):
    assert host.link(CFG_UPDATE) is None and host.link(CONFIG_UPDATE) is None
    assert host.read(CFG_UPDATE) == _vendor_text("openvswitch-cfg-update", release)
    assert host.read(CONFIG_UPDATE) == _vendor_text("openvswitch-config-update", release)
    # rpm's own check: every file of the vendor packages as the package has it.
    host.ok("-V", "openvswitch", "xapi-core")


def _switch_untouched(host):
    """No call stopped or restarted the switch's units."""
    for call in host.calls():
        words = call.split()
        if words and words[0] in ("stop", "restart", "try-restart", "start"):
            assert not {"openvswitch.service", "openvswitch-boot.service"} & set(words), call


def test_install_beside_the_vendor_packages(host, packages):
    before = host.enable_links()
    assert host.is_enabled("openvswitch.service") == "enabled"
    assert not _runs_xsovs(host, CFG_UPDATE)
    host.ok("-i", packages["xsovs"])
    # XAPI's calls, by either name, run xsovs's plugin.
    for path in (CFG_UPDATE, CONFIG_UPDATE):
        assert host.link(path) == XSOVS_PLUGIN
        assert _runs_xsovs(host, path), path
    with open(os.path.join(REPO, "xapi.d", "plugins", "openvswitch-cfg-update")) as handle:
        assert host.read(XSOVS_PLUGIN) == handle.read()
    # The vendor's files are kept, byte for byte and mode for mode.
    assert host.read(SAVED + "/openvswitch-cfg-update") == _vendor_text("openvswitch-cfg-update", 1)
    assert os.stat(host.path(SAVED + "/openvswitch-config-update")).st_mode & 0o777 == 0o755
    # The vendor's configuration is untouched, xsovs's settings in a file of their own.
    assert host.read("/etc/sysconfig/openvswitch").startswith("# the vendor's template")
    assert "CONTROLLER_PORT=6632" in host.read("/etc/sysconfig/xsovs")
    # xsovs's units are enabled, the vendor's enable links all stay.
    for unit in ("openvswitch-boot.service", "openvswitch-xapi-update.service"):
        assert host.is_enabled(unit) == "enabled"
    assert host.is_enabled("openvswitch.service") == "enabled"
    assert set(before.items()) <= set(host.enable_links().items())
    _switch_untouched(host)
    # The vendor's start this boot counts as xsovs's first: no second bridge deletion.
    assert os.path.exists(host.path(paths.BOOT_MARKER))


def test_one_boot_path(host, packages):
    host.ok("-i", packages["xsovs"])
    vendor = host.unit("openvswitch.service")
    # The vendor's unit keeps its name and ordering but starts nothing itself ...
    assert vendor[("Service", "ExecStart")] == ["/bin/true"]
    assert vendor[("Service", "ExecStop")] == []
    assert vendor[("Service", "KillMode")] == ["none"]
    assert "xapi.service" in vendor[("Unit", "Before")][0].split()
    # ... and pulls in xsovs's boot, the one unit that starts the switch.
    assert vendor[("Unit", "Requires")] == ["openvswitch-boot.service"]
    assert vendor[("Unit", "After")][-1] == "openvswitch-boot.service"
    boot = host.unit("openvswitch-boot.service")
    assert boot[("Service", "ExecStart")] == ["/opt/xensource/libexec/openvswitch-boot start"]
    starts = []
    for link in host.enable_links():
        unit = host.unit(os.path.basename(link))
        starts += unit.get(("Service", "ExecStart"), [])
    assert [cmd for cmd in starts if "ovs-start" in cmd or "openvswitch-boot" in cmd] == \
        ["/opt/xensource/libexec/openvswitch-boot start"]


def test_real_systemd_reads_the_units_the_same_way(host, packages):
    need(None if shutil.which("systemd-analyze") and TARGETS else "no systemd-analyze here")
    units = ["openvswitch.service", "openvswitch-xapi-sync.service", "openvswitch-boot.service"]
    host.ok("-i", packages["xsovs"])
    for unit in units:
        view = host.systemd_view(unit)
        assert view["ExecStart"] == host.unit(unit)[("Service", "ExecStart")], unit
    vendor = host.systemd_view("openvswitch.service")
    assert "openvswitch-boot.service (origin-file)" in vendor["Requires"]
    assert vendor["Type"] == ["oneshot"] and vendor["KillMode"] == ["none"]
    host.ok("-e", "xsovs")
    vendor = host.systemd_view("openvswitch.service")
    assert vendor["ExecStart"] == ["/usr/share/openvswitch/scripts/ovs-start"]
    assert "DropIn Path" not in vendor
    for unit in units[:2]:
        assert host.systemd_view(unit)["ExecStart"] == host.unit(unit)[("Service", "ExecStart")]


def test_one_sync_daemon(host, packages):
    """The package as the tree builds it: the vendor's daemon is left alone
    until xsovs has its own (test_sync_daemon_takes_over_and_gives_back)."""
    host.ok("-i", packages["xsovs"])
    sync = host.unit("openvswitch-xapi-sync.service")
    if SYNC_IN_TREE:
        assert sync[("Service", "ExecStart")] == ["/bin/true"]
    else:
        assert sync[("Service", "ExecStart")] == [
            "/usr/share/openvswitch/scripts/ovs-xapi-sync unix:/var/run/openvswitch/db.sock"]
        assert not os.path.exists(host.path(UNITDIR + "/openvswitch-xapi-sync.service.d"))
        assert not [call for call in host.calls() if "xapi-sync" in call]


# The sync daemon's unit as a tree that has it ships it (for the tree without).
SYNC_UNIT = """[Unit]
Description=xsovs: OVSDB external ids in step with XAPI
After=openvswitch-boot.service xapi.service

[Service]
ExecStart=/opt/xensource/libexec/ovs-xapi-sync

[Install]
WantedBy=multi-user.target
"""


@pytest.fixture(scope="module")
def with_sync(packages, tmp_path_factory):
    """The xsovs package with xsovs-xapi-sync.service (as built from the tree if it has it)."""
    if SYNC_IN_TREE:
        return packages["xsovs"]
    return build_rpm.build(topdir=str(tmp_path_factory.mktemp("sync")),
                           extra={"packaging/xsovs-xapi-sync.service": SYNC_UNIT})


def test_sync_daemon_takes_over_and_gives_back(host, with_sync):
    host.ok("-i", with_sync)
    sync = host.unit("openvswitch-xapi-sync.service")
    assert sync[("Service", "ExecStart")] == ["/bin/true"]
    assert sync[("Unit", "Requires")][-1] == "xsovs-xapi-sync.service"
    assert sync[("Service", "Restart")] == ["no"]
    assert host.is_enabled("xsovs-xapi-sync.service") == "enabled"
    assert host.is_enabled("openvswitch-xapi-sync.service") == "enabled"
    # The vendor's unit ran: restarted, it now pulls in xsovs's daemon.
    assert "try-restart openvswitch-xapi-sync.service" in host.calls()
    host.ok("-e", "xsovs")
    assert not os.path.exists(host.path(UNITDIR + "/openvswitch-xapi-sync.service.d"))
    assert host.unit("openvswitch-xapi-sync.service")[("Service", "ExecStart")][0].startswith(
        "/usr/share/openvswitch/scripts/ovs-xapi-sync ")
    calls = host.calls()
    assert calls.index("stop xsovs-xapi-sync.service") < calls.index(
        "restart openvswitch-xapi-sync.service")
    assert host.is_enabled("xsovs-xapi-sync.service") != "enabled"
    assert host.is_enabled("openvswitch-xapi-sync.service") == "enabled"
    _assert_vendor_files(host, 1)
    _switch_untouched(host)


def test_vendor_upgrades_keep_xsovs_then_erase_gives_them_back(host, packages):
    before = host.enable_links()
    host.ok("-i", packages["xsovs"])
    host.ok("-U", packages[("openvswitch", 2)], packages[("xapi-core", 2)])
    for path in (CFG_UPDATE, CONFIG_UPDATE):
        assert host.link(path) == XSOVS_PLUGIN
        assert _runs_xsovs(host, path), path
    assert host.read(SAVED + "/openvswitch-config-update") == \
        _vendor_text("openvswitch-config-update", 2)
    host.ok("-e", "xsovs")
    _assert_vendor_files(host, 2)
    assert not os.path.exists(host.path("/var/lib/xsovs"))
    assert not os.path.exists(host.path(UNITDIR + "/openvswitch.service.d"))
    assert host.unit("openvswitch.service")[("Service", "ExecStart")] == \
        ["/usr/share/openvswitch/scripts/ovs-start"]
    # Enabled as before, and the switch xsovs started is not stopped.
    assert host.enable_links() == before
    assert host.is_enabled("openvswitch.service") == "enabled"
    assert host.is_enabled("openvswitch-boot.service") != "enabled"
    _switch_untouched(host)
    # The vendor's script will not take this boot's switch for a new one.
    assert os.path.exists(host.path(VENDOR_MARKER))


def test_erase_after_a_boot_with_xsovs_keeps_the_bridges(host, packages):
    host.ok("-i", packages["xsovs"])
    os.unlink(host.path(VENDOR_MARKER))   # the host rebooted: only xsovs started the switch
    host.ok("-e", "xsovs")
    _assert_vendor_files(host, 1)
    assert os.path.exists(host.path(VENDOR_MARKER))


def test_vendor_package_gone_leaves_nothing_to_give_back(host, packages):
    host.ok("-i", packages["xsovs"])
    host.ok("-e", "--nodeps", "xapi-core")     # rpm removes the path: xsovs's link
    assert host.link(CONFIG_UPDATE) == XSOVS_PLUGIN
    assert not os.path.exists(host.path(SAVED + "/openvswitch-config-update"))
    host.ok("-e", "--nodeps", "xsovs")
    assert not os.path.lexists(host.path(CONFIG_UPDATE))
    assert host.read(CFG_UPDATE) == _vendor_text("openvswitch-cfg-update", 1)
    host.ok("-V", "openvswitch")


class PluginWatch:
    """Looks at XAPI's plugin paths without pause from another thread, as XAPI
    calling a plugin at any moment would: a path that is missing, or a link to
    nothing, is a moment XAPI would have found no plugin."""

    def __init__(self, host):
        self.host, self.looks, self.missed = host, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def _found(self, host_path):
        real = self.host.path(host_path)
        for _ in range(8):            # links to links, each resolved in the root
            try:
                target = os.readlink(real)
            except OSError:
                return os.access(real, os.X_OK)
            real = self.host.path(target) if target.startswith("/") else \
                os.path.join(os.path.dirname(real), target)
        return False

    def _watch(self):
        while not self._stop.is_set():
            for path in (CFG_UPDATE, CONFIG_UPDATE):
                self.looks += 1
                if not self._found(path):
                    self.missed.append(path)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def test_a_plugin_is_there_at_every_moment(host, packages):
    with PluginWatch(host) as watch:
        host.ok("-i", packages["xsovs"])
        host.ok("-U", packages[("openvswitch", 2)], packages[("xapi-core", 2)])
        host.ok("-e", "xsovs")
    assert watch.looks > 1000
    assert watch.missed == []


def test_install_twice_is_harmless(host, packages):
    host.ok("-i", packages["xsovs"])
    host.ok("-i", "--replacepkgs", packages["xsovs"])
    for path in (CFG_UPDATE, CONFIG_UPDATE):
        assert host.link(path) == XSOVS_PLUGIN
    # What is kept is still the vendor's file, not xsovs's link.
    assert host.read(SAVED + "/openvswitch-cfg-update") == _vendor_text("openvswitch-cfg-update", 1)
    host.ok("-e", "xsovs")
    _assert_vendor_files(host, 1)


def _read_only(host, host_path):
    """rpm's argv prefix: run it where HOST_PATH is a read-only bind mount."""
    probe = subprocess.run(["unshare", "--mount", "true"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    need(None if probe.returncode == 0 else "cannot make a mount namespace here")
    return ["unshare", "--mount", "sh", "-ec",
            'mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; shift; exec "$@"',
            "sh", host.path(host_path)]


def test_read_only_plugin_directory_fails_the_transaction(host, packages):
    code, err = host.rpm("-i", packages["xsovs"], wrap=_read_only(host, PLUGINS))
    assert code != 0
    assert CFG_UPDATE in err
    assert host.rpm("-q", "xsovs")[0] != 0
    _assert_vendor_files(host, 1)
    assert not os.listdir(host.path(SAVED)) if os.path.exists(host.path(SAVED)) else True
    assert not os.path.exists(host.path(UNITDIR + "/openvswitch.service.d"))


def test_read_only_plugin_file_fails_the_transaction(host, packages):
    code, err = host.rpm("-i", packages["xsovs"], wrap=_read_only(host, CONFIG_UPDATE))
    assert code != 0
    assert CONFIG_UPDATE in err
    assert host.rpm("-q", "xsovs")[0] != 0
    _assert_vendor_files(host, 1)


def test_take_over_that_fails_half_way_gives_the_first_path_back(host):
    # What %post and the triggers do, run as they run (in the root, busybox sh),
    # where the second path cannot be replaced: the first goes back too.
    shutil.copy(os.path.join(REPO, "packaging", "scriptlets.sh"), host.path("/scriptlets.sh"))
    result = subprocess.run(_read_only(host, CONFIG_UPDATE) + [
        "chroot", host.root, "/bin/sh", "-c", ". /scriptlets.sh; xsovs_take_over"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 1
    assert CONFIG_UPDATE in result.stderr
    _assert_vendor_files(host, 1)
    assert os.listdir(host.path(SAVED)) == []


def test_erase_that_cannot_give_back_keeps_xsovs_whole(host, packages):
    host.ok("-i", packages["xsovs"])
    code, err = host.rpm("-e", "xsovs", wrap=_read_only(host, PLUGINS))
    assert code != 0
    assert CFG_UPDATE in err
    assert host.rpm("-q", "xsovs")[0] == 0
    for path in (CFG_UPDATE, CONFIG_UPDATE):
        assert host.link(path) == XSOVS_PLUGIN
    host.ok("-e", "xsovs")
    _assert_vendor_files(host, 1)


def test_erasing_a_package_never_fully_installed_is_harmless(host, packages):
    host.ok("-i", "--noscripts", "--notriggers", packages["xsovs"])
    host.ok("-e", "xsovs")
    _assert_vendor_files(host, 1)
    assert not os.path.exists(host.path("/var/lib/xsovs"))
    assert host.enable_links() == {
        "/multi-user.target.wants/openvswitch.service": UNITDIR + "/openvswitch.service",
        "/multi-user.target.wants/openvswitch-xapi-sync.service":
            UNITDIR + "/openvswitch-xapi-sync.service"}


def test_requires_names_the_python_dependencies(packages):
    out = subprocess.run(["rpm", "-qp", "--requires", packages["xsovs"]], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True).stdout
    requires = {line.split()[0] for line in out.splitlines()}
    assert {"python3", "openvswitch", SITELIB + "/XenAPI.py",
            SITELIB + "/netaddr/__init__.py"} <= requires
