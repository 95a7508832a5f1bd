"""Bringing one PIF up or down: plan everything, then apply it in order.

Whatever the source of the model (XAPI or the cache), an action is planned
in full first -- the datapath (:mod:`datapath`, against one read of the
switch), the IP configuration of the PIF's IP device and of the devices
whose bridges go (:mod:`ipconfig`), the NICs' ethtool settings
(:mod:`nicconfig`) -- and every value is validated while planning.  Bad
input therefore fails before anything changes: not OVSDB, not a file, not a
link.  Then, for ``up``:

1. the IP devices of PIFs whose bridges go are taken down (their dhclients
   stop while the device still exists);
2. the NICs come up with their ethtool settings -- before OVS takes them,
   because ovs-vswitchd enables a bond slave at once only if it has carrier
   when added (else after ``bond_updelay``, 31 s by default);
3. management flows, when the management bridge exists and is to be secure
   (so the host is never cut off);
4. OVSDB: every change in ONE transaction, waited for;
5. management flows, when that transaction created the bridge;
6. the IP configuration of a VLAN's parent whose bridge the transaction
   made (again), then of the PIF's IP device;
7. NICs that no bridge holds any more go down.

``down``: the PIF's IP device and the released ones go down, then the
OVSDB transaction, then the NICs no bridge holds.
"""

from ..net import datapath, ipconfig, ipconfig_apply, nicconfig
from ..ovs import mgmt_flows, transaction
from ..ovs.snapshot import Snapshot
from ..system import hostconfig, iproute
from ..log import log


class ActionPlan:
    """Everything one ``up`` or ``down`` will do; ``str()`` is the dry run."""

    def __init__(self, action, switch, ip, released, nic_steps, restored=()):
        self.action = action
        self.switch = switch          # datapath.SwitchPlan
        self.ip = ip                  # ipconfig.IpPlan of the PIF's IP device
        self.released = released      # [IpPlan] of devices whose bridges go
        self.nic_steps = nic_steps    # [(device, [ethtool steps])] of NICs coming up
        self.restored = list(restored)   # [IpPlan] of parents made again

    def __str__(self):
        parts = ["# %s %s" % (self.action, self.switch.pif_ref)]
        parts += [str(plan) for plan in self.released]
        if self.switch.changes:
            parts.append("# OVSDB, one transaction\n%s" % self.switch.changes)
        for device, steps in self.nic_steps:
            parts.append("# NIC %s up: %s" % (device, steps))
        parts += [str(plan) for plan in self.restored]
        parts.append(str(self.ip))
        parts += ["# NIC %s down" % device for device in self.switch.nics_down]
        return "\n".join(parts)


def _released(root, host_network, switch):
    return [ipconfig.plan_down(root, host_network, ref, device)
            for ref, device in switch.released]


def plan_up(root, host_network, pif_ref, snapshot):
    switch = datapath.plan_up(host_network, pif_ref, snapshot, hostconfig.datapath_type(root),
                              mtu=nicconfig.mtu)
    bridgeless = switch.ip_device != host_network.bridge(pif_ref)
    ip = ipconfig.plan_up(root, host_network, pif_ref, switch.ip_device, set_mtu=bridgeless)
    nic_steps = [(device, nicconfig.ethtool_plan(host_network, ref, device))
                 for ref, device in switch.nics_up]
    restored = [ipconfig.plan_up(root, host_network, ref, device)
                for ref, device in switch.restored]
    transaction.check(switch.changes, snapshot)
    return ActionPlan("up", switch, ip, _released(root, host_network, switch), nic_steps,
                      restored)


def plan_down(root, host_network, pif_ref, snapshot, attached):
    switch = datapath.plan_down(host_network, pif_ref, snapshot, attached)
    transaction.check(switch.changes, snapshot)
    ip = ipconfig.plan_down(root, host_network, pif_ref, switch.ip_device)
    return ActionPlan("down", switch, ip, _released(root, host_network, switch), [])


