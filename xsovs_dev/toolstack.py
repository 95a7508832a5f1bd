"""What XAPI's own daemons run on a host's switch, argument for argument.

Tests reproduce them exactly, so xsovs is checked against the commands a host
really sees, never against a friendlier version:

- xenopsd's vif hotplug (``scripts/vif-real``, ``add_to_bridge``, for a
  ``vifD.N`` coming online and a ``tapD.N`` being added): the device down,
  ARP off, the bridge MAC, addresses flushed, then ``setup-vif-rules
  filter``, which does the switch's part (:func:`setup_vif_rules`): the
  port's old locking flows deleted (cookie 1, on the parent bridge), the
  port deleted and added again with its four external ids, XAPI's locking
  flows for a ``locked`` VIF, the device up.  xenopsd runs ``filter`` again
  on every locking-mode change, and ``clear`` when the device goes
  (:func:`vif_remove`).  ``run`` these with :func:`host_runner`;
- the one-transaction plug of ``scripts/common.py``'s ``add_to_bridge``
  (:func:`plug_vif`): ``--if-exists del-port``, ``add-port`` and the external
  ids in one ``ovs-vsctl`` call (its unplug: ``--if-exists del-port``);
- xcp-networkd (``network_utils.ml``, ``create_bridge``) making a network's
  bridge: ``--may-exist add-br`` with the bridge's fail mode, in-band setting,
  ``xs-network-uuids``, MAC table size and multicast snooping settings, in one
  call, without a datapath type.

:func:`plug_vif`, :func:`unplug_vif` and :func:`create_bridge` return the
``ovs-vsctl`` arguments (after the program name and any ``--db``), for
``OvsInstance.vsctl`` or ``SimHost.vsctl``.
"""

import collections
import os

from xsovs_dev import netns

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


# -- xenopsd's vif hotplug and setup-vif-rules (openvswitch mode) -------------------------

BRIDGE_MAC = "fe:ff:ff:ff:ff:ff"      # what the vif script puts on the dom0 side

# A VIF's locking mode as xenopsd hands it to setup-vif-rules.
Locking = collections.namedtuple("Locking", "mode ipv4 ipv6")
UNLOCKED = Locking("unlocked", (), ())


def locked(ipv4=(), ipv6=()):
    return Locking("locked", tuple(ipv4), tuple(ipv6))


def host_runner(rundir, namespace=None):
    """``run(argv) -> (returncode, stdout)`` for a host's commands: in its network
    namespace, ``ovs-vsctl``/``ovs-ofctl`` finding its switch through ``OVS_RUNDIR``."""
    env = dict(os.environ, OVS_RUNDIR=rundir)

    def run(argv):
        result = netns.run(argv, namespace, check=False, env=env)
        return result.returncode, result.stdout
    return run


def _first_line(run, argv):
    """setup-vif-rules reads a command's first output line, whatever its exit status."""
    return (run(argv)[1].splitlines() or [""])[0].strip()


def locking_flows(port, mac, locking):
    """The cookie-1 flows setup-vif-rules adds for a ``locked`` VIF on ``ofport`` ``port``."""
    head = "cookie=1,in_port=%s," % port
    flows = [head + "priority=8000,dl_type=0x0800,nw_proto=0x11,tp_dst=67,dl_src=%s,"
             "idle_timeout=0,action=normal" % mac,
             head + "priority=7000,dl_type=0x0806,dl_src=%s,arp_sha=%s,nw_src=0.0.0.0,"
             "idle_timeout=0,action=normal" % (mac, mac)]
    for ip in locking.ipv4:
        flows += [head + "priority=7000,dl_type=0x0806,dl_src=%s,arp_sha=%s,nw_src=%s,"
                  "idle_timeout=0,action=normal" % (mac, mac, ip),
                  head + "priority=6000,dl_type=0x0800,nw_src=%s,dl_src=%s,idle_timeout=0,"
                  "action=normal" % (ip, mac)]
    for ip in locking.ipv6:
        flows += [head + "priority=8000,dl_src=%s,icmp6,ipv6_src=%s,icmp_type=135,nd_sll=%s,"
                  "idle_timeout=0,action=normal" % (mac, ip, mac),
                  head + "priority=8000,dl_src=%s,icmp6,ipv6_src=%s,icmp_type=136,"
                  "nd_target=%s,idle_timeout=0,action=normal" % (mac, ip, ip)]
        flows += [head + "priority=5000,dl_src=%s,ipv6_src=%s,%s,action=normal" % (mac, ip, kind)
                  for kind in ("icmp6", "tcp6", "udp6")]
    flows += [head + "priority=7000,icmp6,icmp_type=%d,action=drop" % t for t in (135, 136)]
    flows += [head + "priority=6000,icmp6,icmp_type=%d,action=drop" % t
              for t in (134, 137, 146, 147, 151, 152, 153)]
    flows.append(head + "priority=4000,idle_timeout=0,action=drop")
    return flows


