"""The plan of ``update`` and ``set-manager``: the steps *manager*, *restore*,
*bridge settings* and *management flows*, as plain data.

An :class:`UpdatePlan` is built from what *read* returned and nothing else:
``status`` prints it, the actions apply it (:mod:`update_apply`).
"""

from .. import paths
from ..net import management, netconfig
from ..ovs import mgmt_flows, transaction
from ..ovs.changes import ChangeSet
from ..system import firewall
from ..xapi import controller

# How Xen Orchestra manages OpenFlow rules: "channel" (its own connection to
# each bridge, TCP 6653) unless it names another method.
OF_METHOD_KEY = "xo:sdn-controller:of-method"
OF_METHOD_CHANNEL = "channel"


class UpdatePlan:
    """What ``update`` or ``set-manager`` will do: printed by ``status``, applied otherwise."""

    def __init__(self):
        self.changes = ChangeSet()   # ONE OVSDB transaction
        self.delete_ca = False               # the CA file, so SSL bootstraps afresh
        self.management_flows = None         # management.ManagementFlows, around the change
        self.firewall_open = []              # Rules kept open: listening manager, OpenFlow
        self.firewall_close = []             # manager Rules to close (XAPI's helper only)
        self.notes = []                      # what changes, for the summary
        self.warnings = []                   # what is left alone, and why

    def is_empty(self):
        return not (self.changes or self.delete_ca or self.management_flows)

    def as_dict(self, root):
        return {
            "changes": str(self.changes).splitlines(),
            "delete_ca_file": root.path(paths.VSWITCHD_CACERT) if self.delete_ca else None,
            "management_flows": (self.management_flows.path.bridge
                                 if self.management_flows is not None else None),
            "firewall_open": ["%s/%s" % (r.protocol, r.port) for r in self.firewall_open],
            "firewall_helper": firewall.xapi_helper(root) or "iptables",
            "notes": self.notes,
            "warnings": self.warnings,
        }


def _ssl_in_place(root, snapshot, ssl):
    """SSL as the manager needs it: XAPI's key and certificate, the CA file, bootstrap."""
    if ssl is None:
        return True
    row = snapshot.ssl or {}
    return (row.get("private_key"), row.get("certificate"), row.get("ca_cert"),
            bool(row.get("bootstrap_ca_cert"))) == \
        (root.path(ssl.private_key), root.path(ssl.certificate), root.path(ssl.ca_cert),
         ssl.bootstrap)


def _missing_ssl_files(plan, root, ssl):
    """Name the files a manager's SSL needs that the host lacks (set anyway)."""
    if ssl is None:
        return
    if not root.exists(ssl.private_key):
        plan.warnings.append("SSL key and certificate file %s is missing: no TLS session "
                             "until XAPI makes it" % root.path(ssl.private_key))
    if not ssl.bootstrap and not root.exists(ssl.ca_cert):
        plan.warnings.append(
            "SDN controller CA file %s is missing: controllers are refused until it is "
            "installed in the pool (pool.certificate_install sdn-controller-ca.pem)"
            % root.path(ssl.ca_cert))


def plan_firewall(plan, target, pool):
    """Firewall holes of the *manager* step: 6640 for a listening manager, 6653 for
    an OpenFlow channel.

    As XCP-ng's XAPI has it: 6653 is open while a controller is set and the
    pool's ``xo:sdn-controller:of-method`` is absent or ``channel``; another
    method closes it.  With no controller at all nothing needs it either.
    """
    of_method = pool.get("other_config", {}).get(OF_METHOD_KEY) or OF_METHOD_CHANNEL
    plan.firewall_open = []
    if target is not None and target.protocol == "pssl":
        plan.firewall_open.append(firewall.Rule("tcp", target.port))
    if target is not None and of_method == OF_METHOD_CHANNEL:
        plan.firewall_open.append(firewall.OPENFLOW_RULE)
    plan.firewall_close = [r for r in firewall.MANAGER_RULES if r not in plan.firewall_open]


def plan_manager(plan, root, host_network, snapshot, wanted):
    """The *manager* and *restore* steps: reset and set the manager when OVSDB's differs;
    True if it does.

    "Differs" also covers SSL not set up as the manager needs it (someone
    else's key or CA file, bootstrap on or off): setting it afresh is what
    makes it work.  Missing key or CA files are set all the same (ovsdb-server
    reads them once they appear) and named in the warnings.
    """
    target = wanted.target
    ssl = controller.ssl_files(target)
    _missing_ssl_files(plan, root, ssl)
    if controller.same(snapshot.managers, target) and _ssl_in_place(root, snapshot, ssl):
        return False
    plan.delete_ca = True
    plan.changes.emer_reset()
    if target is None:
        plan.changes.set_manager([])
        plan.changes.del_ssl()
        plan.notes.append("Successfully removed controller config")
    else:
        if ssl is not None:
            plan.changes.set_ssl(root.path(ssl.private_key), root.path(ssl.certificate),
                                 root.path(ssl.ca_cert), bootstrap=ssl.bootstrap)
        plan.changes.set_manager([str(target)])
        plan.notes.append("Successfully set controller to %s" % target)
    _plan_settings(plan, host_network, snapshot, after_reset=True)
    return True


