"""Talking to XAPI through the ``XenAPI`` client library.

:func:`connect` hands out a session: the caller's own session ref when it has
one (a plugin always does; ``interface-reconfigure --session``), else a fresh
login on the local socket as ``XenAPI.xapi_local()`` does -- and a session
opened here is always logged out.  The root's ``xapi_url`` (from
``XSOVS_XAPI_URL`` at a program's start: an ``http://host:port/`` URL or a
unix socket path) says where XAPI is instead; tests and the demo point it at
the simulator.

Every failure comes out as :class:`XapiError` with XAPI's own error code and
parameters (``SESSION_INVALID``, ``HANDLE_INVALID``, ...), or
:class:`XapiUnreachable` when nothing answered.
"""

import contextlib
from xml.parsers.expat import ExpatError
import xmlrpc.client

try:
    import http.client as httplib
except ImportError:   # pragma: no cover - Python 2 never runs this code
    import httplib

import XenAPI

from . import jsonrpc
from .. import paths
from ..errors import Error
from ..log import log

# Whatever means "no usable XAPI at that address": refused, timed out, not HTTP, not XML-RPC.
_UNREACHABLE = (OSError, httplib.HTTPException, xmlrpc.client.ProtocolError,
                xmlrpc.client.ResponseError, ExpatError)
DEFAULT_TIMEOUT = 120.0
ORIGINATOR = "xsovs"


class XapiError(Error):
    """A XAPI failure: ``code`` and ``params`` are XAPI's ErrorDescription."""

    def __init__(self, details):
        details = [str(d) for d in details] or ["INTERNAL_ERROR"]
        Error.__init__(self, "XAPI failure: %s" % " ".join(details), params=details[1:],
                       code=details[0])

    def error_description(self):
        """XAPI's own ErrorDescription, passed on unchanged."""
        return [self.code] + self.params


class XapiUnreachable(XapiError):
    """No XAPI answered at the address (not started yet, or gone).

    The parameters are where and why; the message also says what to check,
    for whoever runs a program by hand and meets it: whether XAPI runs, and
    ``XSOVS_XAPI_URL``, which names the XAPI to use instead of this host's.
    """

    def __init__(self, where, reason, named=False):
        XapiError.__init__(self, ["XAPI_UNREACHABLE", where, reason])
        if named:
            advice = ("check that XAPI serves there, or set %s to where it does"
                      % paths.ENV_XAPI_URL)
            where = "%s (%s)" % (where, paths.ENV_XAPI_URL)
        else:
            advice = ("check that XAPI is running on this host; to use another XAPI "
                      "(a pool master, a simulator) set %s to its http://HOST:PORT/ URL "
                      "or socket path" % paths.ENV_XAPI_URL)
        self.message = "XAPI_UNREACHABLE: no XAPI answers at %s (%s): %s" % (
            where, reason, advice)
        self.args = (self.message,)


class _UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over a unix socket, with a timeout (XenAPI's own has none)."""

    def __init__(self, path, timeout):
        xmlrpc.client.Transport.__init__(self)
        self._path = path
        self._timeout = timeout

    def make_connection(self, host):
        return jsonrpc.UnixHTTPConnection(self._path, self._timeout)


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout):
        xmlrpc.client.Transport.__init__(self)
        self._timeout = timeout

    def make_connection(self, host):
        connection = xmlrpc.client.Transport.make_connection(self, host)
        connection.timeout = self._timeout
        return connection


def xapi_location(root=None):
    """Where XAPI is: the root's ``xapi_url`` (``XSOVS_XAPI_URL``), else the local socket."""
    if root is None:
        return paths.XAPI_SOCKET
    return root.xapi_url or root.path(paths.XAPI_SOCKET)


def _unreachable(location, exc, root):
    return XapiUnreachable(location, str(exc) or exc.__class__.__name__,
                           named=bool(root is not None and root.xapi_url))


def _session(location, timeout):
    if location.startswith(("http://", "https://")):
        return XenAPI.Session(location, transport=_TimeoutTransport(timeout))
    return XenAPI.Session("http://localhost/", transport=_UnixTransport(location, timeout))


class Api:
    """``api.PIF.get_record(ref)`` and friends, with errors translated.

    Reads (``get_*``) go over JSON-RPC while the host serves it (see
    :mod:`jsonrpc`); the first answer that is not JSON switches this
    session to XML-RPC.  Everything else, and the session itself, is the
    ``XenAPI`` library's.
    """

    def __init__(self, session, location, own_ref=None, timeout=DEFAULT_TIMEOUT, root=None):
        self._session = session
        self.location = location
        self._root = root
        self.session_ref = own_ref or session._session
        self._json = None
        if not location.startswith("https://"):   # http:// or a unix socket
            self._json = jsonrpc.Client(location, timeout)

    def _json_call(self, method, args):
        try:
            return self._json.call(method, [self.session_ref] + list(args))
        except jsonrpc.Unsupported as exc:
            log.info("%s: reading over XML-RPC", exc.message)
            self._json = None
            return self.call(method, *args)
        except jsonrpc.Failure as exc:
            raise XapiError(exc.details)
        except _UNREACHABLE as exc:
            raise _unreachable(self.location, exc, self._root)

    def call(self, method, *args):
        log.debug("XAPI %s%r", method, args)
        if self._json is not None and method.split(".", 1)[-1].startswith("get_"):
            return self._json_call(method, args)
        try:
            return getattr(self._session.xenapi, method)(*args)
        except XenAPI.Failure as exc:
            raise XapiError(exc.details)
        except xmlrpc.client.Fault as exc:
            if exc.faultCode == 401:
                # XenAPI's reply to SESSION_INVALID when it did not log in itself.
                raise XapiError(["SESSION_INVALID", self.session_ref])
            raise XapiError(["XAPI_FAULT", str(exc.faultCode), exc.faultString])
        except _UNREACHABLE as exc:
            raise _unreachable(self.location, exc, self._root)

    def __getattr__(self, cls):
        if cls.startswith("_"):
            raise AttributeError(cls)
        return _Class(self, cls)


class _Class:
    def __init__(self, api, cls):
        self._api = api
        self._cls = cls

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        name = "%s.%s" % (self._cls, method)
        return lambda *args: self._api.call(name, *args)


@contextlib.contextmanager
def connect(session_ref=None, root=None, timeout=DEFAULT_TIMEOUT):
    """A XAPI :class:`Api` for the ``with`` body.

    With ``session_ref`` the caller's session is used and left open; without
    one this logs in as root on the local socket and logs out afterwards.
    """
    location = xapi_location(root)
    session = _session(location, timeout)
    if session_ref:
        session._session = session_ref
        yield Api(session, location, own_ref=session_ref, timeout=timeout, root=root)
        return
    api = Api(session, location, timeout=timeout, root=root)
    try:
        session.xenapi.login_with_password("root", "", "1.0", ORIGINATOR)
    except XenAPI.Failure as exc:
        raise XapiError(exc.details)
    except xmlrpc.client.Fault as exc:
        raise XapiError(["XAPI_FAULT", str(exc.faultCode), exc.faultString])
    except _UNREACHABLE as exc:
        raise _unreachable(location, exc, root)
    api.session_ref = session._session
    try:
        yield api
    finally:
        try:
            session.xenapi.session.logout()
        except Exception as exc:   # logging out must not hide the real outcome
            log.warning("XAPI logout failed: %s", exc)
