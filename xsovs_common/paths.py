"""Where things are on a host, under a root prefix.

Every file and every external program is resolved under one prefix so that a
test tree with stub programs, or a simulated host in a namespace, can stand in
for a real dom0.  The prefix comes from ``--root-prefix`` on a CLI, else
``XSOVS_ROOT``, else ``/``.
"""

import os

# Files, as they are named on a XenServer / XCP-ng host.
INVENTORY = "/etc/xensource-inventory"
NETWORK_CONF = "/etc/xensource/network.conf"
SYSCONFIG_OPENVSWITCH = "/etc/sysconfig/openvswitch"
SYSCONFIG_NETWORK = "/etc/sysconfig/network"
NETWORK_SCRIPTS_DIR = "/etc/sysconfig/network-scripts"
NETWORK_DBCACHE = "/var/xapi/network.dbcache"
XAPI_SSL_PEM = "/etc/xensource/xapi-ssl.pem"
VSWITCHD_CACERT = "/etc/openvswitch/vswitchd.cacert"
OVS_RUNDIR = "/var/run/openvswitch"
VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
XAPI_INIT_COOKIE = "/var/run/xapi_init_complete.cookie"   # XAPI has finished starting
# Where ovs-ctl keeps the database, logs and core files under a root prefix
# other than / (at / the Open vSwitch package's own defaults apply).
OVS_DBDIR = "/etc/openvswitch"
OVS_LOGDIR = "/var/log/openvswitch"
OVS_DAEMON_CWD = "/var/xen/openvswitch"
# Per-boot state of xsovs: /run is a tmpfs on a host, emptied at power-on.
XSOVS_RUNDIR = "/run/xsovs"
BOOT_MARKER = XSOVS_RUNDIR + "/openvswitch.booted"
LOCK_FILE = "/var/run/xsovs.lock"
DHCLIENT_DIR = "/var/lib/xcp"        # dhclient lease and configuration files
DHCLIENT_PID_DIR = "/var/run"        # dhclient pid files
RESOLV_CONF = "/etc/resolv.conf"
SYS_CLASS_NET = "/sys/class/net"

# External programs, by the absolute path they have on a host.  Debian's
# merged /usr makes the same paths valid on the test machines.
PROGRAMS = {
    "ovs-vsctl": "/usr/bin/ovs-vsctl",
    "ovs-ofctl": "/usr/bin/ovs-ofctl",
    "ovs-appctl": "/usr/bin/ovs-appctl",
    "ovs-ctl": "/usr/share/openvswitch/scripts/ovs-ctl",
    "ip": "/sbin/ip",
    "ethtool": "/sbin/ethtool",
    "dhclient": "/sbin/dhclient",
    "iptables": "/sbin/iptables",
    "iptables-save": "/sbin/iptables-save",
    "ip6tables": "/sbin/ip6tables",
    "modprobe": "/sbin/modprobe",
    "update-issue": "/sbin/update-issue",
    "sysctl": "/sbin/sysctl",
}


class Root:
    """A host's file system as seen through the root prefix."""

    def __init__(self, prefix=None):
        if prefix is None:
            prefix = os.environ.get("XSOVS_ROOT") or "/"
        self.prefix = os.path.abspath(prefix)

    def __repr__(self):
        return "Root(%r)" % self.prefix

    def path(self, host_path):
        """The real location of ``host_path`` (an absolute host path)."""
        if not host_path.startswith("/"):
            raise ValueError("host paths are absolute: %r" % host_path)
        if self.prefix == "/":
            return host_path
        return self.prefix + host_path

    def program(self, name):
        """The real location of the external program ``name``."""
        return self.path(PROGRAMS[name])

    def ovs_rundir(self):
        """Where ovs-vsctl looks for the OVS daemons' sockets."""
        return os.environ.get("OVS_RUNDIR") or self.path(OVS_RUNDIR)

    def ovsdb_socket(self):
        return os.path.join(self.ovs_rundir(), "db.sock")

    def exists(self, host_path):
        return os.path.exists(self.path(host_path))