def plan_bridges(plan, host_network, snapshot):
    """The *bridge settings* step: bridge and bond settings that differ from XAPI's data."""
    _plan_settings(plan, host_network, snapshot, after_reset=False)


def _plan_settings(plan, host_network, snapshot, after_reset):
    changes, invalid = netconfig.settings_changes(host_network, snapshot, after_reset)
    plan.changes.extend(changes)
    _setting_notes(plan, changes, "restored" if after_reset else "set")
    for bridge, value in sorted(invalid.items()):
        plan.warnings.append("invalid %s %r for %s left as it is"
                             % (netconfig.DISABLE_IN_BAND_KEY, value, bridge))


def bridge_names(names):
    """Bridge names for a summary line: a long list is cut to its count and first three."""
    names = sorted(names)
    if len(names) > 6:
        return "%d bridges (%s, ...)" % (len(names), ", ".join(names[:3]))
    return ", ".join(names)


def _setting_notes(plan, changes, verb):
    """Summary notes for Bridge / Port ``set`` changes, grouped by setting."""
    groups = {}
    bonds = []
    for change in changes:
        table, record, values = change.table, change.record, change.values
        if table == "Port":
            bonds.append(record)
            continue
        for column, value in sorted(values.items()):
            setting = column.split(":", 1)[-1]
            text = "%s=%s %s on" % (setting, value, verb) if value is not None \
                else "%s removed from" % setting
            groups.setdefault(text, []).append(record)
    for text in sorted(groups):
        plan.notes.append("%s %s" % (text, bridge_names(groups[text])))
    if bonds:
        plan.notes.append("bond settings %s on %s" % (verb, ", ".join(sorted(bonds))))


def _fail_mode_after(plan, snapshot, bridge, reset):
    after = None if reset else snapshot.bridges[bridge].fail_mode
    for change in plan.changes:
        if change.kind == "set" and (change.table, change.record) == ("Bridge", bridge) \
                and "fail_mode" in change.values:
            after = change.values["fail_mode"]
    return after


def _bridge_changed(plan, bridge, reset):
    """Whether the transaction changes ``bridge``'s row (``emer-reset`` changes every one)."""
    return reset or any(change.kind == "set" and (change.table, change.record) ==
                        ("Bridge", bridge) for change in plan.changes)


def plan_flows(plan, host_network, snapshot, reset, installed=None):
    """The *management flows* step: whenever the management bridge ends up secure.

    ``installed``: its flows of xsovs as read (None: unknown, so missing).
    They go in when missing, and again after a transaction that changes the
    bridge (:func:`management.plan_settings`); in place on a bridge left
    alone, nothing is done.  A management PIF whose flows cannot be made
    fails the run: a change that could cut the host off is not made blind.
    """
    name = management.management_bridge(host_network)
    bridge = snapshot.bridges.get(name) if name else None
    if bridge is None or bridge.is_fake:
        pifs = host_network.pifs_on_bridge(name) if name else []
        if pifs and netconfig.fail_mode(host_network,
                                        host_network.pif(pifs[0])["network"]) == "secure":
            plan.warnings.append("management bridge %s is not in OVSDB: no flows installed"
                                 % name)
        return
    if _fail_mode_after(plan, snapshot, name, reset) != "secure":
        return
    path = management.management_path(host_network)
    if path is None:
        return
    flows = management.plan_settings(path, bridge.fail_mode == "secure",
                                     mgmt_flows.in_place(path, installed),
                                     _bridge_changed(plan, name, reset))
    if flows is not None:
        plan.management_flows = flows
        plan.notes.append("management flows installed on %s" % name)


def plan_update(root, state, snapshot, bridges=True, installed=None):
    """The plan of ``update`` against ``snapshot`` and the management bridge's flows
    as read (``installed``); ``bridges=False`` (``set-manager``) leaves out the
    *bridge settings* step."""
    plan = UpdatePlan()
    plan_firewall(plan, state.wanted.target, state.pool)
    reset = plan_manager(plan, root, state.host_network, snapshot, state.wanted)
    if bridges and not reset:
        plan_bridges(plan, state.host_network, snapshot)
    plan_flows(plan, state.host_network, snapshot, reset, installed)
    transaction.check(plan.changes, snapshot)
    return plan
