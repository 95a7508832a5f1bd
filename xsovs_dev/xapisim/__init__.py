"""A XAPI simulator: XAPI's XML-RPC wire protocol for tests and the demo.

XAPI cannot run here, so this serves the slice of its API xsovs uses (pool,
host, PIF, network, VM, VIF, Bond, VLAN, tunnel, SDN_controller, sessions,
host.call_plugin, event.from) so that the real XenAPI client library is exercised end to
end. Development only; never installed on a host.

Python API::

    with Simulator("three-host") as sim:        # or Simulator(dict | path)
        session = XenAPI.Session(sim.url)        # sim.start(unix_path=...) for a socket
        session.xenapi.login_with_password("root", "")

See Simulator's docstring for the knobs (store, host_env, plugin_dirs,
host_plugin_dirs, python, plugin_calls, plugin_delay, ...).

Fixture format (JSON or a dict): one top-level key per class, each mapping
refs ("OpaqueRef:<anything>") to records::

    {"pool": {REF: {...}}, "host": {REF: {...}}, "PIF": {...}, "network": {...},
     "VM": {...}, "VIF": {...}, "Bond": {...}, "VLAN": {...}, "tunnel": {...},
     "SDN_controller": {...}}

- Fields left out take XAPI's defaults (schema.CLASSES); a missing uuid is
  generated; unknown classes or fields, and forward refs to missing objects,
  are errors. A missing "pool" key means one default pool.
- Back-references are derived, never read: host.PIFs, network.PIFs,
  PIF.VLAN (the tag, -1 when not a VLAN), PIF.VLAN_master_of/VLAN_slave_of,
  PIF.bond_master_of/bond_slave_of, PIF.tunnel_access_PIF_of/
  tunnel_transport_PIF_of, network.VIFs and VM.VIFs come from PIF.host,
  PIF.network, VIF.VM, VIF.network, Bond.master/
  slaves, VLAN.tagged_PIF/untagged_PIF, tunnel.access_PIF/transport_PIF.
  PIF.physical defaults to "not a VLAN, bond or tunnel PIF"; pool.master
  defaults to the first host.
- Values as in XAPI's API: ints may be ints or decimal strings, booleans are
  booleans, refs are strings, sets are lists, maps are string->string dicts.
- "SDN_controller": null models a legacy XAPI without that class: its
  methods answer MESSAGE_METHOD_UNKNOWN. A missing key means the class
  exists with no records (current XAPI).

builder.PoolBuilder builds such dicts in code; fixtures/one-host.json and
three-host.json are builder.one_host() and builder.three_host().
"""

from .builder import PoolBuilder
from .errors import XapiError
from .plugins import PluginCall, most_at_once
from .server import FIXTURES, REPO_ROOT, Simulator, fixture_names, fixture_path
from .store import Store

__all__ = [
    "FIXTURES", "REPO_ROOT", "PluginCall", "PoolBuilder", "Simulator", "Store",
    "XapiError", "fixture_names", "fixture_path", "most_at_once",
]
