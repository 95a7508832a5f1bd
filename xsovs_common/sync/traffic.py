"""ovs-xapi-sync's traffic rules: Xen Orchestra's rules as flows on each VIF's own port.

From the daemon's two replicas -- XAPI's records (VIFs, networks, the pool)
and OVSDB's Bridge, Port and Interface rows -- this part works out, for
every ``vifD.N`` and ``tapD.N`` port on the bridge of its VIF's network
(the parent bridge for a VLAN), the rules in force
(:mod:`.traffic_lists`) and their flows (:mod:`~xsovs_common.net.traffic_flows`),
and brings each bridge's flows of xsovs's cookie to them: one
``ovs-ofctl --bundle`` per bridge that changed, replacing only the groups
that changed, atomically.

What makes it start again from nothing on a bridge (*reset*: every flow of
ours deleted and the wanted ones added, in the same bundle): the daemon's
start, a new Bridge row (the bridge was rebuilt), a change of fail mode
(``ovs-vswitchd`` flushes the flows then), a new ``ovs-vswitchd`` (its
pidfile names another process: flow tables start empty while OVSDB's rows
stay), and ``ovs-appctl -t ovs-xapi-sync traffic-rules/resync``.  A failed
bundle is tried again, backing off as a refused transaction does
(:class:`.service.Retry`).

Ports on other bridges (OVN's integration bridge, whose controller owns
its flows) are left alone.
"""

import collections
import os
import time

from .. import validate
from ..errors import Error, InvalidValue
from ..log import log
from ..net import traffic_rules as tr
from ..ovs import openflow
from ..net import traffic_flows as tf
from . import service, traffic_lists, traffic_store
from .rows import RowReader
from .rules import VIF_PORT_NAME

COLUMNS = {
    "Bridge": ["name", "fail_mode", "ports"],
    "Port": ["name", "fake_bridge", "interfaces"],
    "Interface": ["name", "external_ids", "ofport"],
}
PID_CHECK_SECONDS = 1.0
FIRST_RETRY_DELAY = 0.1     # seconds before a failed bundle is tried again

Bridge = collections.namedtuple("Bridge", "uuid name fail_mode ports")
Port = collections.namedtuple("Port", "uuid name fake_bridge interfaces")
Iface = collections.namedtuple("Iface", "uuid name ofport external_ids")
Switch = collections.namedtuple("Switch", "bridges ports interfaces")


def _bridge(r):
    return Bridge(r.uuid, r.name, r.fail_mode[0] if r.fail_mode else None,
                  [p.uuid for p in r.ports])


def _port(r):
    return Port(r.uuid, r.name, bool(r.fake_bridge), [i.uuid for i in r.interfaces])


def _iface(r):
    return Iface(r.uuid, r.name, r.ofport[0] if r.ofport else None, dict(r.external_ids))


class SwitchReader:
    """The rows this part reads, as plain tuples (:class:`.rows.RowReader`: converted once)."""

    def __init__(self):
        self._reader = RowReader(COLUMNS)

    def __call__(self, idl):
        bridges = self._reader.rows(idl, "Bridge", _bridge)
        ports = {p.uuid: p for p in self._reader.rows(idl, "Port", _port)}
        ifaces = {i.uuid: i for i in self._reader.rows(idl, "Interface", _iface)}
        return Switch(bridges, ports, ifaces)


class _BridgeState:
    def __init__(self, name, fail_mode, clock):
        self.name = name
        self.fail_mode = fail_mode
        self.installed = {}     # cookie -> flows (tf.UNKNOWN: on the switch, not known)
        self.reset = True       # our flows on it are unknown: start again
        self.retry = service.Retry(FIRST_RETRY_DELAY, clock)
        self.error = None


class _PortView:
    """One VIF port as this part sees it, for the flows and for ``status``."""

    def __init__(self, bridge, iface, vif_uuid):
        self.bridge = bridge
        self.iface = iface
        self.vif_uuid = vif_uuid
        self.network_uuid = None
        self.mac = None
        self.rules = None       # rules in force, traffic_lists.HELD, or None: not enforced
        self.xapi = {}          # scope -> XAPI's rules (to tell plugin calls apart)
        self.in_force = {}      # scope -> the rules in force of that scope
        self.network_bridge = None
        self.note = None


