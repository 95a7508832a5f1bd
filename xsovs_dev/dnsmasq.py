"""A DHCP (and router advertisement) server in a test namespace: real dnsmasq.

DNS is off (``--port=0``), so dnsmasq offers no name servers and a client's
dhclient-script never rewrites the machine's /etc/resolv.conf.  The serving
veth gets ``ethtool -K tx off``: veth leaves UDP checksums to offload, and
dhclient drops replies whose checksum was never filled in.
"""

import os
import shutil
import subprocess
import time



def unavailable_reason():
    for program in ("dnsmasq", "dhclient", "ethtool"):
        if shutil.which(program) is None:
            return "%s is not installed (run make setup)" % program
    return None


class Dnsmasq:
    """dnsmasq serving ``interface`` of namespace ``ns`` (a netns.Namespace).

    ``ranges``: ``--dhcp-range`` values, e.g. ``"192.0.2.50,192.0.2.60,255.255.255.0"``,
    ``"2001:db8::100,2001:db8::1ff,64"``, ``"2001:db8::,ra-only"``.
    """

    def __init__(self, ns, interface, ranges, directory, extra=()):
        self.ns = ns
        self.interface = interface
        self.ranges = list(ranges)
        self.directory = directory
        self.extra = list(extra)
        self.proc = None

    def start(self):
        self.ns.run(["ethtool", "-K", self.interface, "tx", "off"])
        argv = ["ip", "netns", "exec", self.ns.name, shutil.which("dnsmasq"),
                "--keep-in-foreground", "--no-hosts", "--no-resolv", "--port=0",
                "--conf-file=/dev/null", "--bind-interfaces", "--interface=" + self.interface,
                "--dhcp-leasefile=" + os.path.join(self.directory, "dnsmasq.leases"),
                "--pid-file=" + os.path.join(self.directory, "dnsmasq.pid"),
                "--log-facility=" + os.path.join(self.directory, "dnsmasq.log")]
        if any("ra-" in r or "slaac" in r for r in self.ranges):
            argv.append("--enable-ra")
        argv += ["--dhcp-range=" + r for r in self.ranges] + self.extra
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 5
        while not os.path.exists(os.path.join(self.directory, "dnsmasq.pid")):
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq failed: %s" % self.proc.stderr.read().decode())
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("dnsmasq did not start")
            time.sleep(0.02)
        return self

    def leases(self):
        path = os.path.join(self.directory, "dnsmasq.leases")
        return open(path).read() if os.path.exists(path) else ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
