"""What every executable does around its real work.

Common options (``--root-prefix``, ``--no-syslog``), logging set-up, the
checked number types every numeric option uses, and the exit status
convention: 0 success, 1 failure (message on stderr and in the log), 2 usage
error -- any bad command-line value, never a traceback.
"""

import argparse
import math
import sys
import textwrap

from . import log as logmod
from . import paths
from .errors import Error, UsageError
from .log import log
from .paths import Root

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

# The environment a program's start reads (paths.Root.from_environment), for --help.
ENVIRONMENT = (
    (paths.ENV_ROOT, "the host's root directory, as --root-prefix (default /)"),
    (paths.ENV_XAPI_URL, "the XAPI to use: http://HOST:PORT/ or a unix socket path "
                         "(default: this host's, %s)" % paths.XAPI_SOCKET),
    (paths.ENV_DATAPATH_TYPE, "the datapath: system (the kernel's, the default) or "
                              "netdev (userspace)"),
)


def environment_help(*names):
    """The ``environment:`` paragraph of a program's --help, naming ``names``."""
    lines = ["environment:"]
    for name, text in ENVIRONMENT:
        if name in names:
            wrapped = textwrap.wrap(text, 56)
            lines.append("  %-20s %s" % (name, wrapped[0]))
            lines += [" " * 23 + more for more in wrapped[1:]]
    return "\n".join(lines) + "\n"


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, with the common options.

    ``environment``: the variables the program reads, listed after the options.
    """

    def __init__(self, *args, **kwargs):
        environment = kwargs.pop("environment", ())
        if environment:
            kwargs.setdefault("epilog", environment_help(*environment))
            kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        argparse.ArgumentParser.__init__(self, *args, **kwargs)
        self.add_argument("--root-prefix", metavar="DIR", default=None,
                          help="resolve every file and program under DIR "
                               "(default: $XSOVS_ROOT or /)")
        self.add_argument("--no-syslog", action="store_true",
                          help="log to stderr instead of syslog")

    def error(self, message):
        raise UsageError("%s: %s" % (self.prog, message))


def number(minimum, maximum, integer=False):
    """An argparse ``type``: a finite number from ``minimum`` to ``maximum``.

    Every numeric option is one of these, so ``-1``, ``0``, ``nan`` or
    ``inf`` are usage errors (exit status 2) with a message, not a traceback
    or a busy loop later on.
    """
    kind = "a whole number" if integer else "a number"

    def convert(text):
        try:
            value = int(text) if integer else float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError("%r is not %s" % (text, kind))
        if not math.isfinite(value) or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError("%r is not %s from %s to %s"
                                             % (text, kind, minimum, maximum))
        return value
    convert.__name__ = "integer" if integer else "number"
    return convert


# Bounds of durations on command lines.  An hour is longer than any wait worth
# making at boot or for one XAPI call; below a second a timeout only fails.
MAX_SECONDS = 3600.0
MIN_TIMEOUT = 1.0


def seconds_option(parser, flag, low, high, default, what):
    """A duration option in seconds, from ``low`` (> 0) to ``high``: its range and
    default are in its help."""
    parser.add_argument(flag, type=number(low, high), default=default, metavar="SECONDS",
                        help="%s, %g-%g (default %%(default)s)" % (what, low, high))


def run(program, main, argv=None):
    """Call ``main(argv)`` and turn its outcome into an exit status.

    ``main`` sets up logging itself through :func:`setup` once it has parsed
    its options; errors before that still reach stderr.
    """
    argv = sys.argv[1:] if argv is None else argv
    try:
        status = main(argv)
        return EXIT_OK if status is None else status
    except UsageError as exc:
        sys.stderr.write("%s\n" % exc.message)
        return EXIT_USAGE
    except Error as exc:
        log.error("%s", exc.message)
        if not logmod.to_stderr():
            sys.stderr.write("%s: %s\n" % (program, exc.message))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % program)
        return EXIT_FAILURE


def setup(program, options):
    """Logging, and the root (prefix and host settings) from parsed common options
    and the environment: the one place an executable reads its environment."""
    logmod.setup(program, use_syslog=False if options.no_syslog else None)
    return Root.from_environment(options.root_prefix)
