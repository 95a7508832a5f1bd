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


def bundle(root, bridge, lines, timeout=TIMEOUT):
    """Apply ``lines`` (``add ...`` / ``delete ...`` flow specs) atomically."""
    process.run([root.program("ovs-ofctl"), "--bundle", "add-flows", _target(root, bridge), "-"],
                input="".join(line + "\n" for line in lines), timeout=timeout)


def dump_flows(root, bridge, match=None, names=False):
    """The bridge's flows as ovs-ofctl prints them (without statistics; ports by
    name with ``names``)."""
    argv = [root.program("ovs-ofctl"), "--no-stats"] + (["--names"] if names else []) \
        + ["dump-flows", _target(root, bridge)]
    if match:
        argv.append(match)
    output = process.run(argv, timeout=TIMEOUT).stdout
    return [line.strip() for line in output.splitlines() if line.strip()
            and not line.startswith(("NXST_FLOW", "OFPST_FLOW"))]
