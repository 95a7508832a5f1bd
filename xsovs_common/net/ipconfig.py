"""IP configuration of a PIF's IP device: the plan.

The IP device is the PIF's bridge, or its NIC for a network without one; the
caller decides.  :func:`plan_up` validates every value it will use -- modes,
addresses, netmask, gateways, DNS servers, domain, static routes -- and
raises :class:`InvalidValue` naming the PIF before anything is touched.
The plan is plain data (files to write, steps to run), so ``str(plan)`` is a
dry run; :func:`~xsovs_common.net.ipconfig_apply.apply` runs it.

Addresses are set directly with iproute2 and dhclient (see
:mod:`~xsovs_common.system.dhclient` for its files), the same on a XenServer host
and on a test machine, never through the distribution's ``ifup``.  The
files written are the ones a Red Hat style host and its administrators
read: ``ifcfg-DEV``, ``route-DEV``, DNSDEV / GATEWAYDEV in
``/etc/sysconfig/network``, and ``/etc/resolv.conf`` for static DNS.

Which PIF owns the default route and DNS: the PIF whose own other_config
says ``defaultroute`` / ``peerdns`` = true, else the management PIF (as
XenServer always did).  Only that PIF's IP device gets the default gateways,
DHCP routers, name servers and domain.

Steps (tuples, first item the kind):
  ("dhclient-stop", dev)                 stop dev's IPv4 and IPv6 dhclients
  ("ipv6-sysctl", dev, ((name, 0|1), ...))  router advertisements (accept_ra ...)
  ("link-mtu", dev, mtu)                 only when the caller asks (not an OVS port)
  ("link-up", dev) / ("link-down", dev)
  ("addr-flush", dev)                    IPv4 and global IPv6 addresses
  ("addr-add", dev, "ADDRESS/PREFIX")
  ("route-add", dev, "default"|"NET/LEN", gateway)
  ("route-add-dynamic", dev, "NET/LEN", gateway)   over a DHCP/autoconf family:
                                         logged, not fatal, when no lease yet
  ("dhclient-start", dev, 4|6)
  ("update-issue",)                      <root>/sbin/update-issue, when it exists
"""

from .. import paths, validate
from . import nicconfig
from ..system import dhclient, files, hostconfig, ifcfg
from ..errors import ConfigError, InvalidValue
from ..log import log

IPV4_MODES = ("None", "DHCP", "Static")
IPV6_MODES = ("None", "DHCP", "Static", "Autoconf")
RA_OFF = (("accept_ra", 0), ("autoconf", 0))


class IpPlan:
    """Files (host path, text or None to remove) and steps for one IP device."""

    def __init__(self, action, ip_device, files=None, steps=None):
        self.action = action          # "up" or "down"
        self.ip_device = ip_device
        self.files = list(files or [])
        self.steps = list(steps or [])

    def _key(self):
        return (self.action, self.ip_device, self.files, self.steps)

    def __eq__(self, other):
        return isinstance(other, IpPlan) and self._key() == other._key()

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return "IpPlan(%r, %r, files=%r, steps=%r)" % self._key()

    def __str__(self):
        lines = ["# IP configuration of %s: %s" % (self.ip_device, self.action)]
        for host_path, text in self.files:
            if text is None:
                lines.append("remove %s" % host_path)
            else:
                lines.append("write %s" % host_path)
                lines += ["    " + line for line in text.splitlines()]
        for step in self.steps:
            lines.append(" ".join(_word(item) for item in step))
        return "\n".join(lines) + "\n"


def _word(item):
    if isinstance(item, tuple):
        return ",".join("=".join(str(x) for x in pair) if isinstance(pair, tuple) else str(pair)
                        for pair in item)
    return str(item)



def _mode(value, modes, what):
    """A configuration mode, matched without regard to case (caches differ)."""
    for mode in modes:
        if isinstance(value, str) and value.lower() == mode.lower():
            return mode
    raise InvalidValue("unknown %s %r (expected %s)" % (what, value, ", ".join(modes)),
                       params=[what, str(value)])


