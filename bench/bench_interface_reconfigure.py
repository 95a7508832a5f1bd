"""interface-reconfigure at boot, and rewrite, on hosts with thousands of VLANs.

Caches of N PIFs (two NICs, the rest VLANs on them), N = 100, 1000, 4000:

- ``--force xenbr0 up``: the in-process action (read the cache, plan,
  one OVSDB transaction against a dummy ovs-vswitchd, programs that exit at
  once), from an empty switch each time;
- rewrite's work: render and write the cache, and plan ``xs-network-uuids``
  for a switch holding every bridge.

Growth must be linear (t(4000) / t(1000) <= 4.5) and ``up`` under 1 s at
4000.  For comparison, the historical tool's way of reading the cache
(minidom, walking every element) and of writing it (a minidom document,
``toprettyxml``), measured here on the same files -- our own code, not
the historical one.
"""

import os
import shutil
import tempfile
import time
from xml.dom import minidom

from tests.support.switch_state import snapshot
from xsovs_common import paths
from xsovs_common.actions import interface_reconfigure
from xsovs_common.net import dbcache, netconfig
from xsovs_common.net.model import DEFAULTS, HostNetwork
from xsovs_dev import ovs
from xsovs_dev.fakeroot import FakeRoot

SIZES = (100, 1000, 4000)
REPEAT = 7
HOST_UUID = "5f1c8ab2-0c47-4a8e-9d0b-0000000000be"


def host_network(n):
    """eth0 (management, static) and eth1, and n - 2 VLAN PIFs spread over them."""
    pifs, networks, vlans = {}, {}, {}

    def add(ref, device, bridge, mac, **fields):
        net = "OpaqueRef:net-" + ref
        record = dict(DEFAULTS["pif"])
        record.update(uuid="%08x-0000-4000-8000-000000000001" % len(pifs), device=device,
                      MAC=mac, network=net, VLAN_slave_of=[], bond_master_of=[],
                      tunnel_access_PIF_of=[], tunnel_transport_PIF_of=[], IP="", netmask="",
                      gateway="", DNS="", IPv6=[], ipv6_gateway="", other_config={})
        record.update(fields)
        pifs["OpaqueRef:" + ref] = record
        networks[net] = {"uuid": "%08x-1111-4000-8000-000000000001" % len(networks),
                         "bridge": bridge, "MTU": "1500", "PIFs": ["OpaqueRef:" + ref],
                         "other_config": {}}

    add("eth0", "eth0", "xenbr0", "02:00:00:00:00:01", management=True,
        ip_configuration_mode="Static", IP="192.0.2.10", netmask="255.255.255.0",
        gateway="192.0.2.1", DNS="192.0.2.53")
    add("eth1", "eth1", "xenbr1", "02:00:00:00:00:02")
    for i in range(n - 2):
        nic = "eth%d" % (i % 2)
        tag = 2 + i // 2
        vlan = "OpaqueRef:vlan%d" % i
        add("v%d" % i, nic, "xapi%d" % i, pifs["OpaqueRef:" + nic]["MAC"], VLAN=str(tag),
            VLAN_master_of=vlan)
        pifs["OpaqueRef:" + nic]["VLAN_slave_of"].append(vlan)
        vlans[vlan] = {"uuid": "v%d" % i, "tagged_PIF": "OpaqueRef:" + nic,
                       "untagged_PIF": "OpaqueRef:v%d" % i, "tag": str(tag)}
    return HostNetwork(pifs, networks, {}, vlans, {}, {"OpaqueRef:pool": {"other_config": {}}})


def live_switch(hn):
    """A Snapshot of every bridge of ``hn`` up (two real bridges, the rest fake)."""
    bridges = {"xenbr0": {"ports": {"eth0": ["eth0"]}, "fakes": {}},
               "xenbr1": {"ports": {"eth1": ["eth1"]}, "fakes": {}}}
    for ref, pif in hn.pifs.items():
        if hn.is_vlan(ref):
            parent = "xenbr0" if pif["device"] == "eth0" else "xenbr1"
            bridges[parent]["fakes"][hn.bridge(ref)] = int(pif["VLAN"])
    return snapshot(bridges)


def historical_read(path):
    """Parse with minidom and visit every field's text, as the historical reader did."""
    document = minidom.parse(path)
    records = 0
    for element in document.documentElement.childNodes:
        if element.nodeType != element.ELEMENT_NODE:
            continue
        records += 1
        for field in element.childNodes:
            if field.nodeType == field.ELEMENT_NODE:
                "".join(node.data for node in field.childNodes if node.nodeType == node.TEXT_NODE)
    return records


