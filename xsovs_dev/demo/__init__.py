"""``make demo``: one simulated XenServer host booting with xsovs, end to end.

    python -m xsovs_dev.demo [--break=cache]

Builds a host in a network namespace -- a veth NIC ``eth0`` to a peer
namespace (192.0.2.1/24), a private host root, the XAPI simulator with a
one-host pool whose SDN controller is the peer and whose fail mode is
``secure``, and the network cache the previous boot left -- then runs the
host's boot in order, each step a real program run as a host runs it:
``openvswitch-boot start`` (ovs-ctl, userspace datapath), ``interface-reconfigure
--force xenbr0 up`` (the management bridge from the cache, proved by a ping
to the peer), XAPI starting and ``openvswitch-xapi-update`` calling the
plugin's ``update`` through ``host.call_plugin``, a last ping to prove
the host stayed reachable, and the controller: it listens with TLS on the
peer (192.0.2.1:6632, certificates made with ``openssl`` for the run) and
sends its CA chain, so the host's ovsdb-server bootstraps the CA and keeps an
OVSDB session, over which the controller asks ``list_dbs``.  Then it prints
what the switch holds, read with the real ``ovs-vsctl``/``ovs-ofctl``, and
tears everything down -- also after a failed step, Ctrl-C or SIGTERM.

Root and network namespaces are needed (``make setup`` installs the rest).
The host's programs run under dom0's Python 3.6 (``.venv36``) when it is
there, else under this interpreter.

Exit status: 0 done; 1 a step failed (named, with its stderr's tail); 2 this
machine cannot run the demo, or a usage error; 130 / 143 interrupted by
SIGINT / SIGTERM.  ``--break=cache`` damages the network cache before the
boot (a truncated file, as a power cut mid-write would leave on a host
without fsync) to show a failing step.

Namespaces are named ``xsovs-demo-<pid>-host`` / ``-peer`` and every file
lives in one temporary directory ``xsovs-demo-<pid>-*`` (under ``$TMPDIR``),
so a test can check that nothing of a given run is left behind.
"""
