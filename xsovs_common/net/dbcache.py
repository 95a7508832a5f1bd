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

from .. import bulk, validate
from ..system import files
from ..errors import REPLACEMENT, ConfigError, InvalidValue
from .model import DEFAULTS, SCHEMA, HostNetwork, keep_other_config

ROOT_TAG = "xenserver-network-configuration"
# Section order in the file; the model's attribute for each.
SECTIONS = (("pif", "pifs"), ("bond", "bonds"), ("vlan", "vlans"), ("tunnel", "tunnels"),
            ("network", "networks"), ("pool", "pools"))


# Characters XML 1.0 cannot carry at all (dropped), and lone surrogates, which
# no file can hold (replaced); XAPI strings may hold either.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What needs no escaping at all: nearly every value (refs, uuids, MACs, addresses).
_PLAIN = re.compile(r"^[A-Za-z0-9:._/ ,;=+@-]*\Z")


_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTR_ENTITIES = _ENTITIES + (('"', "&quot;"), ("\n", "&#10;"), ("\r", "&#13;"),
                              ("\t", "&#9;"))


def escape(text, entities=_ENTITIES):
    """``text`` as XML character data (written here: xml.sax would import urllib)."""
    if _PLAIN.match(text):
        return text
    text = _SURROGATE.sub(REPLACEMENT, _NOT_XML.sub("", text))
    for char, entity in entities:
        text = text.replace(char, entity)
    return text


def quoteattr(text):
    """``text`` as a double-quoted XML attribute value."""
    return '"%s"' % escape(text, _ATTR_ENTITIES)


class CacheError(ConfigError):
    code = "XSOVS_BAD_NETWORK_CACHE"


def _text(element):
    return (element.text or "").strip()


def _decode(path, tag, ref, element, as_stored=False):
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
    if tag == "pif" and not as_stored:
        record["currently_attached"] = False
    return record


def read(path, as_stored=False):
    """The :class:`HostNetwork` stored at ``path`` (a real path).

    ``as_stored``: ``currently_attached`` as written, for a caller that
    updates the file, not one that acts on it.  The cyclic garbage collector
    is paused meanwhile (:mod:`bulk`).
    """
    with bulk.no_cycle_collection():
        return _read(path, as_stored)


def _read(path, as_stored):
    import xml.etree.ElementTree as ET   # only readers parse: update only writes
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
        sections[attr_of[element.tag]][ref] = _decode(path, element.tag, ref, element,
                                                      as_stored)
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


_HEADER = '<?xml version="1.0" ?>\n<%s>\n' % ROOT_TAG
_FOOTER = "</%s>\n" % ROOT_TAG
# A record's first line as render writes it (its fields follow, indented 4),
# with the newline before it: a literal the regex engine searches for fast.
_BLOCK_START = re.compile(r'\n  <(pif|bond|vlan|tunnel|network|pool) ref="([A-Za-z0-9:._-]+)">\n')
_ORDER = {tag: index for index, (tag, _) in enumerate(SECTIONS)}


def render(network):
    """The cache file's text for ``network`` (a :class:`HostNetwork`)."""
    out = [_HEADER]
    with bulk.no_cycle_collection():
        for tag, attr in SECTIONS:
            for ref, record in sorted(getattr(network, attr).items()):
                _encode(tag, ref, record, out)
    out.append(_FOOTER)
    return "".join(out)


def write(path, network):
    """Store ``network`` at ``path`` atomically; True if the file changed."""
    return write_text(path, render(network))


def write_text(path, text):
    """Store a rendered cache atomically; True if the file changed."""
    return files.replace_if_changed(path, text, mode=0o644)


def _blocks(text):
    """{(tag, ref): text} of a file exactly as :func:`render` writes them, else None."""
    if not text.startswith(_HEADER) or not text.endswith(_FOOTER):
        return None
    end = len(text) - len(_FOOTER)
    starts = [(m.start() + 1, m.group(1), m.group(2))
              for m in _BLOCK_START.finditer(text, len(_HEADER) - 1, end)]
    if not starts or starts[0][0] != len(_HEADER):
        return None if starts or end != len(_HEADER) else {}
    blocks = {}
    for index, (start, tag, ref) in enumerate(starts):
        stop = starts[index + 1][0] if index + 1 < len(starts) else end
        block = text[start:stop]
        # Values never hold a line of their own starting "  <" (render escapes "<").
        if not block.endswith("\n  </%s>\n" % tag) or (tag, ref) in blocks:
            return None
        blocks[(tag, ref)] = block
    return blocks


def merged(path, fresh):
    """The text of the cache at ``path`` with ``fresh``'s records (a
    :class:`HostNetwork`) in place of its own, and ``fresh``'s pool.

    A file as this module writes it is spliced record by record: only the
    fresh records are rendered, the others kept as they are, so one PIF's
    action costs little however many records the cache holds.  Any other
    file is read whole (the same checks as :func:`read`).  Raises
    CacheError when the file is missing or damaged.
    """
    try:
        text = files.read_text(path)
    except OSError as exc:
        raise CacheError("cannot read network cache %s: %s" % (path, exc.strerror),
                         params=[path])
    if not text.startswith(_HEADER) or not text.endswith(_FOOTER):
        return render(read(path, as_stored=True).updated(fresh))
    replaced = _replaced(text, fresh)
    if replaced is not None:
        return replaced
    blocks = _blocks(text)
    if blocks is None:
        return render(read(path, as_stored=True).updated(fresh))
    if fresh.pools:
        blocks = {key: block for key, block in blocks.items() if key[0] != "pool"}
    for tag, attr in SECTIONS:
        for ref, record in getattr(fresh, attr).items():
            out = []
            _encode(tag, ref, record, out)
            blocks[(tag, ref)] = "".join(out)
    keys = sorted(blocks, key=lambda key: (_ORDER[key[0]], key[1]))
    return _HEADER + "".join(blocks[key] for key in keys) + _FOOTER


def _replaced(text, fresh):
    """``text`` with each of ``fresh``'s records rendered in its own place, found by
    its first line; None when one is not there yet (it must be inserted in order)."""
    spans = []
    for tag, attr in SECTIONS[:-1]:
        for ref, record in getattr(fresh, attr).items():
            start = text.find('\n  <%s ref=%s>\n' % (tag, quoteattr(ref))) + 1
            closing = "\n  </%s>\n" % tag
            end = text.find(closing, start)
            if start == 0 or end < 0:
                return None
            out = []
            _encode(tag, ref, record, out)
            spans.append((start, end + len(closing), "".join(out)))
    footer = len(text) - len(_FOOTER)
    if fresh.pools:
        # The pool section is the last: from its first record to the footer.
        first = text.find("\n  <pool ref=") + 1 or footer
        out = []
        for ref, record in sorted(fresh.pools.items()):
            _encode("pool", ref, record, out)
        spans.append((first, footer, "".join(out)))
    spans.sort()
    pieces, pos = [], 0
    for start, end, block in spans:
        if start < pos:
            return None
        pieces += [text[pos:start], block]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)
