"""interface-reconfigure: the historical command line, and what each form does.

XenServer's management-interface service and XAPI run
``/opt/xensource/libexec/interface-reconfigure`` with the command line the
historical tool had, so it is parsed exactly so (``getopt``, options before
or after the action, ``--opt VALUE`` or ``--opt=VALUE``) -- not argparse,
whose ``--force BRIDGE up`` / ``--session REF --pif REF up`` handling
differs.  Usage errors exit 2, failures 1.

The forms, by source of the model:

- ``--session REF --pif REF up|down`` (XAPI, with XAPI's session) and
  ``--pif-uuid UUID up|down`` (XAPI, logging in locally): read this host's
  network from XAPI, act, then store the network cache for the next boot;
- ``--force BRIDGE up|down``: at boot, before XAPI runs, from the cache
  ``/var/xapi/network.dbcache``;
- ``--force BRIDGE rewrite --device= --mac= --mode= [--ip= --netmask=
  [--gateway=]]``: write a fresh one-PIF cache, to recover a management
  interface;
- ``rewrite`` (``rewrite-configuration``): refresh the cache and every
  bridge's ``xs-network-uuids`` from XAPI.

``--management`` makes the PIF the management PIF for this action (what
XAPI passes while it moves the management interface, before its own
database says so): it gets the default route and DNS, and management flows
when its bridge is secure.
"""

import getopt
import sys
import uuid as uuidmod


from .. import bulk, cli, paths, validate
from . import reconfigure, rewrite
from ..net import dbcache, ipconfig, pif_datapath
from ..system import hostconfig, lock
from ..xapi import network as xapi_network
from ..net.dbcache import CacheError
from ..errors import ConfigError, InvalidValue, UsageError
from ..log import log
from ..net.model import DEFAULTS, NULL_REF, HostNetwork, ModelError

PROGRAM = "interface-reconfigure"

USAGE = """\
Usage:
  interface-reconfigure --session REF --pif REF [--management] up|down
  interface-reconfigure --pif-uuid UUID [--management] up|down
  interface-reconfigure rewrite                  (alias: rewrite-configuration)
  interface-reconfigure --force BRIDGE up|down
  interface-reconfigure --force BRIDGE rewrite --device=DEV --mac=MAC --mode=dhcp|static
                        [--ip=IP --netmask=MASK [--gateway=GW]]
Options:
  --root-prefix=DIR   resolve every file and program under DIR (default $XSOVS_ROOT or /)
  --no-syslog         log to stderr instead of syslog
  --help              this text

up/down with --session/--pif or --pif-uuid read XAPI and then refresh the
network cache (/var/xapi/network.dbcache); --force reads that cache (at boot,
before XAPI runs).

""" + cli.environment_help(paths.ENV_ROOT, paths.ENV_XAPI_URL, paths.ENV_DATAPATH_TYPE)

ACTIONS = ("up", "down", "rewrite")
_ALIASES = {"rewrite-configuration": "rewrite"}
_VALUE_OPTIONS = ("pif", "pif-uuid", "session", "force", "device", "mac", "mode", "ip",
                  "netmask", "gateway", "root-prefix")
_FLAG_OPTIONS = ("management", "no-syslog", "help")
_REWRITE_OPTIONS = ("device", "mac", "mode", "ip", "netmask", "gateway")


class Options:
    """The parsed command line; option names with ``_`` for ``-``."""

    def __init__(self):
        for name in _VALUE_OPTIONS:
            setattr(self, name.replace("-", "_"), None)
        for name in _FLAG_OPTIONS:
            setattr(self, name.replace("-", "_"), False)
        self.action = None

    def __repr__(self):
        return "Options(%r)" % vars(self)


