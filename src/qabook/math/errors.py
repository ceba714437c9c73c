"""The one exception the math package raises."""

from __future__ import annotations


class MathError(ValueError):
    """A formula that cannot be converted; :attr:`reason` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
