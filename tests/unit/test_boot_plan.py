"""What openvswitch-boot plans from the inventory, sysconfig and environment."""

import io
import os
import subprocess

import pytest

from xsovs_common import paths
from xsovs_common.actions import boot
from xsovs_common.ovs import ovsctl, tls
from xsovs_common.system import firewall
from xsovs_common.errors import ConfigError, InvalidValue
from xsovs_dev.fakeroot import FakeRoot

UUID = "5f1c8ab2-0c47-4a8e-9d0b-0000000000c3"
INVENTORY = {"brand": "XenServer", "version": "8.2.1", "build": "release/yangtze/master/58"}


@pytest.fixture
def host(tmp_path):
    """A host root with an inventory and nothing else (no network.conf)."""
    fake = FakeRoot(str(tmp_path / "root"), backend=None)
    fake.write_inventory(UUID, **INVENTORY)
    return fake


@pytest.fixture
def root(host):
    return host.root


DEFAULT_TLS = "--ssl-protocols=TLSv1.2 --ssl-ciphers=" + tls.DEFAULT_CIPHERS
DB_TLS = "--ovsdb-server-options=" + DEFAULT_TLS
VSWITCHD_TLS = "--ovs-vswitchd-options=" + DEFAULT_TLS


def test_first_start_plan(root):
    plan = boot.plan(root)
    assert plan.load_kmod and plan.delete_bridges
    assert plan.ovs_ctl_options == [
        "--system-id=" + UUID, "--system-type=XenServer",
        "--system-version=8.2.1-release/yangtze/master/58",
        "--external-id=xs-system-uuid=" + UUID,
        "--daemon-cwd=" + root.path("/var/xen/openvswitch"), "--no-full-hostname",
        DB_TLS, VSWITCHD_TLS, "--delete-bridges"]
    assert plan.tls_refused == []
    assert plan.tunnel_rules == [firewall.TUNNEL_RULES["gre"]]
    assert plan.skipped == []


def test_later_start_keeps_bridges_and_netdev_loads_no_module(host, root):
    host.write(paths.BOOT_MARKER, "")
    plan = boot.plan(host.configure(datapath_type="netdev"))
    assert not plan.delete_bridges and "--delete-bridges" not in plan.ovs_ctl_options
    assert not plan.load_kmod


def test_restart_never_deletes_bridges(root):
    plan = boot.plan(root, restart=True)
    assert not plan.delete_bridges and "--delete-bridges" not in plan.ovs_ctl_options


def test_bad_datapath_type_is_refused(host):
    with pytest.raises(InvalidValue):
        boot.plan(host.configure(datapath_type="dpdk"))


def test_tunnel_protocols_known_unknown_and_repeated():
    rules, skipped = boot.tunnel_rules({"TUNNEL_PROTOCOLS": "VXLAN, geneve gre stt vxlan nvgre"})
    assert rules == [firewall.TUNNEL_RULES[n] for n in ("gre", "vxlan", "geneve", "stt")]
    assert skipped == ["nvgre"]


def test_sysconfig_options(host, root):
    host.write(paths.SYSCONFIG_OPENVSWITCH,
           "FORCE_COREFILES=no\nVSWITCHD_PRIORITY=-5\nVSWITCHD_MLOCKALL=yes\n"
           "OVS_CTL_OPTS='--no-monitor --ovs-vswitchd-options=-vfile:dbg'\n"
           "CONTROLLER_PORT=6632\n")
    options = boot.plan(root).ovs_ctl_options
    # The administrator's daemon options add to the TLS ones (ovs-ctl keeps the last).
    assert options[6:] == ["--force-corefiles=no", "--ovs-vswitchd-priority=-5",
                           "--mlockall=yes", DB_TLS, VSWITCHD_TLS + " -vfile:dbg",
                           "--no-monitor", "--delete-bridges"]


@pytest.mark.parametrize("text", ["VSWITCHD_PRIORITY=-40\n", "FORCE_COREFILES=maybe\n",
                                  "OVS_CTL_OPTS='stop'\n"])
def test_bad_sysconfig_values_are_clear_errors(host, root, text):
    host.write(paths.SYSCONFIG_OPENVSWITCH, text)
    with pytest.raises((ConfigError, InvalidValue)) as info:
        boot.plan(root)
    assert text.split("=")[0] in info.value.message


@pytest.mark.parametrize("key,change", [("INSTALLATION_UUID", {"host_uuid": "not-a-uuid"}),
                                        ("PRODUCT_BRAND", {"brand": 'Xen"Server'}),
                                        ("BUILD_NUMBER", {"build": ""})])
