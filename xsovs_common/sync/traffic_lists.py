"""The traffic rules in force for each VIF and network: XAPI's lists, held and overlaid.

:class:`RuleLists` turns the ``of-rules`` values XAPI holds into rules
(:mod:`xsovs_common.net.traffic_rules`) and keeps, per VIF or network:

- the **last good list**: a list that stops parsing is refused with one log
  line and its reason kept for ``status``, and the rules it had stay in
  force.  With no good list seen since the daemon started the VIF is
  *held* (:data:`HELD`): its flows on the switch are left as they are.
- **a list gone** is taken away only after :data:`ABSENT_GRACE` seconds:
  Xen Orchestra writes a key by removing it and adding it again (two XAPI
  calls), and an edit must never pass through "no rules".
- **plugin calls** (``sdncontroller.py add-rule`` / ``del-rule``): Xen
  Orchestra calls the plugin, then writes the same change into XAPI.  A call
  is applied at once on top of XAPI's list, until XAPI's list shows it (or
  :data:`PENDING_SECONDS` pass: then XAPI's list alone counts again).
"""

import collections
import time

from ..errors import InvalidValue
from ..log import log
from ..net import traffic_rules as tr

HELD = "held"                 # no rules known: leave the switch as it is
PENDING_SECONDS = 60.0
ABSENT_GRACE = 0.5
PARSE_MEMO_SIZE = 20000

Pending = collections.namedtuple("Pending", "scope uuid function rules cookie created deadline")


def _reflected(op, rules):
    """Whether XAPI's ``rules`` already show ``op``."""
    if op.function == "add-rule":
        return all(rule in rules for rule in op.rules)
    return not any(_deleted_by(op, rule) for rule in rules)


def _deleted_by(op, rule):
    if op.cookie is not None:
        return rule.cookie == op.cookie
    return any(rule.same_match(target) for target in op.rules)


def _apply(op, rules):
    if op.function == "add-rule":
        if op.scope == tr.SCOPE_NETWORK:   # Xen Orchestra replaces a rule of the same match
            rules = [r for r in rules if not any(r.same_match(n) for n in op.rules)]
        return rules + [r for r in op.rules if r not in rules]
    return [r for r in rules if not _deleted_by(op, r)]


class RuleLists:
    """Parsed lists by (scope, uuid), with their last good value, errors and plugin calls."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._memo = {}          # (text, scope, format) -> rules tuple or InvalidValue
        self._good = {}          # (scope, uuid) -> rules tuple
        self.errors = {}         # (scope, uuid) -> reason
        self.pending = []        # Pending, oldest first
        self._absent = {}        # (scope, uuid) -> when its list went (rules still in force)
        self.version = 0         # bumped when a call starts or ends, or a gone list goes

    def _parse(self, text, scope, fmt):
        key = (text, scope, fmt)
        if key not in self._memo:
            if len(self._memo) > PARSE_MEMO_SIZE:
                self._memo.clear()
            try:
                self._memo[key] = tr.parse_rule_list(text, scope, fmt)
            except InvalidValue as exc:
                self._memo[key] = exc
        return self._memo[key]

    def from_xapi(self, scope, uuid, text, fmt):
        """XAPI's rules for one VIF or network (``text`` None: no list), or HELD.

        ``fmt`` is the pool's format (an :class:`InvalidValue` when the pool's
        key is bad: every list that needs it is then refused).
        """
        key = (scope, uuid)
        if text is None:
            if key not in self._absent and (self._good.get(key, ()) != () or key in self.errors):
                self._absent[key] = self.clock()        # gone: taken away by expire()
            if key in self._absent:
                return self._good.get(key, HELD)
            self._good[key] = ()
            self.errors.pop(key, None)
            return ()
        self._absent.pop(key, None)
        result = fmt if isinstance(fmt, InvalidValue) else self._parse(text, scope, fmt)
        if not isinstance(result, InvalidValue):
            self._good[key] = result
            if self.errors.pop(key, None) is not None:
                log.info("traffic rules of %s %s accepted again", scope, uuid)
            return result
        reason = result.message
        if self.errors.get(key) != reason:
            log.warning("refusing the traffic rules of %s %s, the rules in force stay: %s",
                        scope, uuid, reason)
            self.errors[key] = reason
        return self._good.get(key, HELD)

    def in_force(self, scope, uuid, xapi_rules):
        """``xapi_rules`` with the plugin calls XAPI does not show yet; HELD stays HELD."""
        if xapi_rules == HELD:
            return HELD
        rules = list(xapi_rules)
        for op in list(self.pending):
            if op.scope != scope or op.uuid != uuid:
                continue
            if _reflected(op, xapi_rules):
                self.pending.remove(op)
                continue
            rules = _apply(op, rules)
        return tuple(rules)

    def call(self, scope, uuid, function, rules, cookie):
        """Record a plugin call for one VIF or network; in force until XAPI shows it."""
        now = self.clock()
        self.pending.append(Pending(scope, uuid, function, tuple(rules), cookie, now,
                                    now + PENDING_SECONDS))
        self.version += 1

    def expire(self):
        """End the plugin calls and the gone lists whose time is up; True if any."""
        now = self.clock()
        ended = [op for op in self.pending if now >= op.deadline]
        gone = [key for key, since in self._absent.items() if now >= since + ABSENT_GRACE]
        for op in ended:
            self.pending.remove(op)
        for key in gone:
            del self._absent[key]
            self._good[key] = ()
            self.errors.pop(key, None)
        if ended or gone:
            self.version += 1
        return bool(ended or gone)

    def next_deadline(self):
        """When a plugin call ends or a gone list is taken away: the next thing to do."""
        times = [op.deadline for op in self.pending]
        times += [since + ABSENT_GRACE for since in self._absent.values()]
        return min(times, default=None)

    def forget(self, keys):
        """Drop what is kept for (scope, uuid) ``keys`` XAPI no longer has."""
        for key in keys:
            self._good.pop(key, None)
            self.errors.pop(key, None)
            self._absent.pop(key, None)

    def known(self):
        return set(self._good) | set(self.errors)

    def pending_for(self, scope, uuid):
        now = self.clock()
        return [{"function": op.function, "rules": [r.xo_fields() for r in op.rules],
                 "cookie": op.cookie, "seconds_left": round(op.deadline - now, 1)}
                for op in self.pending if op.scope == scope and op.uuid == uuid]
