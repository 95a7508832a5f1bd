"""Open vSwitch at host boot: what ``openvswitch-boot start|stop|restart|status`` do.

Runs before networking and XAPI, only when ``/etc/xensource/network.conf``
says ``openvswitch`` (or ``vswitch``).  Start: load the kernel module (not
for the ``netdev`` datapath), have ``ovs-ctl`` start ovsdb-server and
ovs-vswitchd with this host's identity from the inventory (system-id =
INSTALLATION_UUID, system-type = PRODUCT_BRAND, system-version =
PRODUCT_VERSION-BUILD_NUMBER, external id ``xs-system-uuid``; TLS protocols
and ciphers from the host's settings, see :mod:`xsovs_common.ovs.tls`), and open
the firewall for tunnels.  Only on the first start since power-on are all bridges
deleted (XenServer expects to start with none, and XAPI makes them again); a
marker under ``/run`` tells a later start or restart to keep the bridges XAPI
has made since.  ovs-ctl deletes bridges only when it starts ovsdb-server
itself, so a start on a host whose switch already runs never tears it down.
A start or restart that kept the bridges puts the management flows back on a
secure management bridge (:func:`restore_management_flows`): a new
ovs-vswitchd starts with no flows, and such a bridge would forward nothing.

The work is planned first (:func:`plan`, plain data), then carried out.
"""

import collections

from .. import paths, validate
from ..net import dbcache, management
from ..ovs import mgmt_flows, ovsctl, tls, transaction
from ..ovs.snapshot import Snapshot
from ..system import files, firewall, hostconfig, lock
from ..errors import ConfigError, Error
from ..log import log

COMMANDS = ("start", "stop", "restart", "status")
TUNNEL_OWNER = "xsovs-tunnels"
ALWAYS_OPEN = ("gre",)      # XenServer's cross-host internal networks
DISABLED_MESSAGE = "Open vSwitch disabled (/etc/xensource/network.conf is invalid)"

# /etc/sysconfig/openvswitch keys XenServer's own start script honoured,
# passed on to ovs-ctl: key -> (ovs-ctl option, kind of value).
_SYSCONFIG_OPTIONS = (
    ("FORCE_COREFILES", "--force-corefiles", "yes/no"),
    ("OVSDB_SERVER_PRIORITY", "--ovsdb-server-priority", "nice"),
    ("VSWITCHD_PRIORITY", "--ovs-vswitchd-priority", "nice"),
    ("VSWITCHD_MLOCKALL", "--mlockall", "yes/no"),
)
SYSCONFIG_OVS_CTL_OPTS = "OVS_CTL_OPTS"    # further ovs-ctl options, e.g. --no-monitor

# A value ovs-ctl puts inside double quotes of an ovs-vsctl argument.
_SAFE_TEXT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._:/+-")

BootPlan = collections.namedtuple("BootPlan", [
    "load_kmod",         # modprobe openvswitch first
    "delete_bridges",    # first start since power-on
    "ovs_ctl_options",   # everything ovs-ctl start/restart is told
    "tunnel_rules",      # firewall.Rule list to open
    "skipped",           # TUNNEL_PROTOCOLS words that name no tunnel
    "tls_refused",       # TLS settings refused (the defaults used instead), and why
])
_DAEMON_OPTIONS = ("--ovsdb-server-options=", "--ovs-vswitchd-options=")


def identity_options(inventory):
    """ovs-ctl options naming this host, from ``/etc/xensource-inventory``."""
    uuid = validate.uuid(inventory["INSTALLATION_UUID"], what="INSTALLATION_UUID")
    brand = _inventory_text(inventory, "PRODUCT_BRAND")
    version = "%s-%s" % (_inventory_text(inventory, "PRODUCT_VERSION"),
                         _inventory_text(inventory, "BUILD_NUMBER"))
    return ["--system-id=" + uuid, "--system-type=" + brand,
            "--system-version=" + version, "--external-id=xs-system-uuid=" + uuid]


def _inventory_text(inventory, key):
    value = inventory.get(key, "")
    if not value or not set(value) <= _SAFE_TEXT:
        raise ConfigError("%s in %s is missing or has characters other than letters, "
                          "digits and ' ._:/+-': %r" % (key, paths.INVENTORY, value),
                          params=[paths.INVENTORY, key, value])
    return value


