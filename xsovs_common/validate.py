"""Checks for every value that comes from XAPI, the cache or a command line.

Any pool administrator can write the values XAPI hands us, and everything
here runs as root, so values are checked before they reach OVSDB, a file or
an argv.  Each checker returns the value in canonical form or raises
:class:`~xsovs_common.errors.InvalidValue` naming what was wrong.
Addresses are parsed with netaddr (inet_pton rules: no short forms).
"""

import re


from .errors import InvalidValue

_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}\Z")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_REF = re.compile(r"^OpaqueRef:[A-Za-z0-9._-]{1,64}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NULL_REF = "OpaqueRef:NULL"


def _fail(what, value, why=None):
    text = "invalid %s %r" % (what, value)
    if why:
        text += ": " + why
    raise InvalidValue(text, params=[what, value])


def _text(what, value):
    if not isinstance(value, str):
        _fail(what, value, "not a string")
    return value


def ip_address(value, version=None, what="IP address"):
    """An IPv4 or IPv6 address (only ``version`` if given), canonical text."""
    _text(what, value)
    import netaddr   # only callers with addresses pay for it
    try:
        addr = netaddr.IPAddress(value, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        _fail(what, value)
    if version is not None and addr.version != version:
        _fail(what, value, "not IPv%d" % version)
    return str(addr)


def netmask(value, what="netmask"):
    """An IPv4 netmask (dotted or a prefix length); returns the prefix length."""
    _text(what, value)
    if value.isdigit():
        length = int(value)
        if length > 32:
            _fail(what, value, "prefix length above 32")
        return length
    import netaddr
    try:
        mask = netaddr.IPAddress(value, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        _fail(what, value)
    if mask.version != 4 or not mask.is_netmask():
        _fail(what, value, "not a contiguous IPv4 netmask")
    return mask.netmask_bits()


def ip_interface(value, what="address/prefix"):
    """``ADDRESS/PREFIX`` for IPv4 or IPv6; returns (address, prefix, version)."""
    _text(what, value)
    if value.count("/") != 1:
        _fail(what, value, "expected ADDRESS/PREFIX")
    address, prefix = value.split("/")
    address = ip_address(address, what=what)
    version = 6 if ":" in address else 4
    if not prefix.isdigit() or int(prefix) > (128 if version == 6 else 32):
        _fail(what, value, "bad prefix length")
    return address, int(prefix), version


def mac(value, what="MAC address"):
    """A 48-bit MAC address, as lower-case ``xx:xx:xx:xx:xx:xx``."""
    _text(what, value)
    # Six two-digit octets: the canonical form is the same text, lower case, colons.
    if not re.match(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\Z", value):
        _fail(what, value)
    return value.replace("-", ":").lower()


def interface_name(value, what="interface name"):
    """A Linux network device or OVS bridge/port name (at most 15 bytes)."""
    _text(what, value)
    if not _IFNAME.match(value):
        _fail(what, value, "1-15 of A-Z a-z 0-9 _ . -, not starting with a sign")
    return value


def hostname(value, what="host name"):
    """A DNS host name (RFC 1123), not an address."""
    _text(what, value)
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > 253 or not all(_HOST_LABEL.match(x) for x in name.split(".")):
        _fail(what, value)
    if name.replace(".", "").isdigit():
        _fail(what, value, "all-numeric names are not host names")
    return name


def host(value, what="host"):
    """An IPv4 or IPv6 address, or a host name."""
    _text(what, value)
    if ":" in value or re.match(r"^[0-9.]+\Z", value):
        return ip_address(value, what=what)
    return hostname(value, what=what)


def integer(value, low, high, what="number"):
    """A decimal integer (int or text) within [low, high]."""
    if isinstance(value, bool):
        _fail(what, value)
    if isinstance(value, int):
        number = value
    else:
        _text(what, value)
        if not re.match(r"^-?[0-9]{1,20}\Z", value):
            _fail(what, value, "not a decimal integer")
        number = int(value)
    if not low <= number <= high:
        _fail(what, value, "not within %d-%d" % (low, high))
    return number


def port(value, what="port"):
    return integer(value, 1, 65535, what=what)


def vlan_tag(value, what="VLAN tag"):
    return integer(value, 0, 4094, what=what)


def mtu(value, what="MTU"):
    return integer(value, 68, 65535, what=what)


def uuid(value, what="UUID"):
    _text(what, value)
    if not _UUID.match(value):
        _fail(what, value, "expected a UUID, 8-4-4-4-12 hexadecimal digits")
    return value.lower()


def ref(value, what="reference", null_ok=True):
    """A XAPI object reference (``OpaqueRef:...``)."""
    _text(what, value)
    if not _REF.match(value) or (value == NULL_REF and not null_ok):
        _fail(what, value, "expected OpaqueRef:..." + ("" if null_ok else ", not the null ref"))
    return value


def boolean(value, what="boolean"):
    """``true``/``false`` (any case), as XAPI other_config spells booleans."""
    if isinstance(value, bool):
        return value
    _text(what, value)
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    _fail(what, value, "expected true or false")


def text(value, max_bytes=255, what="value"):
    """Printable text of at most ``max_bytes`` bytes of UTF-8 (no control characters)."""
    _text(what, value)
    try:
        size = len(value.encode("utf-8"))
    except UnicodeError:
        _fail(what, value, "not valid UTF-8")
    if size > max_bytes:
        _fail(what, value[:40] + "...", "longer than %d bytes" % max_bytes)
    if _CONTROL.search(value):
        _fail(what, value, "control characters")
    return value


def choice(value, choices, what="value"):
    _text(what, value)
    if value not in choices:
        _fail(what, value, "expected one of " + ", ".join(choices))
    return value
