"""End-to-end tests: namespaces, packets, real daemons (root; skipped with the reason otherwise)."""
