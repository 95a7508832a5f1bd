"""ovs-ofctl: the OpenFlow side of a bridge (flows only).

The bridge is named by its management socket under the OVS run directory,
so the root prefix and ``OVS_RUNDIR`` apply as they do for OVSDB.  Flows
travel on stdin, one per line, never as arguments; a ``--bundle`` makes a
batch of deletions and additions one atomic change on the switch.

A bundle needs OpenFlow 1.4, and ovs-ofctl speaks only OpenFlow 1.0 unless
told otherwise; a bridge's ``protocols`` may allow neither (Xen
Orchestra's OpenFlow channel limits a bridge to 1.1).  :func:`flow_mods`
and ``dump_flows(..., any_version=True)`` speak a version the bridge allows.
"""

import os

from .. import validate
from ..system import process

TIMEOUT = 10
# Every OpenFlow version a bridge may be limited to: ovs-ofctl takes the highest in common.
VERSIONS = "OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,OpenFlow14,OpenFlow15"


def _target(root, bridge):
    return "unix:" + os.path.join(root.ovs_rundir(), validate.interface_name(bridge) + ".mgmt")


def bundle(root, bridge, lines, timeout=TIMEOUT):
    """Apply ``lines`` (``add ...`` / ``delete ...`` flow specs) atomically."""
    process.run([root.program("ovs-ofctl"), "--bundle", "add-flows", _target(root, bridge), "-"],
                input="".join(line + "\n" for line in lines), timeout=timeout)


def flow_mods(root, bridge, lines, timeout=TIMEOUT):
    """Apply ``lines`` (``add ...`` / ``delete_strict ...``) one after the other, in
    whichever OpenFlow version the bridge speaks: not atomic, for a bridge whose
    versions have no bundles."""
    process.run([root.program("ovs-ofctl"), "-O", VERSIONS, "add-flows", _target(root, bridge),
                 "-"], input="".join(line + "\n" for line in lines), timeout=timeout)


def dump_flows(root, bridge, match=None, names=False, any_version=False):
    """The bridge's flows as ovs-ofctl prints them (without statistics; ports by
    name with ``names``).

    ``any_version``: in OpenFlow 1.0 where the bridge speaks it (flows read as
    they are written), else in the version it speaks, where ``strip_vlan``
    reads ``pop_vlan``, ``mod_vlan_vid`` a ``push_vlan`` and a set, and flows
    may show ``reset_counts``.
    """
    argv = [root.program("ovs-ofctl"), "--no-stats"] + (["--names"] if names else []) \
        + ["dump-flows", _target(root, bridge)] + ([match] if match else [])
    try:
        output = process.run(argv, timeout=TIMEOUT).stdout
    except process.CommandError:
        if not any_version:
            raise
        output = process.run(argv[:1] + ["-O", VERSIONS] + argv[1:], timeout=TIMEOUT).stdout
    return [line.strip() for line in output.splitlines() if line.strip()
            and not line.startswith(("NXST_FLOW", "OFPST_FLOW"))]
