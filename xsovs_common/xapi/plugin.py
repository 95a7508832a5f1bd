"""The XAPI host-plugin protocol, for ``xapi.d/plugins`` executables.

XAPI runs a plugin with one argument, an XML-RPC ``methodCall`` whose method
is the function and whose params are ``(session_ref, args)``; the plugin
prints one ``methodResponse`` and nothing else.  On a host the ``XenAPIPlugin``
module does this and is used; elsewhere (tests, the simulator) this module's
own equivalent answers the same way.

Plugin functions here take ``(session_ref, args)`` and return a string, or
raise :class:`~xsovs_common.errors.Error`, which becomes
``Failure [code, params...]``.  Any other exception becomes
``XENAPI_PLUGIN_FAILURE [fn, class, message]``, and a function the plugin
does not have ``UNKNOWN_XENAPI_PLUGIN_FUNCTION [fn, the functions it has]``.
Every failure is logged too, because XAPI only logs what a plugin answers.

Whatever bytes XAPI handed over, the answer is XML that XAPI can parse:
every string in it is made safe (:func:`~xsovs_common.errors.safe_text`:
control characters escaped, invalid Unicode replaced; an answer's own line
breaks and tabs kept), and stdout gets ASCII, any other character as an XML
character reference, so no locale can fail the write (dom0's Python 3.6 may
run with an ASCII one).

Arguments, one rule for every function (:func:`takes`): a function names the
keys it takes; any other key, or a value that is not a string, fails with
``INVALID_VALUE [args, key, reason]`` before anything is read or changed.
No arguments at all are always accepted: XAPI calls ``update`` with none.
"""

import contextlib
import io
import sys
import xmlrpc.client

from ..errors import Error, InvalidValue, safe_text
from ..log import log

# The plugin's file name on a host (the RPM links openvswitch-config-update to it).
PLUGIN_NAME = "openvswitch-cfg-update"


def safe_value(value):
    """A success value made safe, its line breaks and tabs kept (``status`` is JSON)."""
    return safe_text(value, keep="\n\t")


def success_message(value):
    return xmlrpc.client.dumps(({"Status": "Success", "Value": safe_value(value)},), "", True)


def failure_message(description):
    return xmlrpc.client.dumps(
        ({"Status": "Failure", "ErrorDescription": [safe_text(d) for d in description]},),
        "", True)


def encode_answer(text):
    """The bytes of an answer on stdout: ASCII, other characters as XML character references."""
    return text.encode("ascii", "xmlcharrefreplace")


@contextlib.contextmanager
def _answer_stdout():
    """``sys.stdout`` writing :func:`encode_answer`'s bytes, for a dispatcher that prints."""
    sys.stdout.flush()
    saved = sys.stdout
    sys.stdout = io.TextIOWrapper(saved.buffer, encoding="ascii", errors="xmlcharrefreplace",
                                  newline="\n")
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout.detach()      # the buffer stays the process's own stdout
        sys.stdout = saved


def takes(keys, function):
    """``function`` accepting only the argument ``keys`` (the module's one rule)."""
    keys = tuple(sorted(keys))

    def checked(session_ref, args):
        check_args(args, keys)
        return function(session_ref, args)
    checked.__doc__ = function.__doc__
    checked.arguments = keys
    return checked


def check_args(args, keys):
    """Refuse ``args`` unless it maps some of ``keys`` to strings."""
    if not isinstance(args, dict):
        raise InvalidValue("the arguments are not a map of strings",
                           params=["args", type(args).__name__])
    for key in sorted(args, key=str):
        if key not in keys:
            raise InvalidValue("unknown argument %s (takes %s)"
                               % (key, ", ".join(keys) if keys else "no arguments"),
                               params=["args", key])
        if not isinstance(args[key], str):
            raise InvalidValue("argument %s is not a string" % key, params=["args", key])


class PluginFailure(Exception):
    """Raised with an ErrorDescription to answer as a failure."""

    def __init__(self, description):
        Exception.__init__(self, " ".join(description))
        self.description = list(description)


def _call(fn_name, function, session_ref, args):
    """Run ``function``; stdout is the protocol's, so stray prints go to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        try:
            return function(session_ref, args)
        except Error as exc:
            log.error("%s failed: %s", fn_name, exc.message)
            raise PluginFailure(exc.error_description())
        except Exception as exc:
            log.exception("%s failed unexpectedly", fn_name)
            raise PluginFailure(["XENAPI_PLUGIN_FAILURE", fn_name, exc.__class__.__name__,
                                 safe_text(exc)])


def unknown_function(functions, fn_name):
    """The ErrorDescription for a call of a function the plugin does not have."""
    log.error("unknown plugin function %s", fn_name)
    return ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", fn_name,
            "the functions are: " + ", ".join(sorted(functions))]


def respond(functions, argv):
    """The methodResponse text for one invocation (``argv`` without argv[0])."""
    if len(argv) != 1:
        return failure_message(["XENAPI_PLUGIN_FAILURE", "", "UsageError",
                                "expected one XML-RPC methodCall argument"])
    try:
        params, fn_name = xmlrpc.client.loads(argv[0])
        session_ref, args = params[0], params[1]
    except Exception as exc:
        return failure_message(["XENAPI_PLUGIN_FAILURE", "", exc.__class__.__name__,
                                safe_text(exc)])
    if fn_name not in functions:
        return failure_message(unknown_function(functions, fn_name))
    try:
        return success_message(_call(fn_name, functions[fn_name], session_ref, args))
    except PluginFailure as exc:
        return failure_message(exc.description)


def _called_function(argv):
    """The function an invocation names, or None when it is not a methodCall."""
    try:
        return xmlrpc.client.loads(argv[0])[1] if len(argv) == 1 else None
    except Exception:
        return None


def _host_dispatch(module, functions, argv):
    """Dispatch through the host's ``XenAPIPlugin``, adapting our functions.

    An unknown function is answered here: ``XenAPIPlugin`` would name only
    the function asked for, not those that exist.
    """
    fn_name = _called_function(argv)
    if fn_name is not None and fn_name not in functions:
        _write(failure_message(unknown_function(functions, fn_name)))
        return
    def adapt(fn_name, function):
        def wrapped(session, args):
            try:
                return safe_value(_call(fn_name, function, session._session, args))
            except PluginFailure as exc:
                description = [safe_text(d) for d in exc.description]
                raise module.Failure(description[0], description[1:])
        return wrapped
    with _answer_stdout():
        module.dispatch({name: adapt(name, fn) for name, fn in functions.items()})


def _write(answer):
    sys.stdout.flush()
    sys.stdout.buffer.write(encode_answer(answer + "\n"))
    sys.stdout.buffer.flush()


def dispatch(functions, argv=None):
    """The whole of a plugin's main: answer the invocation on stdout."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        import XenAPIPlugin
    except ImportError:
        XenAPIPlugin = None
    if XenAPIPlugin is not None and hasattr(XenAPIPlugin, "dispatch"):
        _host_dispatch(XenAPIPlugin, functions, argv)
        return
    _write(respond(functions, argv))
