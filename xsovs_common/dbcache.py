"""The network cache, ``/var/xapi/network.dbcache``: read it, write it.

At boot, before XAPI runs, the cache is the only description of the
network (its format: docs/design.md, "The network cache").  Reading accepts what
earlier tools wrote -- values on indented lines of their own, ``True`` /
``False``, fields that did not exist yet -- and refuses a damaged file with a
message naming it, before anything is changed.  Writing is atomic (temporary
file, fsync, rename).  ``currently_attached`` is written but reads back
false: after a reboot nothing is attached.

ElementTree parses in C and the writer formats strings directly: the
historical reader's minidom dominated a bring-up on a large host
(``make bench BENCH=interface_reconfigure`` times both on the same caches).
"""

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr

from . import bulk, files, validate
from .errors import ConfigError, InvalidValue
from .model import DEFAULTS, SCHEMA, HostNetwork, keep_other_config

ROOT_TAG = "xenserver-network-configuration"
# Section order in the file; the model's attribute for each.
SECTIONS = (("pif", "pifs"), ("bond", "bonds"), ("vlan", "vlans"), ("tunnel", "tunnels"),
            ("network", "networks"), ("pool", "pools"))


# Characters XML 1.0 cannot carry at all; XAPI strings may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# What needs no escaping at all: nearly every value (refs, uuids, MACs, addresses).
_PLAIN = re.compile(r"^[A-Za-z0-9:._/ ,;=+@-]*\Z")


def escape(text):
    if _PLAIN.match(text):
        return text
    return _escape(_NOT_XML.sub("", text))


class CacheError(ConfigError):
    code = "XSOVS_BAD_NETWORK_CACHE"


def _text(element):
    return (element.text or "").strip()


def _decode(path, tag, ref, element):
    record = dict(DEFAULTS[tag])
    fields = dict(SCHEMA[tag])
    for child in element:
        kind = fields.get(child.tag)
        if kind is None:
            continue   # a field of some other tool's version: not ours to judge
        if kind == "str":
            record[child.tag] = _text(child)
        elif kind == "bool":
            value = _text(child)
            if value not in ("True", "False", "true", "false"):
                raise CacheError("%s: %s %s: %s is %r, not True or False"
                                 % (path, tag, ref, child.tag, value), params=[path])
            record[child.tag] = value in ("True", "true")
        elif kind == "other_config":
            record[child.tag] = keep_other_config(
                tag, {item.tag: _text(item) for item in child})
        else:
            record[child.tag] = [_text(item) for item in child if item.tag == kind[1]]
    for field, kind in SCHEMA[tag]:
        if field not in record:
            record[field] = {} if kind == "other_config" else [] if isinstance(kind, tuple) \
                else ""
    if tag == "pif":
        record["currently_attached"] = False
    return record


def read(path):
    """The :class:`HostNetwork` stored at ``path`` (a real path).

    The cyclic garbage collector is paused meanwhile (:mod:`bulk`).
    """
    with bulk.no_cycle_collection():
        return _read(path)


def _read(path):
    try:
        tree = ET.parse(path)  # noqa: S314 - a root-owned file this project writes
    except OSError as exc:
        raise CacheError("cannot read network cache %s: %s" % (path, exc.strerror),
                         params=[path])
    except ET.ParseError as exc:
        raise CacheError("network cache %s is damaged: %s" % (path, exc), params=[path])
    top = tree.getroot()
    if top.tag != ROOT_TAG:
        raise CacheError("network cache %s: root element is <%s>, not <%s>"
                         % (path, top.tag, ROOT_TAG), params=[path])
    sections = {attr: {} for _, attr in SECTIONS}
    attr_of = dict(SECTIONS)
    for element in top:
        if element.tag not in attr_of:
            raise CacheError("network cache %s: unknown element <%s>" % (path, element.tag),
                             params=[path])
        ref = element.get("ref")
        if not ref:
            raise CacheError("network cache %s: <%s> without a ref" % (path, element.tag),
                             params=[path])
        sections[attr_of[element.tag]][ref] = _decode(path, element.tag, ref, element)
    for ref, rec in sections["pifs"].items():
        for field in ("uuid", "device", "network"):
            if not rec.get(field):
                raise CacheError("network cache %s: PIF %s has no %s" % (path, ref, field),
                                 params=[path])
        try:
            validate.integer(rec["VLAN"], -1, 4094, what="VLAN")
        except InvalidValue:
            raise CacheError("network cache %s: PIF %s has VLAN %r, not -1 or a tag"
                             % (path, ref, rec["VLAN"]), params=[path])
    return HostNetwork(**sections)


def _encode(tag, ref, record, out):
    out.append("  <%s ref=%s>\n" % (tag, quoteattr(ref)))
    for field, kind in SCHEMA[tag]:
        if field not in record:
            continue
        value = record[field]
        if kind == "bool":
            out.append("    <%s>%s</%s>\n" % (field, "True" if value else "False", field))
        elif kind == "str":
            out.append("    <%s>%s</%s>\n" % (field, escape(str(value)), field))
        elif kind == "other_config":
            kept = keep_other_config(tag, value)
            if not kept:
                out.append("    <%s/>\n" % field)
                continue
            out.append("    <%s>" % field)
            out.extend("<%s>%s</%s>" % (k, escape(v), k) for k, v in sorted(kept.items()))
            out.append("</%s>\n" % field)
        else:
            if not value:
                out.append("    <%s/>\n" % field)
                continue
            item = kind[1]
            out.append("    <%s>" % field)
            out.extend("<%s>%s</%s>" % (item, escape(v), item) for v in value)
            out.append("</%s>\n" % field)
    out.append("  </%s>\n" % tag)


def render(network):
    """The cache file's text for ``network`` (a :class:`HostNetwork`)."""
    out = ['<?xml version="1.0" ?>\n<%s>\n' % ROOT_TAG]
    with bulk.no_cycle_collection():
        for tag, attr in SECTIONS:
            for ref, record in sorted(getattr(network, attr).items()):
                _encode(tag, ref, record, out)
    out.append("</%s>\n" % ROOT_TAG)
    return "".join(out)


def write(path, network):
    """Store ``network`` at ``path`` atomically; True if the file changed."""
    return files.replace_if_changed(path, render(network), mode=0o644)
