"""A directory that stands in for a XenServer host's root file system.

Every xsovs executable resolves files and programs under its root prefix, so
a test builds one of these: the inventory and network.conf a host has, real
programs linked in where the test wants the real thing, and stub programs that
record their argv (one JSON list per line) where it does not.
"""

import json
import os
import shutil
import sys

from xsovs_common import paths
from xsovs_dev.xapisim import REPO_ROOT

STUB = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\\n")
sys.stdout.write({stdout!r})
sys.exit({status})
"""


# Where XAPI finds its host plugins, and the names it calls xsovs's by: the
# historical one, and current XAPI's.
PLUGIN_DIR = "/etc/xapi.d/plugins"
PLUGIN_NAMES = ("openvswitch-cfg-update", "openvswitch-config-update")


class FakeRoot:
    def __init__(self, path, host_uuid=None, backend="openvswitch"):
        self.path = os.path.abspath(path)
        self.settings = {}
        self.root = paths.Root(self.path)
        self.calls_log = os.path.join(self.path, "stub-calls.log")
        os.makedirs(self.path, exist_ok=True)
        if host_uuid is not None:
            self.write_inventory(host_uuid)
        if backend is not None:
            self.write(paths.NETWORK_CONF, backend + "\n")

    def configure(self, **settings):
        """Give ``root`` host settings (``xapi_url``, ``ovs_rundir``, ... of
        :class:`paths.Root`), as a program's start reads them from its environment."""
        self.settings.update(settings)
        self.root = paths.Root(self.path, **self.settings)
        return self.root

    def file(self, host_path):
        return self.root.path(host_path)

    def write(self, host_path, text, mode=0o644):
        real = self.file(host_path)
        os.makedirs(os.path.dirname(real), exist_ok=True)
        with open(real, "w") as handle:
            handle.write(text)
        os.chmod(real, mode)
        return real

    def read(self, host_path):
        with open(self.file(host_path)) as handle:
            return handle.read()

    def exists(self, host_path):
        return os.path.exists(self.file(host_path))

    def write_inventory(self, host_uuid, brand="XCP-ng", version="8.3.0", build="release",
                        management_interface=None):
        """The inventory; ``management_interface``: its MANAGEMENT_INTERFACE (the
        management PIF's bridge, as XAPI writes it), none by default."""
        text = ("PRODUCT_BRAND='%s'\nPRODUCT_VERSION='%s'\nBUILD_NUMBER='%s'\n"
                "INSTALLATION_UUID='%s'\n" % (brand, version, build, host_uuid))
        if management_interface is not None:
            text += "MANAGEMENT_INTERFACE='%s'\n" % management_interface
        self.write(paths.INVENTORY, text)

    def link_program(self, name, target=None):
        """Put the real program ``name`` (a key of paths.PROGRAMS) in the tree."""
        real = self.file(paths.PROGRAMS[name])
        target = target or shutil.which(os.path.basename(paths.PROGRAMS[name])) \
            or paths.PROGRAMS[name]
        os.makedirs(os.path.dirname(real), exist_ok=True)
        if os.path.lexists(real):
            os.unlink(real)
        os.symlink(target, real)
        return real

    def install_plugin(self):
        """This tree's XAPI plugin in the host's plugin directory, under the
        historical name and current XAPI's, as the RPM links them; returns
        the directory (the simulator's plugin directory for this host)."""
        source = str(REPO_ROOT / "xapi.d" / "plugins" / PLUGIN_NAMES[0])
        plugins = self.file(PLUGIN_DIR)
        os.makedirs(plugins, exist_ok=True)
        for name in PLUGIN_NAMES:
            if not os.path.lexists(os.path.join(plugins, name)):
                os.symlink(source, os.path.join(plugins, name))
        return plugins

    def netns_program(self, name, netns, target=None):
        """The real program ``name``, run inside network namespace ``netns``."""
        target = target or shutil.which(os.path.basename(paths.PROGRAMS[name])) \
            or paths.PROGRAMS[name]
        script = "#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (netns, target)
        return self.write(paths.PROGRAMS[name], script, mode=0o755)

    def stub_program(self, name, stdout="", status=0):
        """A program that records its argv in ``calls_log`` and prints ``stdout``."""
        return self.write(paths.PROGRAMS[name],
                          STUB.format(python=sys.executable, log=self.calls_log,
                                      stdout=stdout, status=status), mode=0o755)

    def calls(self, name=None):
        """The recorded argv lists, optionally only those of program ``name``."""
        if not os.path.exists(self.calls_log):
            return []
        with open(self.calls_log) as handle:
            calls = [json.loads(line) for line in handle if line.strip()]
        wanted = os.path.basename(paths.PROGRAMS[name]) if name else None
        return [c for c in calls if wanted is None or c[0] == wanted]
