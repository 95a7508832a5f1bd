"""XAPI method dispatch: names, arity, sessions, handles, and the messages.

Checks run in XAPI's order: unknown method (MESSAGE_METHOD_UNKNOWN), wrong
number of params (MESSAGE_PARAMETER_COUNT_MISMATCH, counts include the
session), bad session (SESSION_INVALID), bad object ref (HANDLE_INVALID).
Generated messages follow XAPI's pattern per class: get_all,
get_all_records, get_all_records_where, get_record, get_by_uuid,
get_<field>, and for the fields XAPI lets clients write set_<field>,
add_to_<map>/remove_from_<map>. Other writes go through Simulator.store.
Messages with behaviour: host.call_plugin; pool.set_vswitch_controller
(session, address) as the XAPI simulated has it, acting only when the
address changes: with the SDN_controller class (current XAPI) it checks an
IPv4 address, stores it, forgets the SDN_controller record and introduces
``ssl`` ADDRESS 6632 (each of which updates every host), without the class
(legacy XAPI) it stores the address unchecked and runs openvswitch-cfg-update
on every host; SDN_controller.introduce/forget with XAPI's checks, updating
every host via openvswitch-config-update (forget leaves
pool.vswitch_controller as it is); Bond.set_mode;
PIF.set_primary_address_type; VIF.set_locking_mode and
network.set_default_locking_mode; VIF.set/add/remove_ipv4_allowed and _ipv6_
(XAPI's checks: a set of addresses of that family, INVALID_VALUE otherwise);
session.login_with_password,
slave_local_login_with_password, logout, local_logout, get_this_host;
event.from (see events.py), which waits without holding the store lock.
``calls`` counts every call by method name.
"""

import collections
import functools
import ipaddress

from . import events, query
from .errors import XapiError
from .schema import BY_NAME_LABEL, CLASSES
from .store import coerce, string_form, to_wire


def _wire_record(cls, rec):
    return {name: to_wire(cls, name, value) for name, value in rec.items()}


def _param(cls, name, value):
    """Unmarshal a client-supplied value for cls.name, as XAPI would."""
    try:
        return coerce(cls, name, value)
    except ValueError:
        raise XapiError("FIELD_TYPE_ERROR", name) from None


def _ipv4(name, value):
    """XAPI's check of an IPv4 address argument."""
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise XapiError("INVALID_IP_ADDRESS_SPECIFIED", name) from None


def _string(name, value):
    if not isinstance(value, str):
        raise XapiError("FIELD_TYPE_ERROR", name)
    return value


