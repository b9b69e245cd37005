"""The one kind of cache the package keeps, with one eviction rule."""

from __future__ import annotations


class Cache(dict):
    """A dict that forgets everything once it holds ``size`` entries: a steady call pattern
    refills it at once, and one that keeps making new keys (new shapes, new designs) cannot
    grow memory without bound. Keys are the values that determine the entry (a filter
    design, a call's shape and arguments), never names written by hand."""

    def __init__(self, size):
        super().__init__()
        self.size = size

    def put(self, key, value):
        """Keep ``value`` under ``key``; returns ``value``."""
        if len(self) >= self.size:
            self.clear()
        self[key] = value
        return value
