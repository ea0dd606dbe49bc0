"""filmgraph: a linked-data publisher for film records."""

__version__ = "0.1.0"
