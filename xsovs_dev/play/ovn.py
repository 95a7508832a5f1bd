"""``play up --ovn``: the play pool as one OVN deployment, with a central of its own.

- The **central** (:mod:`xsovs_dev.ovn.central`: NB and SB 3-member Raft
  clusters, ``ovn-northd``) runs on loopback under ``DIR/ovn-central``.
- The **fixture** the simulator serves is the chosen one plus what makes the
  pool OVN's: the pool's ``xsovs:ovn-sb`` and ``xsovs:ovn-nb`` (the central's
  remotes) and one private network, bridge ``xapi9``, with ``xsovs:ovn=true``
  (written as ``DIR/fixture.json``).
- Each **host** root gets the real ``ovn-ctl`` and ``ovn-controller``; once
  the PIFs are plugged XAPI runs the plugin's ``update`` on every host, which
  makes it a chassis and starts ``ovn-controller`` (dummy datapath, like the
  rest of the play switch).
- ``ovn-xapi-sync`` runs for the pool (from the first host's root), so NB gets
  the network's logical switch.

``OVN_NB_DB`` and ``OVN_SB_DB`` are exported, so ``ovn-nbctl show`` and
``ovn-sbctl show`` look at the pool's central.
"""

import json
import os

from xsovs_common import paths
from xsovs_common.net import ovn
from xsovs_dev import ovs
from xsovs_dev.ovn import central as centralmod
from xsovs_dev.ovn_sync_run import OvnSyncDaemon
from xsovs_dev.xapi_sync_run import wait_for
from xsovs_dev.xapisim import Simulator, client

NETWORK = {"bridge": "xapi9", "name_label": "OVN private network",
           "uuid": "00000003-0000-4000-8000-0000000000f9",
           "other_config": {ovn.NETWORK_OVN: "true"}}
PROGRAMS = ("ovn-ctl", "ovn-controller")
PLUGIN = "openvswitch-cfg-update"


def unavailable():
    """Why ``--ovn`` cannot run here, or None."""
    return centralmod.available()


def start_central(directory):
    """The central, started; its state entry and the pids to record."""
    central = centralmod.OvnCentral(os.path.join(directory, "ovn-central")).start()
    entry = {"nb": central.nb_remote, "sb": central.sb_remote}
    return entry, [proc.pid for proc in central.processes()]


def fixture(directory, name, entry):
    """The fixture ``name`` with the pool's OVN keys and an OVN network, as a file."""
    tables = Simulator(name).store.to_fixture()
    for record in tables["pool"].values():
        record.setdefault("other_config", {}).update(
            {ovn.POOL_SB: entry["sb"], ovn.POOL_NB: entry["nb"]})
    tables["network"]["OpaqueRef:play-ovn-network"] = dict(NETWORK)
    path = os.path.join(directory, "fixture.json")
    with open(path, "w") as handle:
        json.dump(tables, handle, indent=2, sort_keys=True)
    return path


def prepare_root(root):
    """The OVN host package's programs in a host root."""
    for name in PROGRAMS:
        root.link_program(name)


def make_chassis(url, hosts):
    """XAPI runs ``update`` on every host: each becomes a chassis."""
    session = client.session(url)
    session.xenapi.login_with_password("root", "")
    try:
        for host in hosts:
            ref = session.xenapi.host.get_by_uuid(host["uuid"])
            session.xenapi.host.call_plugin(ref, PLUGIN, "update", {})
    finally:
        session.xenapi.session.logout()


def start_nb_sync(directory, root_path, url, python, timeout=60):
    """``ovn-xapi-sync`` for the pool, from the first host's root, until NB is in step
    with XAPI (so ``up`` leaves a settled pool); its pid."""
    daemon = OvnSyncDaemon(os.path.join(directory, "ovn-xapi-sync"), root_path, url,
                           python=python).start()
    if not wait_for(lambda: (daemon.status() or {}).get("in_step"), timeout=timeout,
                    interval=0.2):
        raise RuntimeError("ovn-xapi-sync did not bring NB in step within %ds; see %s"
                           % (timeout, daemon.log_file))
    return daemon.proc.pid


def stop_controllers(state):
    """ovn-controller's monitors and daemons on every host, before the rest goes."""
    for host in state.get("hosts", []):
        ovs.kill_daemons(host["root"] + paths.OVN_RUNDIR)


def exports(state):
    """What ``env`` exports for the central: the variables ovn-nbctl and ovn-sbctl read."""
    entry = state.get("ovn")
    if not entry:
        return {}
    return {"OVN_NB_DB": entry["nb"], "OVN_SB_DB": entry["sb"]}
