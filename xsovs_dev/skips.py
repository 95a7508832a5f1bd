"""Skipping a test that cannot run here -- but never silently in CI."""

import os

import pytest

from xsovs_dev.pythons import DOM0_PYTHON


def need(reason):
    """Skip (or, with ``XSOVS_NO_SKIP=1`` as CI sets it, fail) when ``reason`` is not None."""
    if reason is None:
        return
    if os.environ.get("XSOVS_NO_SKIP") == "1":
        pytest.fail("cannot run here, and CI requires every test to run: " + reason)
    pytest.skip(reason)


def python36():
    """dom0's Python 3.6 (``.venv36``), for a test that must run it; skipped (failed in CI)
    where ``make setup`` did not make it."""
    need(None if os.access(DOM0_PYTHON, os.X_OK)
         else "no Python 3.6 virtualenv .venv36 (make setup)")
    return DOM0_PYTHON
