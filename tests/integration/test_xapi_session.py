"""Sessions through the real XenAPI client against the simulator."""

import os
import subprocess
import sys
import time

import pytest

from xsovs_common.paths import Root
from xsovs_common.xapi import session as xapi
from xsovs_dev.xapisim import REPO_ROOT, Simulator

HOST = "OpaqueRef:00000002-aaaa-4aaa-aaaa-000000000001"


def at(location):
    """The root of a run whose XSOVS_XAPI_URL was ``location``."""
    return Root("/", xapi_url=location)


@pytest.fixture
def sim():
    with Simulator("one-host") as simulator:
        yield simulator


def test_login_on_tcp_and_logout(sim):
    with xapi.connect(root=at(sim.url)) as api:
        assert api.host.get_record(HOST)["uuid"] == "00000002-0000-4000-8000-000000000001"
        assert sim.session_count("login") == 1
    assert sim.session_count("login") == 0


def test_unix_socket_with_underscores_in_path(tmp_path):
    path = str(tmp_path / "var_lib_xcp" / "xapi_sock")
    (tmp_path / "var_lib_xcp").mkdir()
    sim = Simulator("one-host")
    sim.start(unix_path=path)
    try:
        with xapi.connect(root=at(path)) as api:
            assert api.host.get_all() == [HOST]
        assert sim.session_count("login") == 0
    finally:
        sim.stop()


def test_callers_session_is_used_and_kept(sim):
    ref = sim.login()
    with xapi.connect(session_ref=ref, root=at(sim.url)) as api:
        assert api.session_ref == ref
        assert api.pool.get_all()
    assert ref in sim.open_sessions()


def test_invalid_session_is_xapis_failure(sim):
    with xapi.connect(session_ref="OpaqueRef:gone", root=at(sim.url)) as api:
        with pytest.raises(xapi.XapiError) as info:
            api.host.get_all()
    assert info.value.code == "SESSION_INVALID"
    assert info.value.params == ["OpaqueRef:gone"]


def test_errors_keep_code_and_params(sim):
    with xapi.connect(root=at(sim.url)) as api:
        with pytest.raises(xapi.XapiError) as info:
            api.PIF.get_record("OpaqueRef:nope")
        assert info.value.error_description() == ["HANDLE_INVALID", "PIF", "OpaqueRef:nope"]
        with pytest.raises(xapi.XapiError) as info:
            api.PIF.no_such_call()
        assert info.value.code == "MESSAGE_METHOD_UNKNOWN"
    assert sim.session_count("login") == 0


def test_session_is_logged_out_after_an_error(sim):
    with pytest.raises(RuntimeError):
        with xapi.connect(root=at(sim.url)):
            raise RuntimeError("caller failed")
    assert sim.session_count("login") == 0


def test_unreachable(tmp_path):
    started = time.time()
    with pytest.raises(xapi.XapiUnreachable) as info:
        with xapi.connect(root=at(str(tmp_path / "no-xapi"))):
            pass
    assert info.value.code == "XAPI_UNREACHABLE"
    assert time.time() - started < 5


def test_local_socket_under_root_prefix(tmp_path):
    (tmp_path / "var/lib/xcp").mkdir(parents=True)
    sim = Simulator("one-host")
    sim.start(unix_path=str(tmp_path / "var/lib/xcp/xapi"))
    try:
        with xapi.connect(root=Root(str(tmp_path))) as api:
            assert api.host.get_all() == [HOST]
    finally:
        sim.stop()


def test_a_server_that_is_not_xapi_is_unreachable(tmp_path):
    """HTTP errors and non-XML-RPC answers are XAPI_UNREACHABLE, not a crash."""
    import http.server
    import threading

    class NotXapi(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            status = 500 if self.path == "/broken/" else 200
            self.send_response(status)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"not xml!!")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotXapi)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        for path in ("/broken/", "/"):
            url = "http://127.0.0.1:%d%s" % (server.server_address[1], path)
            with pytest.raises(xapi.XapiUnreachable):
                with xapi.connect(root=at(url)):
                    pass
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


# -- JSON-RPC -----------------------------------------------------------------------

@pytest.mark.parametrize("where", ["tcp", "unix"])
def test_reads_go_over_json_rpc_and_match_xml_rpc(tmp_path, where):
    """A host serving /jsonrpc answers the reads there, with XML-RPC's answers."""
    from xsovs_common.xapi import network as xapi_network
    from xsovs_dev.xapisim import fixture_path
    answers = []
    for jsonrpc in (True, False):
        sim = Simulator(str(fixture_path("three-host")))
        sim.jsonrpc = jsonrpc
        path = str(tmp_path / ("sock%d" % jsonrpc))
        sim.start(unix_path=path if where == "unix" else None)
        try:
            with xapi.connect(root=at(path if where == "unix" else sim.url)) as api:
                hn = xapi_network.load(api, "00000002-0000-4000-8000-000000000002")
                with pytest.raises(xapi.XapiError) as info:
                    api.PIF.get_record("OpaqueRef:nope")
            assert info.value.error_description() == ["HANDLE_INVALID", "PIF",
                                                      "OpaqueRef:nope"]
            # All 8 reads served over JSON-RPC; without it, XML-RPC after one attempt.
            assert sim.jsonrpc_calls == (8 if jsonrpc else 0)
            assert sim.session_count("login") == 0
        finally:
            sim.stop()
        answers.append([getattr(hn, a) for a in ("pifs", "networks", "bonds", "vlans",
                                                 "tunnels", "pools")])
    assert answers[0] == answers[1]


def test_without_json_rpc_the_host_answers_xml(sim):
    """What a XAPI without JSON-RPC does at /jsonrpc: XML-RPC, text/xml."""
    import http.client
    import json
    sim.jsonrpc = False
    host, port = sim.url[len("http://"):].rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", "/jsonrpc", json.dumps({"method": "host.get_all", "params": [],
                                                       "id": 1}),
                       {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.getheader("Content-Type").startswith("text/xml")


# The programs an administrator runs by hand that need XAPI: (executable, argv).
NEEDS_XAPI = [("openvswitch-pool-update", ["status"]),
              ("interface-reconfigure", ["rewrite"]),
              ("openvswitch-xapi-update", ["--wait", "1", "--interval", "0.5"])]


@pytest.mark.parametrize("named", [False, True], ids=["local socket", "XSOVS_XAPI_URL"])
@pytest.mark.parametrize("program,argv", NEEDS_XAPI, ids=[p for p, _ in NEEDS_XAPI])
def test_a_program_that_finds_no_xapi_says_where_it_looked_and_what_to_check(
        fake_root, program, argv, named):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSOVS_")}
    if named:
        env["XSOVS_XAPI_URL"] = where = "http://127.0.0.1:9/"      # nothing listens on 9
    else:
        where = fake_root.file("/var/lib/xcp/xapi")
    result = subprocess.run([sys.executable, str(REPO_ROOT / "libexec" / program),
                             "--root-prefix", fake_root.path, "--no-syslog"] + argv,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "XAPI_UNREACHABLE: no XAPI answers at %s" % where in last
    if named:
        assert "(XSOVS_XAPI_URL)" in last and "check that XAPI serves there" in last
    else:
        assert "check that XAPI is running on this host" in last
        assert "set XSOVS_XAPI_URL to its http://HOST:PORT/ URL" in last
