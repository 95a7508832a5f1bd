"""Logging set-up shared by every executable.

On a host the log goes to syslog under the program's name, where XAPI's own
logs are read; plugin output that XAPI only logs must be visible there too.
``--no-syslog`` or ``XSOVS_LOG=stderr`` sends it to stderr instead (tests,
interactive use).  Stdout is never used: the plugin protocol owns it.
"""

import logging
import logging.handlers
import os
import sys

SYSLOG_SOCKET = "/dev/log"

log = logging.getLogger("xsovs")
log.addHandler(logging.NullHandler())   # silent until an executable calls setup()
log.propagate = False


def setup(program, use_syslog=None, level=logging.INFO):
    """Send the ``xsovs`` logger to syslog (ident ``program``) or stderr."""
    if use_syslog is None:
        use_syslog = os.environ.get("XSOVS_LOG", "syslog") != "stderr"
    if os.environ.get("XSOVS_DEBUG"):
        level = logging.DEBUG
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    handler = None
    if use_syslog and os.path.exists(SYSLOG_SOCKET):
        try:
            handler = logging.handlers.SysLogHandler(
                address=SYSLOG_SOCKET, facility=logging.handlers.SysLogHandler.LOG_DAEMON)
            handler.ident = "%s[%d]: " % (program, os.getpid())
            handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        except OSError:
            handler = None
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(program + ": %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    return log


def to_stderr():
    """True when the log already goes to stderr (so a CLI need not repeat it)."""
    return any(type(h) is logging.StreamHandler for h in log.handlers)
