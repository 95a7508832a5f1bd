"""Open vSwitch: OVSDB over its socket, the Open_vSwitch schema's plans, flows, daemons."""
