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


class Bad(Exception):
    """Internal: a reason why a value is rejected, raised deep in the parsers.

    The parsers do not know the caller's original input (it may have been
    stripped, refanged or split), so they raise only the reason and
    :func:`cif.indicator.normalize.normalize` turns it into an
    :class:`InvalidIndicator` naming the value the caller passed. It is cheap
    to raise, which matters on the hot path.
    """

    __slots__ = ()

    @property
    def reason(self) -> str:
        return str(self.args[0])


class LazyBad(Bad):
    """A :class:`Bad` whose reason is worked out only when asked for: ``LazyBad(fn, arg)``.

    A defanged value fails once as given before it is refanged; the reason for that
    first failure is usually never shown, so it is not built up front.
    """

    __slots__ = ()

    @property
    def reason(self) -> str:
        fn, arg = self.args
        return str(fn(arg))
