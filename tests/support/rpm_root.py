"""A private rpm root standing in for a XenServer / XCP-ng host (for the RPM tests).

Stand-ins for the vendor packages are built with rpmbuild, owning the paths
the real ones own (XCP-ng's ``openvswitch`` and ``xapi-core``), in two
releases each.  They and xsovs are installed into a private rpm root with a
busybox shell, so every scriptlet and trigger runs as on a host.  The root has
no systemd: its ``systemctl`` is a stand-in that records each call and makes
the enable links from a unit's ``[Install]`` section as systemctl does; the
enable state it leaves is judged by the real ``systemctl --root``, and what a
unit with its drop-ins does by the real ``systemd-analyze``.
"""

import os
import shutil
import stat
import subprocess
import xmlrpc.client

from xsovs_dev.pythons import host_python
from xsovs_dev.skips import need

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITELIB = "/usr/lib/python3.6/site-packages"
UNITDIR = "/usr/lib/systemd/system"
PLUGINS = "/etc/xapi.d/plugins"
CFG_UPDATE = PLUGINS + "/openvswitch-cfg-update"        # the openvswitch package's
CONFIG_UPDATE = PLUGINS + "/openvswitch-config-update"  # xapi-core's
SDNCONTROLLER = PLUGINS + "/sdncontroller.py"            # xcp-ng-xapi-plugins'
XSOVS_PLUGIN = "/usr/libexec/xsovs/xapi-plugins/openvswitch-cfg-update"
XSOVS_SDN_PLUGIN = "/usr/libexec/xsovs/xapi-plugins/sdncontroller.py"
# Each plugin path, and the xsovs plugin that answers for it once xsovs is installed.
TAKEN_OVER = {CFG_UPDATE: XSOVS_PLUGIN, CONFIG_UPDATE: XSOVS_PLUGIN,
              SDNCONTROLLER: XSOVS_SDN_PLUGIN}
SAVED = "/var/lib/xsovs/vendor-files"
VENDOR_MARKER = "/var/run/openvswitch.booted"
CALLS = "/var/log/systemctl.calls"
ACTIVE = "/run/systemctl-standin"
REAL_XENAPI = os.path.join(REPO, ".venv36", "lib", "python3.6", "site-packages",
                           "XenAPI", "XenAPI.py")
TARGETS = [name for name in ("sysinit.target", "basic.target", "shutdown.target",
                              "multi-user.target", "network.target", "network-pre.target")
           if os.path.exists("/usr/lib/systemd/system/" + name)]

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


VENDOR_PACKAGES = ("openvswitch", "xapi-core", "xcp-ng-xapi-plugins")


def script(text):
    return "#!/bin/sh\n" + text + "\n"


def vendor_text(name, release):
    return script("echo 'vendor %s %d'" % (name, release))


def vendor_packages(release):
    """name -> (files {path: (mode, text, is_config)}, provides, scriptlets)."""
    ovs_files = {
        CFG_UPDATE: (0o755, vendor_text("openvswitch-cfg-update", release), False),
        "/etc/sysconfig/openvswitch": (0o644, "# the vendor's template\n#FORCE_COREFILES=y\n",
                                       True),
        "/etc/logrotate.d/openvswitch": (0o644, "/var/log/openvswitch/*.log {}\n", True),
        "/usr/share/openvswitch/scripts/ovs-start": (0o755, script("echo ovs-start"), False),
        "/usr/share/openvswitch/scripts/ovs-ctl": (0o755, script("echo ovs-ctl"), False),
        "/usr/share/openvswitch/scripts/ovs-xapi-sync": (0o755, script("echo sync"), False),
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
        CONFIG_UPDATE: (0o755, vendor_text("openvswitch-config-update", release), False),
        PLUGINS + "/firewall-port": (0o755, script("echo firewall-port"), False),
        SITELIB + "/XenAPI.py": (0o644, xenapi, False),
    }
    plugins_files = {
        SDNCONTROLLER: (0o755, vendor_text("sdncontroller.py", release), False),
        PLUGINS + "/xcpngutils/__init__.py": (0o644, "# the vendor's helpers\n", False),
    }
    return {"openvswitch": (ovs_files, [], ovs_scripts),
            "xapi-core": (xapi_files, [], {}),
            "xcp-ng-xapi-plugins": (plugins_files, [], {})}


def host_packages():
    """The rest of dom0 the xsovs package needs, as stand-ins."""
    systemd = {"/usr/bin/systemctl": (0o755, SYSTEMCTL, False)}
    for target in TARGETS:      # what systemd-analyze needs to load a service
        with open("/usr/lib/systemd/system/" + target) as handle:
            systemd[UNITDIR + "/" + target] = (0o644, handle.read(), False)
    return {
        "dom0-base": ({}, ["/bin/sh"], {}),
        "systemd": (systemd, [], {}),
        "python3": ({"/usr/bin/python3": (0o755, script("exit 127"), False)},
                    ["python(abi) = 3.6"], {}),
        # No public spec of these hosts names netaddr's package: a stand-in name.
        "python3-netaddr": ({SITELIB + "/netaddr/__init__.py": (0o644, "", False)}, [], {}),
    }


