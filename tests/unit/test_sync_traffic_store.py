"""The traffic rules kept on disk: written after each run with XAPI, enforced at a start
without XAPI, replaced by XAPI's records when they arrive."""

import json
import os

from xsovs_common.net import traffic_flows as tf
from xsovs_common.paths import TRAFFIC_RULES_STATE
from xsovs_common.sync import traffic, traffic_commands, traffic_lists, traffic_store
from xsovs_common.sync.cache import XapiCache
from xsovs_dev.fakeroot import FakeRoot

from tests.unit.test_sync_traffic import (DENY_PING, DENY_SSH, MAC, NET, VIF, Clock, Idl,
                                          Recorder, make_cache, stored, switch)


def daemon(root):
    recorder = Recorder()
    rules = traffic.TrafficRules(root, clock=Clock(), bundle=recorder.bundle,
                                 dump=recorder.dump, read_switch=lambda idl: idl.sw)
    return rules, recorder


def rule_lines(recorder):
    return sorted(x for x in recorder.bundles[-1][1] if x.startswith("add ") and "tp_dst=22" in x
                  or "icmp" in x and "dl_dst" in x)


def test_a_start_without_xapi_enforces_the_rules_kept_on_disk(tmp_path):
    root = FakeRoot(str(tmp_path / "root")).root
    first, recorder = daemon(root)
    first.run(make_cache(stored(DENY_SSH), net_rules=stored(dict(DENY_PING, cookie="0x1"))),
              Idl(switch()))
    wanted = rule_lines(recorder)
    assert wanted
    kept = json.loads(open(root.path(TRAFFIC_RULES_STATE)).read())
    assert kept["vifs"][VIF]["network"] == NET and kept["vifs"][VIF]["MAC"] == MAC.upper()
    assert oct(os.stat(root.path(TRAFFIC_RULES_STATE)).st_mode & 0o777) == "0o600"
    # A new daemon, XAPI not reached (the cache never gets its snapshot), the port moved.
    again, recorder = daemon(root)
    again.run(XapiCache(), Idl(switch(ofport=5)))
    assert recorder.bundles[-1][1][0] == "delete cookie=" + tf.ALL_COOKIES
    assert rule_lines(recorder) == wanted
    assert traffic_commands.report(again)["source"].startswith("kept on disk")
    # XAPI arrives with no rules: XAPI's records win (a list gone: after its grace), and
    # the file follows.
    again.run(make_cache(), Idl(switch()))
    again.clock.now += traffic_lists.ABSENT_GRACE
    again.run(make_cache(), Idl(switch()))
    assert not rule_lines(recorder)
    assert traffic_commands.report(again)["source"] == "XAPI"
    kept = json.loads(open(root.path(TRAFFIC_RULES_STATE)).read())
    assert kept["vifs"][VIF]["rules"] is None


def test_a_port_the_file_does_not_name_is_held(tmp_path):
    root = FakeRoot(str(tmp_path / "root")).root
    first, _ = daemon(root)
    first.run(make_cache(stored(DENY_SSH)), Idl(switch()))
    other = ("vif7.0", 9, {"xs-vif-uuid": "0d0b8f50-6e3a-4b0e-9a55-3f3b4cf6f0aa"})
    again, recorder = daemon(root)
    again.run(XapiCache(), Idl(switch(extra_ports=[other])))
    lines = recorder.bundles[-1][1]
    assert recorder.dumps and "delete cookie=" + tf.ALL_COOKIES not in lines
    assert not any(tf.cookie_text(tf.from_vif_cookie(9)) in x for x in lines)
    views = {v.iface.name: v.rules for v in again.views}
    assert views["vif7.0"] == traffic_lists.HELD and views["vif3.0"]


def test_a_broken_file_or_none_does_nothing_until_xapi(tmp_path):
    root = FakeRoot(str(tmp_path / "root")).root
    rules, recorder = daemon(root)
    rules.run(XapiCache(), Idl(switch()))
    assert recorder.bundles == []
    os.makedirs(os.path.dirname(root.path(TRAFFIC_RULES_STATE)), exist_ok=True)
    for text in ("{not json", json.dumps({"version": 99}), json.dumps([1])):
        with open(root.path(TRAFFIC_RULES_STATE), "w") as handle:
            handle.write(text)
        rules, recorder = daemon(root)
        rules.run(XapiCache(), Idl(switch()))
        assert recorder.bundles == [] and traffic_store.load(root) is None
