"""The one error hierarchy every module raises.

Each error carries a XAPI-style code and parameters, so the plugin can answer
``{'Status': 'Failure', 'ErrorDescription': [code] + params + [message]}`` and
a CLI can print ``message`` and exit 1, without either knowing where it came
from.  The human-readable reason (``message``) is always the description's
last element, as XAPI's own errors end with their details: whoever called the
plugin sees why it failed, not only the host's log.
"""


class Error(Exception):
    """A failure worth reporting to the caller as it is."""

    code = "XSOVS_FAILURE"

    def __init__(self, message, params=None, code=None):
        Exception.__init__(self, message)
        self.message = message
        if code is not None:
            self.code = code
        self.params = [str(p) for p in (params if params is not None else [message])]

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