def setup_vif_rules(run, dev, bridge, ids, mac, locking=UNLOCKED, action="filter"):
    """XAPI's ``setup-vif-rules ... DEV ... filter|clear`` on an Open vSwitch host.

    ``bridge`` is the VIF's network's bridge (a fake bridge for a VLAN), ``ids``
    the interface's external ids in the script's order, ``mac`` the VIF's.
    Failures are ignored as the script ignores them, except ``add-port``'s.
    """
    run(["ip", "link", "set", dev, "down"])
    port = _first_line(run, ["ovs-vsctl", "get", "interface", dev, "ofport"])
    if port != "":
        current = _first_line(run, ["ovs-vsctl", "iface-to-br", dev])
        parent = _first_line(run, ["ovs-vsctl", "br-to-parent", current])
        run(["ovs-ofctl", "del-flows", parent, "in_port=%s,cookie=1/-1" % port])
    run(["ovs-vsctl", VIF_TIMEOUT, "--", "--if-exists", "del-port", dev])
    if action == "filter":
        if locking.mode != "disabled":
            argv = ["ovs-vsctl", VIF_TIMEOUT, "add-port", bridge, dev]
            for key, value in ids:
                argv += ["--", "set", "interface", dev, 'external-ids:"%s"="%s"' % (key, value)]
            status, _ = run(argv)
            if status != 0:
                raise RuntimeError("setup-vif-rules: %s failed (%d)" % (" ".join(argv), status))
            _first_line(run, ["ovs-vsctl", "get", "interface", dev, "ofport"])  # for xenstore
        if locking.mode == "locked":
            port = _first_line(run, ["ovs-vsctl", "get", "interface", dev, "ofport"])
            parent = _first_line(run, ["ovs-vsctl", "br-to-parent", bridge])
            for flow in locking_flows(port, mac, locking):
                run(["ovs-ofctl", "add-flow", parent, flow])
    run(["ip", "link", "set", dev, "up"])


def hotplug_ids(network_uuid, vif_uuid, vm_uuid, mac):
    """The external ids setup-vif-rules sets, in its order."""
    return [("xs-vm-uuid", vm_uuid), ("xs-vif-uuid", vif_uuid),
            ("xs-network-uuid", network_uuid), ("attached-mac", mac)]


def vif_online(run, dev, bridge, network_uuid, vif_uuid, vm_uuid, mac, locking=UNLOCKED,
               mtu=None):
    """xenopsd's vif script for ``dev`` coming online (a tap being added): MTU, then
    ``add_to_bridge``, which ends in setup-vif-rules ``filter``."""
    if mtu is not None:
        run(["ip", "link", "set", dev, "mtu", str(mtu)])
    for words in (["down"], ["arp", "off"], ["address", BRIDGE_MAC]):
        run(["ip", "link", "set", dev] + words)
    run(["ip", "addr", "flush", dev])
    setup_vif_rules(run, dev, bridge, hotplug_ids(network_uuid, vif_uuid, vm_uuid, mac), mac,
                    locking)


def set_locking_mode(run, dev, bridge, network_uuid, vif_uuid, vm_uuid, mac, locking):
    """xenopsd on ``VIF.set_locking_mode``: setup-vif-rules ``filter`` again."""
    setup_vif_rules(run, dev, bridge, hotplug_ids(network_uuid, vif_uuid, vm_uuid, mac), mac,
                    locking)


def vif_remove(run, dev):
    """xenopsd's vif script when the device goes: setup-vif-rules ``clear``."""
    setup_vif_rules(run, dev, None, (), None, action="clear")
