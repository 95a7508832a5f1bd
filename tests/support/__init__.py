"""Helpers the suites and bench/ share, imported as ``from tests.support import ...``."""