class Api:
    """Resolves and runs one XAPI call against a Simulator."""

    def __init__(self, sim):
        self.sim = sim
        self.custom = {
            "host.call_plugin": (5, self.host_call_plugin),
            "pool.set_vswitch_controller": (2, self.pool_set_vswitch_controller),
            "SDN_controller.introduce": (4, self.sdn_introduce),
            "SDN_controller.forget": (2, self.sdn_forget),
            "Bond.set_mode": (3, self.bond_set_mode),
            "PIF.set_primary_address_type": (3, self.pif_set_primary_address_type),
            "VIF.set_locking_mode": (3, self.vif_set_locking_mode),
            "network.set_default_locking_mode": (3, self.network_set_default_locking_mode),
        }
        for family in ("ipv4", "ipv6"):
            field = family + "_allowed"
            for op in ("set", "add", "remove"):
                self.custom["VIF.%s_%s" % (op, field)] = (3, functools.partial(
                    self.vif_allowed, op, field))
        self.runs_plugins = {
            "host.call_plugin", "pool.set_vswitch_controller",
            "SDN_controller.introduce", "SDN_controller.forget",
        }
        self.calls = collections.Counter()

    @property
    def store(self):
        return self.sim.store

    # -- entry point ------------------------------------------------------
    def call(self, method, params):
        """Run one call; returns XAPI's response struct (never raises)."""
        self.calls[method] += 1
        try:
            return {"Status": "Success", "Value": self._call(method, list(params))}
        except XapiError as exc:
            return {"Status": "Failure", "ErrorDescription": exc.description}
        except Exception as exc:  # a simulator bug: report it as XAPI would
            self.sim.log.exception("internal error in %s", method)
            return {"Status": "Failure", "ErrorDescription": ["INTERNAL_ERROR", repr(exc)]}

    def _call(self, method, params):
        if method.startswith("session."):
            return self._session_call(method, params)
        if method == "event.from":
            if len(params) != 4:
                raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method, 4, len(params))
            self.sim.check_session(params[0])
            return events.event_from(self.store, *params[1:], wire_record=_wire_record,
                                     check_session=lambda: self.sim.check_session(params[0]))
        counts, fn = self.resolve(method)
        if len(params) not in counts:
            raise XapiError(
                "MESSAGE_PARAMETER_COUNT_MISMATCH", method, max(counts), len(params)
            )
        self.sim.check_session(params[0])
        if method in self.runs_plugins:
            return fn(*params[1:])  # must not hold the lock: plugins call back
        with self.store.lock:
            return fn(*params[1:])

    def resolve(self, method):
        """(accepted param counts, handler) for a method name, or MESSAGE_METHOD_UNKNOWN."""
        cls, _, op = method.partition(".")
        if not self.store.present(cls):
            raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
        if method in self.custom:
            count, fn = self.custom[method]
            return (count,), fn
        fields = CLASSES[cls]
        fixed = {
            "get_all": (1, lambda: self.store.refs(cls)),
            "get_all_records": (1, lambda: self.get_all_records(cls)),
            "get_all_records_where": (2, lambda expr: self.get_all_records_where(cls, expr)),
            "get_record": (2, lambda ref: _wire_record(cls, self.record(cls, ref))),
            "get_by_uuid": (2, lambda uuid: self.get_by_uuid(cls, uuid)),
        }
        if cls in BY_NAME_LABEL:
            fixed["get_by_name_label"] = (2, lambda label: self.get_by_name_label(cls, label))
        if op in fixed:
            count, fn = fixed[op]
            return (count,), fn
        for prefix, count, want in (
            ("get_", 2, lambda f: True),
            ("set_", 3, lambda f: f.rw),
            ("add_to_", 4, lambda f: f.rw and f.kind == "map"),
            ("remove_from_", 3, lambda f: f.rw and f.kind == "map"),
        ):
            name = op[len(prefix):]
            if op.startswith(prefix) and name in fields and want(fields[name]):
                handler = getattr(self, prefix.rstrip("_"))
                return (count,), (lambda *a, h=handler, n=name: h(cls, n, *a))
        raise XapiError("MESSAGE_METHOD_UNKNOWN", method)

    # -- sessions ---------------------------------------------------------
    def _session_call(self, method, params):
        op = method[len("session."):]
        if op in ("login_with_password", "slave_local_login_with_password"):
            counts = (2, 3, 4) if op == "login_with_password" else (2,)
            if len(params) not in counts:
                raise XapiError(
                    "MESSAGE_PARAMETER_COUNT_MISMATCH", method, max(counts), len(params)
                )
            user, password = params[0], params[1]
            originator = params[3] if len(params) > 3 else ""
            return self.sim.login(_string("uname", user), _string("pwd", password), originator)
        if op in ("logout", "local_logout", "get_this_host"):
            count = 2 if op == "get_this_host" else 1
            if len(params) != count:
                raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method, count, len(params))
            info = self.sim.check_session(params[0])
            if op == "get_this_host":
                return info["host"]
            self.sim.logout(params[0])
            return ""
        raise XapiError("MESSAGE_METHOD_UNKNOWN", method)

    # -- generated messages ---------------------------------------------------
    def record(self, cls, ref):
        """The live record behind ref (caller must not mutate); HANDLE_INVALID if none."""
        rec = self.store.tables[cls].get(ref) if isinstance(ref, str) else None
        if rec is None:
            raise XapiError("HANDLE_INVALID", cls, ref if isinstance(ref, str) else repr(ref))
        return rec

    def get_all_records(self, cls):
        with self.store.lock:
            return {ref: _wire_record(cls, rec) for ref, rec in self.store.tables[cls].items()}

    def get_all_records_where(self, cls, expr):
        expr = query.compile_expr(query.parse(_string("expr", expr)))
        keyed = query.single_field(expr)
        with self.store.lock:
            table = self.store.tables[cls]
            if keyed is not None and keyed[0] == "_ref":
                refs = [ref for ref in sorted(keyed[1]) if ref in table]
            elif keyed is not None and keyed[0] in CLASSES[cls]:
                # One field against literals: XAPI's scan, without a closure per row.
                name, values = keyed
                if CLASSES[cls][name].kind in ("ref", "string", "enum"):
                    # Stored as their string form already.
                    refs = [ref for ref, rec in table.items() if rec[name] in values]
                else:
                    refs = [ref for ref, rec in table.items()
                            if string_form(cls, name, rec[name]) in values]
            else:
                refs = [ref for ref, rec in table.items()
                        if query.evaluate(expr, self._lookup(cls, ref, rec))]
            return {ref: _wire_record(cls, table[ref]) for ref in refs}

    @staticmethod
    def _lookup(cls, ref, rec):
        def lookup(name):
            if name == "_ref":
                return ref
            if name not in rec:
                raise XapiError("INTERNAL_ERROR", "missing field %s in %s" % (name, cls))
            return string_form(cls, name, rec[name])
        return lookup

    def get_by_uuid(self, cls, uuid):
        try:
            return self.store.by_uuid(cls, _string("uuid", uuid))
        except KeyError:
            raise XapiError("UUID_INVALID", cls, uuid) from None

    def get_by_name_label(self, cls, label):
        return self.store.find(cls, name_label=_string("label", label))

    def get(self, cls, name, ref):
        with self.store.lock:
            return to_wire(cls, name, self.record(cls, ref)[name])

    def set(self, cls, name, ref, value):
        with self.store.lock:
            self.record(cls, ref)
            self.store.set(cls, ref, name, _param(cls, name, value))
        return ""

    def add_to(self, cls, name, ref, key, value):
        key, value = _string("key", key), _string("value", value)
        with self.store.lock:
            current = self.record(cls, ref)[name]
            if key in current:
                raise XapiError("MAP_DUPLICATE_KEY", cls, name, ref, key)
            self.store.set(cls, ref, name, dict(current, **{key: value}))
        return ""

    def remove_from(self, cls, name, ref, key):
        key = _string("key", key)
        with self.store.lock:
            current = dict(self.record(cls, ref)[name])
            current.pop(key, None)
            self.store.set(cls, ref, name, current)
        return ""

    # -- custom messages --------------------------------------------------------
    def host_call_plugin(self, host, plugin, fn, args):
        with self.store.lock:
            host_uuid = self.record("host", host)["uuid"]
        plugin, fn = _string("plugin", plugin), _string("fn", fn)
        if not isinstance(args, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in args.items()
        ):
            raise XapiError("FIELD_TYPE_ERROR", "args")
        return self.sim.run_plugin(host_uuid, plugin, fn, args)

    def pool_set_vswitch_controller(self, address):
        """Store the address and update every host, if it changed (see the module doc)."""
        address = _string("address", address)
        current = self.store.present("SDN_controller")
        with self.store.lock:
            pool = self.store.refs("pool")[0]
            if self.store.tables["pool"][pool]["vswitch_controller"] == address:
                return ""
            if current and address:
                _ipv4("address", address)
            self.store.set("pool", pool, "vswitch_controller", address)
        if not current:
            self.sim.update_all_hosts("openvswitch-cfg-update")
            return ""
        for ref in self.store.refs("SDN_controller")[:1]:
            self.sdn_forget(ref)
        if address:
            self.sdn_introduce("ssl", address, "6632")
        return ""

    def sdn_introduce(self, protocol, address, port):
        protocol = _param("SDN_controller", "protocol", protocol)
        address = _string("address", address)
        port = _param("SDN_controller", "port", port)
        with self.store.lock:
            if self.store.refs("SDN_controller"):
                raise XapiError(
                    "OPERATION_NOT_ALLOWED",
                    "SDN controller has been configured. Please forget it first.",
                )
            if protocol == "pssl":
                if address:
                    raise XapiError("INVALID_VALUE", "address", address)
                if port:
                    raise XapiError("INVALID_VALUE", "port", port)
            elif not address:
                raise XapiError("INVALID_VALUE", "address", address)
            else:
                _ipv4("address", address)
            if port and not 0 < port <= 65535:
                raise XapiError("VALUE_NOT_SUPPORTED", "port", port, "Port out of range")
            if protocol == "ssl" and port == 0:
                port = 6632
            ref = self.store.add(
                "SDN_controller", {"protocol": protocol, "address": address, "port": port}
            )
        self.sim.update_all_hosts("openvswitch-config-update")
        return ref

    def sdn_forget(self, ref):
        with self.store.lock:
            self.record("SDN_controller", ref)
            self.store.remove("SDN_controller", ref)
        self.sim.update_all_hosts("openvswitch-config-update")
        return ""

    def bond_set_mode(self, ref, value):
        return self._set_message("Bond", "mode", ref, value)

    def pif_set_primary_address_type(self, ref, value):
        return self._set_message("PIF", "primary_address_type", ref, value)

    def vif_set_locking_mode(self, ref, value):
        return self._set_message("VIF", "locking_mode", ref, value)

    def network_set_default_locking_mode(self, ref, value):
        return self._set_message("network", "default_locking_mode", ref, value)

    def vif_allowed(self, op, field, ref, value):
        """XAPI's VIF.{set,add,remove}_ipv{4,6}_allowed: a set, of checked addresses."""
        family = ipaddress.IPv4Address if field == "ipv4_allowed" else ipaddress.IPv6Address
        values = _param("VIF", field, value) if op == "set" else [_string("value", value)]
        if op != "remove":
            for address in values:
                try:
                    family(address)
                except ValueError:
                    raise XapiError("INVALID_VALUE", field, address) from None
        with self.store.lock:
            current = list(self.record("VIF", ref)[field])
            if op == "set":
                current = []
            if op == "remove":
                current = [a for a in current if a not in values]
            else:
                for address in values:
                    if address not in current:
                        current.append(address)
            self.store.set("VIF", ref, field, current)
        return ""

    def _set_message(self, cls, name, ref, value):
        with self.store.lock:
            self.record(cls, ref)
            self.store.set(cls, ref, name, _param(cls, name, value))
        return ""

