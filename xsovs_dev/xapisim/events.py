"""``event.from``: how XAPI clients follow changes without polling.

XAPI's semantics, as its clients rely on them:
- ``classes`` lists subscriptions: a class name (any case), ``class/ref``
  for one object, or ``*`` for everything;
- the token ``""`` returns every current record as an ``add``; the token
  handed back returns what changed since: ``add`` and ``mod`` with the
  record's ``snapshot``, ``del`` without one (an object made and destroyed
  in between is not reported);
- with nothing to report the call waits up to ``timeout`` seconds, then
  returns no events and a fresh token;
- the reply is ``{events, valid_ref_counts, token}``; each event carries
  ``id``, ``timestamp``, ``class`` (lower case), ``operation``, ``ref``;
  tokens are ``"%020d,%020d"`` (generation, message generation).
Back-references (network.VIFs, VM.VIFs, ...) changing do not make events
for the object on the other side here.
"""

import time

from .errors import XapiError
from .schema import CLASSES

_LOWER = {cls.lower(): cls for cls in CLASSES}


def parse_token(token):
    if not isinstance(token, str):
        raise XapiError("FIELD_TYPE_ERROR", "token")
    if token == "":
        return 0
    parts = token.split(",")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise XapiError("EVENT_FROM_TOKEN_PARSE_FAILURE", token)
    return int(parts[0])


def make_token(generation):
    return "%020d,%020d" % (generation, 0)


def parse_subscriptions(classes):
    """[(class, ref or None)]; ``*`` is (None, None)."""
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise XapiError("FIELD_TYPE_ERROR", "classes")
    subs = []
    for text in classes:
        if text == "*":
            subs.append((None, None))
            continue
        cls, _, ref = text.partition("/")
        if not cls:
            raise XapiError("EVENT_SUBSCRIPTION_PARSE_FAILURE", text)
        subs.append((cls.lower(), ref or None))
    return subs


def _matches(subs, cls, ref):
    lower = cls.lower()
    return any(c is None or (c == lower and r in (None, ref)) for c, r in subs)


def changes_since(store, subs, since, wire_record):
    """The events after generation ``since`` (caller holds the store lock)."""
    events = []
    for (cls, ref), (created, modified) in store.stats.items():
        if modified <= since or not _matches(subs, cls, ref):
            continue
        operation = "add" if created > since else "mod"
        events.append((modified, cls, ref, operation,
                       wire_record(cls, store.tables[cls][ref])))
    for cls, ref, created, deleted in store.deleted:
        if deleted > since and created <= since and _matches(subs, cls, ref):
            events.append((deleted, cls, ref, "del", None))
    events.sort(key=lambda e: e[0])
    out = []
    for generation, cls, ref, operation, snapshot in events:
        event = {"id": str(generation), "timestamp": "%.6f" % time.time(),
                 "class": cls.lower(), "operation": operation, "ref": ref}
        if snapshot is not None:
            event["snapshot"] = snapshot
        out.append(event)
    return out


def event_from(store, classes, token, timeout, wire_record, check_session=None):
    """XAPI's ``event.from(classes, token, timeout)``; see the module docstring.

    ``check_session`` raises SESSION_INVALID when the caller's session ends
    during the wait, as XAPI does; a stopping simulator returns at once.
    """
    subs = parse_subscriptions(classes)
    since = parse_token(token)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise XapiError("FIELD_TYPE_ERROR", "timeout")
    deadline = time.monotonic() + max(0.0, float(timeout))
    with store.changed:
        while True:
            events = changes_since(store, subs, since, wire_record)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or store.stopping:
                break
            if check_session is not None:
                check_session()
            since = max(since, store.generation)
            store.changed.wait(remaining)
            if check_session is not None:
                check_session()
        counts = {cls.lower(): len(store.tables[cls]) for cls in CLASSES
                  if store.present(cls)}
        return {"events": events, "valid_ref_counts": counts,
                "token": make_token(store.generation)}