def test_bad_inventory_values_are_clear_errors(host, root, key, change):
    fields = dict(INVENTORY, host_uuid=UUID)
    fields.update(change)
    host.write_inventory(**fields)
    with pytest.raises((ConfigError, InvalidValue)) as info:
        boot.plan(root)
    assert key in info.value.message


def test_missing_inventory(tmp_path):
    with pytest.raises(ConfigError) as info:
        boot.plan(paths.Root(str(tmp_path)))
    assert "xensource-inventory" in info.value.message


def test_environment_under_a_root_prefix(root):
    root = paths.Root(root.prefix, environ={"PATH": "/bin", "OVS_RUNDIR": "/elsewhere"})
    env = ovsctl.environment(root)
    assert env["OVS_RUNDIR"] == "/elsewhere"                 # the caller's choice wins
    assert env["OVS_DBDIR"] == root.path("/etc/openvswitch")
    assert env["OVS_LOGDIR"] == root.path("/var/log/openvswitch")
    assert env["OVS_SYSCONFDIR"] == root.path("/etc")
    assert env["PATH"] == "/bin"


def test_environment_at_slash_leaves_ovs_defaults():
    env = ovsctl.environment(paths.Root("/", environ={"PATH": "/bin"}))
    assert env == {"PATH": "/bin"}


def test_no_kmod_modprobe_comes_first_and_loads_nothing(root):
    root = paths.Root(root.prefix, environ={"PATH": "/usr/bin:/bin"})
    env = ovsctl.environment(root, load_kmod=False)
    shim = root.path(ovsctl.NO_KMOD_DIR)
    assert env["PATH"].split(":")[:3] == [shim, "/usr/bin", "/bin"]
    assert "/usr/sbin" in env["PATH"].split(":")
    found = subprocess.run(["sh", "-c", "command -v modprobe; modprobe openvswitch"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
    assert found.returncode == 0
    assert found.stdout.strip() == os.path.join(shim, "modprobe")
    assert "not loading" in found.stderr


def test_run_reports_invalid_backend_without_touching_anything(root):
    out = io.StringIO()
    assert boot.run(root, "start", out) == 0
    assert out.getvalue() == boot.DISABLED_MESSAGE + "\n"
    assert sorted(os.listdir(root.prefix)) == ["etc"]


def test_ovs_ctl_runs_by_its_real_path(host, root):
    """A test tree may link the package's ovs-ctl in; ovs-lib must still be found."""
    real = host.write("/opt/ovs/scripts/ovs-ctl", "#!/bin/sh\n", mode=0o755)
    host.link_program("ovs-ctl", target=real)
    assert ovsctl.program(root) == real


def test_tls_settings_from_the_host(host, root):
    host.write(paths.SYSCONFIG_OPENVSWITCH,
               "SSL_PROTOCOLS=TLSv1.1,TLSv1.2\nSSL_CIPHERS='ECDHE-RSA-AES128-GCM-SHA256'\n")
    plan = boot.plan(root)
    wanted = "--ssl-protocols=TLSv1.1,TLSv1.2 --ssl-ciphers=ECDHE-RSA-AES128-GCM-SHA256"
    assert "--ovsdb-server-options=" + wanted in plan.ovs_ctl_options
    assert "--ovs-vswitchd-options=" + wanted in plan.ovs_ctl_options
    assert plan.tls_refused == []


@pytest.mark.parametrize("text, key", [
    ("SSL_PROTOCOLS=TLSv1.3\n", "SSL_PROTOCOLS"),            # unknown to these daemons
    ("SSL_PROTOCOLS='TLSv1.2 --remote=ptcp:6640'\n", "SSL_PROTOCOLS"),
    ("SSL_PROTOCOLS=SSLv3\n", "SSL_PROTOCOLS"),
    ("SSL_CIPHERS=NO-SUCH-CIPHER\n", "SSL_CIPHERS"),           # selects nothing
    ("SSL_CIPHERS='HIGH --remote=ptcp:6640'\n", "SSL_CIPHERS"),  # ovs-ctl would split it
])
def test_tls_settings_the_daemons_would_not_take_fall_back(host, root, text, key):
    host.write(paths.SYSCONFIG_OPENVSWITCH, text)
    plan = boot.plan(root)
    assert DB_TLS in plan.ovs_ctl_options and VSWITCHD_TLS in plan.ovs_ctl_options
    (why,) = plan.tls_refused
    assert why.startswith(key + " ") and why.endswith("using the default " + (
        tls.DEFAULT_PROTOCOLS if key == "SSL_PROTOCOLS" else tls.DEFAULT_CIPHERS))
