"""Run every ``bench/bench_*.py`` (or those named on the command line).

Each module has ``main()`` that prints its figures; speed is judged here,
never in the test suite.
"""

import importlib
import os
import pkgutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(names):
    modules = sorted(m.name for m in pkgutil.iter_modules([HERE]) if m.name.startswith("bench_"))
    if names:
        modules = [m for m in modules if any(n in m for n in names)]
    for name in modules:
        print("== %s" % name, flush=True)
        importlib.import_module("bench." + name).main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
