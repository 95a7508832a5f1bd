"""Where things are on a host, under a root prefix.

Every file and every external program is resolved under one prefix so that a
test tree with stub programs, or a simulated host in a namespace, can stand in
for a real dom0.  The prefix comes from ``--root-prefix`` on a CLI, else
``XSOVS_ROOT``, else ``/``.

A :class:`Root` also carries the rest of what the environment says about
the host -- where the OVS daemons' sockets are, where XAPI is, the datapath
type -- read once when a program starts (:meth:`Root.from_environment`) and
passed down with the root, so nothing below reads the environment.
"""

import os

# Files, as they are named on a XenServer / XCP-ng host.
INVENTORY = "/etc/xensource-inventory"
NETWORK_CONF = "/etc/xensource/network.conf"
SYSCONFIG_OPENVSWITCH = "/etc/sysconfig/openvswitch"
SYSCONFIG_XSOVS = "/etc/sysconfig/xsovs"             # read after the vendor's file above
SYSCONFIG_NETWORK = "/etc/sysconfig/network"
NETWORK_SCRIPTS_DIR = "/etc/sysconfig/network-scripts"
NETWORK_DBCACHE = "/var/xapi/network.dbcache"
XAPI_SSL_PEM = "/etc/xensource/xapi-ssl.pem"
VSWITCHD_CACERT = "/etc/openvswitch/vswitchd.cacert"
# The CA an SDN controller installed with pool.certificate_install; XAPI copies it here.
SDN_CONTROLLER_CA = "/etc/stunnel/certs/sdn-controller-ca.pem"
OVS_RUNDIR = "/var/run/openvswitch"
VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
XAPI_INIT_COOKIE = "/var/run/xapi_init_complete.cookie"   # XAPI has finished starting
XAPI_SOCKET = "/var/lib/xcp/xapi"            # XAPI's local socket, where root logs in
# The OVN host package's directories (ovn-ctl's defaults): ovn-controller's pid
# file and control socket, its log.
OVN_RUNDIR = "/var/run/ovn"
OVN_LOGDIR = "/var/log/ovn"
POOL_CONF = "/etc/xensource/pool.conf"     # "master", or "slave:ADDRESS" on a pool member
# The NB remote ovn-xapi-sync last wrote to: where to remove the pool's rows once unset.
OVN_SYNC_REMOTE = "/var/lib/xsovs/ovn-xapi-sync.remote"
# The traffic rules ovs-xapi-sync last had in force: enforced at a start without XAPI.
TRAFFIC_RULES_STATE = "/var/lib/xsovs/traffic-rules.json"
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

# External programs, by the absolute path they have on a host.  Debian's
# merged /usr makes the same paths valid on the test machines.
PROGRAMS = {
    "ovs-vsctl": "/usr/bin/ovs-vsctl",
    "ovs-ofctl": "/usr/bin/ovs-ofctl",
    "ovs-appctl": "/usr/bin/ovs-appctl",
    "ovs-ctl": "/usr/share/openvswitch/scripts/ovs-ctl",
    # The OVN host package (ovn-host): its daemon, and the script that runs it.
    "ovn-ctl": "/usr/share/ovn/scripts/ovn-ctl",
    "ovn-controller": "/usr/bin/ovn-controller",
    "ip": "/sbin/ip",
    "ethtool": "/sbin/ethtool",
    "dhclient": "/sbin/dhclient",
    "iptables": "/sbin/iptables",
    "iptables-save": "/sbin/iptables-save",
    "ip6tables": "/sbin/ip6tables",
    "modprobe": "/sbin/modprobe",
    "update-issue": "/sbin/update-issue",
    "sysctl": "/sbin/sysctl",
    # XAPI's own firewall helper: open|close PORT [PROTOCOL], saved as the host saves rules.
    "firewall-port": "/etc/xapi.d/plugins/firewall-port",
}


# The environment variables a program's start reads (see Root.from_environment).
ENV_ROOT = "XSOVS_ROOT"
ENV_XAPI_URL = "XSOVS_XAPI_URL"
ENV_DATAPATH_TYPE = "XSOVS_DATAPATH_TYPE"
ENV_OVS_RUNDIR = "OVS_RUNDIR"
ENV_OVS_LOGDIR = "OVS_LOGDIR"


class Root:
    """A host's file system as seen through the root prefix, with the host's settings.

    ``ovs_rundir``, ``ovs_logdir``: the OVS daemons' directories when they are
    not under the prefix; ``xapi_url``: where XAPI is when not on its local
    socket (an ``http://host:port/`` URL or a socket path); ``datapath_type``:
    the text given for the bridges' datapath, checked where it is used
    (:func:`hostconfig.datapath_type`); None for the default.  ``environ``:
    the environment as the program found it, which the package scripts it
    runs (``ovs-ctl``, ``ovn-ctl``) get with their directories added (a copy;
    the process's own when not given).
    """

    def __init__(self, prefix, ovs_rundir=None, ovs_logdir=None, xapi_url=None,
                 datapath_type=None, environ=None):
        self.prefix = os.path.abspath(prefix)
        self._ovs_rundir = ovs_rundir or None
        self._ovs_logdir = ovs_logdir or None
        self.xapi_url = xapi_url or None
        self.datapath_type = datapath_type or None
        self.environ = dict(os.environ if environ is None else environ)

    @classmethod
    def from_environment(cls, prefix=None, environ=None):
        """The root of a program's run: ``prefix`` (``--root-prefix``), else
        ``XSOVS_ROOT``, else ``/``, and the settings from ``environ`` (default
        ``os.environ``), read here and nowhere else."""
        environ = os.environ if environ is None else environ
        return cls(prefix or environ.get(ENV_ROOT) or "/",
                   ovs_rundir=environ.get(ENV_OVS_RUNDIR),
                   ovs_logdir=environ.get(ENV_OVS_LOGDIR),
                   xapi_url=environ.get(ENV_XAPI_URL),
                   datapath_type=environ.get(ENV_DATAPATH_TYPE), environ=environ)

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
        return self._ovs_rundir or self.path(OVS_RUNDIR)

    def ovs_logdir(self):
        """Where the OVS daemons (and the ovs library) write their logs."""
        return self._ovs_logdir or self.path(OVS_LOGDIR)

    def ovsdb_socket(self):
        return os.path.join(self.ovs_rundir(), "db.sock")

    def exists(self, host_path):
        return os.path.exists(self.path(host_path))
