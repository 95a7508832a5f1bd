"""A JSON parser for the ``ovs`` library's JSON-RPC, when it has no C parser of its own.

The library parses what ovsdb-server sends with ``ovs._json`` (C) when it was
built with it, else with a parser written in Python, one character at a
time: about 60 times slower than Python's own ``json``, seconds for the
dump of a database of a few thousand rows on dom0's Python 3.6 -- long
enough for the server's inactivity probe to drop the connection, which then
starts over with another dump.  :func:`install` puts this parser in the
place of the C one: it only finds where each message ends (scanning the
brackets and strings with regular expressions) and hands the whole message
to ``json.loads``.  It keeps the C parser's interface as ``ovs.jsonrpc``
uses it: ``feed(text)`` returns how many bytes of UTF-8 it took,
``is_done()``, ``finish()`` returns the value or an error string.
"""

import json
import re

_NEXT = re.compile(r'[][{}"]')
_STRING_END = re.compile(r'(?:[^"\\]|\\.)*"', re.S)
_BACKSLASHES = re.compile(r"\\+\Z")


class Parser:
    """One JSON value (a JSON-RPC message: an object) out of a stream of text."""

    def __init__(self, check_trailer=False):
        self.check_trailer = check_trailer
        self.parts = []
        self.depth = 0
        self.in_string = False
        self.escaped = False      # the last chunk ended inside a string on a backslash
        self.done = False
        self.scalar = False       # a top-level value that is not an object or array

    def feed(self, text):
        if self.done:
            return 0
        end = self._scan(text)
        if end is None:
            self.parts.append(text)
            return len(text.encode("utf-8"))
        self.parts.append(text[:end])
        self.done = not self.check_trailer
        if self.check_trailer:       # a whole document: the rest is checked by finish()
            self.parts.append(text[end:])
            self.done = True
            return len(text.encode("utf-8"))
        return len(text[:end].encode("utf-8"))

    def _scan(self, text):
        """Where the value ends in ``text`` (an index past it), or None: not yet."""
        i = 0
        if self.escaped and text:
            i, self.escaped = 1, False
        while True:
            if self.in_string:
                found = _STRING_END.match(text, i)
                if found is None:
                    tail = _BACKSLASHES.search(text, i)
                    self.escaped = tail is not None and len(tail.group()) % 2 == 1
                    return None
                i, self.in_string = found.end(), False
                continue
            if self.depth == 0 and not self.scalar:
                stripped = len(text) - len(text[i:].lstrip())
                if stripped == len(text):
                    return None
                i = stripped
                if text[i] not in "[{":
                    self.scalar = True      # read whole at finish()
                    return None
            if self.scalar:
                return None
            found = _NEXT.search(text, i)
            if found is None:
                return None
            i = found.end()
            char = found.group()
            if char == '"':
                self.in_string = True
            elif char in "[{":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 0:
                    return i

    def is_done(self):
        return self.done

    def finish(self):
        text = "".join(self.parts)
        if not text.strip():
            return "empty input stream"
        try:
            if self.check_trailer or self.scalar:
                return json.loads(text)
            return json.JSONDecoder().raw_decode(text.lstrip())[0]
        except ValueError as exc:
            return "JSON parse error: %s" % exc


def install(ovs):
    """Parse the library's JSON-RPC with :class:`Parser` unless it has its C parser."""
    if ovs.json.PARSER == ovs.json.PARSER_C:
        return False
    ovs._json = _Module()
    ovs.json.ovs = ovs       # the name its failed "import ovs._json" left unbound there
    ovs.json.PARSER = ovs.json.PARSER_C
    return True


class _Module:
    """What the library looks up as ``ovs._json``."""

    Parser = Parser
