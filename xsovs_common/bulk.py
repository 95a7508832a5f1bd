"""Working on tens of thousands of small objects without the cycle collector.

A host with thousands of VLANs means 10^4-10^5 small dicts and strings per
run (XAPI's answers, OVSDB's, the cache).  None of them form cycles, yet
CPython's cyclic garbage collector walks all live objects again and again
as they are made, so reading grew faster than the number of PIFs
(``make bench BENCH=interface_reconfigure`` checks it stays linear).
Reference counting still frees everything; only the cycle search waits.
"""

import contextlib
import functools
import gc


@contextlib.contextmanager
def no_cycle_collection():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def without_cycle_collection(function):
    """``function`` run whole under :func:`no_cycle_collection` (a decorator)."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        with no_cycle_collection():
            return function(*args, **kwargs)
    return run
