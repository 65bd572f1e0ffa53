"""The sources of the test vectors: the format (README.md) and the generators (not shipped)."""
