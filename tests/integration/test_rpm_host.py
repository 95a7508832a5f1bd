"""The RPM on a host that has the vendor's packages: real rpm transactions in a
private root with stand-ins of the vendor packages (see tests/support/rpm_root.py)."""

import os
import shutil
import subprocess
import xmlrpc.client

import pytest

from tests.support.rpm_root import (CFG_UPDATE, CONFIG_UPDATE, PLUGINS, REAL_XENAPI, REPO, SAVED,
                                    SDNCONTROLLER, TAKEN_OVER, TARGETS, UNITDIR, VENDOR_MARKER,
                                    VENDOR_PACKAGES, XSOVS_PLUGIN, XSOVS_SDN_PLUGIN, PluginWatch,
                                    build_standins, make_host, read_only, vendor_text)
from tools import build_rpm
from xsovs_common import paths
from xsovs_dev.skips import need

SYNC_IN_TREE = os.path.exists(os.path.join(REPO, "packaging", "xsovs-xapi-sync.service"))

@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """{'xsovs': path, ('openvswitch', 1): path, ..., 'host': [paths]}."""
    need(None if os.geteuid() == 0 else "rpm --root runs scriptlets in a chroot: needs root")
    need(None if shutil.which("rpmbuild") else "rpmbuild is not installed (run make setup)")
    need(None if shutil.which("busybox") else "busybox is not installed (run make setup)")
    need(None if os.path.exists(REAL_XENAPI) else "no .venv36 with XenAPI (run make setup)")
    built = build_standins(str(tmp_path_factory.mktemp("standins")))
    built["xsovs"] = build_rpm.build(topdir=str(tmp_path_factory.mktemp("xsovs")))
    return built


@pytest.fixture
def host(packages, tmp_path):
    return make_host(tmp_path / "root", packages)


def _runs_xsovs(host, host_path):
    """XAPI's call of this path is answered by the xsovs plugin."""
    out = host.run_plugin(host_path, "no-such-function")
    if not out.startswith("<?xml"):
        return False        # the vendor's stand-in plugin says who it is
    reply = xmlrpc.client.loads(out)[0][0]
    return reply["Status"] == "Failure" and reply["ErrorDescription"][:2] == [
        "UNKNOWN_XENAPI_PLUGIN_FUNCTION", "no-such-function"]


def _assert_vendor_files(host, release):
    for path in TAKEN_OVER:
        assert host.link(path) is None, path
        assert host.read(path) == vendor_text(os.path.basename(path), release)
    # rpm's own check: every file of the vendor packages as the package has it.
    host.ok("-V", *VENDOR_PACKAGES)


def _vendor_upgrade(packages):
    return [packages[(name, 2)] for name in VENDOR_PACKAGES]


def _assert_taken_over(host):
    for path, plugin in TAKEN_OVER.items():
        assert host.link(path) == plugin, path
        assert _runs_xsovs(host, path), path


def _switch_untouched(host):
    """No call stopped or restarted the switch's units."""
    for call in host.calls():
        words = call.split()
        if words and words[0] in ("stop", "restart", "try-restart", "start"):
            assert not {"openvswitch.service", "openvswitch-boot.service"} & set(words), call


def test_install_beside_thevendor_packages(host, packages):
    before = host.enable_links()
    assert host.is_enabled("openvswitch.service") == "enabled"
    assert not _runs_xsovs(host, CFG_UPDATE)
    host.ok("-i", packages["xsovs"])
    # XAPI's calls, by either name, run xsovs's plugin; Xen Orchestra's, xsovs's sdncontroller.py.
    _assert_taken_over(host)
    for plugin in (XSOVS_PLUGIN, XSOVS_SDN_PLUGIN):
        with open(os.path.join(REPO, "xapi.d", "plugins", os.path.basename(plugin))) as handle:
            assert host.read(plugin) == handle.read()
    assert host.read(SAVED + "/sdncontroller.py") == vendor_text("sdncontroller.py", 1)
    # The vendor's files are kept, byte for byte and mode for mode.
    assert host.read(SAVED + "/openvswitch-cfg-update") == vendor_text("openvswitch-cfg-update", 1)
    assert os.stat(host.path(SAVED + "/openvswitch-config-update")).st_mode & 0o777 == 0o755
    # The vendor's configuration is untouched, xsovs's settings in a file of their own.
    assert host.read("/etc/sysconfig/openvswitch").startswith("# the vendor's template")
    assert "#CONTROLLER_PORT=6632" in host.read("/etc/sysconfig/xsovs")
    # xsovs's units are enabled, the vendor's enable links all stay.
    for unit in ("openvswitch-boot.service", "openvswitch-xapi-update.service",
                 "xsovs-ovn-xapi-sync.service"):
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
    # Each loads and its start transaction holds together (no contradicting
    # dependencies between the vendor's units and xsovs's).
    for unit in units + (["xsovs-xapi-sync.service"] if SYNC_IN_TREE else []):
        host.systemd_view(unit)
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
    host.ok("-U", *_vendor_upgrade(packages))
    _assert_taken_over(host)
    assert host.read(SAVED + "/openvswitch-config-update") == \
        vendor_text("openvswitch-config-update", 2)
    assert host.read(SAVED + "/sdncontroller.py") == vendor_text("sdncontroller.py", 2)
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
    # The northbound sync, with no vendor unit to give back, is stopped and disabled.
    assert "stop xsovs-ovn-xapi-sync.service" in host.calls()
    assert host.is_enabled("xsovs-ovn-xapi-sync.service") != "enabled"
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
    assert host.read(CFG_UPDATE) == vendor_text("openvswitch-cfg-update", 1)
    host.ok("-V", "openvswitch")


