"""``python -m xsovs_dev.demo``: the command line (see the package docstring)."""

import argparse
import os
import shutil
import signal
import sys
import time

from xsovs_dev import netns, ovs

from . import host as simhost
from xsovs_dev.pythons import DOM0_PYTHON
from . import report, steps

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
BREAKABLE = ("cache",)


class Interrupted(BaseException):
    def __init__(self, signum):
        BaseException.__init__(self, signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum, frame):
    raise Interrupted(signum)


def cannot_run_reason():
    """Why this machine cannot run the demo, or None."""
    if os.geteuid() != 0:
        return ("the demo needs root: it creates network namespaces and runs Open vSwitch "
                "in them (run it as root: make demo)")
    for program in ("ip", "ping", "iptables"):
        if shutil.which(program) is None:
            return "%s is not installed (run make setup)" % program
    return ovs.available() or simhost.tmpdir_problem() or netns.unavailable_reason()


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m xsovs_dev.demo",
        description="Boot a simulated XenServer host with xsovs, step by step, then tear "
                    "it all down.",
        epilog="Needs root and network namespaces.  Exit status: 0 done, 1 a step failed, "
               "2 this machine cannot run it (or a usage error), 128+N interrupted by "
               "signal N.")
    parser.add_argument("--break", dest="breaks", action="append", default=[],
                        choices=BREAKABLE, metavar="WHAT",
                        help="make a step fail on purpose: 'cache' damages the network "
                             "cache, so the management interface cannot come up")
    return parser.parse_args(argv)


def main(argv=None, out=sys.stdout):
    options = parse(argv)
    reason = cannot_run_reason()
    if reason is not None:
        sys.stderr.write("make demo cannot run here: %s\n" % reason)
        return EXIT_CANNOT_RUN
    sim = simhost.SimulatedHost()
    progress = steps.Progress(out, steps.STEPS)
    status = EXIT_FAILED
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        python = ("dom0's Python 3.6 (.venv36)" if sim.python == DOM0_PYTHON
                  else "Python %d.%d" % sys.version_info[:2])
        out.write("Booting a simulated XenServer host with xsovs; its programs run on %s.\n"
                  % python)
        out.write(report.pool_description(sim) + "\n")
        outcome = steps.boot(sim, progress, break_cache="cache" in options.breaks)
        out.write("\n".join(report.summary(sim, outcome)) + "\n")
        status = EXIT_OK
    except steps.StepFailed as failure:
        out.write("\nFAILED at step %s: %s\n" % (failure.step, failure.message))
        tail = failure.stderr_tail()
        if tail:
            out.write("  %s (last %d lines):\n" % (failure.output_name, len(tail)))
            out.write("".join("    %s\n" % line for line in tail))
    except Interrupted as interrupt:
        status = 128 + interrupt.signum
        out.write("\nInterrupted by %s%s\n" % (
            interrupt, " during step " + progress.current if progress.current else ""))
    except Exception as exc:          # reading the summary: no traceback, still a teardown
        out.write("\nFAILED reading the host's state: %s: %s\n" % (type(exc).__name__, exc))
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)       # let the teardown finish
        out.write("Tearing down (daemons, XAPI simulator, namespaces, %s) ..."
                  % (sim.workdir or "temporary files"))
        out.flush()
        start = time.monotonic()
        problems = sim.teardown()
        out.write(" %s (%.1f s)\n" % ("; ".join(problems) or "done",
                                      time.monotonic() - start))
        out.flush()
    if problems and status == EXIT_OK:
        status = EXIT_FAILED
    return status


if __name__ == "__main__":
    sys.exit(main())
