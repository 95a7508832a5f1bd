"""The host's own programs and files: processes, files, lock, ip, dhclient, ethtool, iptables,
settings files."""
