"""What XAPI's data says a NIC should be set to: its MTU and ethtool settings.

Values come from the PIF's merged other_config (pool -> network -> PIF) and
``network.MTU``.  An invalid value is logged and skipped, never fatal: the
NIC still comes up, with the driver's setting.  The MTU itself is applied by
whoever owns the device (OVS ``mtu_request`` for an OVS port, else
:func:`iproute.set_mtu`); the ethtool plan is plain data applied by
:func:`apply_ethtool`.
"""

from .. import validate
from ..system import ethtool
from ..errors import InvalidValue
from ..log import log

DEFAULT_MTU = 1500
OFFLOADS = ("rx", "tx", "sg", "tso", "ufo", "gso", "gro", "lro")
# Offloads that break forwarding through a bridge unless the administrator asks for them.
OFFLOAD_DEFAULTS = {"gro": "off", "lro": "off"}
DUPLEX = ("half", "full")
MAX_SPEED = 10000000   # Mb/s; ethtool takes any number and the driver refuses what it cannot do



def mtu(host_network, pif_ref):
    """Network.MTU, overridden by other_config ``mtu``; 1500 when neither; None if invalid."""
    other_config = host_network.other_config(pif_ref)
    if "mtu" in other_config:
        value, source = other_config["mtu"], "other_config mtu"
    else:
        network = host_network.network(host_network.pif(pif_ref)["network"])
        value, source = network.get("MTU") or str(DEFAULT_MTU), "network MTU"
    try:
        return validate.mtu(str(value).strip(), what=source)
    except InvalidValue as exc:
        log.warning("%s: ignoring %s", host_network.describe_pif(pif_ref), exc.message)
        return None


def _on_off(value, what):
    return "on" if validate.boolean(value, what=what) else "off"


def ethtool_plan(host_network, pif_ref, device):
    """Plain-data ethtool steps for NIC ``device`` of ``pif_ref``.

    ``("ethtool-s", dev, (word, ...))`` for speed/duplex/autoneg and
    ``("ethtool-K", dev, ((feature, "on"|"off"), ...))`` for offloads, gro
    and lro off unless other_config says otherwise.
    """
    device = validate.interface_name(device)
    other_config = host_network.other_config(pif_ref)
    where = host_network.describe_pif(pif_ref)
    checks = (
        ("speed", lambda v, w: str(validate.integer(v, 1, MAX_SPEED, what=w))),
        ("duplex", lambda v, w: validate.choice(v, DUPLEX, what=w)),
        ("autoneg", _on_off),
    )
    link = []
    for name, check in checks:
        key = "ethtool-" + name
        if key in other_config:
            try:
                link += [name, check(other_config[key], key)]
            except InvalidValue as exc:
                log.warning("%s: ignoring %s", where, exc.message)
    offloads = []
    for name in OFFLOADS:
        key = "ethtool-" + name
        value = OFFLOAD_DEFAULTS.get(name)
        if key in other_config:
            try:
                value = _on_off(other_config[key], key)
            except InvalidValue as exc:
                log.warning("%s: ignoring %s", where, exc.message)
        if value is not None:
            offloads.append((name, value))
    steps = []
    if link:
        steps.append(("ethtool-s", device, tuple(link)))
    if offloads:
        steps.append(("ethtool-K", device, tuple(offloads)))
    return steps


def apply_ethtool(root, steps):
    """Run the steps of :func:`ethtool_plan`; refused settings are logged, not fatal."""
    for step in steps:
        kind, device, settings = step
        if kind == "ethtool-s":
            ethtool.set_link(root, device, settings)
        elif kind == "ethtool-K":
            ethtool.set_offloads(root, device, settings)
        else:
            raise ValueError("not an ethtool step: %r" % (step,))
