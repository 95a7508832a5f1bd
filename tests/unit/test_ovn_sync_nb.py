"""ovn_sync.nb: the NB schema a server has, checked against what the sync writes."""

import copy
import json

from tests.support.ovn_sync import ALLOW_ICMP, DENY_SSH, RULES
from tests.support.ovn_sync_model import pool, records
from xsovs_common.ovn_sync import nb
from xsovs_common.ovn_sync.wanted import wanted

ACTIONS_21_06 = ["allow", "allow-related", "allow-stateless", "drop", "reject"]


def server_schema(version="5.32.0", actions=ACTIONS_21_06, drop_column=None):
    """A server's NB schema: the carried one, with its version and ACL action enum."""
    schema = copy.deepcopy(nb.SCHEMA)
    schema["version"] = version
    action = schema["tables"]["ACL"]["columns"]["action"]
    action["type"] = {"key": {"type": "string", "enum": ["set", list(actions)]}}
    if drop_column:
        table, column = drop_column
        del schema["tables"][table]["columns"][column]
    return json.dumps(schema)


def test_a_schema_with_allow_stateless_is_fit():
    assert nb.schema_problem(server_schema()) is None
    assert nb.schema_problem(server_schema("7.0.0", ACTIONS_21_06 + ["pass"])) is None


def test_older_schemas_are_refused_with_the_version_to_upgrade_to():
    older = [a for a in ACTIONS_21_06 if a != "allow-stateless"]
    reason = nb.schema_problem(server_schema("5.31.0", older))
    assert "NB schema 5.31.0" in reason and "no ACL action allow-stateless" in reason
    assert "upgrade the OVN central (its NB database and ovn-northd) to 21.06 or later" in reason
    reason = nb.schema_problem(server_schema(drop_column=("Logical_Switch_Port",
                                                          "port_security")))
    assert "Logical_Switch_Port port_security" in reason
    assert "cannot be read" in nb.schema_problem("{not json")
    assert "cannot be read" in nb.schema_problem("[]")


def test_the_actions_checked_are_those_the_acls_use():
    b = pool()
    b.vif("vm1", "xenbr9", other_config={RULES: json.dumps([DENY_SSH, ALLOW_ICMP])})
    want = wanted(records(b.build()))
    assert {acl.action for acl in want.acls} == set(nb.ACL_ACTIONS)
