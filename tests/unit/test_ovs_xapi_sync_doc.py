"""docs/ovs-xapi-sync.md says where the daemon's code is: every path it names exists."""

import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "ovs-xapi-sync.md")
TOP = ("libexec/", "xsovs_common/", "xsovs_dev/", "packaging/", "tests/", "bench/")


def test_every_path_it_names_exists():
    with open(DOC) as handle:
        text = handle.read()
    named = [p for p in re.findall(r"`([^`\s]+)`", text) if p.startswith(TOP)]
    assert "libexec/ovs-xapi-sync" in named and "xsovs_common/sync/daemon.py" in named
    missing = [p for p in named if not os.path.exists(os.path.join(REPO, p))]
    assert missing == []
