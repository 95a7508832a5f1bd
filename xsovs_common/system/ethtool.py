"""ethtool: link settings and offloads of a NIC.

A NIC (or driver) that does not support a setting is not an error worth
failing a bring-up for: the failure is logged and the other settings still
apply.  Offloads go in one call; when that fails they are retried one by one,
so that one unsupported feature (``ufo`` on recent kernels) does not keep the
others from changing.
"""

from . import process
from ..errors import Error
from ..log import log

TIMEOUT = 15


def _ethtool(root, args):
    return process.run([root.program("ethtool")] + list(args), timeout=TIMEOUT)


def set_link(root, device, settings):
    """``ethtool -s DEV speed N duplex D autoneg on|off``; False when refused."""
    try:
        _ethtool(root, ["-s", device] + list(settings))
    except Error as exc:
        log.warning("%s: cannot set %s: %s", device, " ".join(settings), exc.message)
        return False
    return True


def set_offloads(root, device, features):
    """``ethtool -K DEV feature on|off ...``; return the features refused."""
    words = [word for pair in features for word in pair]
    try:
        _ethtool(root, ["-K", device] + words)
        return []
    except Error:
        pass
    refused = []
    for name, value in features:
        try:
            _ethtool(root, ["-K", device, name, value])
        except Error as exc:
            log.warning("%s: cannot set offload %s %s: %s", device, name, value, exc.message)
            refused.append(name)
    return refused