def historical_write(hn, path):
    """Build a minidom document of the same records and write it with toprettyxml."""
    document = minidom.getDOMImplementation().createDocument(
        None, dbcache.ROOT_TAG, None)
    top = document.documentElement
    for tag, attr in dbcache.SECTIONS:
        for ref, record in getattr(hn, attr).items():
            element = document.createElement(tag)
            element.setAttribute("ref", ref)
            top.appendChild(element)
            for field, value in record.items():
                child = document.createElement(field)
                element.appendChild(child)
                if isinstance(value, dict):
                    for key, item in value.items():
                        sub = document.createElement(key)
                        sub.appendChild(document.createTextNode(item))
                        child.appendChild(sub)
                elif isinstance(value, list):
                    for item in value:
                        sub = document.createElement("item")
                        sub.appendChild(document.createTextNode(item))
                        child.appendChild(sub)
                else:
                    child.appendChild(document.createTextNode(str(value)))
    with open(path, "w") as handle:
        handle.write(document.toprettyxml())


class Case:
    """One cache size: its fake root, model and the timed pieces of work."""

    def __init__(self, switch, workdir, n):
        self.n = n
        fake = FakeRoot(os.path.join(workdir, "root%d" % n), host_uuid=HOST_UUID)
        fake.configure(ovs_rundir=switch.rundir)   # OVS_RUNDIR of an executable
        for name in ("ip", "ethtool", "dhclient", "sysctl", "update-issue"):
            fake.link_program(name, target="/bin/true")
        fake.link_program("ovs-ofctl")
        self.hn = host_network(n)
        self.cache = fake.file(paths.NETWORK_DBCACHE)
        dbcache.write(self.cache, self.hn)
        self.size = os.path.getsize(self.cache)
        live = live_switch(self.hn)

        def rewrite_work():
            os.unlink(self.cache)
            dbcache.write(self.cache, self.hn)
            return netconfig.network_uuid_changes(self.hn, live)

        self.work = {
            "up": (lambda: interface_reconfigure.force_action(fake.root, "xenbr0", "up"),
                   switch.reset),
            "read": (lambda: dbcache.read(self.cache), None),
            "rewrite": (rewrite_work, None),
            "minidom read": (lambda: historical_read(self.cache), None),
            "minidom write": (lambda: historical_write(self.hn, self.cache + ".old"), None),
        }
        self.best = {}

    def time(self, name):
        function, setup = self.work[name]
        if setup:
            setup()
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        self.best[name] = min(self.best.get(name, elapsed), elapsed)


def main():
    reason = ovs.available()
    if reason:
        print("skipped: " + reason)
        return
    workdir = tempfile.mkdtemp(prefix="bench-ifr-")
    switch = ovs.OvsInstance(os.path.join(workdir, "ovs"), vswitchd="dummy").start()
    try:
        cases = {n: Case(switch, workdir, n) for n in SIZES}
        # Sizes interleaved, best of REPEAT: a busy machine slows every size alike.
        for repeat in range(REPEAT):
            for case in cases.values():
                for name in ("up", "read", "rewrite"):
                    case.time(name)
                if repeat < 2:
                    case.time("minidom read")
                    case.time("minidom write")
        for n, case in sorted(cases.items()):
            b = case.best
            print("N=%5d  cache %5d KiB  up %7.1f ms (cache read %6.1f ms)  rewrite %7.1f ms"
                  "  | historical: minidom read %7.1f ms, write %7.1f ms (%.1fx, %.1fx)"
                  % (n, case.size // 1024, b["up"] * 1e3, b["read"] * 1e3, b["rewrite"] * 1e3,
                     b["minidom read"] * 1e3, b["minidom write"] * 1e3,
                     b["minidom read"] / b["read"], b["minidom write"] / b["rewrite"]))
        for name in ("up", "rewrite"):
            big, small = cases[4000].best[name], cases[1000].best[name]
            verdict = "ok" if big / small <= 4.5 and big < 1.0 else "TOO SLOW"
            print("%-8s t(4000)/t(1000) = %.2f (limit 4.5), t(4000) = %.0f ms (limit 1000): %s"
                  % (name, big / small, big * 1e3, verdict))
    finally:
        switch.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
