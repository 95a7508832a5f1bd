"""The host-plugin protocol, as XAPI reads it."""

import xmlrpc.client

import pytest

from xsovs_common.xapi import plugin
from xsovs_common.errors import Error


def _call(fn, args=None, session="OpaqueRef:s1"):
    return [xmlrpc.client.dumps((session, args or {}), fn)]


def _answer(text):
    (value,), method = xmlrpc.client.loads(text)
    return value


def functions():
    def hello(session, args):
        print("stray output must not reach stdout")
        return "hello %s from %s" % (args.get("name", "?"), session)

    def fails(session, args):
        raise Error("no pool", params=["p1"], code="NO_POOL_FOR_HOST")

    def crashes(session, args):
        raise ValueError("boom")
    return {"hello": hello, "fails": fails, "crashes": crashes}


def test_success():
    answer = _answer(plugin.respond(functions(), _call("hello", {"name": "x"})))
    assert answer == {"Status": "Success", "Value": "hello x from OpaqueRef:s1"}


def test_typed_failure():
    answer = _answer(plugin.respond(functions(), _call("fails")))
    assert answer == {"Status": "Failure",
                      "ErrorDescription": ["NO_POOL_FOR_HOST", "p1", "no pool"]}


def test_the_reason_comes_last_and_only_once():
    assert Error("why").error_description() == ["XSOVS_FAILURE", "why"]
    assert Error("why", params=[]).error_description() == ["XSOVS_FAILURE", "why"]
    assert Error("why", params=["x", "why"]).error_description() == ["XSOVS_FAILURE", "x", "why"]


def test_unexpected_exception():
    answer = _answer(plugin.respond(functions(), _call("crashes")))
    assert answer["ErrorDescription"] == ["XENAPI_PLUGIN_FAILURE", "crashes", "ValueError", "boom"]


def test_unknown_function():
    answer = _answer(plugin.respond(functions(), _call("nope")))
    assert answer["ErrorDescription"] == ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", "nope",
                                          "the functions are: crashes, fails, hello"]


def _args_failure(function, args):
    answer = _answer(plugin.respond({"f": function}, _call("f", args)))
    assert answer["Status"] == "Failure"
    return answer["ErrorDescription"]


def test_one_rule_for_arguments():
    """Keys a function does not take are refused; no arguments are always fine."""
    ran = []
    takes_none = plugin.takes((), lambda session, args: ran.append(args) or "ok")
    takes_port = plugin.takes(("port",), lambda session, args: ran.append(args) or "ok")
    assert _answer(plugin.respond({"f": takes_none}, _call("f", {})))["Value"] == "ok"
    assert _answer(plugin.respond({"f": takes_port}, _call("f", {"port": "1"})))["Value"] == "ok"
    assert _args_failure(takes_none, {"foo": "bar"}) == [
        "INVALID_VALUE", "args", "foo", "unknown argument foo (takes no arguments)"]
    assert _args_failure(takes_port, {"port": "1", "prot": "x"}) == [
        "INVALID_VALUE", "args", "prot", "unknown argument prot (takes port)"]
    assert _args_failure(takes_port, {"port": 1}) == [
        "INVALID_VALUE", "args", "port", "argument port is not a string"]
    assert ran == [{}, {"port": "1"}]


def test_bad_invocation():
    assert _answer(plugin.respond(functions(), []))["Status"] == "Failure"
    answer = _answer(plugin.respond(functions(), ["not xml"]))
    assert answer["ErrorDescription"][0] == "XENAPI_PLUGIN_FAILURE"


def test_dispatch_prints_only_the_response(capsys):
    plugin.dispatch(functions(), _call("hello"))
    out, err = capsys.readouterr()
    assert _answer(out)["Status"] == "Success"
    assert "stray output" in err


def test_host_xenapiplugin_is_used(monkeypatch):
    """On a host, the XenAPIPlugin module's dispatch answers; failures map to its Failure."""
    import sys
    import types
    seen = {}
    module = types.ModuleType("XenAPIPlugin")

    class Failure(Exception):
        def __init__(self, code, params):
            Exception.__init__(self, code)
            self.code, self.params = code, params

    def dispatch(table):
        seen["dispatched"] = True
        session = types.SimpleNamespace(_session="OpaqueRef:host")
        seen["hello"] = table["hello"](session, {"name": "h"})
        try:
            table["fails"](session, {})
        except Failure as exc:
            seen["fails"] = [exc.code] + exc.params
    module.Failure, module.dispatch = Failure, dispatch
    monkeypatch.setitem(sys.modules, "XenAPIPlugin", module)
    plugin.dispatch(functions(), [])
    assert seen == {"dispatched": True, "hello": "hello h from OpaqueRef:host",
                    "fails": ["NO_POOL_FOR_HOST", "p1", "no pool"]}


