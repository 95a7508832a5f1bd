"""SDN controllers as they exist in the field, for tests and the demo.

:class:`XoClient` does what Xen Orchestra's SDN controller does with a host
whose manager is ``pssl``: it connects to the host's TCP 6640 with TLS,
presenting a client certificate signed by its pool CA (the leaf only; ciphers
``DEFAULT:!DH``; TLS 1.2 or newer; the host's certificate is not checked),
and speaks RFC 7047 ``transact`` to ``Open_vSwitch``.  It finds a network's
bridge by ``external_ids:xs-network-uuids`` and a VIF's interface by
``external_ids:xs-vif-uuid``, and makes a cross-host private network's tunnel
with the three operations Xen Orchestra sends: insert an ``Interface``
(``type`` gre or vxlan, ``options`` ``remote_ip``, ``key`` = the VNI,
``psk`` when encrypted), insert a ``Port`` holding it, and add the port to
the bridge.

:class:`ActiveController` is a controller an active ``ssl`` manager connects
out to: it listens with TLS and sends its whole CA chain, so that a host in
bootstrap mode can learn the CA, and then acts as an OVSDB client over the
session ovsdb-server opened.
"""

import json
import queue
import socket
import ssl
import threading
import time

from xsovs_dev import netns as netnsmod

XO_CIPHERS = "DEFAULT:!DH"
OVSDB_PORT = 6640
OPENFLOW_PORT = 6653
OPENFLOW_TARGET = "pssl:"           # what Xen Orchestra sets: listen on 6653
OPENFLOW_PROTOCOLS = "OpenFlow11"
OPENFLOW_HELLO = 0
DATABASE = "Open_vSwitch"


class RpcError(Exception):
    pass


class Session:
    """JSON-RPC over one connected stream; answers the server's ``echo`` probes."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.timeout = timeout
        self._buffer = ""
        self._decoder = json.JSONDecoder()
        self._next_id = 0

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)     # wakes a thread reading it
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def _send(self, message):
        self.sock.sendall(json.dumps(message).encode())

    def _receive(self, deadline):
        while True:
            text = self._buffer.lstrip()
            if text:
                try:
                    message, end = self._decoder.raw_decode(text)
                except ValueError:
                    pass
                else:
                    self._buffer = text[end:]
                    return message
            remaining = deadline - time.time()
            if remaining <= 0:
                raise RpcError("no answer within %ss" % self.timeout)
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            if not data:
                raise RpcError("connection closed by the peer")
            self._buffer += data.decode()

    def call(self, method, params):
        self._next_id += 1
        request_id = self._next_id
        self._send({"id": request_id, "method": method, "params": params})
        deadline = time.time() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("method") == "echo":
                self._send({"id": message["id"], "result": message["params"], "error": None})
            elif message.get("id") == request_id:
                if message.get("error") is not None:
                    raise RpcError(message["error"])
                return message["result"]

    def keep_alive(self):
        """Answer the peer's echo probes from now on (in a thread), so the session lasts.

        After this the session is the thread's: make no more calls on it.
        """
        def answer():
            while True:
                try:
                    message = self._receive(time.time() + 3600)
                    if message.get("method") == "echo":
                        self._send({"id": message["id"], "result": message["params"],
                                    "error": None})
                except (RpcError, OSError, ValueError):
                    return
        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        return thread

    def transact(self, *operations):
        results = self.call("transact", [DATABASE] + list(operations))
        for result in results:
            if isinstance(result, dict) and "error" in result:
                raise RpcError("%s: %s" % (result["error"], result.get("details", "")))
        return results


def _map(values):
    return ["map", sorted(values.items())]


class XoClient:
    """Xen Orchestra's OVSDB client for one host (``netns``: the namespace it runs in)."""

    def __init__(self, address, key, cert, ca, port=OVSDB_PORT, netns=None,
                 ciphers=XO_CIPHERS, max_version=None):
        """``ciphers`` and ``max_version`` other than Xen Orchestra's: to probe a host."""
        self.address, self.port, self.netns = address, port, netns
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED if max_version \
            else ssl.TLSVersion.TLSv1_2
        if max_version:
            self.context.maximum_version = max_version
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE          # rejectUnauthorized: false
        self.context.set_ciphers(ciphers)
        self.context.load_cert_chain(cert, key)           # the leaf only
        self.context.load_verify_locations(ca)
        self._interfaces = 0

    def connect(self, timeout=10.0):
        """A TLS session to the host's ovsdb-server; ssl.SSLError when it refuses us."""
        raw = netnsmod.socket_in(self.netns) if self.netns else socket.socket()
        raw.settimeout(timeout)
        try:
            raw.connect((self.address, self.port))
            tls = self.context.wrap_socket(raw)
        except Exception:
            raw.close()
            raise
        session = Session(tls, timeout)
        # TLS 1.3 tells a refused client certificate only after the handshake.
        session.call("list_dbs", [])
        return session

    def bridge_for_network(self, session, network_uuid):
        """(row uuid, name) of the bridge whose xs-network-uuids is the network's."""
        (result,) = session.transact({
            "op": "select", "table": "Bridge", "columns": ["_uuid", "name"],
            "where": [["external_ids", "includes", _map({"xs-network-uuids": network_uuid})]]})
        if len(result["rows"]) != 1:
            raise RpcError("%d bridges for network %s" % (len(result["rows"]), network_uuid))
        row = result["rows"][0]
        return row["_uuid"][1], row["name"]

    def add_tunnel(self, network_uuid, remote_ip, encapsulation, key, password=None,
                   private_network_uuid="private-network"):
        """The tunnel of a private network to ``remote_ip``: the bridge's new port name."""
        session = self.connect()
        try:
            bridge_uuid, bridge = self.bridge_for_network(session, network_uuid)
            self._interfaces += 1
            options = {"remote_ip": remote_ip, "key": str(key)}
            if password is not None:
                options["psk"] = password
            port = "%s_port%d" % (bridge, self._interfaces)
            session.transact(
                {"op": "insert", "table": "Interface", "uuid-name": "new_iface",
                 "row": {"type": encapsulation, "options": _map(options),
                         "name": "%s_iface%d" % (bridge, self._interfaces)}},
                {"op": "insert", "table": "Port", "uuid-name": "new_port",
                 "row": {"name": port, "interfaces": ["named-uuid", "new_iface"],
                         "other_config": _map({
                             "xo:sdn-controller:private-network-uuid": private_network_uuid})}},
                {"op": "mutate", "table": "Bridge",
                 "where": [["_uuid", "==", ["uuid", bridge_uuid]]],
                 "mutations": [["ports", "insert", ["named-uuid", "new_port"]]]})
            return port
        finally:
            session.close()

    def set_bridge_controller(self, network_uuids):
        """Xen Orchestra's OpenFlow channel: controller ``pssl:`` on each network's bridge.

        ovs-vswitchd then listens on TCP 6653 with the SSL set-up of OVSDB,
        and Xen Orchestra connects there to manage flows itself.
        """
        session = self.connect()
        try:
            operations = [{"op": "insert", "table": "Controller", "uuid-name": "new_controller",
                           "row": {"target": OPENFLOW_TARGET}}]
            for network_uuid in network_uuids:
                bridge_uuid, _ = self.bridge_for_network(session, network_uuid)
                operations.append({
                    "op": "mutate", "table": "Bridge",
                    "where": [["_uuid", "==", ["uuid", bridge_uuid]]],
                    "mutations": [["controller", "insert", ["named-uuid", "new_controller"]],
                                  ["protocols", "insert", OPENFLOW_PROTOCOLS]]})
            session.transact(*operations)
        finally:
            session.close()

    def openflow_hello(self, port=OPENFLOW_PORT, timeout=10.0):
        """The first OpenFlow message ovs-vswitchd sends over TLS: (version, type)."""
        raw = netnsmod.socket_in(self.netns) if self.netns else socket.socket()
        raw.settimeout(timeout)
        try:
            raw.connect((self.address, port))
            tls = self.context.wrap_socket(raw)
            header = b""
            while len(header) < 8:
                data = tls.recv(8 - len(header))
                if not data:
                    raise RpcError("OpenFlow connection closed by the peer")
                header += data
            tls.close()
        finally:
            raw.close()
        return header[0], header[1]

    def ofport_for_vif(self, vif_uuid):
        """The OpenFlow port of a VIF (its vif interface, not the tap)."""
        session = self.connect()
        try:
            (result,) = session.transact({
                "op": "select", "table": "Interface", "columns": ["name", "ofport"],
                "where": [["external_ids", "includes", _map({"xs-vif-uuid": vif_uuid})]]})
        finally:
            session.close()
        for row in result["rows"]:
            if "tap" not in row["name"]:
                return row["ofport"]
        return None


