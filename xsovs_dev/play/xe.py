"""``xe`` for the simulator: the two commands a walk through the plugin needs.

    xe host-list
    xe host-call-plugin host-uuid=UUID plugin=NAME fn=FN [args:KEY=VALUE]...

As XenServer's ``xe`` does, it prints the plugin's value, or the failure's
code and parameters (exit status 1); a bad command line exits 2.  It talks
to the XAPI at ``XSOVS_XAPI_URL`` (``python -m xsovs_dev.play up`` prints it).
"""

import sys

from xsovs_common import paths
from xsovs_common.xapi import session as xapi

PROG = "xe"
USAGE = """usage: xe host-list
       xe host-call-plugin host-uuid=UUID plugin=NAME fn=FN [args:KEY=VALUE]...
"""
CALL_KEYS = ("host-uuid", "plugin", "fn")


class Usage(Exception):
    pass


def parse_call(words):
    """(host uuid, plugin, fn, args) of host-call-plugin's ``key=value`` words."""
    given, args = {}, {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals:
            raise Usage("%r is not KEY=VALUE" % word)
        if key.startswith("args:") and len(key) > len("args:"):
            args[key[len("args:"):]] = value
        elif key in CALL_KEYS and key not in given:
            given[key] = value
        else:
            raise Usage("unknown or repeated parameter %r" % key)
    missing = [k for k in CALL_KEYS if not given.get(k)]
    if missing:
        raise Usage("host-call-plugin needs " + ", ".join(k + "=" for k in missing))
    return given["host-uuid"], given["plugin"], given["fn"], args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            sys.stdout.write(USAGE)
            return 0 if argv else 2
        root = paths.Root.from_environment()
        if not root.xapi_url:
            raise Usage("XSOVS_XAPI_URL is not set: export what "
                        "'python -m xsovs_dev.play up' printed")
        if argv[0] == "host-list" and len(argv) == 1:
            with xapi.connect(root=root) as api:
                for record in sorted(api.host.get_all_records().values(),
                                     key=lambda r: r["name_label"]):
                    sys.stdout.write("uuid ( RO)           : %s\n    name-label ( RW): %s\n\n"
                                     % (record["uuid"], record["name_label"]))
            return 0
        if argv[0] != "host-call-plugin":
            raise Usage("unknown command %r" % argv[0])
        host_uuid, plugin, fn, args = parse_call(argv[1:])
        with xapi.connect(root=root) as api:
            value = api.host.call_plugin(api.host.get_by_uuid(host_uuid), plugin, fn, args)
        sys.stdout.write(value.rstrip("\n") + "\n")
        return 0
    except Usage as exc:
        sys.stderr.write("%s: %s\n%s" % (PROG, exc, USAGE))
        return 2
    except xapi.XapiError as exc:
        description = exc.error_description()
        sys.stderr.write("Error code: %s\nError parameters: %s\n"
                         % (description[0], ", ".join(description[1:])))
        return 1


if __name__ == "__main__":
    sys.exit(main())