def build_standin(topdir, name, release, files, provides, scripts):
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


def build_standins(topdir):
    """Every stand-in package: {'host': [paths], ('openvswitch', 1): path, ...}."""
    built = {"host": [build_standin(topdir, name, 1, *spec)
                      for name, spec in host_packages().items()]}
    for release in (1, 2):
        for name, spec in vendor_packages(release).items():
            built[(name, release)] = build_standin(topdir, name, release, *spec)
    return built



def unit_assignments(path):
    """(section, key, value) of each assignment of a systemd unit file, in order."""
    section = None
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif line and not line.startswith("#"):
                key, value = line.split("=", 1)
                yield section, key, value

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
        for directory in ("/etc/systemd/system", UNITDIR):      # /etc shadows /usr/lib
            real = self.path(directory + "/" + name + ".d")
            if os.path.isdir(real):
                for entry in os.listdir(real):
                    if entry.endswith(".conf"):
                        dropins.setdefault(entry, os.path.join(real, entry))
        files += [dropins[entry] for entry in sorted(dropins)]
        lists = {"ExecStart", "ExecStop", "Requires", "Wants", "After", "Before", "WantedBy"}
        merged = {}
        for path in files:
            for section, key, value in unit_assignments(path):
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
        python = host_python()
        call = xmlrpc.client.dumps(("OpaqueRef:NULL", {}), methodname=fn)
        env = dict(os.environ, PYTHONPATH=self.path(SITELIB), XSOVS_LOG="stderr",
                   XSOVS_ROOT=self.root)
        with open(target) as handle:
            interpreter = python if "python" in handle.readline() else "busybox"
        argv = [interpreter, target, call] if interpreter == python \
            else ["busybox", "sh", target, call]
        return subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, cwd=self.root).stdout


def make_host(root, packages):
    """A dom0 with release 1 of the vendor packages; the switch they started runs.

    ``packages`` as build_standins returns them.
    """
    host = Host(root)
    for directory in ("/bin", "/lib/x86_64-linux-gnu", "/lib64", "/var/run", "/run",
                      "/etc/systemd/system", "/var/log"):
        os.makedirs(host.path(directory), exist_ok=True)
    os.makedirs(host.path("/dev"))
    os.mknod(host.path("/dev/null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    shutil.copy2(shutil.which("busybox"), host.path("/bin/busybox"))
    # busybox-static's needs no library: ldd says "not a dynamic executable" and fails.
    libraries = subprocess.run(["ldd", shutil.which("busybox")], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, universal_newlines=True,
                               check=False).stdout
    for word in libraries.split():
        if word.startswith("/"):
            os.makedirs(os.path.dirname(host.path(word)), exist_ok=True)
            shutil.copy2(os.path.realpath(word), host.path(word))
    subprocess.run(["chroot", host.root, "/bin/busybox", "--install", "-s", "/bin"], check=True)
    host.ok("-i", *(packages["host"] + [packages[(name, 1)] for name in VENDOR_PACKAGES]))
    # This boot's switch, started by the vendor's unit.
    with open(host.path(VENDOR_MARKER), "w"):
        pass
    os.makedirs(host.path(ACTIVE))
    for unit in ("openvswitch.service", "openvswitch-xapi-sync.service"):
        with open(host.path(ACTIVE + "/" + unit), "w"):
            pass
    os.unlink(host.path(CALLS))
    return host


class PluginWatch:
    """Looks at XAPI's plugin paths without pause, as XAPI calling a plugin at
    any moment would: a shell loop inside the root tests each path with one
    ``[ -x ]`` (one path walk through any link, as exec does).  A path that
    is missing, or a link to nothing, is a moment XAPI would find no plugin."""

    LOOP = ('looks=0; while [ ! -e /watch.stop ]; do for path in "$@"; do '
            'looks=$((looks + 1)); [ -x "$path" ] || echo "missed $path"; done; done; '
            'echo "looks $looks"')

    def __init__(self, host):
        self.host, self.looks, self.missed = host, 0, []
        self._process = None

    def __enter__(self):
        self._process = subprocess.Popen(
            ["chroot", self.host.root, "/bin/sh", "-c", self.LOOP, "watch"] + sorted(TAKEN_OVER),
            stdout=subprocess.PIPE, universal_newlines=True)
        return self

    def __exit__(self, *exc):
        with open(self.host.path("/watch.stop"), "w"):
            pass
        out = self._process.communicate(timeout=30)[0]
        os.unlink(self.host.path("/watch.stop"))
        for line in out.splitlines():
            word, value = line.split(" ", 1)
            if word == "looks":
                self.looks = int(value)
            else:
                self.missed.append(value)


def read_only(host, host_path):
    """rpm's argv prefix: run it where HOST_PATH is a read-only bind mount."""
    probe = subprocess.run(["unshare", "--mount", "true"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    need(None if probe.returncode == 0 else "cannot make a mount namespace here")
    return ["unshare", "--mount", "sh", "-ec",
            'mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; shift; exec "$@"',
            "sh", host.path(host_path)]
