"""The XAPI keys that make a pool an OVN deployment, read and checked in one place.

The contract (README, "Run a pool on OVN"):

- pool ``other_config``: ``xsovs:ovn-sb`` (the southbound remotes, as
  ``ovn-controller`` takes them; unset or empty: OVN is off on this pool),
  ``xsovs:ovn-nb`` (the northbound remotes, for the northbound sync),
  ``xsovs:ovn-encap-type`` (``geneve``, the default, or ``vxlan``),
  ``xsovs:ovn-encap-network`` (the uuid of the network whose PIF's IP is each
  host's tunnel endpoint; default the management PIF's IP);
- network ``other_config``: ``xsovs:ovn`` (``true``: this private network is a
  logical switch), ``xsovs:ovn-logical-switch`` (its name, so networks of
  several pools join one switch; default the network uuid);
- a VIF is the logical switch port named by its ``iface-id``
  (``other_config:nicira-iface-id``, else the VIF uuid), with the VIF's MAC and
  ``ipv4_allowed`` / ``ipv6_allowed`` as addresses, and port security from
  XAPI's locking mode.

Any pool administrator can write these keys and they reach ``ovn-controller``'s
command line, OVSDB and the northbound database, so every value is checked
here and a bad one raises :class:`InvalidOvnConfig` naming the key, the value,
why, and what to write instead.  Both the host side (the plugin's ``update``,
``ovs-xapi-sync``) and the northbound sync read the keys through this module
only, so they can never disagree on what a value means.
"""

import collections
import re

from .. import validate
from ..errors import InvalidValue

POOL_SB = "xsovs:ovn-sb"
POOL_NB = "xsovs:ovn-nb"
POOL_ENCAP_TYPE = "xsovs:ovn-encap-type"
POOL_ENCAP_NETWORK = "xsovs:ovn-encap-network"
POOL_KEYS = (POOL_SB, POOL_NB, POOL_ENCAP_TYPE, POOL_ENCAP_NETWORK)

NETWORK_OVN = "xsovs:ovn"
NETWORK_LOGICAL_SWITCH = "xsovs:ovn-logical-switch"
NETWORK_KEYS = (NETWORK_OVN, NETWORK_LOGICAL_SWITCH)

VIF_IFACE_ID = "nicira-iface-id"

# The bridge ovn-controller binds ports on (each chassis's external_ids:ovn-bridge).
INTEGRATION_BRIDGE = "br-int"

# Encapsulations OVN offers that a pool may choose, and the UDP port each uses.
ENCAP_UDP_PORTS = collections.OrderedDict([("geneve", 6081), ("vxlan", 4789)])
DEFAULT_ENCAP_TYPE = "geneve"
REMOTE_PROTOCOLS = ("ssl", "tcp")
SB_PORT = 6642
NB_PORT = 6641
MAX_REMOTES = 16
_SWITCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")

LOCKING_MODES = ("network_default", "locked", "unlocked", "disabled")
NO_ADDRESS = "0.0.0.0/32"      # port security letting out only DHCP and ARP probes
MAX_PORT_NAME_BYTES = 255
NETWORK_LOCKING_MODES = ("unlocked", "disabled")


class InvalidOvnConfig(InvalidValue):
    """An OVN key of XAPI holds a value that cannot be used; nothing was changed."""

    code = "XSOVS_INVALID_OVN_CONFIG"

    def __init__(self, where, key, value, why, fix):
        value = value if isinstance(value, str) else repr(value)
        InvalidValue.__init__(
            self, "invalid %s other_config:%s %r: %s; %s" % (where, key, value, why, fix),
            params=["%s other_config:%s" % (where, key), value])
        self.key = key


