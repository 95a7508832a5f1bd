"""Unit tests: no daemons, no root; they also run on Python 3.6 (make test-py36)."""