def parse(argv):
    """The :class:`Options` of ``argv``; raises UsageError."""
    try:
        pairs, args = getopt.gnu_getopt(list(argv), "h", [n + "=" for n in _VALUE_OPTIONS]
                                        + list(_FLAG_OPTIONS))
    except getopt.GetoptError as exc:
        raise UsageError("%s: %s (try --help)" % (PROGRAM, exc.msg))
    options = Options()
    seen = set()
    for option, value in pairs:
        name = "help" if option == "-h" else option[2:]
        if name in seen and name != "help":
            raise UsageError("%s: %s given twice" % (PROGRAM, option))
        seen.add(name)
        setattr(options, name.replace("-", "_"), True if name in _FLAG_OPTIONS else value)
    if options.help:
        return options
    if len(args) != 1:
        raise UsageError("%s: exactly one action is needed (up, down or rewrite), got %s"
                         % (PROGRAM, " ".join(args) or "none"))
    action = _ALIASES.get(args[0], args[0])
    if action not in ACTIONS:
        raise UsageError("%s: unknown action %r (up, down or rewrite)" % (PROGRAM, args[0]))
    options.action = action
    _check(options, seen)
    return options


def _usage(message):
    raise UsageError("%s: %s" % (PROGRAM, message))


def _check(options, seen):
    """The combinations the historical tool accepted, and no others."""
    by_xapi = options.session is not None or options.pif is not None
    if (options.session is None) != (options.pif is None):
        _usage("--session and --pif must be used together")
    if by_xapi and options.pif_uuid is not None:
        _usage("--session/--pif and --pif-uuid are mutually exclusive")
    if options.force is not None and (by_xapi or options.pif_uuid is not None):
        _usage("--force is mutually exclusive with --session, --pif and --pif-uuid")
    rewrite_options = sorted("--" + n for n in _REWRITE_OPTIONS if n in seen)
    if rewrite_options and not (options.force is not None and options.action == "rewrite"):
        _usage("%s only with --force BRIDGE rewrite" % ", ".join(rewrite_options))
    if options.action == "rewrite":
        if by_xapi or options.pif_uuid is not None:
            _usage("rewrite takes neither --session/--pif nor --pif-uuid")
        if options.management:
            _usage("--management only with up or down")
        if options.force is not None:
            _check_force_rewrite(options)
    elif options.force is None and not by_xapi and options.pif_uuid is None:
        _usage("%s needs --session REF --pif REF, --pif-uuid UUID or --force BRIDGE"
               % options.action)


def _check_force_rewrite(options):
    missing = [n for n in ("device", "mac", "mode") if getattr(options, n) is None]
    if missing:
        _usage("--force BRIDGE rewrite needs %s" % ", ".join("--" + n for n in missing))
    mode = options.mode.lower()
    if mode not in ("dhcp", "static"):
        _usage("--mode must be dhcp or static, not %r" % options.mode)
    if mode == "static" and (options.ip is None or options.netmask is None):
        _usage("--mode=static needs --ip and --netmask")
    if mode == "dhcp" and (options.ip is not None or options.netmask is not None
                           or options.gateway is not None):
        _usage("--ip, --netmask and --gateway only with --mode=static")
    # A bad value on the command line is a usage error like a bad --mode (exit status 2).
    checks = [(validate.interface_name, options.force, "bridge"),
              (validate.interface_name, options.device, "--device"),
              (validate.mac, options.mac, "--mac")]
    if mode == "static":
        checks += [(validate.netmask, options.netmask, "--netmask")]
        checks += [(lambda v, what: validate.ip_address(v, version=4, what=what), value, what)
                   for value, what in ((options.ip, "--ip"), (options.gateway, "--gateway"))
                   if value]
    for check, value, what in checks:
        try:
            check(value, what=what)
        except InvalidValue as exc:
            _usage(exc.message)


# The actions.

def check_backend(root):
    """network.conf must say openvswitch (or vswitch)."""
    backend = hostconfig.network_backend(root)
    path = root.path(paths.NETWORK_CONF)
    if backend == hostconfig.BACKEND_BRIDGE:
        raise ConfigError("%s selects the Linux bridge backend, which xsovs does not provide"
                          % path, params=[path, backend])
    if backend is None:
        raise ConfigError("%s is missing or names no known network backend "
                          "(expected openvswitch)" % path, params=[path])


def as_management(host_network, pif_ref):
    """``host_network`` with ``pif_ref`` as its one management PIF (a copy)."""
    pifs = dict(host_network.pifs)
    for ref, record in host_network.pifs.items():
        if record.get("management") and ref != pif_ref:
            pifs[ref] = dict(record, management=False)
    pifs[pif_ref] = dict(host_network.pif(pif_ref), management=True)
    return HostNetwork(pifs, host_network.networks, host_network.bonds, host_network.vlans,
                       host_network.tunnels, host_network.pools)


