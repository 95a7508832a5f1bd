"""Talking to ovsdb-server: RFC 7047 JSON-RPC over its unix socket.

Why not ``ovs-vsctl`` or the ``ovs`` library's IDL?  ``make bench
BENCH=ovsdb_read`` times one read of bridges, ports, interfaces, managers and
SSL at 1000 bridges all three ways in one run (``bench_update`` times the
historical per-bridge ``ovs-vsctl`` loop): the IDL costs several times a
``transact``, and hosts carry Open vSwitch libraries of various ages (or none
for dom0's Python 3).  ``ovs-vsctl`` is closer in speed but takes each value
as one command-line argument, and one argument holds at most 128 KiB on
Linux: the historical ``xs-network-uuids`` of a NIC with 4094 VLANs (about
150 KiB), still found on hosts to convert, cannot even be replaced that way.
A ``transact`` carries every value as JSON data (nothing to escape, nothing
a value can inject), any size, and every change of an action in one atomic
transaction -- the same guarantee ``ovs-vsctl`` gives for ``--``-separated
commands.  The socket is the one ``ovs-vsctl`` uses.

This module knows the protocol only; :mod:`~xsovs_common.ovs.snapshot`,
:mod:`~xsovs_common.ovs.changes` and :mod:`~xsovs_common.ovs.transaction` know
the Open_vSwitch schema.
"""

import collections
import errno
import json
import os
import re
import socket
import time

from ..errors import Error
from ..log import log

DEFAULT_TIMEOUT = 10.0
_SUN_PATH_MAX = 107   # bytes of a unix socket path, less the terminating NUL
DATABASE = "Open_vSwitch"


class OvsdbError(Error):
    """ovsdb-server is unreachable, silent, or refused a transaction."""

    code = "VSWITCH_CONFIG_MOD_FAILURE"


class Uuid(str):
    """A row's UUID, as opposed to a string that looks like one."""


class NamedUuid(str):
    """A row inserted earlier in the same transaction."""


def to_datum(value):
    """A Python value as an OVSDB datum (lists are sets, dicts are maps)."""
    if isinstance(value, NamedUuid):
        return ["named-uuid", str(value)]
    if isinstance(value, Uuid):
        return ["uuid", str(value)]
    if value is None:
        return ["set", []]
    if isinstance(value, (list, tuple, set, frozenset)):
        return ["set", [to_datum(v) for v in value]]
    if isinstance(value, dict):
        return ["map", [[to_datum(k), to_datum(v)] for k, v in sorted(value.items())]]
    return value


def from_datum(datum):
    """An OVSDB datum as a Python value; optional empties become []."""
    if isinstance(datum, list) and len(datum) == 2:
        kind, body = datum
        if kind == "set":
            return [from_datum(v) for v in body]
        if kind == "map":
            return {from_datum(k): from_datum(v) for k, v in body}
        if kind == "uuid":
            return Uuid(body)
        if kind == "named-uuid":
            return NamedUuid(body)
    return datum


