"""The one error hierarchy every module raises.

Each error carries a XAPI-style code and parameters, so the plugin can answer
``{'Status': 'Failure', 'ErrorDescription': [code] + params}`` and a CLI can
print ``message`` and exit 1, without either knowing where it came from.
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
        """The ErrorDescription list of a XAPI failure."""
        return [self.code] + self.params


class UsageError(Error):
    """The caller's command line is wrong (exit status 2)."""

    code = "USAGE"


class InvalidValue(Error):
    """A value from XAPI, the cache or a command line failed validation."""

    code = "INVALID_VALUE"


class ConfigError(Error):
    """A host configuration file is missing or malformed."""

    code = "XSOVS_CONFIG_ERROR"
