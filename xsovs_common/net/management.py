"""What keeps the host reachable on a secure management bridge, as a plan.

A bridge in ``secure`` fail mode forwards nothing until its controller has
connected and programmed it, so the host would cut itself off from the very
controller it is about to reach.  Flows that let the management traffic
through (:mod:`~xsovs_common.ovs.mgmt_flows` writes them) go onto the
management bridge around the OVSDB transaction that could cut it.

:func:`management_path` says what those flows are made of -- the management
PIF's bridge, NICs, MAC, the host's port and VLAN -- from its
:class:`~xsovs_common.net.pif_datapath.Datapath`, where every name and MAC
is validated, so no value XAPI (or the cache) got wrong reaches a flow.
:func:`plan` (a PIF's ``up``) and :func:`plan_settings` (``update``) say when
they go in: a :class:`ManagementFlows`, the one flows plan of both.

When ovs-vswitchd flushes a bridge's flows (Open vSwitch's connection
manager): when its fail mode changes while it has no controller, and when
its set of controllers goes from none to some or from some to none.  A
secure bridge then forwards nothing at all until flows go in again.
"""

import collections

from .model import ModelError
from .pif_datapath import Datapath


class ManagementPath(collections.namedtuple(
        "ManagementPath", "bridge nics mac host_port vlan bonded")):
    """What the flows are made of: bridge, NICs, MAC, the host's port, VLAN, bonded.

    The host's port is ``LOCAL`` (the bridge's own), or for a management
    interface on a VLAN the fake bridge's internal port.
    """

    __slots__ = ()

    @classmethod
    def of(cls, datapath):
        """The path of a :class:`Datapath`, whose names and MACs are validated."""
        return cls(datapath.datapath_bridge, list(datapath.nics), datapath.datapath_mac,
                   datapath.bridge if datapath.vlan is not None else "LOCAL", datapath.vlan,
                   datapath.bonded)


def management_bridge(host_network):
    """The name of the bridge the management flows go on (the management PIF's
    datapath bridge), as the model has it, or None.

    Unchecked: only for looking a bridge up, never for a flow or a command;
    :func:`management_path` checks it.
    """
    pif = host_network.management_pif()
    if pif is None:
        return None
    try:
        return host_network.bridge(host_network.datapath_pif(pif)) or None
    except ModelError:
        return None


def management_path(host_network):
    """The :class:`ManagementPath` of this host's management PIF, or None.

    None also when there is no bridge or no NIC (a tunnel) to protect.  A
    management PIF the model gets wrong, or without a MAC the flows could
    match, raises ModelError / InvalidValue naming it.
    """
    pif = host_network.management_pif()
    if pif is None:
        return None
    datapath = Datapath(host_network, pif)
    if not (datapath.datapath_bridge and datapath.nics):
        return None
    if datapath.datapath_mac is None:
        raise ModelError("%s has no MAC: management flows cannot match its traffic"
                         % host_network.describe_pif(datapath.datapath_pif),
                         params=[datapath.datapath_pif])
    return ManagementPath.of(datapath)


class ManagementFlows(collections.namedtuple("ManagementFlows", "path before after")):
    """The flows plan: ``path``'s flows before the OVSDB transaction and/or after it."""

    __slots__ = ()

    def __str__(self):
        when = [w for w, yes in (("before", self.before), ("after", self.after)) if yes]
        return "management flows on %s (%s the transaction)" % (self.path.bridge,
                                                                " and ".join(when))


def plan(path, bridge_ready, fail_mode_now, fail_mode_wanted="secure"):
    """When ``path``'s flows go in around the transaction.

    Before, when the bridge and its ports exist already, so the host is never
    cut off; after, when the transaction creates them or changes the bridge's
    fail mode: ovs-vswitchd flushes a bridge's flows when its fail mode
    changes while it has no controller (seen with Open vSwitch 3.1).
    """
    return ManagementFlows(path, bridge_ready,
                           (not bridge_ready) or fail_mode_now != fail_mode_wanted)


def plan_settings(path, secure_now, in_place, bridge_changed):
    """When ``path``'s flows go in around a transaction of settings (``update``),
    on a bridge that exists and ends secure; None when they need not.

    Before, when the bridge is secure already and they are missing (or not
    as planned); after, when the transaction changes the bridge's row at all
    (a fail mode, an ``emer-reset`` taking its controllers): whatever of that
    makes ovs-vswitchd flush the flows, they are back right after it.  Before
    is not done on a bridge that is not secure yet: the change that makes it
    secure flushes them anyway, and until then they would sit at priority 0
    beside the bridge's own ``NORMAL`` flow.  Flows in place on a bridge the
    transaction leaves alone need nothing: ``update`` then changes nothing.
    """
    before = secure_now and not in_place
    if not (before or bridge_changed):
        return None
    return ManagementFlows(path, before, bridge_changed)
