"""The kernel's IP stack of one device: iproute2 (``ip``) and IPv6 sysctls.

Addresses and routes are set directly, the same way on a XenServer host and
on a test machine, never through a distribution's ``ifup``.  Additions use
``replace`` so that running a plan twice is harmless.  Every argument was
validated by the caller; argv lists only.
"""

from .. import validate
from . import process, waiting
from ..log import log

TIMEOUT = 15


def _ip(root, args, check=True):
    return process.run([root.program("ip")] + list(args), timeout=TIMEOUT, check=check)


def _family(address):
    return "-6" if ":" in address else "-4"


def link_exists(root, device):
    return _ip(root, ["link", "show", "dev", device], check=False).returncode == 0


def link_up(root, device):
    _ip(root, ["link", "set", "dev", device, "up"])


def link_down(root, device):
    _ip(root, ["link", "set", "dev", device, "down"])


def set_mtu(root, device, mtu):
    """For an IP device that is not an OVS port (OVS ports get ``mtu_request``)."""
    _ip(root, ["link", "set", "dev", device, "mtu", str(validate.mtu(mtu))])


def addr_flush(root, device):
    """Remove the device's IPv4 addresses and global IPv6 addresses.

    IPv6 link-local addresses stay: DHCPv6 and neighbour discovery need them.
    A kernel without IPv6 has nothing to flush, so that part only logs.
    """
    _ip(root, ["-4", "addr", "flush", "dev", device])
    result = _ip(root, ["-6", "addr", "flush", "dev", device, "scope", "global"], check=False)
    if result.returncode != 0:
        log.warning("%s: cannot flush IPv6 addresses: %s", device, result.stderr.strip())


def addr_add(root, device, address):
    """Add ``address`` (``ADDRESS/PREFIX``, IPv4 or IPv6)."""
    args = [_family(address), "addr", "replace", address]
    if ":" not in address:
        args += ["broadcast", "+"]
    _ip(root, args + ["dev", device])


def route_add(root, device, destination, gateway):
    """Route ``destination`` (``default`` or ``NET/LEN``) via ``gateway`` on ``device``."""
    _ip(root, [_family(gateway), "route", "replace", destination, "via", gateway,
               "dev", device])


def set_ipv6_conf(root, device, settings):
    """Set ``net.ipv6.conf.DEV.NAME`` for each (NAME, value) of ``settings``.

    Used for router advertisements: ``accept_ra`` (routes and prefixes from
    routers), ``accept_ra_defrtr`` (the default route from them) and
    ``autoconf`` (SLAAC addresses).
    """
    for name, value in settings:
        # The slash form keeps dots in device names (eth0.100) unambiguous.
        process.run([root.program("sysctl"), "-q", "-w",
                     "net/ipv6/conf/%s/%s=%d" % (device, name, int(value))], timeout=TIMEOUT)


def wait_ipv6_link_local(root, device, timeout=5.0):
    """Wait until the device's link-local address has passed duplicate detection.

    dhclient -6 binds to it and fails while it is tentative; older dhclients
    (XenServer's 4.2) have no ``--dad-wait-time``.  Returns False on timeout.
    """
    def ready():
        shown = _ip(root, ["-6", "-o", "addr", "show", "dev", device, "scope", "link"],
                    check=False).stdout
        return "inet6" in shown and "tentative" not in shown
    return waiting.poll(ready, timeout, 0.1)
