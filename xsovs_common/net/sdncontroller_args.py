"""The arguments of Xen Orchestra's host plugin ``sdncontroller.py``, checked as its vendor does.

Xen Orchestra calls ``add-rule`` and ``del-rule`` with one rule as string
arguments (:data:`PLUGIN_ARGUMENTS`), and ``dump-flows`` with a ``bridge``.
The vendor's plugin (xcp-ng-xapi-plugins) refuses bad arguments with a XAPI
failure ``[code, message]`` whose code is a small number (:data:`E_PARSER`
...) and whose message says which argument and why, ``add_rule: Failed to
get parameters: ...``: that is what Xen Orchestra reads, so a refusal here
keeps both.  Each field means what :mod:`.traffic_rules` says, through its
parsers; a call becomes a :class:`PluginCall` of :class:`~.traffic_rules.Rule`
tuples.  Unknown keys are refused too, where the vendor ignored them.
"""

import collections

from .. import validate
from ..errors import Error, InvalidValue
from . import traffic_rules as tr

# The vendor plugin's error codes, as Xen Orchestra reads them (first item of
# the XAPI failure): arguments it could not parse, arguments that do not fit
# together, an Open vSwitch call that failed, no port to put a rule on.
E_PARSER = "1"
E_PARAMS = "2"
E_OVSCALL = "3"
E_PORTS = "4"

PLUGIN_ARGUMENTS = ("bridge", "mac", "allow", "protocol", "ipRange", "direction", "port",
                    "priority", "cookie")
DUMP_FLOWS_ARGUMENTS = ("bridge",)


class PluginArgumentError(Error):
    """Arguments of a ``sdncontroller.py`` call refused, with the vendor plugin's code.

    The XAPI failure is ``[code, message]``: Xen Orchestra reads the code and
    the first parameter.
    """

    def __init__(self, code, message):
        Error.__init__(self, message, params=[message], code=code)


PluginCall = collections.namedtuple("PluginCall", "bridge mac rules cookie priority")
PluginCall.__doc__ = """One add-rule or del-rule call: ``bridge`` as XO named it; ``mac`` (lower
case) for a VIF rule, None for a network rule; ``rules`` the Rules it adds or
deletes (``allow`` is False for a del-rule without ``allow``); ``cookie``
(None for the vendor's default 0x0) and ``priority`` (int or None) as given."""


def _refused(function, reason, code=E_PARSER):
    return PluginArgumentError(code, "%s: Failed to get parameters: %s" % (function, reason))


def _known_keys(args, function, known):
    """``args`` is a map of no key but ``known``."""
    if not isinstance(args, dict):
        raise _refused(function, "not a map")
    for key in sorted(args, key=str):
        if key not in known:
            raise _refused(function, "unknown parameter %s (takes %s)"
                           % (key, ", ".join(known)))


def _arg(args, key, function, missing=None):
    value = args.get(key)
    if value is None:
        if missing is not None:
            raise _refused(function, missing)
        return None
    if not isinstance(value, str):
        raise _refused(function, "%s is not a string" % key)
    return value


def _vendor(function, check, value, message):
    """``check(value)``, or the vendor plugin's E_PARSER failure with its wording."""
    try:
        return check(value)
    except InvalidValue:
        raise _refused(function, message.format(value))


def _bridge(args, function):
    """The ``bridge`` argument: an OVS bridge name."""
    bridge = _arg(args, "bridge", function, missing="bridge parameter is missing")
    return _vendor(function, validate.interface_name, bridge, "'{}' is not a valid bridge name")


def parse_dump_flows(args):
    """The bridge of a ``dump-flows`` call."""
    _known_keys(args, "dump_flows", DUMP_FLOWS_ARGUMENTS)
    return _bridge(args, "dump_flows")


def parse_plugin_call(args, function):
    """Validate an ``add-rule`` (``function`` "add_rule") or ``del-rule`` ("del_rule") call:
    its :class:`PluginCall`, or :class:`PluginArgumentError` with the vendor's code."""
    _known_keys(args, function, PLUGIN_ARGUMENTS)
    adding = function == "add_rule"
    bridge = _bridge(args, function)
    mac = _arg(args, "mac", function)
    if mac is not None:
        mac = _vendor(function, validate.mac, mac, "'{}' is not a valid MAC")
    directions = _vendor(function, tr.parse_direction,
                         _arg(args, "direction", function, "direction parameter is missing"),
                         "'{}' is not a valid direction")
    protocol = _vendor(function, tr.parse_protocol,
                       _arg(args, "protocol", function, "protocol parameter is missing"),
                       "'{}' is not a supported protocol")
    remote = _vendor(function, lambda v: tr.parse_ip_range(v, empty_ok=False),
                     _arg(args, "ipRange", function, "ipRange parameter is missing"),
                     "'{}' is not a valid IP range")
    port = _arg(args, "port", function)
    if port is not None:
        port = _vendor(function, tr.parse_port, port, "'{}' is not a valid port")
    allow = _arg(args, "allow", function, "allow parameter is missing" if adding else None)
    if allow is not None:
        allow = _vendor(function, tr.parse_allow, allow,
                        "allow parameter should be true or false, not '{}'")
    priority = _arg(args, "priority", function)
    if priority is not None:
        priority = _vendor(function, lambda v: validate.integer(v, 0, 65535), priority,
                           "'{}' is not a valid priority")
    cookie = _arg(args, "cookie", function)
    if cookie is not None:
        cookie = _vendor(function, tr.parse_cookie, cookie, "'{}' is not a valid cookie")
        cookie = None if cookie == "0x0" else cookie
    if protocol in tr.PORT_PROTOCOLS and port is None:
        raise PluginArgumentError(E_PARAMS, "%s: No port provided, tcp and udp requires one"
                                  % function)
    if protocol not in tr.PORT_PROTOCOLS:
        port = None   # the vendor plugin builds no transport match for them either
    scope = tr.SCOPE_VIF if mac is not None else tr.SCOPE_NETWORK
    rules = tr.make_rules(bool(allow), protocol, remote, port, directions, scope,
                          cookie if scope == tr.SCOPE_NETWORK else None)
    return PluginCall(bridge, mac, rules, cookie, priority)
