"""OVN from the Debian packages, for tests, benchmarks and the play pool.

``central``: the northbound and southbound databases as 3-member Raft
clusters and ``ovn-northd`` (package ``ovn-central``), in a private
directory, on loopback or in a network namespace, with a leader that can be
killed.
"""