class ActiveController:
    """A controller listening with TLS on ``address``:``port`` (in ``netns``).

    It presents ``leaf`` followed by its CA (``chain``), asks for no client
    certificate, and hands each accepted TLS session to :meth:`session`.
    """

    def __init__(self, chain, key, address="127.0.0.1", port=6632, netns=None):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(chain, key)
        self.address, self.port, self.netns = address, port, netns
        self._listener = None
        self._sessions = queue.Queue()
        self._kept = []
        self._thread = None
        self.accepted = 0

    def start(self):
        listener = netnsmod.socket_in(self.netns) if self.netns else socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.address, self.port))
        listener.listen(4)
        listener.settimeout(0.2)            # so that stop() is noticed
        self._listener = listener
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def _accept(self):
        while not self._stopping:
            try:
                raw, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                raw.settimeout(10)
                tls = self.context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()
                continue
            self.accepted += 1
            self._sessions.put(Session(tls))

    def session(self, timeout=30.0):
        """The first accepted session that answers ``list_dbs``: (session, databases).

        A host bootstrapping its CA drops its first session once it has saved
        the CA, and comes back verifying us with it; that later one stays.
        """
        deadline = time.time() + timeout
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise RpcError("no lasting OVSDB session within %ss" % timeout)
            try:
                session = self._sessions.get(timeout=remaining)
            except queue.Empty:
                continue
            try:
                databases = session.call("list_dbs", [])
            except (RpcError, OSError, ssl.SSLError):
                session.close()
                continue
            self._kept.append(session)
            return session, databases

    def stop(self):
        if self._listener is not None:
            self._stopping = True
            self._thread.join()
            self._listener.close()
            self._listener = None
        while not self._sessions.empty():
            self._sessions.get().close()
        for session in self._kept:
            session.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