def _chosen_pif(host_network, key):
    """The PIF whose own other_config has ``key`` = true, else the management PIF."""
    chosen = []
    for ref, record in host_network.pifs.items():
        value = (record.get("other_config") or {}).get(key)
        if value is None:
            continue
        try:
            if validate.boolean(value, what=key):
                chosen.append((record.get("device") or "", ref))
        except InvalidValue as exc:
            log.warning("%s: ignoring %s", host_network.describe_pif(ref), exc.message)
    if not chosen:
        return host_network.management_pif()
    chosen.sort()
    if len(chosen) > 1:
        log.warning("several PIFs have other_config %s=true: using %s, ignoring %s", key,
                    host_network.describe_pif(chosen[0][1]),
                    ", ".join(host_network.describe_pif(ref) for _, ref in chosen[1:]))
    return chosen[0][1]


def gateway_pif(host_network):
    """The PIF that owns the default route (``defaultroute`` = true, else management)."""
    return _chosen_pif(host_network, "defaultroute")


def dns_pif(host_network):
    """The PIF that owns DNS (``peerdns`` = true, else management)."""
    return _chosen_pif(host_network, "peerdns")


def _static_routes(value, what):
    """``NET/LEN/GATEWAY,...`` as [(NET/LEN, GATEWAY)], IPv4 or IPv6."""
    routes = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split("/")
        if len(parts) != 3:
            raise InvalidValue("invalid %s %r: expected NETWORK/MASKLEN/GATEWAY" % (what, item),
                               params=[what, item])
        address, prefix, version = validate.ip_interface(parts[0] + "/" + parts[1], what=what)
        gateway = validate.ip_address(parts[2], version=version, what=what)
        import netaddr   # only static routes and static addresses need it
        network = netaddr.IPNetwork("%s/%d" % (address, prefix))
        if str(network.network) != address:
            raise InvalidValue("invalid %s %r: %s has host bits set (network %s)"
                               % (what, item, parts[0], network.cidr), params=[what, item])
        routes.append(("%s/%d" % (address, prefix), gateway))
    return routes


def _domains(value, what):
    words = value.replace(",", " ").split()
    return [validate.hostname(word, what=what) for word in words]


class _Settings:
    """The validated IP settings of one PIF (plain attributes)."""

    def __init__(self, host_network, pif_ref):
        record = host_network.pif(pif_ref)
        name = host_network.describe_pif(pif_ref)
        other_config = host_network.other_config(pif_ref)
        self.mode = _mode(record.get("ip_configuration_mode"), IPV4_MODES,
                          "ip_configuration_mode of " + name)
        self.ipv6_mode = _mode(record.get("ipv6_configuration_mode") or "None", IPV6_MODES,
                               "ipv6_configuration_mode of " + name)
        self.is_gateway = gateway_pif(host_network) == pif_ref
        self.is_dns = dns_pif(host_network) == pif_ref
        self.address = self.netmask = self.prefix = self.gateway = None
        if self.mode == "Static":
            self.address = validate.ip_address(record.get("IP"), version=4,
                                               what="IP of " + name)
            self.prefix = validate.netmask(record.get("netmask"), what="netmask of " + name)
            import netaddr
            self.netmask = str(netaddr.IPNetwork("0.0.0.0/%d" % self.prefix).netmask)
            if record.get("gateway"):
                self.gateway = validate.ip_address(record["gateway"], version=4,
                                                   what="gateway of " + name)
        self.dns = [validate.ip_address(server.strip(), what="DNS server of " + name)
                    for server in (record.get("DNS") or "").split(",") if server.strip()]
        self.domains = []
        if self.is_dns and other_config.get("domain"):
            self.domains = _domains(other_config["domain"], "other_config domain of " + name)
        self.ipv6_addresses = []
        self.ipv6_gateway = None
        if self.ipv6_mode == "Static":
            for item in record.get("IPv6") or ():
                if not item:
                    continue
                address, prefix, version = validate.ip_interface(item,
                                                                 what="IPv6 address of " + name)
                if version != 6:
                    raise InvalidValue("invalid IPv6 address of %s %r: not IPv6" % (name, item),
                                       params=["IPv6 address of " + name, item])
                self.ipv6_addresses.append("%s/%d" % (address, prefix))
            if record.get("ipv6_gateway"):
                self.ipv6_gateway = validate.ip_address(record["ipv6_gateway"], version=6,
                                                        what="ipv6_gateway of " + name)
        self.routes = _static_routes(other_config.get("static-routes") or "",
                                     "static-routes of " + name)
        self.mtu = nicconfig.mtu(host_network, pif_ref)