def sysconfig_options(sysconfig):
    """ovs-ctl options an administrator set in ``/etc/sysconfig/openvswitch``."""
    options = []
    for key, option, kind in _SYSCONFIG_OPTIONS:
        value = sysconfig.get(key)
        if not value:
            continue
        if kind == "nice":
            value = str(validate.integer(value, -20, 19, what=key))
        else:
            value = "yes" if validate.boolean(value, what=key) else "no"
        options.append("%s=%s" % (option, value))
    return options + _ovs_ctl_opts(sysconfig, tls_daemon_options(sysconfig)[0])


def tls_daemon_options(sysconfig):
    """(the daemons' TLS options, refusals): see :mod:`xsovs_common.ovs.tls`."""
    protocols, ciphers, refused = tls.settings(sysconfig)
    return tls.daemon_options(protocols, ciphers), refused


def _ovs_ctl_opts(sysconfig, daemon_tls):
    """OVS_CTL_OPTS, with the TLS options put in front of any daemon options it has.

    ovs-ctl keeps only the last ``--ovsdb-server-options=``: an
    administrator's own daemon options must add to the TLS ones, not drop them.
    """
    extra = {prefix: [] for prefix in _DAEMON_OPTIONS}
    rest = []
    for word in sysconfig.get(SYSCONFIG_OVS_CTL_OPTS, "").split():
        if not word.startswith("--"):
            raise ConfigError("%s in %s: %r is not an ovs-ctl option"
                              % (SYSCONFIG_OVS_CTL_OPTS, paths.SYSCONFIG_OPENVSWITCH, word),
                              params=[paths.SYSCONFIG_OPENVSWITCH, SYSCONFIG_OVS_CTL_OPTS, word])
        prefix = next((p for p in _DAEMON_OPTIONS if word.startswith(p)), None)
        if prefix is None:
            rest.append(word)
        else:
            extra[prefix].append(word[len(prefix):])
    return [prefix + " ".join(daemon_tls + extra[prefix]) for prefix in _DAEMON_OPTIONS] + rest


def tunnel_rules(sysconfig):
    """(rules, skipped words): GRE always, plus what TUNNEL_PROTOCOLS names.

    An unknown word is skipped with an error in the log rather than failing
    the boot: the script runs before the management network comes up, and a
    typo in a tunnel list must not leave the host unreachable.
    """
    words = sysconfig.get(hostconfig.SYSCONFIG_TUNNEL_PROTOCOLS, "").replace(",", " ").split()
    names, skipped = list(ALWAYS_OPEN), []
    for word in words:
        name = word.lower()
        if name not in firewall.TUNNEL_RULES:
            skipped.append(word)
        elif name not in names:
            names.append(name)
    return [firewall.TUNNEL_RULES[name] for name in names], skipped


def first_start(root):
    return not root.exists(paths.BOOT_MARKER)


def plan(root, restart=False):
    """What a start (or restart) will do on this host.

    A restart never deletes bridges: ovs-ctl restarts a running ovsdb-server
    itself, and the bridges of a running host carry its network.
    """
    inventory = hostconfig.inventory(root)
    sysconfig = hostconfig.sysconfig_openvswitch(root)
    datapath = hostconfig.datapath_type(root)
    delete = first_start(root) and not restart
    options = identity_options(inventory)
    options += ["--daemon-cwd=" + root.path(paths.OVS_DAEMON_CWD),
                # ovs-ctl records the host name in the background after the
                # start; "hostname -f" could wait on DNS before networking is up.
                "--no-full-hostname"]
    options += sysconfig_options(sysconfig)
    if delete:
        options.append("--delete-bridges")
    rules, skipped = tunnel_rules(sysconfig)
    return BootPlan(load_kmod=datapath != hostconfig.DATAPATH_NETDEV, delete_bridges=delete,
                ovs_ctl_options=options, tunnel_rules=rules, skipped=skipped,
                tls_refused=tls_daemon_options(sysconfig)[1])