def _act(root, host_network, pif_ref, action, management, from_cache):
    working = as_management(host_network, pif_ref) if management else host_network
    # From XAPI the model holds the PIF's own objects only (xapi_network.load_pif).
    partial = not from_cache
    if action == "up":
        reconfigure.up(root, working, pif_ref, partial=partial)
    else:
        reconfigure.down(root, working, pif_ref, from_cache=from_cache, partial=partial)
    log.info("%s %s: done", host_network.describe_pif(pif_ref), action)


def _not_here(api, host_uuid, record):
    """The error for a PIF XAPI knows on another host."""
    from ..xapi import session as xapi
    host = record.get("host", NULL_REF)
    try:
        host = api.host.get_uuid(host)
    except xapi.XapiError:
        pass
    return ModelError("PIF %s (%s) is on host %s, not on this host %s" % (
        record.get("uuid"), record.get("device"), host, host_uuid),
        params=[record.get("uuid", ""), host])


@bulk.without_cycle_collection
def pif_action(root, action, session_ref=None, pif_ref=None, pif_uuid=None, management=False):
    """``--session REF --pif REF`` / ``--pif-uuid UUID``: XAPI, then the cache.

    Only the PIF's own objects are read (:func:`xapi_network.load_pif`), so
    one call costs the same however many other PIFs the host has; the cache
    then gets fresh records of what was read, and keeps the rest.
    """
    if session_ref is not None:
        validate.ref(session_ref, what="session reference", null_ok=False)
        validate.ref(pif_ref, what="PIF reference", null_ok=False)
    else:
        pif_uuid = validate.uuid(pif_uuid, what="PIF uuid")
    # XenAPI and http.client: the --force forms (boot) never need them
    from ..xapi import session as xapi
    cache_path = root.path(paths.NETWORK_DBCACHE)
    with lock.host_lock(root):
        host_uuid = hostconfig.host_uuid(root)
        with xapi.connect(session_ref, root) as api:
            if pif_uuid is not None:
                pif_ref = api.PIF.get_by_uuid(pif_uuid)
            record = api.PIF.get_record(pif_ref)
            host_network = xapi_network.load_pif(api, host_uuid, pif_ref, record, action)
            if pif_ref not in host_network.pifs:
                raise _not_here(api, host_uuid, record)
            try:
                cache = dbcache.merged(cache_path, host_network)
            except CacheError as exc:
                log.info("network cache unusable (%s): reading all of this host's network",
                         exc.message)
                cache = dbcache.render(xapi_network.load(api, host_uuid))
        _act(root, host_network, pif_ref, action, management, from_cache=False)
        dbcache.write_text(cache_path, cache)


@bulk.without_cycle_collection
def force_action(root, bridge, action, management=False):
    """``--force BRIDGE up|down``: from the cache, XAPI not running."""
    bridge = validate.interface_name(bridge, what="bridge")
    with lock.host_lock(root):
        try:
            host_network = dbcache.read(root.path(paths.NETWORK_DBCACHE))
        except CacheError as exc:
            raise CacheError("%s; %s" % (exc.message, _cache_recovery(bridge)),
                             params=exc.params)
        pif_ref = host_network.pif_by_bridge(bridge)
        _act(root, host_network, pif_ref, action, management, from_cache=True)


def _cache_recovery(bridge):
    """How to make a usable cache again, for the error that found none."""
    return ("to recover, write a new one: while XAPI runs, '%s rewrite'; without XAPI, "
            "'%s --force %s rewrite --device=NIC --mac=MAC --mode=dhcp|static "
            "[--ip=IP --netmask=MASK [--gateway=GW]]' (the management PIF's), then "
            "'--force %s up' again" % (PROGRAM, PROGRAM, bridge, bridge))