def _ifcfg_fields(device, settings):
    fields = [("XEMANAGED", "yes"), ("DEVICE", device), ("ONBOOT", "no"),
              ("NOZEROCONF", "yes"), ("TYPE", "Ethernet")]
    if settings.mode == "DHCP":
        fields += [("BOOTPROTO", "dhcp"), ("PERSISTENT_DHCLIENT", "yes")]
        if not settings.is_gateway:
            fields.append(("DEFROUTE", "no"))
        if not settings.is_dns:
            fields.append(("PEERDNS", "no"))
    elif settings.mode == "Static":
        fields += [("BOOTPROTO", "none"), ("NETMASK", settings.netmask),
                   ("IPADDR", settings.address)]
        if settings.gateway:
            # As the historical tool wrote it; GATEWAYDEV says which device routes.
            fields.append(("GATEWAY", settings.gateway))
    else:
        fields.append(("BOOTPROTO", "none"))
    if settings.mtu is not None:
        fields.append(("MTU", settings.mtu))
    if settings.is_dns:
        fields += [("DNS%d" % i, server) for i, server in enumerate(settings.dns, 1)]
        if settings.domains:
            fields.append(("DOMAIN", " ".join(settings.domains)))
    if settings.ipv6_mode == "Static":
        fields += [("IPV6INIT", "yes"), ("IPV6_AUTOCONF", "no")]
        if settings.ipv6_addresses:
            fields.append(("IPV6ADDR", settings.ipv6_addresses[0]))
        if len(settings.ipv6_addresses) > 1:
            fields.append(("IPV6ADDR_SECONDARIES", " ".join(settings.ipv6_addresses[1:])))
        if settings.is_gateway and settings.ipv6_gateway:
            fields.append(("IPV6_DEFAULTGW", settings.ipv6_gateway))
    elif settings.ipv6_mode == "DHCP":
        fields += [("IPV6INIT", "yes"), ("DHCPV6C", "yes"), ("IPV6_AUTOCONF", "no")]
    elif settings.ipv6_mode == "Autoconf":
        fields += [("IPV6INIT", "yes"), ("IPV6_AUTOCONF", "yes")]
    return fields


def _script(device, kind):
    return "%s/%s-%s" % (paths.NETWORK_SCRIPTS_DIR, kind, device)


def _network_file(root, device, gateway, dns):
    """The /etc/sysconfig/network change, or None: (host path, text)."""
    path = root.path(paths.SYSCONFIG_NETWORK)
    old = files.read_text(path, default="")
    try:
        current = hostconfig.parse_shell_vars(old, path)
    except ConfigError as exc:
        log.warning("%s", exc.message)
        current = {}
    values = {}
    for key, mine in (("GATEWAYDEV", gateway), ("DNSDEV", dns)):
        if mine:
            values[key] = device
        elif current.get(key) == device:
            values[key] = None           # no longer this device's role
    if not values:
        return None
    new = ifcfg.update_shell_vars(old, values)
    return None if new == old else (paths.SYSCONFIG_NETWORK, new)


def _dhclient_files(device, settings):
    result = []
    for version, used in ((4, settings.mode == "DHCP"), (6, settings.ipv6_mode == "DHCP")):
        text = dhclient.conf_text(device, version, settings.is_gateway,
                                  settings.is_dns) if used else None
        result.append((dhclient.conf_file(device, version), text))
    return result


