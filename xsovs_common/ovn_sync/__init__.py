"""ovn-xapi-sync: the OVN northbound database kept in step with XAPI."""
