"""``play up --ovn``: the play pool on an OVN central of its own (xsovs_dev.play.ovn)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from xsovs_dev import ovs
from xsovs_dev.ovn import central
from xsovs_dev.play.ovn import NETWORK
from xsovs_dev.skips import need
from xsovs_dev.xapisim import REPO_ROOT


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OVS_", "XSOVS_", "PYTHON", "OVN_"))}
    env.update(extra)
    return env


def play(*args, env=None):
    return subprocess.run([sys.executable, "-m", "xsovs_dev.play"] + list(args),
                          cwd=str(REPO_ROOT), env=env or _env(), capture_output=True,
                          text=True, timeout=300)


def test_up_ovn_gives_a_central_and_three_chassis_and_down_takes_it_all(tmp_path):
    need(ovs.available())
    need(central.available())
    parent = tempfile.mkdtemp(prefix="xsovs-play-ovn-")
    directory = os.path.join(parent, "pool")
    try:
        result = play("up", "--ovn", "--dir", directory)
        assert result.returncode == 0, result.stderr
        exports = dict(line[len("export "):].split("=", 1)
                       for line in result.stdout.splitlines() if line.startswith("export "))
        hosts = dict(line.split()[1:3] for line in result.stdout.splitlines()
                     if line.startswith("# "))
        env = _env(OVN_NB_DB=exports["OVN_NB_DB"], OVN_SB_DB=exports["OVN_SB_DB"],
                   XSOVS_XAPI_URL=exports["XSOVS_XAPI_URL"])
        assert exports["OVN_SB_DB"].startswith("tcp:127.0.0.1:")

        def sbctl(*args):
            return subprocess.run(["ovn-sbctl", "--timeout=20"] + list(args), env=env,
                                  capture_output=True, text=True, check=True).stdout

        chassis = sbctl("--bare", "--columns=name,hostname", "list", "Chassis").split()
        assert sorted(chassis[0::2]) == sorted(hosts.values())
        assert sorted(chassis[1::2]) == sorted(hosts)
        nb = subprocess.run(["ovn-nbctl", "--timeout=20", "--bare", "--columns=name", "list",
                             "Logical_Switch"], env=env, capture_output=True, text=True,
                            check=True).stdout.split()
        assert nb == [NETWORK["uuid"]]                 # written by ovn-xapi-sync
        status = subprocess.run([os.path.join(directory, "bin", "xe"), "host-call-plugin",
                                 "host-uuid=" + hosts["host2"],
                                 "plugin=openvswitch-cfg-update", "fn=status"], env=env,
                                capture_output=True, text=True, timeout=120)
        report = json.loads(status.stdout)
        assert report["in_step"] and report["ovn"]["ovn_controller"] == "running"
        # ovs-xapi-sync runs there too (it would move VIFs of the OVN network to br-int).
        assert "xenbr0" in report["traffic_rules"]["bridges"], report["traffic_rules"]

        down = play("down", "--dir", directory, env=env)
        assert down.returncode == 0, down.stderr
        assert "unset OVN_NB_DB" in down.stdout and "unset OVN_SB_DB" in down.stdout
        assert not os.path.exists(directory)
        assert ovs.processes_naming(directory + "/") == []
    finally:
        play("down", "--dir", directory)
        shutil.rmtree(parent, ignore_errors=True)
