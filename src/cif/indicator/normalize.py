"""itype detection and canonical forms (contract; the full rules are being written)."""

from __future__ import annotations

from typing import NamedTuple

from .errors import InvalidIndicator

ITYPES = (
    "ipv4", "ipv6", "ipv4_cidr", "ipv6_cidr", "fqdn", "url", "email",
    "md5", "sha1", "sha256", "sha512", "asn",
)


class Normalized(NamedTuple):
    indicator: str
    itype: str
    flags: frozenset[str]


def normalize(value: str, itype: str | None = None) -> Normalized:
    """Detect the itype of ``value`` (or check it against ``itype``) and canonicalize it."""
    raise InvalidIndicator(value, "normalization is not available yet")


def host_of(value: str, itype: str) -> str | None:
    """The fqdn inside an fqdn, url or email indicator, else None."""
    return None