def _ipv6_sysctl(settings):
    if settings.ipv6_mode in ("DHCP", "Autoconf"):
        return (("accept_ra", 1), ("accept_ra_defrtr", 1 if settings.is_gateway else 0),
                ("autoconf", 1 if settings.ipv6_mode == "Autoconf" else 0))
    return RA_OFF


def plan_up(root, host_network, pif_ref, ip_device, set_mtu=False):
    """The plan that gives ``ip_device`` the IP configuration of ``pif_ref``.

    ``set_mtu``: also set the device's MTU with ``ip`` (for an IP device that
    is not an OVS port; OVS ports get ``mtu_request`` from the caller).
    Raises InvalidValue / ModelError naming the PIF and value; reads files
    but changes nothing.
    """
    device = validate.interface_name(ip_device, what="IP device")
    settings = _Settings(host_network, pif_ref)
    plan = IpPlan("up", device)
    plan.files.append((_script(device, "ifcfg"), ifcfg.ifcfg_text(device,
                                                                 _ifcfg_fields(device, settings))))
    plan.files.append((_script(device, "route"), ifcfg.route_text(device, settings.routes)))
    network = _network_file(root, device, settings.is_gateway, settings.is_dns)
    if network:
        plan.files.append(network)
    if settings.is_dns and settings.mode == "Static" and (settings.dns or settings.domains):
        old = files.read_text(root.path(paths.RESOLV_CONF), default="")
        plan.files.append((paths.RESOLV_CONF,
                           ifcfg.resolv_conf_text(old, settings.dns, settings.domains)))
    plan.files += _dhclient_files(device, settings)
    plan.files = [(path, text) for path, text in plan.files
                  if text is not None or root.exists(path)]

    steps = plan.steps
    steps.append(("dhclient-stop", device))
    steps.append(("ipv6-sysctl", device, _ipv6_sysctl(settings)))
    if set_mtu and settings.mtu is not None:
        steps.append(("link-mtu", device, settings.mtu))
    steps += [("link-up", device), ("addr-flush", device)]
    if settings.mode == "Static":
        steps.append(("addr-add", device, "%s/%d" % (settings.address, settings.prefix)))
        if settings.is_gateway and settings.gateway:
            steps.append(("route-add", device, "default", settings.gateway))
    elif settings.mode == "DHCP":
        steps.append(("dhclient-start", device, 4))
    if settings.ipv6_mode == "Static":
        steps += [("addr-add", device, address) for address in settings.ipv6_addresses]
        if settings.is_gateway and settings.ipv6_gateway:
            steps.append(("route-add", device, "default", settings.ipv6_gateway))
    elif settings.ipv6_mode == "DHCP":
        steps.append(("dhclient-start", device, 6))
    for destination, gateway in settings.routes:
        static = settings.mode == "Static" if ":" not in gateway else settings.ipv6_mode == "Static"
        steps.append(("route-add" if static else "route-add-dynamic", device, destination,
                      gateway))
    steps.append(("update-issue",))
    return plan


def plan_down(root, host_network, pif_ref, ip_device):
    """The plan that takes ``ip_device`` down: dhclients stopped, addresses and files gone."""
    host_network.pif(pif_ref)
    device = validate.interface_name(ip_device, what="IP device")
    plan = IpPlan("down", device)
    for host_path in (_script(device, "ifcfg"), _script(device, "route"),
                      dhclient.conf_file(device, 4), dhclient.conf_file(device, 6)):
        if root.exists(host_path):
            plan.files.append((host_path, None))
    network = _network_file(root, device, False, False)
    if network:
        plan.files.append(network)
    plan.steps = [("dhclient-stop", device), ("ipv6-sysctl", device, RA_OFF),
                  ("addr-flush", device), ("link-down", device), ("update-issue",)]
    return plan
