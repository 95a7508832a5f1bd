"""``xe`` for the simulator: the two commands a walk through the plugin needs.

    xe host-list [params=FIELD,...|all] [FIELD=VALUE]... [--minimal]
    xe host-call-plugin host-uuid=UUID plugin=NAME fn=FN [args:KEY=VALUE]...

As XenServer's ``xe`` does, ``host-list`` prints each host as a record
(field names aligned on the colon, a blank line after each), only the
fields ``params=`` names, only the hosts whose fields equal the ``FIELD=VALUE``
filters, or with ``--minimal`` the first field of each, comma-separated;
``host-call-plugin`` prints the plugin's value, or the failure's code and
parameters (exit status 1).  A bad command line -- an unknown command,
parameter or field -- is named, with exit status 2.  It talks to the XAPI
at ``XSOVS_XAPI_URL`` (``python -m xsovs_dev.play up`` prints it).
"""

import sys

from xsovs_common import paths
from xsovs_common.xapi import session as xapi

PROG = "xe"
USAGE = """usage: xe host-list [params=FIELD,...|all] [FIELD=VALUE]... [--minimal]
       xe host-call-plugin host-uuid=UUID plugin=NAME fn=FN [args:KEY=VALUE]...
"""
CALL_KEYS = ("host-uuid", "plugin", "fn")
# host-list's fields: xe's name, XAPI's field, read-only; the first three are the default.
HOST_FIELDS = (("uuid", "uuid", True), ("name-label", "name_label", False),
               ("name-description", "name_description", False),
               ("hostname", "hostname", True), ("address", "address", True))
DEFAULT_FIELDS = ("uuid", "name-label", "name-description")


class Usage(Exception):
    pass


def _pairs(words):
    for word in words:
        key, equals, value = word.partition("=")
        if not equals:
            raise Usage("%r is not KEY=VALUE" % word)
        yield key, value


def parse_call(words):
    """(host uuid, plugin, fn, args) of host-call-plugin's ``key=value`` words."""
    given, args = {}, {}
    for key, value in _pairs(words):
        if key.startswith("args:") and len(key) > len("args:"):
            args[key[len("args:"):]] = value
        elif key in CALL_KEYS and key not in given:
            given[key] = value
        else:
            raise Usage("unknown or repeated parameter %r (host-call-plugin takes %s and "
                        "args:KEY=VALUE)" % (key, ", ".join(k + "=" for k in CALL_KEYS)))
    missing = [k for k in CALL_KEYS if not given.get(k)]
    if missing:
        raise Usage("host-call-plugin needs " + ", ".join(k + "=" for k in missing))
    return given["host-uuid"], given["plugin"], given["fn"], args


def parse_list(words):
    """(fields to print, {field: wanted value}, minimal) of host-list's words."""
    known = [name for name, _, _ in HOST_FIELDS]
    fields, filters, minimal = list(DEFAULT_FIELDS), {}, False
    words = list(words)
    if "--minimal" in words:
        minimal = True
        words = [w for w in words if w != "--minimal"]
    for key, value in _pairs(words):
        if key == "params":
            fields = known if value == "all" else [f.strip() for f in value.split(",")]
            unknown = [f for f in fields if f not in known]
            if unknown or not fields:
                raise Usage("unknown field %r in params= (a host has %s, or params=all)"
                            % ((unknown or [value])[0], ", ".join(known)))
        elif key in known:
            filters[key] = value
        else:
            raise Usage("unknown parameter %r: host-list takes params=FIELD,..., "
                        "FIELD=VALUE filters and --minimal (fields: %s)"
                        % (key, ", ".join(known)))
    return fields, filters, minimal


def host_list(records, fields, filters, minimal):
    """xe's text for host records (XAPI's field names) as ``parse_list`` asked."""
    xapi_field = {name: field for name, field, _ in HOST_FIELDS}
    shown = [r for r in sorted(records, key=lambda r: r.get("name_label", ""))
             if all(str(r.get(xapi_field[k], "")) == v for k, v in filters.items())]
    if minimal:
        return ",".join(str(r.get(xapi_field[fields[0]], "")) for r in shown) + "\n"
    mode = {name: "RO" if ro else "RW" for name, _, ro in HOST_FIELDS}
    labels = ["%s ( %s)" % (name, mode[name]) for name in fields]
    width = 4 + max(len(label) for label in labels)
    text = ""
    for record in shown:
        for i, (name, label) in enumerate(zip(fields, labels)):
            aligned = label.ljust(width) if i == 0 else label.rjust(width)
            text += "%s: %s\n" % (aligned, record.get(xapi_field[name], ""))
        text += "\n"
    return text


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            sys.stdout.write(USAGE)
            return 0 if argv else 2
        if argv[0] == "host-list":
            request = parse_list(argv[1:])
        elif argv[0] == "host-call-plugin":
            call = parse_call(argv[1:])
        else:
            raise Usage("unknown command %r (this xe knows host-list and host-call-plugin)"
                        % argv[0])
        root = paths.Root.from_environment()
        if not root.xapi_url:
            raise Usage("XSOVS_XAPI_URL is not set: export what "
                        "'python -m xsovs_dev.play up' printed")
        with xapi.connect(root=root) as api:
            if argv[0] == "host-list":
                text = host_list(api.host.get_all_records().values(), *request)
            else:
                host_uuid, plugin, fn, args = call
                value = api.host.call_plugin(api.host.get_by_uuid(host_uuid), plugin, fn, args)
                text = value.rstrip("\n") + "\n"
        sys.stdout.write(text)
        return 0
    except Usage as exc:
        sys.stderr.write("%s: %s\n%s" % (PROG, exc, USAGE))
        return 2
    except xapi.XapiUnreachable as exc:
        sys.stderr.write("%s: %s (is the pool up? python -m xsovs_dev.play up)\n"
                         % (PROG, exc.message))
        return 1
    except xapi.XapiError as exc:
        description = exc.error_description()
        sys.stderr.write("Error code: %s\nError parameters: %s\n"
                         % (description[0], ", ".join(description[1:])))
        return 1


if __name__ == "__main__":
    sys.exit(main())
