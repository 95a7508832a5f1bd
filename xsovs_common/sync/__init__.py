"""ovs-xapi-sync: XAPI's records kept from its events, and what OVSDB should hold."""
