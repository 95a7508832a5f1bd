"""Build fixture dicts in code: small pools for tests, thousands of VLANs for benchmarks.

Refs and uuids are deterministic (class code + counter), so two builds of
the same pool are identical and bundled fixtures can be checked against
their builder recipe. Forward references only: the store derives the rest.

    fixture = (PoolBuilder()
               .host("host1")
               .physical_pif("eth0", "xenbr0", management=True,
                             ip="192.0.2.10/24", gateway="192.0.2.1", dns="192.0.2.53")
               .vlan("eth0", 100, "xapi2")
               .build())
"""

import ipaddress

_CODES = {"pool": 1, "host": 2, "PIF": 3, "network": 4, "Bond": 5, "VLAN": 6,
          "tunnel": 7, "SDN_controller": 8, "VM": 9, "VIF": 10}


class PoolBuilder:
    """Chainable builder; PIF-making calls apply to the host made last (or host=NAME)."""

    def __init__(self, name_label="pool", vswitch_controller="", other_config=None):
        self.tables = {cls: {} for cls in _CODES}
        self._count = dict.fromkeys(_CODES, 0)
        self._hosts = {}      # name -> ref
        self._networks = {}   # bridge -> ref
        self._pifs = {}       # (host ref, device, vlan tag) -> ref
        self._vms = {}        # name -> ref
        self._current = None
        self._sdn_absent = False
        self._new("pool", {"name_label": name_label, "vswitch_controller": vswitch_controller,
                           "other_config": dict(other_config or {})})

    # -- ids --------------------------------------------------------------
    def _new(self, cls, record, uuid=None, ref=None):
        self._count[cls] += 1
        n, code = self._count[cls], _CODES[cls]
        ref = ref or "OpaqueRef:%08x-aaaa-4aaa-aaaa-%012x" % (code, n)
        uuid = uuid or "%08x-0000-4000-8000-%012x" % (code, n)
        self.tables[cls][ref] = record = dict({"uuid": uuid}, **record)
        return ref

    def _mac(self):
        n = self._count["PIF"] + 1
        return "02:00:%02x:%02x:%02x:%02x" % (n >> 24 & 255, n >> 16 & 255, n >> 8 & 255, n & 255)

    # -- lookups ------------------------------------------------------------
    def host_ref(self, name):
        return self._hosts[name]

    def host_uuid(self, name):
        return self.tables["host"][self._hosts[name]]["uuid"]

    def network_ref(self, bridge):
        return self._networks[bridge]

    def pif_ref(self, device, host=None, vlan=-1):
        """The ref of a PIF by device (and VLAN tag for VLAN PIFs)."""
        return self._pifs[(self._host(host), device, vlan)]

    def _host(self, name):
        if name is not None:
            return self._hosts[name]
        if self._current is None:
            raise ValueError("add a host first")
        return self._current

    # -- objects ------------------------------------------------------------
    def pool(self, **fields):
        """Set pool fields (name_label, vswitch_controller, other_config)."""
        next(iter(self.tables["pool"].values())).update(fields)
        return self

    def host(self, name, uuid=None, address="", hostname=None, ref=None):
        """Add a host and make it the current one."""
        ref = self._new("host", {"name_label": name, "hostname": hostname or name,
                                 "address": address}, uuid, ref)
        self._hosts[name] = self._current = ref
        return self

    def vm_ref(self, name):
        return self._vms[name]

    def network(self, bridge, name_label=None, mtu=1500, other_config=None, uuid=None,
                default_locking_mode=None):
        """Add (or return) the pool-wide network with this bridge."""
        if bridge not in self._networks:
            record = {"name_label": name_label or bridge, "bridge": bridge, "MTU": mtu,
                      "other_config": dict(other_config or {})}
            if default_locking_mode is not None:
                record["default_locking_mode"] = default_locking_mode
            self._networks[bridge] = self._new("network", record, uuid)
        return self

    def vm(self, name, host=None, power_state="Running", domid=-1, template=False,
           other_config=None, uuid=None):
        """Add a VM (resident on ``host`` when given)."""
        self._vms[name] = self._new("VM", {
            "name_label": name, "power_state": power_state, "domid": domid,
            "is_a_template": template, "other_config": dict(other_config or {}),
            "resident_on": self._hosts[host] if host else "OpaqueRef:NULL"}, uuid)
        return self

    def vif(self, vm, bridge, device="0", mac=None, locking_mode="network_default",
            ipv4_allowed=(), ipv6_allowed=(), other_config=None, uuid=None):
        """Add a VIF of VM ``vm`` on the network of ``bridge`` (made when new)."""
        self.network(bridge)
        n = self._count["VIF"] + 1
        self._new("VIF", {
            "VM": self._vms[vm], "network": self._networks[bridge], "device": device,
            "MAC": mac or "02:01:%02x:%02x:%02x:%02x" % (
                n >> 24 & 255, n >> 16 & 255, n >> 8 & 255, n & 255),
            "locking_mode": locking_mode, "ipv4_allowed": list(ipv4_allowed),
            "ipv6_allowed": list(ipv6_allowed), "other_config": dict(other_config or {})}, uuid)
        return self

    def _pif(self, host, device, bridge, vlan=-1, mac=None, management=False, mode="None",
             ip=None, gateway="", dns="", mtu=1500, other_config=None, attached=True,
             uuid=None, **extra):
        host_ref = self._host(host)
        self.network(bridge)
        addr, mask = "", ""
        if ip:
            iface = ipaddress.ip_interface(ip)
            addr, mask = str(iface.ip), str(iface.netmask)
        record = {"host": host_ref, "device": device, "MAC": mac or self._mac(),
                  "network": self._networks[bridge], "management": management,
                  "ip_configuration_mode": mode, "IP": addr, "netmask": mask,
                  "gateway": gateway, "DNS": dns, "currently_attached": attached,
                  "MTU": mtu, "other_config": dict(other_config or {})}
        record.update(extra)
        ref = self._new("PIF", record, uuid)
        self._pifs[(host_ref, device, vlan)] = ref
        return ref

    def physical_pif(self, device, bridge, host=None, ip=None, mode=None, **kw):
        """A NIC on the current host; ip='a.b.c.d/len' implies mode Static."""
        mode = mode or ("Static" if ip else "None")
        self._pif(host, device, bridge, ip=ip, mode=mode, **kw)
        return self

    def vlan(self, device, tag, bridge, host=None, **kw):
        """A VLAN PIF (same device name as XAPI gives it) on top of PIF `device`."""
        tagged = self.pif_ref(device, host)
        untagged = self._pif(host, device, bridge, vlan=tag, **kw)
        self._new("VLAN", {"tagged_PIF": tagged, "untagged_PIF": untagged, "tag": tag})
        return self

    def bond(self, device, slaves, bridge, host=None, mode="balance-slb",
             other_config=None, pif_other_config=None, **kw):
        """A bond master PIF `device` over the slave PIFs (by device name)."""
        slave_refs = [self.pif_ref(s, host) for s in slaves]
        kw.setdefault("mac", self.tables["PIF"][slave_refs[0]]["MAC"])
        master = self._pif(host, device, bridge, other_config=pif_other_config, **kw)
        self._new("Bond", {"master": master, "slaves": slave_refs, "mode": mode,
                           "other_config": dict(other_config or {})})
        return self

    def tunnel(self, transport, bridge, device="tunnel0", host=None, protocol="gre",
               status=None, **kw):
        """A tunnel: access PIF `device` on `bridge`, carried by PIF `transport`."""
        transport_ref = self.pif_ref(transport, host)
        access = self._pif(host, device, bridge, **kw)
        self._new("tunnel", {"access_PIF": access, "transport_PIF": transport_ref,
                             "protocol": protocol, "status": dict(status or {"active": "false"})})
        return self

    def sdn_controller(self, protocol="ssl", address="", port=6632):
        self._new("SDN_controller", {"protocol": protocol, "address": address, "port": port})
        return self

    def without_sdn_controller_class(self):
        """Model a legacy XAPI that has no SDN_controller class at all."""
        self._sdn_absent = True
        return self

    def build(self):
        """The fixture dict (shares no state with the builder)."""
        out = {cls: {ref: dict(rec) for ref, rec in table.items()}
               for cls, table in self.tables.items() if table or cls not in ("VM", "VIF")}
        if self._sdn_absent:
            out["SDN_controller"] = None
        return out


