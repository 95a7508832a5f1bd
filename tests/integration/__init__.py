"""Integration tests: real ovsdb-server, the XAPI simulator, fake host roots."""
