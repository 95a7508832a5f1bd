"""The Open vSwitch side of bringing one PIF up or down, as a plan.

From this host's network (the model) and one read of the switch (a
:class:`~xsovs_common.ovs.snapshot.Snapshot`), :func:`plan_up` and
:func:`plan_down` say what OVSDB must become -- one ``ChangeSet``, applied
by the caller as ONE transaction -- and what else goes with it: the NICs
to bring up or take down, the other PIFs whose bridges disappear (their IP
devices go down first), and the management flows a secure bridge needs.
Nothing here talks to OVS or runs a program; every value that reaches the
plan is validated first, so bad input fails before anything is applied.

XenServer's rules (the vswitch backend of the historical tool):

- a PIF's traffic rides on its *datapath* PIF: itself, or a VLAN's slave;
- the datapath PIF's bridge holds its NIC, a bond port over the bond's
  slave NICs, or nothing (a tunnel: the controller adds tunnel ports);
- bringing a datapath up first removes the bridges and bonds that held the
  same NICs;
- a VLAN PIF is a fake bridge (``add-br BRIDGE PARENT TAG``) on its
  datapath's bridge;
- taking a VLAN down removes its fake bridge, and the parent's bridge too
  unless the parent is in use -- attached, the management PIF, or with an
  IP configuration -- or another VLAN on it is attached or the management
  PIF (so a VLAN's ``down`` never takes the host's own network); taking a
  PIF down leaves its bridge while VLANs on it are attached;
- bringing a VLAN up on a parent bridge the plan creates (or makes again)
  gives that parent its own IP configuration back.
"""

from . import management, netconfig
from ..system import hostconfig
from ..errors import InvalidValue
from ..log import log
from .model import ModelError
from .pif_datapath import Datapath, device_of
from ..ovs.changes import ChangeSet

DEFAULT_DATAPATH_TYPE = hostconfig.DATAPATH_SYSTEM
# Bond Port other_config keys this tool owns (stale ones are removed).
_BOND_PORT_KEYS = ("bond-", "lacp-")


class SwitchPlan:
    """What one PIF action does to the switch, as plain data."""

    def __init__(self, pif_ref, ip_device):
        self.pif_ref = pif_ref
        self.ip_device = ip_device     # the bridge, or the NIC of a network without one
        self.changes = ChangeSet()     # ONE transaction
        self.nics_up = []              # [(PIF ref, device)] the datapath's NICs
        self.nics_down = []            # devices no bridge holds any more
        self.released = []             # [(PIF ref, IP device)] PIFs whose bridge goes
        self.restored = []             # [(PIF ref, IP device)] parents made again, IP back
        self.management_flows = None   # management.ManagementFlows, around the transaction

    def __eq__(self, other):
        return isinstance(other, SwitchPlan) and vars(self) == vars(other)

    __hash__ = None

    def __str__(self):
        lines = [str(self.changes)] if self.changes else []
        lines += ["ip link set dev %s up" % dev for _, dev in self.nics_up]
        lines += ["ip link set dev %s down" % dev for dev in self.nics_down]
        lines += ["IP device %s of %s goes down" % (dev, ref) for ref, dev in self.released]
        lines += ["IP device %s of %s gets its IP configuration back" % (dev, ref)
                  for ref, dev in self.restored]
        if self.management_flows is not None:
            lines.append(str(self.management_flows))
        return "\n".join(lines)

    def __repr__(self):
        return "SwitchPlan(%r)" % vars(self)


def _real_bridge_of(port):
    bridge = port.bridge
    if bridge is None:
        return None
    return bridge.parent.name if bridge.is_fake else bridge.name


