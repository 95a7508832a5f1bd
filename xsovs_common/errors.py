"""The one error hierarchy every module raises.

Each error carries a XAPI-style code and parameters, so the plugin can answer
``{'Status': 'Failure', 'ErrorDescription': [code] + params + [message]}`` and
a CLI can print ``message`` and exit 1, without either knowing where it came
from.  The human-readable reason (``message``) is always the description's
last element, as XAPI's own errors end with their details: whoever called the
plugin sees why it failed, not only the host's log.

Every parameter and message is made safe to echo (:func:`safe_text`): values
come from XAPI, where any pool administrator can write any code point, and an
error must reach XAPI as XML it can parse, and a log as one line.
"""

import re

# Control characters (C0, DEL, C1), lone surrogates, and the two code points
# XML 1.0 cannot carry.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
REPLACEMENT = "\ufffd"


def _escape(match):
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    if "\ud800" <= char <= "\udfff" or char in "\ufffe\uffff":
        return REPLACEMENT
    return "\\x%02x" % ord(char)


def safe_text(value, keep=""):
    """``value`` as text safe to echo anywhere: control characters escaped as
    Python writes them (``\\x00``, ``\\n``), invalid Unicode (lone surrogates,
    U+FFFE, U+FFFF) replaced by U+FFFD; characters in ``keep`` (say ``"\\n"``
    for a multi-line answer) are left as they are."""
    text = value if isinstance(value, str) else str(value)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


class Error(Exception):
    """A failure worth reporting to the caller as it is."""

    code = "XSOVS_FAILURE"

    def __init__(self, message, params=None, code=None):
        message = safe_text(message)
        Exception.__init__(self, message)
        self.message = message
        if code is not None:
            self.code = safe_text(code)
        self.params = [safe_text(p) for p in (params if params is not None else [message])]

    def error_description(self):
        """The ErrorDescription list of a XAPI failure: code, params, the reason last."""
        description = [self.code] + self.params
        if self.message and description[-1] != self.message:
            description.append(self.message)
        return description


class UsageError(Error):
    """The caller's command line is wrong (exit status 2)."""

    code = "USAGE"


class InvalidValue(Error):
    """A value from XAPI, the cache or a command line failed validation."""

    code = "INVALID_VALUE"


class ConfigError(Error):
    """A host configuration file is missing or malformed."""

    code = "XSOVS_CONFIG_ERROR"
