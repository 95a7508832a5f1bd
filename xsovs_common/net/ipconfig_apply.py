"""Running an :class:`~xsovs_common.net.ipconfig.IpPlan`: files, then steps.

The plan's files are swapped in together, then its steps run in order
(the step kinds are listed in :mod:`ipconfig`); on any failure the previous
files come back.
"""

import os

from ..system import dhclient, files, iproute, process
from ..errors import Error
from ..log import log


def apply(root, plan):
    """Put the plan's files in place together, then run its steps in order.

    On any failure the previous files come back and the error is raised.
    Steps of a ``down`` plan on a device that no longer exists are skipped.
    """
    fileset = files.FileSet()
    for host_path, text in plan.files:
        fileset.stage(root.path(host_path), text)
    fileset.commit()
    try:
        for step in plan.steps:
            _run(root, plan, step)
    except BaseException:
        fileset.rollback()
        raise


def _run(root, plan, step):
    try:
        _STEPS[step[0]](root, *step[1:])
    except Error as exc:
        if _best_effort(step):
            log.warning("%s: %s", plan.ip_device, exc.message)
            return
        if plan.action == "down" and len(step) > 1 and not iproute.link_exists(root, step[1]):
            log.info("%s is gone: skipping %s", step[1], step[0])
            return
        raise


def _best_effort(step):
    """True for steps whose failure is only logged."""
    if step[0] == "ipv6-sysctl":
        # Turning router advertisements off on a host without IPv6 has nothing to do.
        return not any(value for _, value in step[2])
    return step[0] in ("route-add-dynamic", "update-issue")


def _dhclient_start(root, device, version):
    if version == 6 and not iproute.wait_ipv6_link_local(root, device):
        log.warning("%s: link-local IPv6 address still tentative; starting dhclient -6",
                    device)
    dhclient.start(root, device, version)


def _update_issue(root):
    program = root.program("update-issue")
    if os.path.exists(program):
        process.run([program], timeout=30)


_STEPS = {
    "dhclient-stop": dhclient.stop,
    "dhclient-start": _dhclient_start,
    "ipv6-sysctl": iproute.set_ipv6_conf,
    "link-mtu": iproute.set_mtu,
    "link-up": iproute.link_up,
    "link-down": iproute.link_down,
    "addr-flush": iproute.addr_flush,
    "addr-add": iproute.addr_add,
    "route-add": iproute.route_add,
    "route-add-dynamic": iproute.route_add,
    "update-issue": _update_issue,
}
