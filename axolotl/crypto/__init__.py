"""Cryptographic primitives: the only package that imports cryptography or pynacl."""
