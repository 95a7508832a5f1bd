"""Which OVSDB manager XAPI asks for, and manager targets as text.

Two data models exist in the field (docs/design.md, "Which manager XAPI
asks for"): current XAPI has at most one ``SDN_controller`` record per pool
(``ssl`` address and port, or ``pssl``: listen on 6640); older XAPI has
only ``pool.vswitch_controller``, a bare address the historical plugin
turned into ``ssl:ADDRESS:6632`` (the port is ``CONTROLLER_PORT`` of the
host's settings, see :func:`hostconfig.sysconfig_openvswitch`).

Which model applies is decided by the class, never by the records: current
XAPI keeps ``pool.vswitch_controller`` after ``SDN_controller.forget`` (its
``pool.set_vswitch_controller`` only adds a record), and its own plugin reads
the records alone, so no record there means no manager.  The legacy field
counts only on a XAPI without the ``SDN_controller`` class.

Any pool administrator can write these values, so each part is checked
before it reaches OVSDB: a host that is not an IPv4 / IPv6 address or a
host name, a port outside 1-65535, an unknown protocol or an address on a
listening (``pssl``) controller is refused with ``INVALID_VSWITCH_CONTROLLER``
naming the value.

Each kind of manager needs its own SSL set-up (:func:`ssl_files`), as XAPI's
own plugin sets it.  Both use XAPI's key and certificate.  An active ``ssl``
manager (the host connects out) bootstraps its CA file: trust on first use,
the controller sends its CA chain.  A listening ``pssl`` manager (controllers
connect in) trusts the CA the controller installed in the pool with
``pool.certificate_install``, which XAPI copies to every host, and never
bootstraps: a listening ovsdb-server has no first peer to learn a CA from.
"""

from .. import paths, validate
from ..system import hostconfig
from ..errors import InvalidValue
from .session import XapiError
from ..ovs.tls import SslFiles

PROTOCOLS = ("ssl", "tcp", "pssl")
LISTEN_PORT = 6640   # OVSDB's own port: where a listening (pssl) manager waits

SOURCE_SDN = "SDN_controller"
SOURCE_LEGACY = "pool.vswitch_controller"
SOURCE_ARGS = "set-manager"

class InvalidController(InvalidValue):
    code = "INVALID_VSWITCH_CONTROLLER"

    def __init__(self, value, why):
        value = value if isinstance(value, str) else str(value)
        InvalidValue.__init__(self, "invalid vswitch controller %r: %s" % (value, why),
                              params=[value])