def _identity(root, bridge, device):
    """Refs and uuids of the cached PIF and network to keep, or fresh ones."""
    try:
        old = dbcache.read(root.path(paths.NETWORK_DBCACHE))
    except CacheError:
        old = None
    if old is not None:
        for ref, record in old.pifs.items():
            network = old.networks.get(record.get("network"))
            if network and record.get("device") == device and network.get("bridge") == bridge \
                    and not old.is_vlan(ref):
                return ref, record["uuid"], record["network"], network["uuid"]
    return ("OpaqueRef:%s" % uuidmod.uuid4(), str(uuidmod.uuid4()),
            "OpaqueRef:%s" % uuidmod.uuid4(), str(uuidmod.uuid4()))


def force_rewrite(root, bridge, device, mac, mode, ip=None, netmask=None, gateway=None):
    """``--force BRIDGE rewrite ...``: a fresh one-PIF cache for the management PIF.

    The PIF's and network's refs and uuids are kept when the old cache has
    this device on this bridge (so the network keeps its identity for a
    controller), else new ones.  Nothing else of the old cache is kept.
    """
    bridge = validate.interface_name(bridge, what="bridge")
    device = validate.interface_name(device, what="--device")
    mac = validate.mac(mac, what="--mac")
    mode = {"dhcp": "DHCP", "static": "Static"}[mode.lower()]
    fields = {"IP": "", "netmask": "", "gateway": ""}
    if mode == "Static":
        fields["IP"] = validate.ip_address(ip, version=4, what="--ip")
        prefix = validate.netmask(netmask, what="--netmask")
        import netaddr   # this form only
        fields["netmask"] = str(netaddr.IPNetwork("0.0.0.0/%d" % prefix).netmask)
        if gateway:
            fields["gateway"] = validate.ip_address(gateway, version=4, what="--gateway")
    with lock.host_lock(root):
        pif_ref, pif_uuid, network_ref, network_uuid = _identity(root, bridge, device)
        pif = dict(DEFAULTS["pif"])
        pif.update(fields, uuid=pif_uuid, device=device, MAC=mac, network=network_ref,
                   management=True, ip_configuration_mode=mode, VLAN_slave_of=[],
                   bond_master_of=[], tunnel_access_PIF_of=[], tunnel_transport_PIF_of=[],
                   DNS="", IPv6=[], ipv6_gateway="", other_config={})
        network = {"uuid": network_uuid, "bridge": bridge, "MTU": "1500", "PIFs": [pif_ref],
                   "other_config": {}}
        host_network = HostNetwork({pif_ref: pif}, {network_ref: network})
        pif_datapath.Datapath(host_network, pif_ref)
        ipconfig.plan_up(root, host_network, pif_ref, bridge)
        dbcache.write(root.path(paths.NETWORK_DBCACHE), host_network)
        log.info("network cache rewritten: %s on %s, %s", device, bridge, mode)


def rewrite_action(root):
    """``rewrite``: the cache and xs-network-uuids from XAPI (local login)."""
    from ..xapi import session as xapi
    with lock.host_lock(root), xapi.connect(None, root) as api:
        result = rewrite.rewrite(root, api)
    log.info("rewrite: %s", result.summary() or "nothing to change")


def _masked(argv):
    """``argv`` without the session ref (it grants XAPI access while it lives)."""
    result = []
    hide = False
    for word in argv:
        if hide:
            word, hide = "<session>", False
        elif word == "--session":
            hide = True
        elif word.startswith("--session="):
            word = "--session=<session>"
        result.append(word)
    return result


def main(argv):
    options = parse(argv)
    if options.help:
        sys.stdout.write(USAGE)
        return 0
    root = cli.setup(PROGRAM, options)
    log.info("called as %s %s", PROGRAM, " ".join(_masked(argv)))
    check_backend(root)
    if options.action == "rewrite":
        if options.force is not None:
            force_rewrite(root, options.force, options.device, options.mac, options.mode,
                          options.ip, options.netmask, options.gateway)
        else:
            rewrite_action(root)
    elif options.force is not None:
        force_action(root, options.force, options.action, options.management)
    else:
        pif_action(root, options.action, session_ref=options.session, pif_ref=options.pif,
                   pif_uuid=options.pif_uuid, management=options.management)
    return 0


def run(argv=None):
    """The executable's whole life: exit status 0, 1 or 2."""
    return cli.run(PROGRAM, main, argv)