def test_a_host_without_xen_orchestras_plugin_package_gets_xsovss(host, packages):
    """XenServer has no xcp-ng-xapi-plugins: the path is xsovs's alone, and goes with it."""
    host.ok("-e", "--nodeps", "xcp-ng-xapi-plugins")
    host.ok("-i", packages["xsovs"])
    assert host.link(SDNCONTROLLER) == XSOVS_SDN_PLUGIN
    assert not os.path.exists(host.path(SAVED + "/sdncontroller.py"))
    host.ok("-e", "xsovs")
    assert not os.path.lexists(host.path(SDNCONTROLLER))
    assert host.read(CFG_UPDATE) == vendor_text("openvswitch-cfg-update", 1)


def test_a_plugin_is_there_at_every_moment(host, packages):
    with PluginWatch(host) as watch:
        host.ok("-i", packages["xsovs"])
        host.ok("-U", *_vendor_upgrade(packages))
        host.ok("-e", "xsovs")
    assert watch.looks > 1000
    assert watch.missed == []


def test_xsovs_upgrade_keeps_the_takeover(host, packages, tmp_path):
    later = build_rpm.build(topdir=str(tmp_path / "later"), defines={"dist": ".2"})
    host.ok("-i", packages["xsovs"])
    with PluginWatch(host) as watch:
        host.ok("-U", later)
    assert watch.looks > 100 and watch.missed == []
    version = build_rpm.spec_field(REPO, "Version")
    assert host.rpm("-q", "xsovs-%s-1.2" % version)[0] == 0      # the later release, alone
    assert host.rpm("-q", "xsovs-%s-1" % version)[0] != 0
    _assert_taken_over(host)
    assert host.read(SAVED + "/openvswitch-cfg-update") == vendor_text("openvswitch-cfg-update", 1)
    assert host.is_enabled("openvswitch-boot.service") == "enabled"
    assert not [call for call in host.calls() if call.startswith("disable")]
    host.ok("-e", "xsovs")
    _assert_vendor_files(host, 1)


def test_install_twice_is_harmless(host, packages):
    host.ok("-i", packages["xsovs"])
    host.ok("-i", "--replacepkgs", packages["xsovs"])
    for path, plugin in TAKEN_OVER.items():
        assert host.link(path) == plugin
    # What is kept is still the vendor's file, not xsovs's link.
    assert host.read(SAVED + "/openvswitch-cfg-update") == vendor_text("openvswitch-cfg-update", 1)
    host.ok("-e", "xsovs")
    _assert_vendor_files(host, 1)


def test_read_only_plugin_directory_fails_the_transaction(host, packages):
    code, err = host.rpm("-i", packages["xsovs"], wrap=read_only(host, PLUGINS))
    assert code != 0
    assert CFG_UPDATE in err
    assert host.rpm("-q", "xsovs")[0] != 0
    _assert_vendor_files(host, 1)
    assert not os.listdir(host.path(SAVED)) if os.path.exists(host.path(SAVED)) else True
    assert not os.path.exists(host.path(UNITDIR + "/openvswitch.service.d"))


def test_read_only_plugin_file_fails_the_transaction(host, packages):
    code, err = host.rpm("-i", packages["xsovs"], wrap=read_only(host, CONFIG_UPDATE))
    assert code != 0
    assert CONFIG_UPDATE in err
    assert host.rpm("-q", "xsovs")[0] != 0
    _assert_vendor_files(host, 1)


def test_take_over_that_fails_half_way_gives_the_first_path_back(host):
    # What %post and the triggers do, run as they run (in the root, busybox sh),
    # where the second path cannot be replaced: the first goes back too.
    shutil.copy(os.path.join(REPO, "packaging", "scriptlets.sh"), host.path("/scriptlets.sh"))
    result = subprocess.run(read_only(host, CONFIG_UPDATE) + [
        "chroot", host.root, "/bin/sh", "-c", ". /scriptlets.sh; xsovs_take_over"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 1
    assert CONFIG_UPDATE in result.stderr
    _assert_vendor_files(host, 1)
    assert os.listdir(host.path(SAVED)) == []


def test_erase_that_cannot_give_back_keeps_xsovs_whole(host, packages):
    host.ok("-i", packages["xsovs"])
    code, err = host.rpm("-e", "xsovs", wrap=read_only(host, PLUGINS))
    assert code != 0
    assert CFG_UPDATE in err
    assert host.rpm("-q", "xsovs")[0] == 0
    for path, plugin in TAKEN_OVER.items():
        assert host.link(path) == plugin
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
