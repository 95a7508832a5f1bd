"""interface-reconfigure's command line: the historical one, parsed as it always was.

XenServer's management-interface service and XAPI run
``/opt/xensource/libexec/interface-reconfigure`` with the command line the
historical tool had, so it is parsed exactly so (``getopt``, options before
or after the action, ``--opt VALUE`` or ``--opt=VALUE``) -- not argparse,
whose ``--force BRIDGE up`` / ``--session REF --pif REF up`` handling
differs.  Every value is checked here, so a bad one is a usage error (exit
status 2) like a bad combination; what each form does is
:mod:`xsovs_common.actions.interface_reconfigure`.
"""

import getopt
import sys

from ... import cli, paths, validate
from .. import interface_reconfigure as actions
from ...errors import InvalidValue, UsageError
from ...log import log

PROGRAM = actions.PROGRAM

USAGE = """\
Usage:
  interface-reconfigure --session REF --pif REF [--management] up|down
  interface-reconfigure --pif-uuid UUID [--management] up|down
  interface-reconfigure rewrite                  (alias: rewrite-configuration)
  interface-reconfigure --force BRIDGE up|down
  interface-reconfigure --force BRIDGE rewrite --device=DEV --mac=MAC --mode=dhcp|static
                        [--ip=IP --netmask=MASK [--gateway=GW]]
Options:
  --root-prefix=DIR   resolve every file and program under DIR (default $XSOVS_ROOT or /)
  --no-syslog         log to stderr instead of syslog
  --help              this text

up/down with --session/--pif or --pif-uuid read XAPI and then refresh the
network cache (/var/xapi/network.dbcache); --force reads that cache (at boot,
before XAPI runs).

""" + cli.environment_help(paths.ENV_ROOT, paths.ENV_XAPI_URL, paths.ENV_DATAPATH_TYPE)

ACTIONS = ("up", "down", "rewrite")
_ALIASES = {"rewrite-configuration": "rewrite"}
_VALUE_OPTIONS = ("pif", "pif-uuid", "session", "force", "device", "mac", "mode", "ip",
                  "netmask", "gateway", "root-prefix")
_FLAG_OPTIONS = ("management", "no-syslog", "help")
_REWRITE_OPTIONS = ("device", "mac", "mode", "ip", "netmask", "gateway")


class Options:
    """The parsed command line; option names with ``_`` for ``-``."""

    def __init__(self):
        for name in _VALUE_OPTIONS:
            setattr(self, name.replace("-", "_"), None)
        for name in _FLAG_OPTIONS:
            setattr(self, name.replace("-", "_"), False)
        self.action = None

    def __repr__(self):
        return "Options(%r)" % vars(self)


def parse(argv):
    """The :class:`Options` of ``argv``; raises UsageError."""
    try:
        pairs, args = getopt.gnu_getopt(list(argv), "h", [n + "=" for n in _VALUE_OPTIONS]
                                        + list(_FLAG_OPTIONS))
    except getopt.GetoptError as exc:
        raise UsageError("%s: %s (try --help)" % (PROGRAM, exc.msg))
    options = Options()
    seen = set()
    for option, value in pairs:
        name = "help" if option == "-h" else option[2:]
        if name in seen and name != "help":
            raise UsageError("%s: %s given twice" % (PROGRAM, option))
        seen.add(name)
        setattr(options, name.replace("-", "_"), True if name in _FLAG_OPTIONS else value)
    if options.help:
        return options
    if len(args) != 1:
        raise UsageError("%s: exactly one action is needed (up, down or rewrite), got %s"
                         % (PROGRAM, " ".join(args) or "none"))
    action = _ALIASES.get(args[0], args[0])
    if action not in ACTIONS:
        raise UsageError("%s: unknown action %r (up, down or rewrite)" % (PROGRAM, args[0]))
    options.action = action
    _check(options, seen)
    return options


def _usage(message):
    raise UsageError("%s: %s" % (PROGRAM, message))


