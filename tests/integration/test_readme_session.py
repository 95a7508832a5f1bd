"""README.md's play session, run as written, prints what the README shows.

The runner and what may vary are tools/readme_session.py's.  When a program's
output changes on purpose, ``.venv/bin/python tools/readme_session.py --update``
writes the new output into README.md (then review ``git diff README.md``).
"""

import os
import shutil

from tools import readme_session
from xsovs_dev import ovs, pki
from xsovs_dev.skips import need

REFRESH = ".venv/bin/python tools/readme_session.py --update"


def test_the_play_session_prints_what_the_readme_shows():
    need(ovs.available() or pki.unavailable_reason())
    need(None if shutil.which("make") and os.path.exists(
        os.path.join(readme_session.REPO, ".venv", "bin", "python"))
        else "make and .venv are needed (run make setup)")
    with open(readme_session.README) as handle:
        steps = readme_session.session(handle.read().split("\n"))
    commands = [step.command for step in steps]
    assert commands[0] == 'eval "$(make -s play-up)"'
    assert 'eval "$(make -s play-down)"' in commands
    outputs = readme_session.run(commands)
    diff = readme_session.differences(steps, outputs)
    assert not diff, ("README.md's play session differs from what the programs print now:\n%s\n"
                      "If the programs changed on purpose: %s, then review git diff README.md"
                      % (diff, REFRESH))
