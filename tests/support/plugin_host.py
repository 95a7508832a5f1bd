"""A simulated host for the plugin's tests: XAPI simulator, real OVSDB, fake root.

The plugin runs as XAPI runs it: the simulator's ``host.call_plugin`` execs
``xapi.d/plugins/openvswitch-cfg-update`` from this tree with an XML-RPC
methodCall -- found under the host's ``/etc/xapi.d/plugins`` by both names,
the historical one and current XAPI's, as the RPM links them -- and the
host's environment points it at the fake root and the test's ovsdb-server.
Its bridges are built as interface-reconfigure builds them, plus one bridge
XAPI does not know.
"""

import contextlib
import json

import pytest
import XenAPI

from xsovs_common import paths
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

PLUGIN = "openvswitch-cfg-update"
NEW_PLUGIN = "openvswitch-config-update"
BOND_OTHER_CONFIG = {"bond-miimon-interval": "70", "bond-detect-mode": "carrier",
                     "bond-rebalance-interval": "1800000"}


def one_host(**pool):
    """host1: eth0 (management, xenbr0, VLAN 100 on xapi2), eth1 (xenbr1), bond0 (xapi1)."""
    builder = PoolBuilder(**pool).host("host1", address="192.0.2.10")
    builder.physical_pif("eth0", "xenbr0", management=True, ip="192.0.2.10/24")
    builder.physical_pif("eth1", "xenbr1")
    builder.physical_pif("eth2", "xenbr2")
    builder.physical_pif("eth3", "xenbr3")
    builder.bond("bond0", ["eth2", "eth3"], "xapi1", pif_other_config={"bond-miimon": "70"})
    builder.vlan("eth0", 100, "xapi2")
    return builder


def build_bridges(ovs):
    """The host's bridges as interface-reconfigure leaves them, and a foreign one."""
    bond = ["other_config:%s=%s" % kv for kv in sorted(BOND_OTHER_CONFIG.items())]
    ovs.vsctl("add-br", "xenbr0", "--", "add-port", "xenbr0", "eth0",
              "--", "add-br", "xapi2", "xenbr0", "100",
              "--", "add-br", "xenbr1", "--", "add-port", "xenbr1", "eth1",
              "--", "add-br", "xapi1", "--", "add-bond", "xapi1", "bond0", "eth2", "eth3",
              "--", "set", "Port", "bond0", *bond,
              "--", "add-br", "foreign", "--", "add-port", "foreign", "eth9",
              "--", "set", "Bridge", "foreign", "fail_mode=secure",
              "other_config:disable-in-band=true")


def ovsdb_state(ovs):
    """Everything the plugin may change, as ovs-vsctl prints it."""
    return [ovs.vsctl("--format=json", "--columns=name,fail_mode,other_config,external_ids",
                      "list", "Bridge"),
            ovs.vsctl("--format=json", "--columns=name,other_config,external_ids", "list",
                      "Port"),
            ovs.vsctl("get-manager"), ovs.vsctl("get-ssl")]


class Host:
    """One host of the simulated pool, and a XAPI session on the pool."""

    def __init__(self, sim, host_uuid, ovs, fake_root):
        self.sim, self.uuid, self.ovs, self.root = sim, host_uuid, ovs, fake_root
        self.ref = sim.store.by_uuid("host", host_uuid)
        fake_root.write_inventory(host_uuid)
        # Every XAPI host has its key and certificate (made at first boot).
        fake_root.write(paths.XAPI_SSL_PEM, "XAPI's key and certificate\n", mode=0o600)
        fake_root.stub_program("iptables")
        fake_root.link_program("ovs-ofctl")
        sim.host_env[host_uuid] = {"XSOVS_ROOT": fake_root.path, "OVS_RUNDIR": ovs.rundir}
        sim.host_plugin_dirs[host_uuid] = [fake_root.install_plugin()]
        self.session = client.session(sim.url)
        self.session.xenapi.login_with_password("root", "")
        self.x = self.session.xenapi

    def call(self, fn, args=None, plugin=PLUGIN):
        return self.x.host.call_plugin(self.ref, plugin, fn, args or {})

    def failure(self, fn, args=None, plugin=PLUGIN):
        with pytest.raises(XenAPI.Failure) as info:
            self.call(fn, args, plugin)
        return info.value.details

    def status(self):
        return json.loads(self.call("status"))

    def last_result(self):
        """The outcome of the plugin's last run on this host (XAPI ran it itself)."""
        calls = [c for c in self.sim.plugin_calls if c.host_uuid == self.uuid]
        return calls[-1].outcome

    def get(self, table, record, column):
        return self.ovs.get(table, record, column)

    def other_config(self, table, record, key):
        return self.ovs.vsctl("--if-exists", "get", table, record,
                              "other_config:" + key).strip().strip('"')

    def cacert(self):
        return self.root.file(paths.VSWITCHD_CACERT)

    def close(self):
        try:
            self.x.session.logout()
        except Exception:
            pass


@contextlib.contextmanager
def simulated_host(ovs, fake_root, builder=None):
    """host1 of ``builder`` (default: :func:`one_host`) with its bridges built, as a Host."""
    builder = builder or one_host()
    with Simulator(builder.build()) as sim:
        build_bridges(ovs)
        host = Host(sim, builder.host_uuid("host1"), ovs, fake_root)
        try:
            yield host
        finally:
            host.close()
