"""XAPI's ``firewall-port`` helper, for a host whose firewall is a network namespace.

As its contract is: ``open|close PORT [PROTOCOL]``, idempotent, its rules in a
chain of its own (``xapi-INPUT``) hooked into INPUT.  Written here for the
namespace's real iptables; a host has its own.  XAPI's plugin and xsovs both
open and close ports through it when the host has it.
"""

from xsovs_common import paths

SCRIPT = """#!/bin/sh
set -e
rule="-p ${3:-tcp} -m conntrack --ctstate NEW -m ${3:-tcp} --dport $2 -j ACCEPT"
ipt="ip netns exec %s iptables -w"
echo "$*" >> %s
case "$1" in
open)
    if ! $ipt -C xapi-INPUT $rule 2>/dev/null; then
        if $ipt -N xapi-INPUT 2>/dev/null; then
            $ipt -A xapi-INPUT -j RETURN
            $ipt -I INPUT -j xapi-INPUT
        fi
        $ipt -I xapi-INPUT $rule
    fi ;;
close)
    if $ipt -C xapi-INPUT $rule 2>/dev/null; then $ipt -D xapi-INPUT $rule; fi ;;
*) exit 1 ;;
esac
"""


def install(fake_root, namespace, log):
    """The helper at its host path under ``fake_root``, logging its calls to ``log``."""
    fake_root.write(paths.PROGRAMS["firewall-port"], SCRIPT % (namespace.name, log), mode=0o755)


def rules(namespace):
    """The helper's ACCEPT rules, as ``iptables -S`` prints them."""
    listing = namespace.run(["iptables", "-S", "xapi-INPUT"], check=False).stdout
    return [line for line in listing.splitlines() if "--dport" in line]


def open_ports(namespace):
    """The TCP/UDP ports the helper holds open, sorted."""
    return sorted(int(r.split("--dport ")[1].split()[0]) for r in rules(namespace))
