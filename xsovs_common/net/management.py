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
:func:`plan` says when they go in: a :class:`ManagementFlows`, the one flows
plan of ``update`` and of a PIF's ``up``.
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