def optional(value):
    """The single value of an optional (0 or 1) column, else None."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def as_list(value):
    """A set column as a list (OVSDB sends a one-element set as the bare atom)."""
    return value if isinstance(value, list) else [value]


class Connection:
    """One JSON-RPC connection to ovsdb-server; every call bounded by ``timeout``."""

    def __init__(self, socket_path, timeout=DEFAULT_TIMEOUT):
        self.socket_path = socket_path
        self.timeout = timeout
        self._sock = None
        self._splitter = MessageSplitter()
        self._next_id = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _connect(self, deadline):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(max(0.01, deadline - time.time()))
        directory_fd = None
        try:
            path = self.socket_path
            if len(path.encode("utf-8")) > _SUN_PATH_MAX:
                # Too long for sockaddr_un: reach it through the directory's fd, as OVS does.
                directory_fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
                path = "/proc/self/fd/%d/%s" % (directory_fd, os.path.basename(path))
            sock.connect(path)
        except OSError as exc:
            sock.close()
            raise OvsdbError("cannot connect to ovsdb-server at %s: %s"
                             % (self.socket_path, _reason(exc)), params=[self.socket_path])
        finally:
            if directory_fd is not None:
                os.close(directory_fd)
        self._sock = sock
        self._splitter = MessageSplitter()

    def call(self, method, params):
        """Send one request and return its ``result``; raise on ``error``."""
        deadline = time.time() + self.timeout
        if self._sock is None:
            self._connect(deadline)
        self._next_id += 1
        request_id = self._next_id
        self._send({"method": method, "params": params, "id": request_id}, deadline)
        while True:
            message = self._receive(deadline)
            if message.get("method") == "echo":
                self._send({"result": message.get("params"), "id": message.get("id")}, deadline)
                continue
            if message.get("id") != request_id:
                continue   # a notification, or an answer to an abandoned request
            if message.get("error") is not None:
                raise OvsdbError("ovsdb-server: %s failed: %s" % (method, message["error"]),
                                 params=[method, json.dumps(message["error"])])
            return message.get("result")

    def transact(self, ops, database=DATABASE):
        """Run ``ops`` as one transaction; return their results or raise."""
        results = self.call("transact", [database] + list(ops))
        for index, result in enumerate(results or []):
            if isinstance(result, dict) and result.get("error"):
                culprit = ops[index] if index < len(ops) else {"op": "commit"}
                detail = "%s: %s" % (result["error"], result.get("details", ""))
                log.debug("transaction failed at %s", json.dumps(culprit)[:500])
                raise OvsdbError("OVSDB transaction failed (%s %s): %s"
                                 % (culprit.get("op"), culprit.get("table", ""), detail),
                                 params=[result["error"], result.get("details", "")])
        return results

    def _send(self, message, deadline):
        data = json.dumps(message, separators=(",", ":")).encode("utf-8")
        try:
            self._sock.settimeout(max(0.01, deadline - time.time()))
            self._sock.sendall(data)
        except OSError as exc:
            self.close()
            raise OvsdbError("cannot send to ovsdb-server at %s: %s"
                             % (self.socket_path, _reason(exc)), params=[self.socket_path])

    def _receive(self, deadline):
        """The next complete JSON message from the socket."""
        while True:
            message = self._splitter.pop()
            if message is not None:
                return self._decode(message)
            remaining = deadline - time.time()
            if remaining <= 0:
                self.close()
                raise OvsdbError("ovsdb-server at %s did not answer within %ss"
                                 % (self.socket_path, self.timeout), params=[self.socket_path])
            try:
                self._sock.settimeout(remaining)
                chunk = self._sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError as exc:
                self.close()
                raise OvsdbError("lost ovsdb-server at %s: %s"
                                 % (self.socket_path, _reason(exc)), params=[self.socket_path])
            if not chunk:
                self.close()
                raise OvsdbError("ovsdb-server at %s closed the connection" % self.socket_path,
                                 params=[self.socket_path])
            self._splitter.feed(chunk)

    def _decode(self, message):
        try:
            value = json.loads(message.decode("utf-8"))
        except ValueError as exc:   # UnicodeDecodeError is a ValueError too
            self.close()
            raise OvsdbError("ovsdb-server at %s sent a malformed message: %s"
                             % (self.socket_path, exc), params=[self.socket_path])
        if not isinstance(value, dict):
            self.close()
            raise OvsdbError("ovsdb-server at %s sent a non-object message" % self.socket_path,
                             params=[self.socket_path])
        return value


# Outside strings: anything but braces and quotes, or a whole string.  Inside
# one: anything up to its closing quote.  Both run in the regex engine, so a
# reply is looked at once, whatever the number of reads it arrives in.
_OUTSIDE = re.compile(rb'(?:[^"{}]+|"[^"\\]*(?:\\.[^"\\]*)*")*', re.S)
_IN_STRING = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)


class MessageSplitter:
    """Cuts a byte stream of JSON objects into whole messages, in linear time.

    Each read is scanned once for the braces that close a top-level object
    (braces and quotes inside strings skipped, a string or escape may end a
    read).  Bytes are kept as they came and joined once per message, so a
    multi-byte UTF-8 character split across reads is decoded whole; the
    bytes scanned for are ASCII, which UTF-8 never uses inside a character.
    """

    def __init__(self):
        self._parts = []       # bytes of the message being received
        self._ready = collections.deque()
        self._depth = 0
        self._in_string = False
        self._escape = False

    def feed(self, data):
        pos, start, end = 0, 0, len(data)
        while pos < end:
            if self._escape:
                self._escape = False
                pos += 1
            elif self._in_string:
                pos = _IN_STRING.match(data, pos).end()
                if pos < end:
                    # The closing quote, or a backslash ending this read.
                    self._escape = self._in_string = data[pos] == 0x5C
                    pos += 1
            else:
                pos = _OUTSIDE.match(data, pos).end()
                if pos == end:
                    break
                char = data[pos]
                pos += 1
                if char == 0x22:          # '"' of a string this read does not finish
                    self._in_string = True
                elif char == 0x7B:        # '{'
                    self._depth += 1
                elif self._depth > 0:     # '}'
                    self._depth -= 1
                    if self._depth == 0:
                        self._parts.append(data[start:pos])
                        self._ready.append(b"".join(self._parts))
                        self._parts = []
                        start = pos
        if start < end:
            self._parts.append(data[start:] if start else data)

    def pop(self):
        """The next whole message (bytes), or None."""
        return self._ready.popleft() if self._ready else None


def _reason(exc):
    if isinstance(exc, socket.timeout):
        return "timed out"
    return errno.errorcode.get(getattr(exc, "errno", None) or 0, str(exc)) \
        if not getattr(exc, "strerror", None) else exc.strerror


# Operations, as plain RFC 7047 dicts.

def op_select(table, columns, where=()):
    return {"op": "select", "table": table, "where": list(where), "columns": list(columns)}


def op_insert(table, row, uuid_name=None):
    op = {"op": "insert", "table": table, "row": {k: to_datum(v) for k, v in row.items()}}
    if uuid_name:
        op["uuid-name"] = uuid_name
    return op


def op_update(table, where, row):
    return {"op": "update", "table": table, "where": list(where),
            "row": {k: to_datum(v) for k, v in row.items()}}


def op_mutate(table, where, mutations):
    return {"op": "mutate", "table": table, "where": list(where),
            "mutations": [[column, mutator, to_datum(value)]
                          for column, mutator, value in mutations]}


def op_delete(table, where):
    return {"op": "delete", "table": table, "where": list(where)}


def where_name(name):
    return [["name", "==", name]]
