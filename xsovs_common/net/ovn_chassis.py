"""This host as an OVN chassis: what the pool's OVN keys mean here, as a plan.

With ``xsovs:ovn-sb`` set on the pool (:mod:`.ovn`), a host is a chassis:

- the Open_vSwitch row's ``external_ids`` say what ``ovn-controller`` reads:
  ``system-id`` (the host uuid, as the boot script sets it), ``hostname``
  (XAPI's), ``ovn-remote``, ``ovn-encap-type``, ``ovn-encap-ip`` (the IP of
  the encapsulation network's PIF on this host, else of the management PIF),
  ``ovn-bridge`` (``br-int``) and ``ovn-bridge-datapath-type`` (the datapath
  of every bridge xsovs makes: patch ports only join bridges of one type),
  plus ``xsovs-ovn=true``, which says these keys are xsovs's;
- the firewall lets the encapsulation in (Geneve UDP 6081, VXLAN UDP 4789),
  under the owner ``xsovs-ovn``, or through XAPI's ``firewall-port`` helper
  where the host has it, as for a listening manager;
- ``ovn-controller`` runs (started by the OVN host package's ``ovn-ctl``),
  with XAPI's key and certificate and the pool's CA for an ``ssl:`` remote:
  those of a listening manager, ``/etc/xensource/xapi-ssl.pem`` and
  ``/etc/stunnel/certs/sdn-controller-ca.pem``.  (When the switch has an SSL
  row, for a manager, ``ovn-controller`` takes its files instead.)

With the key unset, a host whose keys carry ``xsovs-ovn`` is taken back:
``ovn-controller`` stopped, the keys removed, the port closed.  A host
configured for OVN by hand (no ``xsovs-ovn``) is left as it is.

:func:`plan` is plain data from what was read; the plugin's *OVN chassis*
step (:mod:`xsovs_common.actions.update_ovn`) carries it out.
"""

import collections

from .. import paths, validate
from ..errors import InvalidValue
from ..ovs.changes import ChangeSet
from ..ovs.tls import SslFiles
from ..system import firewall
from . import ovn

INTEGRATION_BRIDGE = ovn.INTEGRATION_BRIDGE
OWNER_KEY = "xsovs-ovn"
OWNED_KEYS = ("ovn-remote", "ovn-encap-type", "ovn-encap-ip", "ovn-bridge",
              "ovn-bridge-datapath-type", OWNER_KEY)
FIREWALL_OWNER = "xsovs-ovn"
# ovn-controller's key, certificate and CA: a listening manager's.
SSL = SslFiles(paths.XAPI_SSL_PEM, paths.XAPI_SSL_PEM, paths.SDN_CONTROLLER_CA, False)

# controller_missing: what to install, or None; controller_running: None when not looked at.
Facts = collections.namedtuple("Facts", "host_uuid hostname encap_ip datapath_type "
                                        "controller_missing controller_running")


def encap_ip(host_network, config):
    """This host's tunnel endpoint: the IP of its PIF on the pool's encapsulation
    network, else of its management PIF; refused when there is none."""
    if config.encap_network:
        pifs = [ref for ref, net in ((r, host_network.network(host_network.pif(r)["network"]))
                                     for r in host_network.pifs)
                if net.get("uuid") == config.encap_network]
        what = "this host's PIF on network %s (%s)" % (config.encap_network,
                                                       ovn.POOL_ENCAP_NETWORK)
    else:
        management = host_network.management_pif()
        pifs = [management] if management else []
        what = "this host's management PIF"
    if not pifs:
        raise ovn.InvalidOvnConfig("pool", ovn.POOL_ENCAP_NETWORK, config.encap_network or "",
                                   "%s does not exist" % what,
                                   "plug a PIF of that network on every host, with an IP")
    pif = host_network.pif(pifs[0])
    try:
        if pif.get("primary_address_type", "IPv4").lower() == "ipv6" and pif.get("IPv6"):
            return validate.ip_interface(pif["IPv6"][0])[0]
        return validate.ip_address(pif.get("IP", ""), what="IP of %s" % what)
    except InvalidValue:
        raise ovn.InvalidOvnConfig("pool", ovn.POOL_ENCAP_NETWORK, config.encap_network or "",
                                   "%s (%s) has no IP address" % (what, pif.get("device")),
                                   "give it an IP (static or DHCP): it is the tunnel endpoint")


