"""Suricata dataset files, one per itype (``dataset:... load <file>``).

Types: ``string`` for fqdn, url (without scheme, as in http.host+uri use) and email
lines base64-encoded; ``md5`` and ``sha256`` as lowercase hex; ``ipv4`` and ``ip``
(IPv6) as plain addresses. Networks, sha1 and sha512 have no dataset type.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from cif.indicator.model import Indicator

from .common import FormatError

DATASET_TYPES = {
    "fqdn": "string",
    "url": "string",
    "email": "string",
    "md5": "md5",
    "sha256": "sha256",
    "ipv4": "ipv4",
    "ipv6": "ip",
}


def dataset_type(itype: str) -> str:
    t = DATASET_TYPES.get(itype)
    if t is None:
        raise FormatError(
            f"itype {itype!r}: no Suricata dataset type (use one of {', '.join(DATASET_TYPES)})"
        )
    return t


def render(indicators: Iterable[Indicator], *, strip_scheme: bool = False, **_: object) -> str:
    """Dataset lines; all indicators must share one itype."""
    itype: str | None = None
    seen: dict[str, None] = {}
    for ind in indicators:
        if itype is None:
            itype = ind.itype
            kind = dataset_type(itype)
        elif ind.itype != itype:
            raise FormatError(
                f"{ind.indicator!r}: a dataset holds one itype ({itype}), not {ind.itype}"
            )
        v = ind.indicator
        if kind == "string":
            if strip_scheme and "://" in v:
                v = v.split("://", 1)[1]
            v = base64.b64encode(v.encode()).decode()
        elif kind in ("md5", "sha256"):
            v = v.lower()
        seen.setdefault(v, None)
    return "".join(v + "\n" for v in seen)