class _Builder:
    """Collects a plan's changes in the order OVSDB needs them: removals first."""

    def __init__(self, host_network, snapshot, plan):
        self.host_network = host_network
        self.snapshot = snapshot
        self.plan = plan
        self.removals = ChangeSet()
        self.additions = ChangeSet()
        self.settings = ChangeSet()
        self.doomed = set()          # bridges this plan deletes (fake children included)
        self.dropped_ports = set()

    def remove_bridge(self, name):
        """Delete bridge ``name`` if it exists; its PIFs' IP devices go down."""
        bridge = self.snapshot.bridges.get(name)
        if bridge is None or name in self.doomed:
            return
        self.removals.del_br(name)
        gone = [name] if bridge.is_fake else [name] + self.snapshot.fake_bridges(name)
        for each in gone:
            self.doomed.add(each)
            self._release(each)

    def _release(self, bridge):
        if bridge == self.plan.ip_device:
            return
        pifs = self.host_network.pifs_on_bridge(bridge)
        if len(pifs) == 1 and (pifs[0], bridge) not in self.plan.released:
            self.plan.released.append((pifs[0], bridge))

    def remove_port(self, port):
        """Delete ``port`` (a Port) unless its bridge goes anyway."""
        if port.name in self.dropped_ports or _real_bridge_of(port) in self.doomed:
            return
        self.removals.del_port(port.name)
        self.dropped_ports.add(port.name)

    def port_survives(self, name):
        port = self.snapshot.ports.get(name)
        return (port is not None and name not in self.dropped_ports
                and _real_bridge_of(port) not in self.doomed)

    def changes(self):
        result = ChangeSet()
        for part in (self.removals, self.additions, self.settings):
            result.extend(part)
        return result


def _release_nics(host_network, datapath, builder):
    """Remove the bridges and bonds that hold ``datapath``'s NICs (XenServer's teardown).

    A bond that is up and goes takes its other NICs down too, unless attached.
    """
    holders = host_network.nic_holders(datapath.datapath_pif, datapath.nic_pifs)
    for master in [h for h in holders if host_network.is_bond_master(h)]:
        if host_network.bridge(master) not in builder.snapshot.bridges:
            continue                                 # not up: its other NICs are not ours
        for other in host_network.bond_record(master).get("slaves", ()):
            if other in host_network.pifs and other not in datapath.nic_pifs \
                    and other not in holders \
                    and not host_network.pif(other).get("currently_attached"):
                holders.append(other)
                device = device_of(host_network, other)
                if device not in builder.plan.nics_down:
                    builder.plan.nics_down.append(device)
    for holder in holders:
        name = host_network.bridge(holder)
        if name and name != datapath.datapath_bridge:
            builder.remove_bridge(name)


def _nic_port(host_network, datapath, builder, mtu_value, bridge_kept):
    """The datapath bridge's NIC port (or bond port), added or brought up to date."""
    if datapath.port is None:
        return
    wanted = sorted(datapath.nics)
    existing = builder.snapshot.ports.get(datapath.port)
    keep = (bridge_kept and existing is not None and existing.tag is None
            and not existing.fake_bridge
            and _real_bridge_of(existing) == datapath.datapath_bridge
            and sorted(existing.interface_names) == wanted)
    if not keep:
        if existing is not None:
            builder.remove_port(existing)
        for nic in datapath.nics:
            port = builder.snapshot.port_of_interface(nic)
            if port is not None:
                builder.remove_port(port)
    columns = netconfig.bond_port_columns(host_network, datapath.datapath_pif) \
        if datapath.bonded else {}
    iface_columns = {nic: {"mtu_request": mtu_value} for nic in datapath.nics} \
        if mtu_value is not None else {}
    if keep:
        values = dict(columns)
        if datapath.bonded:
            for key in existing.other_config:
                column = "other_config:" + key
                if key.startswith(_BOND_PORT_KEYS) and column not in values:
                    values[column] = None
        builder.settings.set("Port", datapath.port, values)
        for nic, values in sorted(iface_columns.items()):
            builder.settings.set("Interface", nic, values)
    else:
        builder.additions.add_port(datapath.datapath_bridge, datapath.port, datapath.nics,
                                   {k: v for k, v in columns.items() if v is not None},
                                   iface_columns)


