"""What XAPI's own daemons run on a host's switch, argument for argument.

Tests reproduce them exactly, so xsovs is checked against the commands a host
really sees, never against a friendlier version:

- xenopsd's vif hotplug script (``scripts/common.py``, ``add_to_bridge``):
  one ``ovs-vsctl --timeout=30`` call that deletes the port wherever it is,
  adds it to the network's bridge and sets its four external ids; its unplug
  is ``--if-exists del-port``;
- xcp-networkd (``network_utils.ml``, ``create_bridge``) making a network's
  bridge: ``--may-exist add-br`` with the bridge's fail mode, in-band setting,
  ``xs-network-uuids``, MAC table size and multicast snooping settings, in one
  call, without a datapath type.

Each function returns the ``ovs-vsctl`` arguments (after the program name and
any ``--db``), for ``OvsInstance.vsctl`` or ``SimHost.vsctl``.
"""

VIF_TIMEOUT = "--timeout=30"          # xenopsd's
NETWORKD_TIMEOUT = "--timeout=20"     # xcp-networkd's
MAC_TABLE_SIZE = 10000                # xcp-networkd's default


def vif_script_ids(network_uuid, vif_uuid, vm_uuid, mac):
    """The external ids xenopsd's script puts on a VIF's interface."""
    return {"attached-mac": mac, "xs-network-uuid": network_uuid,
            "xs-vif-uuid": vif_uuid, "xs-vm-uuid": vm_uuid}


def vif_script_add(bridge, dev, ids=None):
    """``ovs-vsctl`` arguments that plug ``dev`` as XAPI's vif script does (one transaction)."""
    argv = ["--", "--if-exists", "del-port", dev, "--", "add-port", bridge, dev]
    if ids:
        argv += ["--", "set", "interface", dev] + [
            'external-ids:"%s"="%s"' % (k, v) for k, v in sorted(ids.items())]
    return argv


def plug_vif(bridge, dev, network_uuid, vif_uuid, vm_uuid, mac):
    """xenopsd's whole plug command for VIF ``dev`` (``vifD.N`` or ``tapD.N``)."""
    return [VIF_TIMEOUT] + vif_script_add(bridge, dev, vif_script_ids(network_uuid, vif_uuid,
                                                                      vm_uuid, mac))


def unplug_vif(dev):
    """xenopsd's unplug: the port goes, from whichever bridge holds it."""
    return [VIF_TIMEOUT, "--", "--if-exists", "del-port", dev]


def create_bridge(name, network_uuid, fail_mode="standalone", igmp_snooping=False):
    """xcp-networkd's call for a network's bridge (a private network: no PIF, no VLAN).

    With no vif or tap on the bridge, it re-adds none.
    """
    return [NETWORKD_TIMEOUT, "--", "--may-exist", "add-br", name,
            "--", "set", "bridge", name, "fail_mode=" + fail_mode,
            "--", "remove", "bridge", name, "other_config", "disable-in-band",
            "--", "br-set-external-id", name, "xs-network-uuids", network_uuid,
            "--", "set", "bridge", name, "other_config:mac-table-size=%d" % MAC_TABLE_SIZE,
            "--", "set", "bridge", name,
            "mcast_snooping_enable=" + ("true" if igmp_snooping else "false"),
            "--", "set", "bridge", name, "other_config:enable-ipv6-mcast-snooping=false",
            "--", "set", "bridge", name,
            "other_config:mcast-snooping-disable-flood-unregistered=true"]