class ChassisPlan:
    """What ``update`` does for OVN on this host (see the module docstring)."""

    def __init__(self, config, facts):
        self.config = config
        self.facts = facts
        self.external_ids = {}       # key -> value, or None to remove it
        self.controller = None       # "start", "stop" or None
        self.firewall_open = []      # Rules wanted open
        self.firewall_close = False  # close xsovs-ovn's rules (all but firewall_open)
        self.ssl = None              # SslFiles (host paths) ovn-controller starts with
        self.notes = []
        self.warnings = []

    @property
    def changes(self):
        changes = ChangeSet()
        if self.external_ids:
            changes.set("Open_vSwitch", ".", {"external_ids:" + k: v
                                              for k, v in sorted(self.external_ids.items())})
        return changes

    def is_empty(self):
        return not (self.external_ids or self.controller)

    def as_dict(self, root):
        return {
            "enabled": self.config.enabled,
            "sb": self.config.sb_remote,
            "encap_type": self.config.encap_type,
            "external_ids": self.external_ids,
            "controller": self.controller,
            "ovn_controller": self.facts.controller_missing or (
                None if self.facts.controller_running is None     # not looked at: not ours
                else "running" if self.facts.controller_running else "stopped"),
            "firewall_open": ["%s/%s" % (r.protocol, r.port) for r in self.firewall_open],
            "ssl": self.ssl and {"private_key": root.path(self.ssl.private_key),
                                 "certificate": root.path(self.ssl.certificate),
                                 "ca_cert": root.path(self.ssl.ca_cert)},
            "notes": self.notes,
            "warnings": self.warnings,
        }


def wanted_ids(config, facts):
    """The Open_vSwitch external ids of a chassis of this pool."""
    return {"system-id": facts.host_uuid, "hostname": facts.hostname,
            "ovn-remote": config.sb_remote, "ovn-encap-type": config.encap_type,
            "ovn-encap-ip": facts.encap_ip, "ovn-bridge": INTEGRATION_BRIDGE,
            "ovn-bridge-datapath-type": facts.datapath_type, OWNER_KEY: "true"}


def plan(config, facts, current_ids, ssl_row=None):
    """The :class:`ChassisPlan` from the pool's :class:`ovn.PoolOvn`, this host's
    :data:`Facts`, the Open_vSwitch row's ``external_ids`` and its SSL row."""
    result = ChassisPlan(config, facts)
    rule = firewall.TUNNEL_RULES[config.encap_type]
    if config.enabled:
        for key, value in sorted(wanted_ids(config, facts).items()):
            if current_ids.get(key) != value:
                result.external_ids[key] = value
        result.firewall_open = [rule]
        result.firewall_close = True         # the other encapsulation's port, if it was open
        result.ssl = SSL
        if result.external_ids:
            result.notes.append("OVN chassis %s: southbound %s, %s from %s"
                                % (facts.host_uuid, config.sb_remote, config.encap_type,
                                   facts.encap_ip))
        if facts.controller_missing:
            result.warnings.append("ovn-controller cannot run: " + facts.controller_missing)
        elif not facts.controller_running:
            result.controller = "start"
            result.notes.append("ovn-controller started")
        if config.sb_uses_ssl and ssl_row and ssl_row.get("ca_cert"):
            result.warnings.append(
                "the switch's SSL row (set for its manager) gives ovn-controller its key, "
                "certificate and CA %s, instead of %s" % (ssl_row.get("ca_cert"),
                                                         SSL.ca_cert))
        return result
    if current_ids.get(OWNER_KEY) != "true":
        return result                        # OVN is not ours here: left alone
    for key in OWNED_KEYS:
        if key in current_ids:
            result.external_ids[key] = None
    result.firewall_close = True
    if facts.controller_running:
        result.controller = "stop"
        result.notes.append("ovn-controller stopped")
    result.notes.append("OVN chassis settings removed")
    return result