class Target:
    """One manager target: ``ssl:HOST:PORT``, ``tcp:HOST:PORT`` or ``pssl:PORT[:HOST]``."""

    def __init__(self, protocol, host, port):
        self.protocol = protocol
        self.host = host          # canonical address or host name; "" for pssl on all
        self.port = port

    def __str__(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        if self.protocol == "pssl":
            return "pssl:%d" % self.port + (":" + host if host else "")
        return "%s:%s:%d" % (self.protocol, host, self.port)

    def __repr__(self):
        return "Target(%r)" % str(self)

    def __eq__(self, other):
        return isinstance(other, Target) and str(self) == str(other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(str(self))

    @property
    def uses_ssl(self):
        return self.protocol in ("ssl", "pssl")


def ssl_files(target):
    """The host paths of the SSL set-up ``target`` needs, or None (tcp, or no manager)."""
    if target is None or not target.uses_ssl:
        return None
    if target.protocol == "pssl":
        return SslFiles(paths.XAPI_SSL_PEM, paths.XAPI_SSL_PEM, paths.SDN_CONTROLLER_CA, False)
    return SslFiles(paths.XAPI_SSL_PEM, paths.XAPI_SSL_PEM, paths.VSWITCHD_CACERT, True)


def default_port(root, protocol):
    """6640 for a listening manager, else ``CONTROLLER_PORT`` (6632 when unset)."""
    if protocol == "pssl":
        return LISTEN_PORT
    raw = hostconfig.sysconfig_openvswitch(root).get(hostconfig.SYSCONFIG_CONTROLLER_PORT)
    if raw is None or raw == "":
        return hostconfig.DEFAULT_CONTROLLER_PORT
    return _port(raw)


def _port(value):
    try:
        return validate.port(value if isinstance(value, (int, str)) else str(value))
    except InvalidValue:
        raise InvalidController(value, "not a port (1-65535)")


def _host(value, address_only=False):
    """Canonical host text; only an IP address when ``address_only``."""
    if not isinstance(value, str) or value != value.strip() or not value:
        raise InvalidController(value, "not an IPv4 / IPv6 address or host name")
    try:
        if address_only:
            return validate.ip_address(value)
        return validate.host(value)
    except InvalidValue:
        raise InvalidController(value, "not an IPv4 / IPv6 address or host name")


def target(protocol, host, port):
    """A checked :class:`Target`; ``host`` "" with ``pssl`` listens on every address."""
    if protocol not in PROTOCOLS:
        raise InvalidController(protocol, "protocol is not one of " + ", ".join(PROTOCOLS))
    port = _port(port)
    if protocol == "pssl":
        host = _host(host, address_only=True) if host else ""
    else:
        host = _host(host)
    return Target(protocol, host, port)


def parse(text):
    """The :class:`Target` of an OVSDB manager string, or None if not one of these forms.

    Accepts what OVS accepts for the three protocols, IPv6 hosts in
    brackets, so that ``ssl:[2001:db8::0:1]:6632`` equals ``ssl:[2001:db8::1]:6632``.
    """
    protocol, _, rest = text.partition(":")
    try:
        if protocol in ("ssl", "tcp"):
            host, port = _split_host_port(rest)
            return target(protocol, host, port if port is not None else LISTEN_PORT)
        if protocol == "pssl":
            port, _, host = rest.partition(":")
            host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
            return target(protocol, host, port or LISTEN_PORT)
    except InvalidValue:
        return None
    return None


def _split_host_port(text):
    if text.startswith("["):
        host, bracket, tail = text[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise InvalidController(text, "bad bracketed address")
        return host, (tail[1:] if tail else None)
    if text.count(":") > 1:
        raise InvalidController(text, "an IPv6 address needs brackets")
    host, colon, port = text.partition(":")
    return host, (port if colon else None)


def same(managers, wanted):
    """True when OVSDB's ``managers`` are exactly ``wanted`` (a Target or None)."""
    if wanted is None:
        return not managers
    return len(managers) == 1 and parse(managers[0]) == wanted


class Wanted:
    """What the caller asks for: a :class:`Target` or None (no manager), and from where."""

    def __init__(self, target, source):
        self.target = target
        self.source = source

    def __repr__(self):
        return "Wanted(%r, %r)" % (self.target, self.source)

    def as_dict(self):
        return {"manager": str(self.target) if self.target else None, "source": self.source}


def from_sdn_record(root, record):
    """A current XAPI ``SDN_controller`` record.

    ``pssl`` means "listen on 6640", as XAPI's plugin and Xen Orchestra have
    it: an address or another port there is a mistake, not a wish.
    """
    protocol = record.get("protocol", "ssl")
    port = record.get("port", "0")
    address = record.get("address", "")
    if protocol == "pssl":
        if address != "":
            raise InvalidController(address, "a listening (pssl) controller has no address")
        if str(port) not in ("0", "", str(LISTEN_PORT)):
            _port(port)
            raise InvalidController(port, "a listening (pssl) controller listens on %d"
                                    % LISTEN_PORT)
    if str(port) in ("0", ""):
        port = default_port(root, protocol)
    return Wanted(target(protocol, address, port), SOURCE_SDN)


def from_legacy(root, address):
    """``pool.vswitch_controller``: an address, empty for none."""
    if address == "":
        return Wanted(None, SOURCE_LEGACY)
    return Wanted(target("ssl", address, default_port(root, "ssl")), SOURCE_LEGACY)


SET_MANAGER_ARGS = ("controller", "port", "protocol")


def from_args(root, args):
    """``set-manager`` arguments: ``controller`` ("" removes), ``port``, ``protocol``."""
    unknown = sorted(set(args) - set(SET_MANAGER_ARGS))
    if unknown:
        raise InvalidValue("set-manager: unknown argument %s" % unknown[0],
                           params=["args", unknown[0]])
    protocol = args.get("protocol", "ssl")
    if protocol not in PROTOCOLS:
        raise InvalidController(protocol, "protocol is not one of " + ", ".join(PROTOCOLS))
    if "controller" not in args and protocol != "pssl":
        # Forgetting controller= must not remove the manager: "" says so explicitly.
        raise InvalidController("", "no controller argument (controller=\"\" removes the manager)")
    controller = args.get("controller", "")
    if controller == "" and protocol != "pssl":
        if args.get("port", "") != "":
            _port(args["port"])
        return Wanted(None, SOURCE_ARGS)
    port = args.get("port", "")
    port = default_port(root, protocol) if port == "" else port
    return Wanted(target(protocol, controller, port), SOURCE_ARGS)


def wanted(api, root, pool_record):
    """What XAPI asks for: its SDN_controller record, none without one; the legacy
    ``pool.vswitch_controller`` only on a XAPI that has no SDN_controller class."""
    try:
        records = api.SDN_controller.get_all_records()
    except XapiError as exc:
        if exc.code != "MESSAGE_METHOD_UNKNOWN":
            raise
        return from_legacy(root, pool_record.get("vswitch_controller", ""))
    if len(records) > 1:
        raise InvalidController(", ".join(sorted(records)), "more than one SDN_controller")
    if records:
        return from_sdn_record(root, next(iter(records.values())))
    return Wanted(None, SOURCE_SDN)