def _nics(root, devices, up, steps=None):
    for device in devices:
        if not iproute.link_exists(root, device):
            log.warning("NIC %s does not exist: not taking it %s", device,
                        "up (OVS adds it when it appears)" if up else "down")
            continue
        if up:
            iproute.link_up(root, device)
            nicconfig.apply_ethtool(root, steps.get(device, []))
        else:
            iproute.link_down(root, device)


def apply(root, connection, plan, snapshot):
    """Carry ``plan`` out (the order is in the module docstring), under the host lock
    the caller holds."""
    switch = plan.switch
    if plan.action == "down":
        ipconfig_apply.apply(root, plan.ip)
    for released in plan.released:
        ipconfig_apply.apply(root, released)
    if plan.action == "up":
        _nics(root, [device for device, _ in plan.nic_steps], True, dict(plan.nic_steps))
    with mgmt_flows.around_transaction(root, switch.management_flows):
        transaction.apply(connection, switch.changes, snapshot,
                          comment="interface-reconfigure %s %s" % (plan.action, switch.ip_device))
    if plan.action == "up":
        for restored in plan.restored:
            ipconfig_apply.apply(root, restored)
        ipconfig_apply.apply(root, plan.ip)
    _nics(root, switch.nics_down, False)


# A focused read asks for each name in its own select: beyond this many, read it all.
_MAX_FOCUS = 64


def _focus(host_network, partial):
    """The names whose OVSDB rows an action on ``host_network`` may change, when the
    model holds only the PIF's own objects (``partial``); else None: read everything."""
    if not partial:
        return None
    names = {rec.get("device") for rec in host_network.pifs.values()}
    names.update(rec.get("bridge") for rec in host_network.networks.values())
    names.discard(None)
    names.discard("")
    return names if len(names) <= _MAX_FOCUS else None


def _removes_a_parent(switch, snapshot):
    """True if the plan deletes a real bridge (whose fake bridges all go too)."""
    return any(change.kind == "del-br" and change.name in snapshot.bridges
               and not snapshot.bridges[change.name].is_fake for change in switch.changes)


def up(root, host_network, pif_ref, partial=False):
    """Bring ``pif_ref`` up; returns the applied :class:`ActionPlan`.

    ``partial``: ``host_network`` holds only what this action reads
    (:func:`xapi_network.load_pif`); OVSDB is then read focused on its names
    and, of the fake bridges, on its VLAN tag -- and read again with every
    fake bridge's outline if the plan turns out to delete a parent bridge.
    """
    with transaction.connect(root) as connection:
        focus = _focus(host_network, partial)
        tags = None
        if focus is not None:
            tags = {host_network.vlan_tag(pif_ref)} if host_network.is_vlan(pif_ref) else set()
        snapshot = Snapshot.read(connection, focus=focus, tags=tags)
        plan = plan_up(root, host_network, pif_ref, snapshot)
        if not snapshot.complete and _removes_a_parent(plan.switch, snapshot):
            snapshot = Snapshot.read(connection, focus=focus)
            plan = plan_up(root, host_network, pif_ref, snapshot)
        log.debug("plan:\n%s", plan)
        apply(root, connection, plan, snapshot)
        return plan


def down(root, host_network, pif_ref, from_cache=False, partial=False):
    """Take ``pif_ref`` down; returns the applied :class:`ActionPlan`.

    Whether other PIFs are in use comes from XAPI's ``currently_attached``,
    or -- ``from_cache``, where nothing reads as attached -- from the switch
    (:func:`datapath.attached_from_switch`).
    """
    with transaction.connect(root) as connection:
        snapshot = Snapshot.read(connection, focus=_focus(host_network, partial))
        attached = datapath.attached_from_switch(host_network, snapshot) if from_cache \
            else datapath.attached_from_xapi(host_network)
        plan = plan_down(root, host_network, pif_ref, snapshot, attached)
        log.debug("plan:\n%s", plan)
        apply(root, connection, plan, snapshot)
        return plan
