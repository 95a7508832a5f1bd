"""The network model and what it means: for OVS (datapath, fail modes) and for IP."""