def _check(options, seen):
    """The combinations the historical tool accepted, and no others."""
    by_xapi = options.session is not None or options.pif is not None
    if (options.session is None) != (options.pif is None):
        _usage("--session and --pif must be used together")
    if by_xapi and options.pif_uuid is not None:
        _usage("--session/--pif and --pif-uuid are mutually exclusive")
    if options.force is not None and (by_xapi or options.pif_uuid is not None):
        _usage("--force is mutually exclusive with --session, --pif and --pif-uuid")
    rewrite_options = sorted("--" + n for n in _REWRITE_OPTIONS if n in seen)
    if rewrite_options and not (options.force is not None and options.action == "rewrite"):
        _usage("%s only with --force BRIDGE rewrite" % ", ".join(rewrite_options))
    if options.action == "rewrite":
        if by_xapi or options.pif_uuid is not None:
            _usage("rewrite takes neither --session/--pif nor --pif-uuid")
        if options.management:
            _usage("--management only with up or down")
        if options.force is not None:
            _check_force_rewrite(options)
    elif options.force is None and not by_xapi and options.pif_uuid is None:
        _usage("%s needs --session REF --pif REF, --pif-uuid UUID or --force BRIDGE"
               % options.action)
    def ref(value, what):
        return validate.ref(value, what=what, null_ok=False)
    _check_values([(ref, options.session, "--session"),
                   (ref, options.pif, "--pif"),
                   (validate.uuid, options.pif_uuid, "--pif-uuid"),
                   (validate.interface_name, options.force, "--force bridge")])


def _check_values(checks):
    """``(check, value, what)`` for the values given: a bad one is a usage error
    like a bad combination (exit status 2), with the checker's reason."""
    for check, value, what in checks:
        if value is None:
            continue
        try:
            check(value, what=what)
        except InvalidValue as exc:
            _usage(exc.message)


def _check_force_rewrite(options):
    missing = [n for n in ("device", "mac", "mode") if getattr(options, n) is None]
    if missing:
        _usage("--force BRIDGE rewrite needs %s" % ", ".join("--" + n for n in missing))
    mode = options.mode.lower()
    if mode not in ("dhcp", "static"):
        _usage("--mode must be dhcp or static, not %r" % options.mode)
    if mode == "static" and (options.ip is None or options.netmask is None):
        _usage("--mode=static needs --ip and --netmask")
    if mode == "dhcp" and (options.ip is not None or options.netmask is not None
                           or options.gateway is not None):
        _usage("--ip, --netmask and --gateway only with --mode=static")
    checks = [(validate.interface_name, options.device, "--device"),
              (validate.mac, options.mac, "--mac")]
    if mode == "static":
        checks += [(validate.netmask, options.netmask, "--netmask")]
        checks += [(lambda v, what: validate.ip_address(v, version=4, what=what), value, what)
                   for value, what in ((options.ip, "--ip"), (options.gateway, "--gateway"))
                   if value]
    _check_values(checks)


def _masked(argv):
    """``argv`` without the session ref (it grants XAPI access while it lives)."""
    result = []
    hide = False
    for word in argv:
        if hide:
            word, hide = "<session>", False
        elif word == "--session":
            hide = True
        elif word.startswith("--session="):
            word = "--session=<session>"
        result.append(word)
    return result


def _main(argv):
    options = parse(argv)
    if options.help:
        sys.stdout.write(USAGE)
        return cli.EXIT_OK
    root = cli.setup(PROGRAM, options)
    log.info("called as %s %s", PROGRAM, " ".join(_masked(argv)))
    actions.check_backend(root)
    if options.action == "rewrite":
        if options.force is not None:
            actions.force_rewrite(root, options.force, options.device, options.mac,
                                  options.mode, options.ip, options.netmask, options.gateway)
        else:
            actions.rewrite_action(root)
    elif options.force is not None:
        actions.force_action(root, options.force, options.action, options.management)
    else:
        actions.pif_action(root, options.action, session_ref=options.session,
                           pif_ref=options.pif, pif_uuid=options.pif_uuid,
                           management=options.management)
    return cli.EXIT_OK


def main(argv=None):
    """interface-reconfigure's whole life: exit status 0, 1 or 2."""
    return cli.run(PROGRAM, _main, argv)
