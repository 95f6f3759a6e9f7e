"""Wire format of the shared bus: JSON frames of many indicators, each under a size cap.

A frame is ``{"v": 1, "origin": "<process id>", "indicators": [<Indicator.to_dict()>...]}``
encoded with orjson. Batches are split so that no frame passes the server's payload limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

VERSION = 1


def encode_frames(batch: list[dict[str, Any]], origin: str, max_bytes: int) -> Iterator[bytes]:
    """Yield frames of whole indicators, each (but a lone giant one) at most ``max_bytes``."""
    head = orjson.dumps({"v": VERSION, "origin": origin})[:-1] + b',"indicators":['
    budget = max(1024, max_bytes - len(head) - 2)
    parts: list[bytes] = []
    size = 0
    for item in batch:
        b = orjson.dumps(item)
        if parts and size + len(b) + 1 > budget:
            yield head + b",".join(parts) + b"]}"
            parts, size = [], 0
        parts.append(b)
        size += len(b) + 1
    if parts:
        yield head + b",".join(parts) + b"]}"


def decode_frame(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """The origin and indicators of one frame; a frame of an unknown version is refused."""
    obj = orjson.loads(data)
    if not isinstance(obj, dict) or obj.get("v") != VERSION:
        raise ValueError("not a cif bus frame of version 1")
    inds = obj.get("indicators")
    if not isinstance(inds, list):
        raise ValueError("a bus frame without an indicators list")
    return str(obj.get("origin", "")), inds