def test_host_unknown_function_names_the_functions(monkeypatch, capsys):
    """XenAPIPlugin would name only the function asked for: the plugin answers itself."""
    import sys
    import types
    module = types.ModuleType("XenAPIPlugin")
    module.Failure = Exception
    module.dispatch = lambda table: pytest.fail("XenAPIPlugin.dispatch called")
    monkeypatch.setitem(sys.modules, "XenAPIPlugin", module)
    plugin.dispatch(functions(), _call("nope"))
    assert _answer(capsys.readouterr().out)["ErrorDescription"] == [
        "UNKNOWN_XENAPI_PLUGIN_FUNCTION", "nope", "the functions are: crashes, fails, hello"]


UNSAFE = "a\x00b\x1b[31m\r\n\t\x7f\x85\ud800\udfff\ufffe\uffff é𝄞<&>"


def _parsed(text):
    """What XAPI reads: the bytes the plugin writes, parsed as XML."""
    (value,), method = xmlrpc.client.loads(plugin.encode_answer(text))
    return value


def test_unsafe_values_in_a_failure_still_make_xml():
    def fails(session, args):
        raise Error("bad %s" % UNSAFE, params=[UNSAFE], code="INVALID_VALUE")

    def crashes(session, args):
        raise ValueError(UNSAFE)
    safe = "a\\x00b\\x1b[31m\\r\\n\\t\\x7f\\x85\ufffd\ufffd\ufffd\ufffd é𝄞<&>"
    answer = _parsed(plugin.respond({"f": fails}, _call("f")))
    assert answer["ErrorDescription"] == ["INVALID_VALUE", safe, "bad " + safe]
    answer = _parsed(plugin.respond({"f": crashes}, _call("f")))
    assert answer["ErrorDescription"] == ["XENAPI_PLUGIN_FAILURE", "f", "ValueError", safe]
    assert max(plugin.encode_answer(plugin.respond({"f": fails}, _call("f")))) < 128


def test_a_success_keeps_its_lines_and_nothing_unsafe():
    answer = _parsed(plugin.respond({"f": lambda session, args: UNSAFE}, _call("f")))
    assert answer["Value"] == "a\\x00b\\x1b[31m\\r\n\t\\x7f\\x85\ufffd\ufffd\ufffd\ufffd é𝄞<&>"


def test_bad_bytes_in_the_call_are_a_clean_failure():
    for argv in (["\udcff\udcfe"], ["<methodCall>\x00</methodCall>"], [""],
                 [xmlrpc.client.dumps(("s", {}), "f")[:-20]]):
        answer = _parsed(plugin.respond(functions(), argv))
        assert answer["ErrorDescription"][0] == "XENAPI_PLUGIN_FAILURE"


def _ascii_stdout(monkeypatch):
    """stdout as dom0's Python 3.6 may have it: an ASCII locale."""
    import io
    import sys
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", out)
    return out


def test_dispatch_writes_any_answer_on_an_ascii_stdout(monkeypatch):
    out = _ascii_stdout(monkeypatch)
    plugin.dispatch({"f": lambda session, args: "é " + UNSAFE}, _call("f"))
    assert _parsed(out.buffer.getvalue().decode("ascii"))["Value"].startswith("é a\\x00b")


def test_host_xenapiplugin_answers_on_an_ascii_stdout(monkeypatch):
    import sys
    import types
    out = _ascii_stdout(monkeypatch)
    module = types.ModuleType("XenAPIPlugin")
    module.Failure = Exception

    def dispatch(table):      # as XenAPIPlugin does: print the methodResponse
        value = table["f"](types.SimpleNamespace(_session="OpaqueRef:host"), {})
        print(plugin.success_message(value))
    module.dispatch = dispatch
    monkeypatch.setitem(sys.modules, "XenAPIPlugin", module)
    plugin.dispatch({"f": lambda session, args: "é\ud800"}, _call("f"))
    assert sys.stdout is out
    assert _parsed(out.buffer.getvalue().decode("ascii"))["Value"] == "é\ufffd"
