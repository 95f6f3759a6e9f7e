"""The one error type for bad indicator input."""

from __future__ import annotations


class InvalidIndicator(ValueError):
    """Raised for any value or field that cannot become an indicator.

    The message always names the offending value and the reason, e.g.
    ``'300.1.1.1': octet 300 is out of range``.
    """

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"{value!r}: {reason}")
