"""Text of the sysconfig network files, as a Red Hat style host keeps them.

``ifcfg-DEV`` and ``/etc/sysconfig/network`` are shell variable files that
other tools source, and ``route-DEV`` is read by ``ifup-routes``: a value
with a quote, a newline or a ``$`` could run commands as root.  Callers pass
validated values; :func:`shell_value` refuses anything outside a safe
alphabet anyway, as the last line of defence.
"""

import re

from ..errors import InvalidValue

HEADER = "# Written by xsovs for %s: changes are overwritten.\n"

_PLAIN = re.compile(r"^[A-Za-z0-9_.:/@%+,=-]*\Z")
_SPACED = re.compile(r"^[A-Za-z0-9_.:/@%+,= -]*\Z")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=")


def shell_value(key, value):
    """``value`` as the right-hand side of ``KEY=``; only safe characters pass."""
    value = str(value)
    if _PLAIN.match(value):
        return value
    if _SPACED.match(value):
        return '"%s"' % value
    raise InvalidValue("refusing to write %s=%r: unsafe characters" % (key, value),
                       params=[key, value])


def ifcfg_text(device, fields):
    """``ifcfg-DEV`` from ``fields``, a list of (KEY, value) in file order."""
    lines = [HEADER % device]
    lines += ["%s=%s\n" % (key, shell_value(key, value)) for key, value in fields]
    return "".join(lines)


def route_text(device, routes):
    """``route-DEV`` (``ip route`` arguments, one route a line) or None when no route."""
    if not routes:
        return None
    lines = [HEADER % device]
    for destination, gateway in routes:
        for what, word in (("route", destination), ("gateway", gateway), ("device", device)):
            if not _PLAIN.match(word):
                raise InvalidValue("refusing to write %s %r to route-%s" % (what, word, device),
                                   params=[what, word])
        lines.append("%s via %s dev %s\n" % (destination, gateway, device))
    return "".join(lines)


def update_shell_vars(text, values):
    """``text`` with ``KEY=value`` set for each of ``values`` (None removes the key).

    Other lines stay as they are; a key set anew goes at the end.
    """
    remaining = dict(values)
    out = []
    for line in (text or "").splitlines(True):
        match = _ASSIGNMENT.match(line)
        key = match.group(1) if match else None
        if key in values:
            if key in remaining and remaining[key] is not None:
                out.append("%s=%s\n" % (key, shell_value(key, remaining[key])))
            remaining.pop(key, None)
            continue
        out.append(line if line.endswith("\n") else line + "\n")
    for key in sorted(remaining):
        if remaining[key] is not None:
            out.append("%s=%s\n" % (key, shell_value(key, remaining[key])))
    return "".join(out)


def resolv_conf_text(text, nameservers, search):
    """``resolv.conf`` with these name servers and search domains; other lines kept."""
    kept = [line if line.endswith("\n") else line + "\n"
            for line in (text or "").splitlines(True)
            if line.split()[:1] not in (["nameserver"], ["search"], ["domain"])]
    new = []
    if search:
        new.append("search %s\n" % " ".join(search))
    new += ["nameserver %s\n" % server for server in nameservers]
    for word in list(search) + list(nameservers):
        if not _PLAIN.match(word):
            raise InvalidValue("refusing to write %r to resolv.conf" % word,
                               params=["resolv.conf", word])
    return "".join(kept + new)
