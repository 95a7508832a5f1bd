"""One rule for the plugin's arguments, applied to every function of the plugin."""

import pytest

from xsovs_common.actions import cfg_update
from xsovs_common.xapi import controller
from xsovs_common.errors import InvalidValue
from xsovs_common.paths import Root


def test_every_function_names_the_arguments_it_takes():
    taken = {name: fn.arguments for name, fn in cfg_update.PLUGIN_FUNCTIONS.items()}
    assert taken == {"update": (), "rewrite": (), "status": (), "emergency_reset": (),
                     "set-manager": ("controller", "port", "protocol")}


@pytest.mark.parametrize("fn", sorted(cfg_update.PLUGIN_FUNCTIONS))
def test_unknown_keys_are_refused_before_anything_runs(fn):
    """Refused before XAPI or OVSDB is touched: the session ref is never used."""
    with pytest.raises(InvalidValue) as info:
        cfg_update.PLUGIN_FUNCTIONS[fn]("OpaqueRef:unused", {"foo": "bar"})
    assert info.value.error_description()[:3] == ["INVALID_VALUE", "args", "foo"]


def test_pssl_listens_on_6640_unless_port_says_otherwise(tmp_path):
    root = Root(str(tmp_path))
    assert str(controller.from_args(root, {"protocol": "pssl"}).target) == "pssl:6640"
    assert str(controller.from_args(root, {"protocol": "pssl", "port": "6632"}).target) \
        == "pssl:6632"
    assert str(controller.from_args(root, {"protocol": "pssl", "controller": "192.0.2.10"})
               .target) == "pssl:6640:192.0.2.10"
    assert str(controller.from_args(root, {"controller": "192.0.2.5"}).target) \
        == "ssl:192.0.2.5:6632"