def _management_flows(host_network, datapath, builder, fail_mode):
    """The management path to protect when the datapath bridge is secure."""
    if fail_mode != "secure":
        return
    try:
        path = management.management_path(host_network)
    except (ModelError, InvalidValue) as exc:
        if host_network.management_pif() in (datapath.pif, datapath.datapath_pif):
            raise
        log.warning("management PIF unusable, no management flows: %s", exc.message)
        return
    if path is None or path.bridge != datapath.datapath_bridge:
        return
    needed = list(path.nics) + ([path.host_port] if path.host_port != "LOCAL" else [])
    snapshot = builder.snapshot
    bridge = datapath.datapath_bridge
    present = bridge in snapshot.bridges and bridge not in builder.doomed
    for name in needed:
        port = snapshot.port_of_interface(name)
        if port is None or not builder.port_survives(port.name) \
                or _real_bridge_of(port) != datapath.datapath_bridge:
            present = False
    now = snapshot.bridges[datapath.datapath_bridge].fail_mode if present else None
    builder.plan.management_flows = management.plan(path, present, now)


def plan_up(host_network, pif_ref, snapshot, datapath_type=DEFAULT_DATAPATH_TYPE, mtu=None):
    """The :class:`SwitchPlan` that brings ``pif_ref`` up.

    ``mtu(host_network, pif_ref)`` gives a PIF's MTU (None: leave it); the
    NICs get the datapath PIF's, each bridge's own interface its PIF's.
    """
    datapath = Datapath(host_network, pif_ref)
    plan = SwitchPlan(pif_ref, datapath.ip_device)
    builder = _Builder(host_network, snapshot, plan)
    _release_nics(host_network, datapath, builder)
    plan.nics_up = list(zip(datapath.nic_pifs, datapath.nics))
    plan.nics_down = [d for d in plan.nics_down if d not in datapath.nics]
    mtu_of = (lambda ref: mtu(host_network, ref)) if mtu is not None else (lambda ref: None)
    datapath_mtu = mtu_of(datapath.datapath_pif)

    if not datapath.datapath_bridge:
        # A network without a bridge: the NIC itself is the IP device.
        for nic in datapath.nics:
            port = snapshot.port_of_interface(nic)
            if port is not None:
                builder.remove_port(port)
        plan.changes = builder.changes()
        return plan

    current = snapshot.bridges.get(datapath.datapath_bridge)
    if current is not None and current.is_fake:
        builder.remove_bridge(datapath.datapath_bridge)
    kept = current is not None and datapath.datapath_bridge not in builder.doomed
    if not kept:
        builder.additions.add_br(datapath.datapath_bridge, datapath_type=datapath_type)
    _nic_port(host_network, datapath, builder, datapath_mtu, kept)

    network = host_network.pif(datapath.datapath_pif)["network"]
    values, invalid = netconfig.bridge_columns(host_network, network)
    if invalid is not None:
        log.warning("bridge %s: ignoring %s=%r (expected true or false)",
                    datapath.datapath_bridge, netconfig.DISABLE_IN_BAND_KEY, invalid)
    if datapath.datapath_mac:
        values["other_config:hwaddr"] = datapath.datapath_mac
    builder.settings.set("Bridge", datapath.datapath_bridge, values)
    builder.settings.br_set_external_id(
        datapath.datapath_bridge, netconfig.NETWORK_UUIDS_KEY,
        netconfig.network_uuids(host_network, datapath.datapath_bridge))
    if datapath_mtu is not None:
        builder.settings.set("Interface", datapath.datapath_bridge, {"mtu_request": datapath_mtu})

    if datapath.vlan is not None:
        _vlan_bridge(host_network, datapath, builder, kept, mtu_of(pif_ref))
        if not kept and host_network.has_ip_configuration(datapath.datapath_pif):
            plan.restored.append((datapath.datapath_pif, datapath.datapath_bridge))
    _management_flows(host_network, datapath, builder, values.get("fail_mode"))
    plan.changes = builder.changes()
    return plan


