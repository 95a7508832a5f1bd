"""The test suites: unit (also on Python 3.6), integration, e2e; shared fixtures in conftest.py."""
