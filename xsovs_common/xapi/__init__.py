"""XAPI: sessions through XenAPI, the host-plugin protocol, reading this host's objects."""
