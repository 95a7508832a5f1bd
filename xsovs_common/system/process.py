"""Running external programs: argv lists only, always with a timeout.

Every value that reaches a command line came from XAPI or a file an
administrator can write, so nothing here goes through a shell.  Output is
decoded to ``str`` (the historical scripts compared bytes with str and never
matched).  Failures raise :class:`CommandError` carrying the command and
its exit status.
"""

import os
import subprocess

from ..errors import Error
from ..log import log

DEFAULT_TIMEOUT = 30


class CommandError(Error):
    """A program failed, timed out or could not be started."""

    code = "COMMAND_FAILED"

    def __init__(self, argv, returncode, stdout="", stderr="", reason=None):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        if reason is None:
            reason = "exit status %s" % returncode
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        message = "%s: %s%s" % (" ".join(self.argv), reason, (": " + detail) if detail else "")
        Error.__init__(self, message, params=[self.argv[0], str(returncode), detail])


class CommandTimeout(CommandError):
    code = "COMMAND_TIMEOUT"


class Result:
    __slots__ = ("argv", "returncode", "stdout", "stderr")

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run(argv, timeout=DEFAULT_TIMEOUT, check=True, input=None, env=None):  # noqa: A002
    """Run ``argv`` and return a :class:`Result`; raise on failure if ``check``."""
    argv = [str(a) for a in argv]
    log.info("running %s", " ".join(argv))
    # Python 3.6 refuses a stdin argument next to input, even stdin=None.
    feed = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    try:
        proc = subprocess.run(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env,
            universal_newlines=True, close_fds=True, check=False, **feed)
    except subprocess.TimeoutExpired as exc:
        raise CommandTimeout(argv, -1, _text(exc.stdout), _text(exc.stderr),
                             reason="timed out after %ss" % timeout)
    except OSError as exc:
        raise CommandError(argv, -1, reason="cannot run: %s" % exc.strerror)
    result = Result(argv, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stdout, proc.stderr)
    return result


def _text(data):
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


def run_script(program, command, options=(), error=CommandError, timeout=DEFAULT_TIMEOUT,
               env=None):
    """``PROGRAM OPTIONS COMMAND`` for a package's control script (``ovs-ctl``,
    ``ovn-ctl``): every line of its output logged, a non-zero exit raised as
    ``error`` (an :class:`~xsovs_common.errors.Error` class) naming the command,
    the exit status and the script's last line."""
    name = os.path.basename(program)
    result = run([program] + list(options) + [command], timeout=timeout, check=False, env=env)
    output = (result.stdout + result.stderr).strip().splitlines()
    for line in output:
        log.info("%s %s: %s", name, command, line)
    if result.returncode != 0:
        last = output[-1] if output else "no output"
        raise error("%s %s failed (exit status %d): %s" % (name, command, result.returncode, last),
                    params=[command, str(result.returncode), last])
    return result
