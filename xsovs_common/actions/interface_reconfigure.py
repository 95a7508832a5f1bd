"""What each form of interface-reconfigure does, by source of the model.

The command line (the historical one) is
:mod:`xsovs_common.actions.commands.interface_reconfigure`; the forms:

- ``--session REF --pif REF up|down`` (XAPI, with XAPI's session) and
  ``--pif-uuid UUID up|down`` (XAPI, logging in locally): read this host's
  network from XAPI, act, then store the network cache for the next boot
  (:func:`pif_action`);
- ``--force BRIDGE up|down``: at boot, before XAPI runs, from the cache
  ``/var/xapi/network.dbcache`` (:func:`force_action`);
- ``--force BRIDGE rewrite --device= --mac= --mode= [--ip= --netmask=
  [--gateway=]]``: write a fresh one-PIF cache, to recover a management
  interface (:func:`force_rewrite`);
- ``rewrite`` (``rewrite-configuration``): refresh the cache and every
  bridge's ``xs-network-uuids`` from XAPI (:func:`rewrite_action`).

``--management`` makes the PIF the management PIF for this action (what
XAPI passes while it moves the management interface, before its own
database says so): it gets the default route and DNS, and management flows
when its bridge is secure.
"""

import uuid as uuidmod

from .. import bulk, paths, validate
from . import reconfigure, rewrite
from ..net import dbcache, ipconfig, pif_datapath
from ..system import hostconfig, lock
from ..xapi import network as xapi_network
from ..net.dbcache import CacheError
from ..errors import ConfigError
from ..log import log
from ..net.model import DEFAULTS, NULL_REF, HostNetwork, ModelError

PROGRAM = "interface-reconfigure"   # named in messages that say what to run


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
