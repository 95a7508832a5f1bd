"""The one exception the simulator raises for an XAPI failure.

Its args are XAPI's ErrorDescription (code first, then string params), so the
server can answer {'Status': 'Failure', 'ErrorDescription': [...]} verbatim.
"""


class XapiError(Exception):
    """An XAPI failure: XapiError(CODE, param, ...)."""

    def __init__(self, code, *params):
        super().__init__(code, *params)
        self.description = [str(code)] + [str(p) for p in params]

    @property
    def code(self):
        return self.description[0]
