"""The ZeroMQ topic of an indicator: ``itype.`` then its sorted tags, each followed by a dot.

``198.51.100.7`` tagged scanner and botnet is published under ``ipv4.botnet.scanner.``.
A SUB socket filters on the server side by plain prefix: ``ipv4.`` gets every ipv4
(the trailing dot keeps ``sha1.`` from matching ``sha256.``), ``ipv4.botnet.`` the
ipv4 whose first tag in sorted order is botnet, ``""`` everything. Any-tag
matching is done by the subscriber on the JSON (``cif stream --tags`` does both).
Dots and whitespace inside a tag become ``_`` in the topic only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_UNSAFE = re.compile(r"[.\s]")


def topic_of(ind: Mapping[str, Any]) -> bytes:
    tags = sorted(_UNSAFE.sub("_", str(t)) for t in ind.get("tags") or ())
    return ("".join(f"{p}." for p in [str(ind.get("itype") or "unknown"), *tags])).encode()


def prefixes(itypes: Iterable[str]) -> list[bytes]:
    """SUB prefixes for a set of itypes; everything when none is given."""
    out = sorted({f"{t}.".encode() for t in itypes})
    return out or [b""]
