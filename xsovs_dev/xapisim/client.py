"""Connecting the real XenAPI client to the simulator over TCP or a unix socket.

XenAPI.UDSTransport turns every '_' of a socket path into '/', so it cannot
reach a socket under e.g. pytest's tmp_path; this transport uses the path
verbatim. Needs the XenAPI package (tests and the demo have it).
"""

import http.client
import socket
import xmlrpc.client


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=None):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over HTTP over the unix socket at `path`."""

    def __init__(self, path, timeout=None):
        super().__init__()
        self._path = path
        self._timeout = timeout

    def make_connection(self, host):
        return _UnixHTTPConnection(self._path, self._timeout)


def session(where):
    """An unauthenticated XenAPI.Session for an http URL or a unix socket path."""
    import XenAPI

    if where.startswith(("http://", "https://")):
        return XenAPI.Session(where)
    return XenAPI.Session("http://localhost/", transport=UnixTransport(where))
