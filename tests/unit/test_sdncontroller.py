"""The sdncontroller.py plugin's functions, without a daemon: refusals come first."""

import json
import xmlrpc.client

import pytest

from xsovs_common.actions import sdncontroller
from xsovs_common.net import sdncontroller_args as calls
from xsovs_common.xapi import plugin


def answer(fn, args, capsys):
    call = xmlrpc.client.dumps(("OpaqueRef:x", args), fn)
    plugin.dispatch(sdncontroller.PLUGIN_FUNCTIONS, [call])
    (reply,), _ = xmlrpc.client.loads(capsys.readouterr().out)
    return reply


@pytest.mark.parametrize("fn,args,code", [
    ("add-rule", {}, calls.E_PARSER),
    ("add-rule", {"bridge": "xenbr0", "allow": "false", "protocol": "udp",
                  "ipRange": "10.0.0.0/8", "direction": "to"}, calls.E_PARAMS),
    ("del-rule", {"bridge": "xenbr0", "protocol": "ip", "ipRange": "1.2.3.4",
                  "direction": "to", "cookie": "not-a-cookie"}, calls.E_PARSER),
    ("dump-flows", {}, calls.E_PARSER),
    ("dump-flows", {"bridge": "xenbr0", "extra": "1"}, calls.E_PARSER),
])
def test_bad_arguments_answer_the_vendors_code_and_reason(fn, args, code, capsys, tmp_path,
                                                          monkeypatch):
    monkeypatch.setenv("XSOVS_ROOT", str(tmp_path))       # nothing under it: no daemon
    reply = answer(fn, args, capsys)
    assert reply["Status"] == "Failure"
    assert reply["ErrorDescription"][0] == code
    assert len(reply["ErrorDescription"]) == 2 and reply["ErrorDescription"][1]


def test_a_daemon_refusal_is_read_from_ovs_appctls_stderr():
    stderr = json.dumps({"code": "4", "message": "add_rule: No rules were build"}) + \
        "\novs-appctl: ovs-xapi-sync: server returned an error\n"
    refusal = sdncontroller._refusal(stderr)
    assert refusal.error_description() == ["4", "add_rule: No rules were build"]
    assert sdncontroller._refusal("ovs-appctl: cannot read pidfile\n") is None


def test_no_daemon_is_a_clear_failure(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XSOVS_ROOT", str(tmp_path))
    reply = answer("add-rule", {"bridge": "xenbr0", "allow": "false", "protocol": "icmp",
                                "ipRange": "10.0.0.1", "direction": "to"}, capsys)
    assert reply["ErrorDescription"][0] == calls.E_OVSCALL
    assert "xsovs-xapi-sync" in reply["ErrorDescription"][1]
