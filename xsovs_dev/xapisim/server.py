"""The simulator: XAPI's wire protocols (XML-RPC, JSON-RPC at /jsonrpc) over TCP or a unix socket.

Threaded because a plugin run calls back into the server while the outer
host.call_plugin is still pending, and pools update every host at once.
Stopping joins every request thread and kills running plugins, so tests
leave nothing behind.
"""

import json
import logging
import os
import socketserver
import sys
import threading
import time
from pathlib import Path
from xmlrpc.server import SimpleXMLRPCDispatcher, SimpleXMLRPCRequestHandler

from . import plugins
from .api import Api
from .errors import XapiError
from .store import Store, new_ref

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_path(name):
    """Path of a bundled fixture by name ('one-host', 'three-host')."""
    return FIXTURES / ("%s.json" % name)


def fixture_names():
    """The bundled fixtures' names, sorted."""
    return sorted(path.stem for path in FIXTURES.glob("*.json"))


class _Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ()  # XAPI answers XML-RPC on any path ...

    def do_POST(self):
        """... and JSON-RPC at /jsonrpc, unless the simulated XAPI predates it (it
        then answers XML-RPC there too, with text/xml, as such a host does)."""
        api = self.server.xapi
        if self.path.split("?")[0].rstrip("/") == "/jsonrpc" and api.sim.jsonrpc:
            self._json_rpc(api)
        else:
            SimpleXMLRPCRequestHandler.do_POST(self)

    def _json_rpc(self, api):
        length = int(self.headers.get("content-length") or 0)
        try:
            request = json.loads(self.rfile.read(length).decode("utf-8"))
            method, params = request["method"], request.get("params") or []
            if not isinstance(method, str) or not isinstance(params, list):
                raise ValueError("method must be a string, params a list")
        except (ValueError, KeyError, TypeError) as exc:
            reply = {"jsonrpc": "2.0", "id": None,
                     "error": {"code": -32600, "message": "Invalid Request", "data": [str(exc)]}}
        else:
            with api.sim._lock:
                api.sim.jsonrpc_calls += 1
            answer = api.call(method, params)
            reply = {"jsonrpc": "2.0", "id": request.get("id")}
            if answer["Status"] == "Success":
                reply["result"] = answer["Value"]
            else:
                details = answer["ErrorDescription"]
                reply["error"] = {"code": 1, "message": details[0], "data": details[1:]}
        body = json.dumps(reply).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep tests quiet
        pass


class _UnixHandler(_Handler):
    disable_nagle_algorithm = False  # TCP_NODELAY fails on a unix socket


class _ApiInstance:
    """What SimpleXMLRPCDispatcher calls: every method goes through Api.call."""

    def __init__(self, api):
        self.api = api

    def _dispatch(self, method, params):
        return self.api.call(method, params)


class _RPCServer(socketserver.ThreadingMixIn, SimpleXMLRPCDispatcher):
    """Threaded XML-RPC server; marshals without None (XAPI never sends nil)."""

    daemon_threads = False
    block_on_close = True  # server_close() joins every request thread
    logRequests = False
    request_queue_size = 256

    def _init_rpc(self, api):
        self.xapi = api
        SimpleXMLRPCDispatcher.__init__(
            self, allow_none=False, encoding=None, use_builtin_types=False
        )
        self.register_instance(_ApiInstance(api))


class _TCPServer(_RPCServer, socketserver.TCPServer):
    allow_reuse_address = True

    def __init__(self, address, api):
        self._init_rpc(api)
        socketserver.TCPServer.__init__(self, address, _Handler)


class _UnixServer(_RPCServer, socketserver.UnixStreamServer):
    def __init__(self, path, api):
        self._init_rpc(api)
        socketserver.UnixStreamServer.__init__(self, path, _UnixHandler)


