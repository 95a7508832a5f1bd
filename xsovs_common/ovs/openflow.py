"""ovs-ofctl: the OpenFlow side of a bridge (flows only).

The bridge is named by its management socket under the OVS run directory,
so the root prefix and ``OVS_RUNDIR`` apply as they do for OVSDB.  Flows
travel on stdin, one per line, never as arguments; a ``--bundle`` makes a
batch of deletions and additions one atomic change on the switch.
"""

import os

from .. import validate
from ..system import process

TIMEOUT = 10


def _target(root, bridge):
    return "unix:" + os.path.join(root.ovs_rundir(), validate.interface_name(bridge) + ".mgmt")


def bundle(root, bridge, lines):
    """Apply ``lines`` (``add ...`` / ``delete ...`` flow specs) atomically."""
    process.run([root.program("ovs-ofctl"), "--bundle", "add-flows", _target(root, bridge), "-"],
                input="".join(line + "\n" for line in lines), timeout=TIMEOUT)
