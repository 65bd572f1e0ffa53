"""The generators of our own vector files and their recording helpers (``recording``)."""
