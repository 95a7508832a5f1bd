"""XAPI's JSON-RPC (``POST /jsonrpc``), for the calls whose answers are large.

XAPI serves JSON-RPC beside XML-RPC; JSON is decoded in C where XML-RPC is
parsed in Python, element by element, which is most of the cost of reading
a big pool's network records.  A XAPI without it answers XML-RPC there, with
``text/xml``: :class:`Unsupported` then tells the caller to use XML-RPC, as
Xen Orchestra's client does.  Sessions stay with the ``XenAPI`` library.
"""

import http.client
import json
import socket

from ..errors import Error

PATH = "/jsonrpc"


class Unsupported(Error):
    """This XAPI has no JSON-RPC (it answered something other than JSON)."""


class Failure(Exception):
    """XAPI's error: ``details`` is its ErrorDescription (code, params...)."""

    def __init__(self, details):
        Exception.__init__(self, " ".join(str(d) for d in details))
        self.details = [str(d) for d in details]


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP to XAPI's local unix socket (both protocols use it)."""

    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _details(error):
    """ErrorDescription from a JSON-RPC 2.0 error object or a 1.0 error list."""
    if isinstance(error, list):
        return error or ["INTERNAL_ERROR"]
    if isinstance(error, dict):
        data = error.get("data")
        return [error.get("message") or "INTERNAL_ERROR"] + (data if isinstance(data, list)
                                                             else [])
    return ["INTERNAL_ERROR", str(error)]


class Client:
    """Calls on one XAPI location (``http://HOST:PORT/`` or a unix socket path)."""

    def __init__(self, location, timeout):
        self.location = location
        self.timeout = timeout
        self._next_id = 0

    def _connection(self):
        if not self.location.startswith("http://"):
            return UnixHTTPConnection(self.location, self.timeout)
        hostport = self.location[len("http://"):].split("/", 1)[0]
        return http.client.HTTPConnection(hostport, timeout=self.timeout)

    def call(self, method, params):
        """The method's result; raises Failure, Unsupported, OSError or HTTPException."""
        self._next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params),
                           "id": self._next_id}).encode("utf-8")
        connection = self._connection()
        try:
            connection.request("POST", PATH, body, {"Content-Type": "application/json",
                                                     "Accept": "application/json"})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip()
        if response.status // 100 != 2 or kind != "application/json":
            raise Unsupported("no JSON-RPC at %s (HTTP %d, %s)"
                              % (self.location, response.status, kind or "no content type"))
        try:
            reply = json.loads(data.decode("utf-8"))
        except ValueError:
            raise Unsupported("JSON-RPC at %s answered malformed JSON" % self.location)
        if not isinstance(reply, dict):
            raise Unsupported("JSON-RPC at %s answered %s" % (self.location, type(reply)))
        if reply.get("error") is not None:
            raise Failure(_details(reply["error"]))
        return reply.get("result")