def vswitchd_pid(root):
    """The pid in ``ovs-vswitchd``'s pidfile, or None."""
    try:
        with open(os.path.join(root.ovs_rundir(), "ovs-vswitchd.pid")) as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


class TrafficRules:
    """The traffic-rule part of the daemon: ``run`` in its loop, ``wait`` before it blocks."""

    def __init__(self, root, clock=time.monotonic, bundle=openflow.bundle,
                 dump=openflow.dump_flows, read_switch=None):
        self.root = root
        self.clock = clock
        self._bundle = bundle
        self._dump = dump
        self.read_switch = read_switch or SwitchReader()
        self._views = {}            # interface uuid -> (inputs, _PortView)
        self._fmt = None            # (the pool's keys, their format)
        self.lists = traffic_lists.RuleLists(clock)
        self.bridges = {}           # Bridge row uuid -> _BridgeState
        self.views = []             # _PortView of the last run, for status
        self.seen = None
        self.pid = vswitchd_pid(root)
        self.next_pid_check = clock() + PID_CHECK_SECONDS
        self.memo = {}
        self.stored = None          # traffic_store's records until XAPI's arrive (False: none)
        self._kept = None           # the views last written to disk

    # -- when to run ---------------------------------------------------------------
    def _due(self, now):
        if self.lists.next_deadline() is not None and now >= self.lists.next_deadline():
            return True
        return any(s.retry.over(now) for s in self.bridges.values())

    def run(self, cache, idl, force=False):
        """Bring the flows in step when anything they depend on changed (or a timer is due).

        Until XAPI's records arrive, the rules kept on disk stand in for them
        (:mod:`.traffic_store`); after each run with XAPI's, the file follows.
        """
        if not idl.has_ever_connected():
            return
        if not cache.ready:
            if self.stored is None:
                self.stored = traffic_store.load(self.root) or False
            if self.stored is False:
                return
            cache = self.stored
        elif self.stored is not None:
            self.stored = None
        now = self.clock()
        if now >= self.next_pid_check:
            self.next_pid_check = now + PID_CHECK_SECONDS
            pid = vswitchd_pid(self.root)
            if pid != self.pid:
                log.info("ovs-vswitchd is now pid %s (was %s): installing every traffic rule "
                         "again", pid, self.pid)
                self.pid = pid
                self.resync()
                force = True
        if self.lists.expire():
            force = True
        state = (idl.change_seqno, cache.generation, cache.ready and cache is not self.stored)
        if not force and state == self.seen and not self._due(now):
            return
        self.seen = state
        failures = self.sync(cache, self.read_switch(idl))
        if cache is not self.stored and not failures:
            self._keep(self.views)

    def _keep(self, views):
        """Write the rules in force to disk when a port's view changed since the last time."""
        if self._kept is not None and len(self._kept) == len(views) and \
                all(a is b for a, b in zip(self._kept, views)):
            return
        try:
            traffic_store.save(self.root, traffic_store.snapshot(views))
            self._kept = list(views)
        except OSError as exc:
            log.warning("traffic rules in force not kept on disk: %s", exc)

    def wait(self, poller):
        """Wake the loop for the next timer: pid check, retry, a plugin call's end."""
        now = self.clock()
        times = [self.next_pid_check, self.lists.next_deadline()]
        times += [s.retry.at for s in self.bridges.values()]
        service.wake_at(poller, min(t for t in times if t is not None), now)

    def resync(self):
        for state in self.bridges.values():
            state.reset = True
            state.retry.trying()

    # -- what is wanted --------------------------------------------------------------
    def _format(self, cache):
        """The pool's format of VIF lists, or the InvalidValue refusing it (the same object
        while the pool's keys stay the same, so that the views it went into stay too)."""
        other = cache.pool().get("other_config", {})
        keys = (other.get(tr.OF_FORMAT_KEY), other.get(tr.OF_METHOD_KEY))
        if self._fmt is None or self._fmt[0] != keys:
            try:
                self._fmt = (keys, tr.of_format(other))
            except InvalidValue as exc:
                self._fmt = (keys, exc)
        return self._fmt[1]

    def _rules(self, cache, scope, record, fmt):
        text = record["other_config"].get(tr.RULES_KEY)
        xapi = self.lists.from_xapi(scope, record["uuid"], text, fmt)
        return xapi, self.lists.in_force(scope, record["uuid"], xapi)

    def _view(self, cache, bridge, names, iface, by_name, fmt):
        kind, dev = VIF_PORT_NAME.match(iface.name).groups()
        ids = iface.external_ids
        if not ids.get("xs-vif-uuid") and kind == "tap" and "vif" + dev in by_name:
            ids = by_name["vif" + dev].external_ids
        view = _PortView(bridge, iface, ids.get("xs-vif-uuid"))
        vif = cache.vif(view.vif_uuid) if view.vif_uuid else None
        if vif is None:
            view.note = "no VIF in XAPI for this port"
            if getattr(cache, "stored", False):     # unknown to the file: leave it be
                view.rules = traffic_lists.HELD
            return view
        network = cache.network(vif.get("network")) if vif.get("network") else None
        if network is None or network.get("bridge") not in names:
            view.note = "not on its network's bridge"
            return view
        view.network_uuid, view.network_bridge = network["uuid"], network["bridge"]
        view.mac = vif.get("MAC") or _valid_mac(ids.get("attached-mac"))
        vif_xapi, vif_rules = self._rules(cache, tr.SCOPE_VIF, vif, fmt)
        net_xapi, net_rules = self._rules(cache, tr.SCOPE_NETWORK, network, tr.FORMAT_PLUGIN)
        view.xapi = {tr.SCOPE_VIF: vif_xapi, tr.SCOPE_NETWORK: net_xapi}
        if traffic_lists.HELD in (vif_rules, net_rules):
            view.rules = traffic_lists.HELD
        else:
            view.in_force = {tr.SCOPE_VIF: vif_rules, tr.SCOPE_NETWORK: net_rules}
            view.rules = tr.in_force(vif_rules, net_rules)
        if view.mac is None and any(r.direction == tr.TO_VIF for r in view.rules or ()):
            view.note = "no MAC known: rules for traffic to the VM cannot bind"
        return view

    def _memo_view(self, cache, bridge, names, iface, by_name, fmt):
        """``_view``, or the same view again when nothing it reads has changed."""
        vif_uuid = iface.external_ids.get("xs-vif-uuid")
        kind, dev = VIF_PORT_NAME.match(iface.name).groups()
        partner = by_name.get("vif" + dev) if kind == "tap" else None
        if partner is not None and not vif_uuid:
            vif_uuid = partner.external_ids.get("xs-vif-uuid")
        vif = cache.vif(vif_uuid) if vif_uuid else None
        network = cache.network(vif.get("network")) if vif and vif.get("network") else None
        inputs = (bridge, iface, partner, vif, network, fmt, self.lists.version)
        old = self._views.get(iface.uuid)
        if old is not None and old[2] == names and all(a is b for a, b in zip(old[0], inputs)):
            return old[1]
        view = self._view(cache, bridge, names, iface, by_name, fmt)
        self._views[iface.uuid] = (inputs, view, names)
        return view

    def wanted(self, cache, switch):
        """``{bridge uuid: (Bridge, desired groups, kept cookies)}`` and the port views."""
        fmt = self._format(cache)
        result, views = {}, []
        for bridge in switch.bridges:
            ports = [switch.ports[p] for p in bridge.ports if p in switch.ports]
            names = {bridge.name} | {p.name for p in ports if p.fake_bridge}
            ifaces = [switch.interfaces[i] for p in ports for i in p.interfaces
                      if i in switch.interfaces and VIF_PORT_NAME.match(switch.interfaces[i].name)]
            by_name = {i.name: i for i in ifaces}
            port_rules, held = [], []
            for iface in sorted(ifaces, key=lambda i: i.name):
                view = self._memo_view(cache, bridge, names, iface, by_name, fmt)
                views.append(view)
                ofport = iface.ofport
                if view.rules is None or not isinstance(ofport, int) or \
                        not 1 <= ofport <= tf.MAX_OFPORT:
                    continue
                if view.rules == traffic_lists.HELD:
                    held.append((ofport, view.mac))
                    continue
                rules = view.rules if view.mac else [r for r in view.rules
                                                     if r.direction == tr.FROM_VIF]
                port_rules.append(tf.PortRules(ofport, view.mac or "00:00:00:00:00:00", rules))
            desired = tf.bridge_flows(port_rules, memo=self.memo)
            keep = _kept(held, port_rules)
            if held and tf.SHARED_COOKIE not in desired:
                keep.add(tf.SHARED_COOKIE)      # the held ports' flows may rely on it
            result[bridge.uuid] = (bridge, desired, keep)
        if len(self.memo) > 100000:
            self.memo.clear()
        if len(self._views) > len(views):
            present = {v.iface.uuid for v in views}
            self._views = {k: v for k, v in self._views.items() if k in present}
        return result, views

    # -- applying -------------------------------------------------------------------
    def sync(self, cache, switch):
        """Work out every bridge's flows and apply what changed; returns the failures."""
        wanted, self.views = self.wanted(cache, switch)
        self._forget(cache)
        for uuid in [u for u in self.bridges if u not in wanted]:
            del self.bridges[uuid]          # the bridge is gone, and its flows with it
        failures = {}
        now = self.clock()
        for uuid, (bridge, desired, keep) in sorted(wanted.items(), key=lambda w: w[1][0].name):
            state = self.bridges.get(uuid)
            if state is None or state.name != bridge.name:
                state = self.bridges[uuid] = _BridgeState(bridge.name, bridge.fail_mode,
                                                          self.clock)
            if state.fail_mode != bridge.fail_mode:
                state.fail_mode = bridge.fail_mode
                state.reset = True
            if state.retry.waiting(now):
                continue
            error = self._apply(state, desired, keep)
            if error is not None:
                failures[bridge.name] = error
        return failures

    def _apply(self, state, desired, keep):
        try:
            installed = state.installed
            if state.reset and keep:
                dump = self._dump(self.root, state.name, "cookie=" + tf.ALL_COOKIES)
                installed = {c: tf.UNKNOWN for c in tf.cookies_in_dump(dump)}
            lines = tf.bundle_lines(installed, desired, keep, state.reset)
            if lines:
                self._bundle(self.root, state.name, lines, timeout=10 + len(lines) / 500.0)
        except Error as exc:
            state.retry.refused()
            if state.error is None:
                log.warning("traffic rules on %s not applied (%s); retrying", state.name,
                            exc.message)
            state.error = exc.message
            return exc.message
        if state.error is not None:
            log.info("traffic rules on %s applied again", state.name)
        state.installed = dict(desired)
        state.installed.update((c, tf.UNKNOWN) for c in keep)
        state.reset = False
        state.retry.succeeded()
        state.error = None
        return None

    def _forget(self, cache):
        present = {(tr.SCOPE_VIF, r["uuid"]) for r in cache.tables["vif"].values()}
        present |= {(tr.SCOPE_NETWORK, r["uuid"]) for r in cache.tables["network"].values()}
        self.lists.forget(self.lists.known() - present)

def _valid_mac(value):
    try:
        return validate.mac(value) if value else None
    except InvalidValue:
        return None


def _kept(held, port_rules):
    """The cookies of held ports' groups (for the to-VM group, as bridge_flows names it)."""
    keep = set()
    macs = {}
    for ofport, mac in held:
        keep.add(tf.from_vif_cookie(ofport))
        if mac:
            macs[mac] = min(ofport, macs.get(mac, ofport))
    for port in port_rules:
        if port.mac in macs:
            macs[port.mac] = min(port.ofport, macs[port.mac])
    keep.update(tf.to_vif_cookie(first) for first in macs.values())
    return keep