def one_host():
    """The recipe of fixtures/one-host.json."""
    return (PoolBuilder()
            .host("host1", address="192.0.2.10")
            .physical_pif("eth0", "xenbr0", management=True, ip="192.0.2.10/24",
                          gateway="192.0.2.1", dns="192.0.2.53")
            .physical_pif("eth1", "xenbr1")
            .build())


def three_host():
    """The recipe of fixtures/three-host.json."""
    b = PoolBuilder()
    for n in (1, 2, 3):
        address = "192.0.2.1%d" % n
        b.host("host%d" % n, address=address)
        b.physical_pif("eth0", "xenbr0", management=True, ip=address + "/24",
                       gateway="192.0.2.1", dns="192.0.2.53")
        b.physical_pif("eth1", "xenbr1")
        b.physical_pif("eth2", "xenbr2")
        if n == 2:
            b.bond("bond0", ["eth1", "eth2"], "xapi1", mode="active-backup",
                   pif_other_config={"bond-mode": "active-backup", "bond-miimon": "100"})
        else:
            b.bond("bond0", ["eth1", "eth2"], "xapi1")
        b.vlan("eth0", 100, "xapi2")
        b.vlan("bond0", 200, "xapi3")
        b.tunnel("eth0", "xapi4")
    return b.build()
