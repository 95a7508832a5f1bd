"""The interpreter a host's programs run under here: dom0's Python 3.6 where ``make setup``
made it (``.venv36``), else this one."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOM0_PYTHON = os.path.join(REPO, ".venv36", "bin", "python")


def host_python():
    """dom0's Python 3.6 when ``make setup`` made it, else this interpreter."""
    return DOM0_PYTHON if os.access(DOM0_PYTHON, os.X_OK) else sys.executable
