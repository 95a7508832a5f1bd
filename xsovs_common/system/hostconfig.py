"""The host's own configuration files: inventory, network backend, sysconfig.

``/etc/xensource-inventory``, ``/etc/sysconfig/openvswitch`` and
``/etc/sysconfig/xsovs`` are shell variable files (``KEY='value'``); they are
parsed, never sourced.  ``/etc/xensource/network.conf`` names the network
backend.
"""

import re
import shlex

from .. import paths, validate
from ..errors import ConfigError

# Keys of the settings files (/etc/sysconfig/openvswitch, /etc/sysconfig/xsovs) this project reads.
SYSCONFIG_CONTROLLER_PORT = "CONTROLLER_PORT"     # port of a legacy vswitch_controller
SYSCONFIG_TUNNEL_PROTOCOLS = "TUNNEL_PROTOCOLS"   # e.g. "vxlan geneve": firewall holes
SYSCONFIG_SSL_PROTOCOLS = "SSL_PROTOCOLS"         # the daemons' --ssl-protocols
SYSCONFIG_SSL_CIPHERS = "SSL_CIPHERS"             # the daemons' --ssl-ciphers
DEFAULT_CONTROLLER_PORT = 6632

# Datapath of the bridges xsovs creates: XSOVS_DATAPATH_TYPE, default the kernel's.
DATAPATH_SYSTEM = "system"
DATAPATH_NETDEV = "netdev"      # userspace: no kernel module (tests, the demo)

BACKEND_OPENVSWITCH = "openvswitch"
BACKEND_BRIDGE = "bridge"

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_shell_vars(text, source="<text>"):
    """``KEY=value`` lines as a dict; comments and blank lines skipped."""
    result = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            raise ConfigError("%s:%d: not a KEY=value line" % (source, number),
                              params=[source, str(number)])
        key, raw = match.groups()
        try:
            words = shlex.split(raw, comments=True)
        except ValueError as exc:
            raise ConfigError("%s:%d: %s" % (source, number, exc), params=[source, str(number)])
        result[key] = " ".join(words)
    return result


def _read(root, host_path, required):
    path = root.path(host_path)
    try:
        with open(path) as handle:
            return parse_shell_vars(handle.read(), path)
    except OSError as exc:
        if required:
            raise ConfigError("cannot read %s: %s" % (path, exc.strerror), params=[path])
        return {}


def inventory(root):
    """``/etc/xensource-inventory``; it must exist and name this host."""
    values = _read(root, paths.INVENTORY, required=True)
    if not values.get("INSTALLATION_UUID"):
        raise ConfigError("%s has no INSTALLATION_UUID" % root.path(paths.INVENTORY),
                          params=[root.path(paths.INVENTORY)])
    return values


def host_uuid(root):
    return inventory(root)["INSTALLATION_UUID"]


def management_interface(root):
    """The inventory's ``MANAGEMENT_INTERFACE``: the management PIF's bridge, as
    XAPI keeps it there (it changes with the management interface); None when
    the host has none, or no inventory to say so."""
    return _read(root, paths.INVENTORY, required=False).get("MANAGEMENT_INTERFACE") or None


def sysconfig_openvswitch(root):
    """The host's Open vSwitch settings; a missing file or key means the default.

    ``/etc/sysconfig/openvswitch`` belongs to the openvswitch package and holds
    what an administrator set there; ``/etc/sysconfig/xsovs`` is xsovs's own
    file, read second, so a key set in both takes its value from it.
    """
    values = _read(root, paths.SYSCONFIG_OPENVSWITCH, required=False)
    values.update(_read(root, paths.SYSCONFIG_XSOVS, required=False))
    return values


def network_backend(root):
    """``openvswitch``, ``bridge``, or None when network.conf is missing or invalid.

    ``vswitch`` is the older spelling of ``openvswitch``.
    """
    try:
        with open(root.path(paths.NETWORK_CONF)) as handle:
            words = handle.read().split()
    except OSError:
        return None
    if len(words) != 1:
        return None
    word = words[0].lower()
    if word in ("openvswitch", "vswitch"):
        return BACKEND_OPENVSWITCH
    if word == "bridge":
        return BACKEND_BRIDGE
    return None


def datapath_type(root):
    """``system`` (the kernel datapath) or ``netdev``: the root's ``datapath_type``,
    from XSOVS_DATAPATH_TYPE at the program's start, checked here."""
    value = root.datapath_type or DATAPATH_SYSTEM
    return validate.choice(value, (DATAPATH_SYSTEM, DATAPATH_NETDEV),
                           what=paths.ENV_DATAPATH_TYPE)
