"""The host's boot, step by step, one progress line each.

Each step runs the host's real program as a subprocess and checks its
outcome; a step that fails raises :class:`StepFailed` naming itself, with
the tail of the program's stderr.
"""

import re
import subprocess
import time

from . import host as simhost

STEPS = 8
STDERR_TAIL_LINES = 15
PROGRAM_TIMEOUT = 90       # ovs-ctl alone may take a while on a busy machine
XAPI_WAIT = "10"           # the hook's --wait: the simulator is up already
CONTROLLER_WAIT = 15       # bootstrap, reconnect (1 s back-off), status update (2.5 s)


class StepFailed(Exception):
    """Step ``step`` failed: ``message``, and what the program said (``output``)."""

    def __init__(self, step, message, stderr="", output_name="stderr"):
        Exception.__init__(self, message)
        self.step = step
        self.message = message
        self.stderr = stderr
        self.output_name = output_name

    def stderr_tail(self):
        lines = [line for line in self.stderr.rstrip().splitlines() if line.strip()]
        return lines[-STDERR_TAIL_LINES:]


class Outcome:
    """What the boot produced, for the summary."""

    def __init__(self):
        self.update_result = None
        self.pings = []             # [(when, ok, ping's output)]
        self.xapi_url = None
        self.controller_databases = None    # what list_dbs answered over the session


class Progress:
    """``[n/N] title ... ok: detail (1.2 s)`` lines; knows the step under way."""

    def __init__(self, out, total):
        self.out = out
        self.total = total
        self.number = 0
        self.current = None

    def run(self, title, action):
        self.number += 1
        self.current = "%d/%d (%s)" % (self.number, self.total, title)
        self.out.write("[%d/%d] %s ..." % (self.number, self.total, title))
        self.out.flush()
        start = time.monotonic()
        try:
            detail = action()
        except StepFailed:
            self._finish("FAILED")
            raise
        except subprocess.TimeoutExpired as exc:
            self._finish("FAILED")
            raise StepFailed(self.current, "%s timed out after %ss"
                             % (_program(exc.cmd), exc.timeout), _text(exc.stderr))
        except subprocess.CalledProcessError as exc:
            self._finish("FAILED")
            raise StepFailed(self.current, "%s exited with status %s"
                             % (" ".join(exc.cmd), exc.returncode), _text(exc.stderr))
        except Exception as exc:
            self._finish("FAILED")
            raise StepFailed(self.current, "%s: %s" % (type(exc).__name__, exc))
        except BaseException:
            self._finish("interrupted")
            raise
        self._finish("ok: %s (%.1f s)" % (detail, time.monotonic() - start))
        self.current = None

    def _finish(self, text):
        self.out.write(" " + text + "\n")
        self.out.flush()


def _text(data):
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


def _program(argv):
    argv = list(argv) if isinstance(argv, (list, tuple)) else [str(argv)]
    names = [a for a in argv if "/libexec/" in a]
    return (names[0].rsplit("/", 1)[1] if names else argv[0])


def _checked(progress, result, program):
    if result.returncode != 0:
        raise StepFailed(progress.current, "%s exited with status %d"
                         % (program, result.returncode), result.stderr)
    return result


def boot(sim, progress, break_cache=False):
    """Build the host and boot it; returns the :class:`Outcome`."""
    outcome = Outcome()

    def build():
        sim.build()
        detail = "netns %s, %s <-> peer %s/%d, controller listening on %s:%d" % (
            sim.host_ns.name, simhost.NIC, simhost.PEER_ADDRESS, simhost.PREFIX_LEN,
            simhost.PEER_ADDRESS, simhost.CONTROLLER_PORT)
        if break_cache:
            sim.damage_cache()
            return detail + "; network cache DAMAGED (--break=cache)"
        return detail + "; network cache from the last boot's XAPI"

    def boot_script():
        program = "openvswitch-boot"
        _checked(progress, sim.run_libexec(program, ["start"], PROGRAM_TIMEOUT), program)
        status = sim.run_libexec(program, ["status"], PROGRAM_TIMEOUT)
        _checked(progress, status, program + " status")
        running = re.findall(r"(\S+) is running with pid (\d+)", status.stdout)
        return ", ".join("%s pid %s" % daemon for daemon in running) + " running"

    def management_interface():
        program = "interface-reconfigure"
        _checked(progress, sim.run_libexec(program, ["--force", simhost.BRIDGE, "up"],
                                           PROGRAM_TIMEOUT), program)
        return "%s up from the network cache" % simhost.BRIDGE

    def ping(when):
        def action():
            ok, output = sim.ping_peer()
            outcome.pings.append((when, ok, output))
            if not ok:
                raise StepFailed(progress.current, "no answer from the peer %s"
                                 % simhost.PEER_ADDRESS, output, output_name="ping")
            return "%s answers" % simhost.PEER_ADDRESS
        return action

    def xapi_starts():
        outcome.xapi_url = sim.start_xapi()
        return "the simulator serves at %s (XSOVS_XAPI_URL)" % outcome.xapi_url

    def startup_hook():
        program = "openvswitch-xapi-update"
        result = sim.run_libexec(program, ["--wait", XAPI_WAIT, "--interval", "0.5"],
                                 PROGRAM_TIMEOUT, XSOVS_XAPI_URL=outcome.xapi_url)
        _checked(progress, result, program)
        calls = [(c.plugin, c.fn, c.outcome.get("Status")) for c in sim.xapi.plugin_calls]
        if calls != [("openvswitch-cfg-update", "update", "Success")]:
            raise StepFailed(progress.current, "XAPI ran plugins %r, not one successful "
                             "openvswitch-cfg-update update" % calls, result.stderr)
        outcome.update_result = result.stdout.strip()
        return "XAPI ran the plugin's update: Success"

    def controller_session():
        session, databases = sim.controller.session(timeout=CONTROLLER_WAIT)
        outcome.controller_databases = databases
        session.keep_alive()
        deadline = time.monotonic() + CONTROLLER_WAIT
        while not sim.manager_connected():
            if time.monotonic() > deadline:
                raise StepFailed(progress.current, "ovsdb-server does not report its "
                                 "manager connected")
            time.sleep(0.2)
        return "list_dbs over the host's session: %s" % ", ".join(databases)

    progress.run("simulated host", build)
    progress.run("boot script: openvswitch-boot start", boot_script)
    progress.run("management interface: interface-reconfigure --force %s up"
                 % simhost.BRIDGE, management_interface)
    progress.run("ping the peer from the host", ping("at boot"))
    progress.run("XAPI starts", xapi_starts)
    progress.run("start-up hook: openvswitch-xapi-update -> host.call_plugin update",
                 startup_hook)
    progress.run("ping the peer again", ping("after update"))
    progress.run("the controller on the peer gets an OVSDB session", controller_session)
    return outcome