def start(root, restart=False):
    """Start (or restart) the daemons and open the tunnel ports."""
    with lock.host_lock(root):
        the_plan = plan(root, restart)
        for text in the_plan.tls_refused:
            log.error("%s in %s", text, paths.SYSCONFIG_XSOVS)
        if the_plan.load_kmod:
            ovsctl.load_kmod(root)
        else:
            log.info("netdev datapath: not loading the %s kernel module", ovsctl.MODULE)
        if the_plan.delete_bridges:
            log.info("first start since power-on: deleting every bridge")
        env = ovsctl.environment(root, load_kmod=the_plan.load_kmod)
        ovsctl.run(root, "restart" if restart else "start", the_plan.ovs_ctl_options, env)
        if first_start(root):
            _mark_booted(root)
        if not the_plan.delete_bridges:
            restore_management_flows(root)
        for word in the_plan.skipped:
            log.error("%s in %s: unknown tunnel protocol %r skipped (known: %s)",
                      hostconfig.SYSCONFIG_TUNNEL_PROTOCOLS, paths.SYSCONFIG_XSOVS,
                      word, ", ".join(sorted(firewall.TUNNEL_RULES)))
        # Rules for protocols no longer listed go; the listed ones are there once.
        firewall.close_rules(root, TUNNEL_OWNER, keep=the_plan.tunnel_rules)
        added = firewall.open_rules(root, the_plan.tunnel_rules, TUNNEL_OWNER)
        if added:
            log.info("firewall opened for %s", ", ".join(_rule_text(r) for r in added))
    return the_plan


def restore_management_flows(root):
    """The management flows on a secure management bridge that a start or restart
    kept, from the network cache; the bridge's name, or None when none went in.

    A new ovs-vswitchd (after a stop, or a crash) starts with empty flow tables
    while OVSDB keeps every bridge and its fail mode: a secure management
    bridge would forward nothing, even once its IP configuration is back.
    The cache says which PIF is the management one, as for the management
    interface's ``up`` that follows, which installs them too.  Putting them
    back is safe where they are already (one bundle replaces them), so the
    boot never asks whether they are; a failure is logged and the boot goes on.
    """
    if not root.exists(paths.NETWORK_DBCACHE):
        return None
    try:
        path = management.management_path(dbcache.read(root.path(paths.NETWORK_DBCACHE)))
        if path is None:
            return None
        with transaction.connect(root) as connection:
            bridge = Snapshot.read(connection, interfaces=False).bridges.get(path.bridge)
        if bridge is None or bridge.is_fake or bridge.fail_mode != "secure":
            return None
        mgmt_flows.install(root, path)
    except (Error, OSError) as exc:
        log.warning("management flows not restored: %s", getattr(exc, "message", exc))
        return None
    log.info("management flows restored on %s", path.bridge)
    return path.bridge


def stop(root):
    """Stop the daemons and close the tunnel ports."""
    with lock.host_lock(root):
        env = ovsctl.environment(root)
        try:
            ovsctl.run(root, "stop", [], env)
        finally:
            removed = firewall.close_rules(root, TUNNEL_OWNER)
            if removed:
                log.info("firewall: %d tunnel rule(s) removed", removed)


def status(root):
    """(LSB status, report) of ovsdb-server and ovs-vswitchd."""
    return ovsctl.status(root, ovsctl.environment(root))


def run(root, command, out):
    """One init-script command; returns its exit status.

    ``status`` always tells the daemons' real state (0 running, 1 dead with
    a pid file left, 3 stopped, 4 unknown): it is a question, not an action.
    The actions follow network.conf: ``bridge`` means the Linux bridge is in
    use and nothing is done; a missing or unknown backend is reported.
    """
    if command == "status":
        code, report = status(root)
        if report:
            out.write(report + "\n")
        return code
    backend = hostconfig.network_backend(root)
    if backend == hostconfig.BACKEND_BRIDGE:
        log.debug("network.conf says bridge: nothing to do")
        return 0
    if backend != hostconfig.BACKEND_OPENVSWITCH:
        out.write(DISABLED_MESSAGE + "\n")
        log.warning("%s", DISABLED_MESSAGE)
        return 0
    if command == "stop":
        stop(root)
    else:
        start(root, restart=(command == "restart"))
    return 0


def _mark_booted(root):
    files.atomic_write(root.path(paths.BOOT_MARKER), "")


def _rule_text(rule):
    return rule.protocol if rule.port is None else "%s/%d" % (rule.protocol, rule.port)