def _vlan_bridge(host_network, datapath, builder, parent_kept, vlan_mtu):
    """The VLAN's fake bridge on its parent, replacing stale ones."""
    snapshot = builder.snapshot
    current = snapshot.bridges.get(datapath.bridge)
    kept = (parent_kept and current is not None and current.is_fake
            and current.parent.name == datapath.datapath_bridge and current.vlan == datapath.vlan
            and datapath.bridge not in builder.doomed)
    if current is not None and not kept:
        builder.remove_bridge(datapath.bridge)
    if parent_kept:
        for other in snapshot.fake_bridges(datapath.datapath_bridge):
            if other != datapath.bridge and snapshot.bridges[other].vlan == datapath.vlan:
                builder.remove_bridge(other)
    if not kept:
        builder.additions.add_br(datapath.bridge, datapath.datapath_bridge, datapath.vlan)
    builder.settings.br_set_external_id(datapath.bridge, netconfig.NETWORK_UUIDS_KEY,
                                        netconfig.network_uuids(host_network, datapath.bridge))
    values = {}
    if datapath.datapath_mac:
        values["mac"] = datapath.datapath_mac      # the VLAN's IP device has the datapath's MAC
    if vlan_mtu is not None:
        values["mtu_request"] = vlan_mtu
    builder.settings.set("Interface", datapath.bridge, values)


def attached_from_xapi(host_network):
    """``currently_attached`` as XAPI reports it."""
    return lambda ref: bool(host_network.pif(ref).get("currently_attached"))


def attached_from_switch(host_network, snapshot):
    """Attachment when the source is the cache (which says nothing is attached).

    A VLAN PIF counts as attached while its fake bridge exists; any other PIF
    as not attached (whether its bridge is in use says :func:`in_use`).  So
    at boot ``--force BRIDGE down`` of a bridge with VLANs up keeps it (its
    IP device still goes down).
    """
    def attached(ref):
        if not host_network.is_vlan(ref):
            return False
        bridge = snapshot.bridges.get(host_network.bridge(ref))
        return bridge is not None and bridge.is_fake
    return attached


def in_use(host_network, pif_ref, attached, addresses=True):
    """Why the bridge of ``pif_ref``, the parent of a VLAN going down, must stay:
    a list of reasons, empty when it may go.

    Attached (``attached(pif_ref)``), the management PIF, or -- ``addresses``
    -- with an IP configuration: from the cache nothing reads as attached,
    but a bridge with the host's own addresses on it is in use all the same,
    and the management interface is never taken down unless that was asked.
    """
    reasons = []
    if attached(pif_ref):
        reasons.append("attached")
    if host_network.pif(pif_ref).get("management"):
        reasons.append("the management interface")
    if addresses and host_network.has_ip_configuration(pif_ref):
        reasons.append("with an IP configuration")
    return reasons


def plan_down(host_network, pif_ref, snapshot, attached):
    """The :class:`SwitchPlan` that takes ``pif_ref`` down.

    ``attached(pif_ref)`` says whether another PIF is in use (see
    :func:`attached_from_xapi` / :func:`attached_from_switch`).
    """
    datapath = Datapath(host_network, pif_ref)
    plan = SwitchPlan(pif_ref, datapath.ip_device)
    builder = _Builder(host_network, snapshot, plan)
    remove_datapath = bool(datapath.datapath_bridge)
    if datapath.vlan is not None:
        builder.remove_bridge(datapath.bridge)
        parent = datapath.datapath_pif
        holders = {parent: in_use(host_network, parent, attached)}
        for vlan in host_network.vlan_pifs_on(parent):
            if vlan != pif_ref:
                # Another VLAN's addresses hold nothing while it is down: attached says.
                holders[vlan] = in_use(host_network, vlan, attached, addresses=False)
        holders = ["%s (%s)" % (host_network.describe_pif(ref), ", ".join(reasons))
                   for ref, reasons in holders.items() if reasons]
        if holders:
            log.info("%s: leaving bridge %s up for %s", host_network.describe_pif(pif_ref),
                     datapath.datapath_bridge, ", ".join(holders))
            remove_datapath = False
    else:
        users = [v for v in host_network.vlan_pifs_on(pif_ref) if attached(v)]
        if users:
            log.info("%s: leaving bridge %s up for the VLANs %s",
                     host_network.describe_pif(pif_ref), datapath.datapath_bridge,
                     ", ".join(host_network.describe_pif(p) for p in users))
            remove_datapath = False
    if remove_datapath:
        builder.remove_bridge(datapath.datapath_bridge)
        plan.nics_down = list(datapath.nics)
    plan.changes = builder.changes()
    return plan