class Remote:
    """One database remote: ``ssl:IP:PORT`` or ``tcp:IP:PORT`` (IPv6 in brackets)."""

    def __init__(self, protocol, address, port):
        self.protocol = protocol
        self.address = address
        self.port = port

    def __str__(self):
        address = "[%s]" % self.address if ":" in self.address else self.address
        return "%s:%s:%d" % (self.protocol, address, self.port)

    def __repr__(self):
        return "Remote(%r)" % str(self)

    def __eq__(self, other):
        return isinstance(other, Remote) and str(self) == str(other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(str(self))


def _remote(item, default_port):
    """One ``PROTOCOL:IP[:PORT]`` item; raises ValueError with the reason."""
    protocol, sep, rest = item.partition(":")
    if not sep or protocol not in REMOTE_PROTOCOLS:
        raise ValueError("%r does not start with ssl: or tcp:" % item)
    if rest.startswith("["):
        address, bracket, tail = rest[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise ValueError("%r: an IPv6 address goes in brackets, [ADDRESS]:PORT" % item)
        port_text = tail[1:] if tail else None
        version = 6
    else:
        address, sep, port_text = rest.partition(":")
        port_text = port_text if sep else None
        version = 4
    try:
        address = validate.ip_address(address, version=version)
    except InvalidValue:
        raise ValueError("%r: %r is not an IPv%d address" % (item, address, version))
    if port_text is None:
        port = default_port
    else:
        try:
            port = validate.port(port_text)
        except InvalidValue:
            raise ValueError("%r: %r is not a port (1-65535)" % (item, port_text))
    return Remote(protocol, address, port)


def remotes(value, key, default_port, where="pool"):
    """A comma-separated list of remotes, checked; a tuple of :class:`Remote`."""
    fix = ("write ssl:IP:PORT or tcp:IP:PORT items separated by commas, "
           "e.g. ssl:192.0.2.1:%d,ssl:192.0.2.2:%d" % (default_port, default_port))
    if not isinstance(value, str):
        raise InvalidOvnConfig(where, key, value, "not a string", fix)
    items = value.split(",")
    if len(items) > MAX_REMOTES:
        raise InvalidOvnConfig(where, key, value, "more than %d remotes" % MAX_REMOTES, fix)
    found = []
    for item in items:
        try:
            remote = _remote(item, default_port)
        except ValueError as exc:
            raise InvalidOvnConfig(where, key, value, str(exc), fix)
        if remote in found:
            raise InvalidOvnConfig(where, key, value, "%s is listed twice" % remote, fix)
        found.append(remote)
    return tuple(found)


def remote_text(found):
    """Remotes as the one string ``ovn-controller`` and ``ovn-nbctl`` take."""
    return ",".join(str(r) for r in found)


class PoolOvn(collections.namedtuple("PoolOvn", "sb nb encap_type encap_network")):
    """The pool's OVN settings: ``sb`` and ``nb`` tuples of :class:`Remote` (None
    when unset), ``encap_type``, ``encap_network`` (a network uuid, or None)."""

    @property
    def enabled(self):
        """OVN is on for the pool's hosts exactly when a southbound remote is set."""
        return self.sb is not None

    @property
    def sb_remote(self):
        return remote_text(self.sb) if self.sb else None

    @property
    def nb_remote(self):
        return remote_text(self.nb) if self.nb else None

    @property
    def sb_uses_ssl(self):
        return bool(self.sb) and any(r.protocol == "ssl" for r in self.sb)

    @property
    def encap_udp_port(self):
        return ENCAP_UDP_PORTS[self.encap_type]


OFF = PoolOvn(None, None, DEFAULT_ENCAP_TYPE, None)


def pool_config(other_config):
    """The pool's OVN settings from its ``other_config`` (every key checked,
    also while OVN is off, so a mistake shows before it is switched on)."""
    other_config = other_config or {}

    def given(key):
        value = other_config.get(key)
        return None if value is None or value == "" else value

    sb = given(POOL_SB)
    nb = given(POOL_NB)
    sb = remotes(sb, POOL_SB, SB_PORT) if sb is not None else None
    nb = remotes(nb, POOL_NB, NB_PORT) if nb is not None else None
    encap_type = given(POOL_ENCAP_TYPE)
    if encap_type is None:
        encap_type = DEFAULT_ENCAP_TYPE
    elif encap_type not in ENCAP_UDP_PORTS:
        raise InvalidOvnConfig("pool", POOL_ENCAP_TYPE, encap_type, "not an encapsulation",
                               "write one of " + ", ".join(ENCAP_UDP_PORTS)
                               + " (or remove the key: %s)" % DEFAULT_ENCAP_TYPE)
    encap_network = given(POOL_ENCAP_NETWORK)
    if encap_network is not None:
        try:
            encap_network = validate.uuid(encap_network)
        except InvalidValue:
            raise InvalidOvnConfig("pool", POOL_ENCAP_NETWORK, encap_network,
                                   "not a network uuid",
                                   "write the uuid of the network whose PIFs carry the tunnels "
                                   "(or remove the key: the management PIF)")
    return PoolOvn(sb, nb, encap_type, encap_network)


class OvnNetwork(collections.namedtuple("OvnNetwork", "uuid logical_switch")):
    """A network that is an OVN logical switch, and that switch's name."""


def network_config(record):
    """The network's :class:`OvnNetwork`, or None when it is not an OVN network.

    ``record`` is a XAPI network record (``uuid``, ``other_config``; ``PIFs``
    when the caller has it: an OVN network must have none).
    """
    other_config = record.get("other_config") or {}
    where = "network %s" % record.get("uuid", "?")
    raw = other_config.get(NETWORK_OVN)
    name = other_config.get(NETWORK_LOGICAL_SWITCH)
    if name is not None and name != "" and not (isinstance(name, str)
                                                 and _SWITCH_NAME.match(name)):
        raise InvalidOvnConfig(where, NETWORK_LOGICAL_SWITCH, name, "not a logical switch name",
                               "write 1-64 of A-Z a-z 0-9 _ . : -, starting with a letter "
                               "or digit (or remove the key: the network uuid)")
    if raw is None or raw == "":
        return None
    try:
        wanted = validate.boolean(raw)
    except InvalidValue:
        raise InvalidOvnConfig(where, NETWORK_OVN, raw, "not true or false",
                               "write true to make the network a logical switch")
    if not wanted:
        return None
    if record.get("PIFs"):
        raise InvalidOvnConfig(where, NETWORK_OVN, raw, "the network has PIFs",
                               "use a private network (no PIF) for a logical switch")
    uuid = validate.uuid(record.get("uuid", ""), what="network uuid")
    return OvnNetwork(uuid, name or uuid)


def iface_id(vif):
    """The logical switch port of a VIF: its ``nicira-iface-id``, else its uuid."""
    return (vif.get("other_config") or {}).get(VIF_IFACE_ID) or vif["uuid"]


class LogicalPort(collections.namedtuple("LogicalPort",
                                         "name addresses port_security enabled")):
    """A VIF as a logical switch port: ``addresses`` and ``port_security`` as
    lists of ``"MAC IP..."`` strings (the NB columns), ``enabled`` False for a
    VIF whose locking mode is ``disabled`` (all its traffic dropped)."""


def locking_mode(vif, network):
    """The VIF's effective locking mode: its own, or its network's default."""
    where = "VIF %s" % vif.get("uuid", "?")
    mode = vif.get("locking_mode") or "network_default"
    if mode not in LOCKING_MODES:
        raise InvalidValue("invalid %s locking_mode %r: expected one of %s"
                           % (where, mode, ", ".join(LOCKING_MODES)), params=[where, mode])
    if mode != "network_default":
        return mode
    default = network.get("default_locking_mode") or "unlocked"
    if default not in NETWORK_LOCKING_MODES:
        raise InvalidValue("invalid network %s default_locking_mode %r: expected one of %s"
                           % (network.get("uuid", "?"), default,
                              ", ".join(NETWORK_LOCKING_MODES)), params=[where, default])
    return default


def port_name(value, what="logical switch port name"):
    """A logical port's name: printable, 1-255 bytes, without ``"`` or ``\\`` (it
    stands quoted in ACL matches)."""
    validate.text(value, MAX_PORT_NAME_BYTES, what=what)
    if not value or '"' in value or "\\" in value:
        raise InvalidValue("invalid %s %r: 1-%d printable bytes without \" or \\"
                           % (what, value, MAX_PORT_NAME_BYTES), params=[what, value])
    return value


def logical_port(vif, network):
    """The :class:`LogicalPort` of a VIF record on its network record.

    Addresses are the MAC and the VIF's ``ipv4_allowed`` / ``ipv6_allowed``.
    Port security follows the locking mode as xenopsd applies it:

    - ``locked``: the guest may send only from exactly those addresses.
      Locked with no address allowed, XAPI lets out only DHCP and ARP probes
      (from 0.0.0.0): ``MAC 0.0.0.0/32`` is that;
    - ``unlocked``: anything; the port also takes ``unknown`` destinations,
      as the guest may answer for other MACs (a bridge, a VRRP address);
    - ``disabled``: nothing: the port is disabled.
    """
    where = "VIF %s" % vif.get("uuid", "?")
    mac = validate.mac(vif.get("MAC", ""), what="%s MAC" % where)
    ips = [validate.ip_address(a, version=4, what="%s ipv4_allowed" % where)
           for a in vif.get("ipv4_allowed") or []]
    ips += [validate.ip_address(a, version=6, what="%s ipv6_allowed" % where)
            for a in vif.get("ipv6_allowed") or []]
    address = " ".join([mac] + ips)
    mode = locking_mode(vif, network)
    name = port_name(iface_id(vif), what="%s iface-id" % where)
    if mode == "unlocked":
        return LogicalPort(name, [address, "unknown"], [], True)
    if mode == "disabled":
        return LogicalPort(name, [address], [], False)
    return LogicalPort(name, [address], [address if ips else mac + " " + NO_ADDRESS], True)