class Simulator:
    """A simulated XAPI pool master.

    fixture: a fixture dict, a JSON path, a bundled fixture name
    ('one-host', 'three-host'), or None for an empty pool.
    Attributes tests set or read (all plain data):
      store             the object store (direct reads and writes)
      host_env          {host_uuid: {VAR: value}} extra plugin environment
      plugin_dirs       plugin directories tried after host_plugin_dirs
      host_plugin_dirs  {host_uuid: [dir, ...]} per-host plugin directories
      python            interpreter that runs plugins
      plugin_calls      [PluginCall], one per finished host plugin run
      plugin_delay      {host_uuid: seconds} sleep before each run on that host
      plugin_timeout    seconds before a plugin is killed (60)
      plugin_xapi_url   XSOVS_XAPI_URL for plugins (default: the unix path, else the URL)
      jsonrpc           serve JSON-RPC at /jsonrpc (True); False models a XAPI without it
      jsonrpc_calls     how many JSON-RPC calls were served
      url, unix_path    where the simulator listens once started
    """

    def __init__(self, fixture=None):
        if isinstance(fixture, str) and not os.path.exists(fixture):
            if not fixture_path(fixture).exists():
                raise ValueError("no fixture named %r and no such file: the fixtures are %s "
                                 "(or give a JSON file's path)"
                                 % (fixture, ", ".join(fixture_names())))
            fixture = fixture_path(fixture)
        self.store = Store(fixture)
        self.api = Api(self)
        self.log = logging.getLogger("xsovs_dev.xapisim")
        self.host_env = {}
        self.plugin_dirs = [str(REPO_ROOT / "xapi.d" / "plugins")]
        self.host_plugin_dirs = {}
        self.python = sys.executable
        self.plugin_calls = []
        self.plugin_delay = {}
        self.plugin_timeout = 60
        self.plugin_xapi_url = None
        self.jsonrpc = True          # False: a XAPI without /jsonrpc
        self.jsonrpc_calls = 0
        self.url = None
        self.unix_path = None
        self.logins = 0
        self._sessions = {}
        self._lock = threading.Lock()
        self._servers = []
        self._procs = set()

    # -- life cycle -----------------------------------------------------------
    def start(self, unix_path=None, port=0):
        """Serve on 127.0.0.1 (and unix_path when given); returns the URL or the path."""
        if self._servers:
            raise RuntimeError("simulator already started")
        self.store.wake(stopping=False)
        tcp = _TCPServer(("127.0.0.1", port), self.api)
        self._serve(tcp)
        self.url = "http://127.0.0.1:%d/" % tcp.server_address[1]
        if unix_path:
            unix_path = str(unix_path)
            if os.path.exists(unix_path):
                os.unlink(unix_path)
            self._serve(_UnixServer(unix_path, self.api))
            self.unix_path = unix_path
        return unix_path or self.url

    def _serve(self, server):
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01},
            name="xapisim-%s" % type(server).__name__, daemon=True,
        )
        thread.start()
        self._servers.append((server, thread))

    def stop(self):
        """Stop serving, kill running plugins, join every thread; idempotent."""
        servers, self._servers = self._servers, []
        self.store.wake(stopping=True)
        for server, _ in servers:
            server.shutdown()
        for proc in list(self._procs):
            plugins.kill(proc)
        for server, thread in servers:
            server.server_close()
            thread.join()
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)
        self.url = self.unix_path = None

    def __enter__(self):
        if not self._servers:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- sessions -------------------------------------------------------------
    def login(self, user="root", password="", originator="", host=None, kind="login"):
        """Open a session (any password for root); returns its ref."""
        if user != "root":
            raise XapiError("SESSION_AUTHENTICATION_FAILED", user, "Authentication failure")
        if host is None:
            host = self.store.field("pool", self.store.refs("pool")[0], "master")
        ref = new_ref()
        with self._lock:
            self._sessions[ref] = {
                "user": user, "originator": originator, "host": host, "kind": kind,
            }
            self.logins += 1
        return ref

    def logout(self, ref):
        with self._lock:
            self._sessions.pop(ref, None)

    def forget_sessions(self):
        """End every session, as a XAPI restart that lost them would (SESSION_INVALID)."""
        with self._lock:
            self._sessions.clear()
        self.store.wake()

    def check_session(self, ref):
        """The session's info, or SESSION_INVALID."""
        with self._lock:
            info = self._sessions.get(ref) if isinstance(ref, str) else None
        if info is None:
            raise XapiError("SESSION_INVALID", ref if isinstance(ref, str) else repr(ref))
        return info

    def open_sessions(self, kind=None):
        """{ref: info} of sessions not logged out; kind 'login' or 'plugin' filters."""
        with self._lock:
            return {
                r: dict(i) for r, i in self._sessions.items() if kind in (None, i["kind"])
            }

    def session_count(self, kind=None):
        return len(self.open_sessions(kind))

    def call(self, method, *params):
        """Run one XAPI call in-process; returns XAPI's response struct."""
        return self.api.call(method, params)

    # -- plugins --------------------------------------------------------------
    def plugin_env(self, host_uuid):
        env = dict(os.environ)
        env["XSOVS_XAPI_URL"] = self.plugin_xapi_url or self.unix_path or self.url or ""
        env["XSOVS_LOG"] = "stderr"
        env.update(self.host_env.get(host_uuid, {}))
        paths = [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def run_plugin(self, host_uuid, plugin, fn, args):
        """Run a plugin on a host as host.call_plugin does; returns its value or raises."""
        stdout = stderr = ""
        session = outcome = None
        started = time.monotonic()
        try:
            dirs = list(self.host_plugin_dirs.get(host_uuid, [])) + list(self.plugin_dirs)
            path = plugins.find_plugin(dirs, plugin)
            if path is None:
                raise XapiError("XENAPI_MISSING_PLUGIN", plugin)
            delay = self.plugin_delay.get(host_uuid, 0)
            if delay:
                time.sleep(delay)
            session = self.login(
                originator="xapi-plugin", host=self.store.by_uuid("host", host_uuid), kind="plugin"
            )
            value, stdout, stderr = plugins.run(
                self.python, path, session, fn, args,
                self.plugin_env(host_uuid), self.plugin_timeout, self._procs,
            )
            outcome = {"Status": "Success", "Value": value}
            return value
        except XapiError as exc:
            stdout = getattr(exc, "stdout", stdout)
            stderr = getattr(exc, "stderr", stderr)
            outcome = {"Status": "Failure", "ErrorDescription": exc.description}
            raise
        finally:
            if session:
                self.logout(session)
            if outcome is None:
                outcome = {"Status": "Failure", "ErrorDescription": ["INTERNAL_ERROR"]}
            call = plugins.PluginCall(host_uuid, plugin, fn, dict(args), outcome, stderr, stdout,
                                      started, time.monotonic())
            with self._lock:
                self.plugin_calls.append(call)

    def update_all_hosts(self, plugin):
        """Call plugin fn 'update' on every host in parallel; failures are only logged."""

        def one(host_uuid):
            try:
                self.run_plugin(host_uuid, plugin, "update", {})
            except XapiError as exc:
                self.log.warning("%s on host %s: %s", plugin, host_uuid, exc.description)

        uuids = [rec["uuid"] for rec in self.store.all("host").values()]
        threads = [threading.Thread(target=one, args=(u,), name="xapisim-update") for u in uuids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
