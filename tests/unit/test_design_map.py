"""docs/design.md is the map: every module of xsovs_common is on it."""

import os
import pkgutil

import xsovs_common

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESIGN = os.path.join(REPO, "docs/design.md")


def test_every_module_is_on_the_map():
    with open(DESIGN) as handle:
        text = handle.read()
    found = list(pkgutil.walk_packages(xsovs_common.__path__, "xsovs_common."))
    assert found
    # A sub-package is named whole (`xsovs_common.net`), a module by its own name.
    names = ["`%s`" % (m.name if m.ispkg else m.name.rsplit(".", 1)[-1]) for m in found]
    missing = sorted(name for name in names if name not in text)
    assert missing == [], "modules missing from the Layout section of docs/design.md"
