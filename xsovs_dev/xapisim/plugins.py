"""Running a host plugin the way XAPI's host.call_plugin does.

XAPI execs /etc/xapi.d/plugins/<name> with one argument, an XML-RPC
methodCall (method = fn, params = (session_ref, args)), and parses stdout as
a methodResponse holding {'Status': 'Success', 'Value': str} or
{'Status': 'Failure', 'ErrorDescription': [...]}. A Failure is passed to the
caller as is; anything else that goes wrong becomes
XENAPI_PLUGIN_FAILURE [reason, stdout, stderr] with XAPI's reason strings.
"""

import os
import signal
import subprocess
import xmlrpc.client
from collections import namedtuple
from xml.parsers.expat import ExpatError

from .errors import XapiError

STDERR_TAIL = 4000

# One finished plugin run. outcome is XAPI's answer as a dict:
# {'Status': 'Success', 'Value': v} or {'Status': 'Failure', 'ErrorDescription': [...]}.
PluginCall = namedtuple("PluginCall",
                        "host_uuid plugin fn args outcome stderr stdout started finished")


def most_at_once(calls):
    """The largest number of ``calls`` that were running at the same moment."""
    events = sorted([(c.started, 1) for c in calls] + [(c.finished, -1) for c in calls])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def find_plugin(dirs, name):
    """The path of plugin `name` in the first dir listing it, else None.

    Like XAPI, match the name against the directory listing, so a name with
    '/' or '..' can never reach outside the plugin directories.
    """
    for d in dirs:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        if name in names:
            return os.path.join(d, name)
    return None


def _text(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def parse_output(out, err):
    """Turn a plugin's stdout into its value, or raise the failure it reports."""
    stdout, stderr = _text(out), _text(err)[-STDERR_TAIL:]
    try:
        params, _ = xmlrpc.client.loads(out)
    except xmlrpc.client.Fault as fault:
        raise XapiError(
            "XENAPI_PLUGIN_FAILURE", "fault", str(fault.faultCode), fault.faultString
        ) from None
    except (ExpatError, ValueError, TypeError, IndexError) as exc:
        raise XapiError(
            "XENAPI_PLUGIN_FAILURE", "failed to parse plugin output", stdout, str(exc) or stderr
        ) from None
    result = params[0] if len(params) == 1 else None
    if isinstance(result, dict) and result.get("Status") == "Success":
        if isinstance(result.get("Value"), str):
            return result["Value"]
    elif isinstance(result, dict) and result.get("Status") == "Failure":
        desc = result.get("ErrorDescription")
        if isinstance(desc, list) and desc and all(isinstance(d, str) for d in desc):
            raise XapiError(*desc)
    raise XapiError("XENAPI_PLUGIN_FAILURE", "unexpected XMLRPC result", stdout, stderr)


def run(python, path, session_ref, fn, args, env, timeout, procs):
    """Exec one plugin run; returns (value, stdout, stderr) or raises XapiError.

    The XapiError carries .stdout/.stderr too, for the caller's records.
    procs is a set the running Popen is kept in, so the server can kill it.
    """
    doc = xmlrpc.client.dumps((session_ref, args), fn)
    try:
        proc = subprocess.Popen(
            [python, path, doc],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise XapiError("XENAPI_PLUGIN_FAILURE", "exec failed", "", str(exc)) from None
    procs.add(proc)
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
            reason = None
        except subprocess.TimeoutExpired:
            kill(proc)
            out, err = proc.communicate()
            reason = "timeout"
    finally:
        procs.discard(proc)
    try:
        if reason is None and proc.returncode < 0:
            reason = "signal: %s" % signal.Signals(-proc.returncode).name
        elif reason is None and proc.returncode > 0:
            reason = "non-zero exit"
        if reason:
            raise XapiError("XENAPI_PLUGIN_FAILURE", reason, _text(out), _text(err)[-STDERR_TAIL:])
        return parse_output(out, err), _text(out), _text(err)
    except XapiError as exc:
        exc.stdout, exc.stderr = _text(out), _text(err)
        raise


def kill(proc):
    """Kill a plugin and everything it started (it leads its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
