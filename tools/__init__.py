"""Repository tools (run as scripts by make; importable by the tests)."""
