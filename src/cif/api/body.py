"""Reading submission bodies: one JSON object, a JSON list, or JSON lines."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import HTTPException, Request

from cif.indicator import InvalidIndicator

MAX_BODY = 16 * 1024 * 1024  # bytes; larger submissions are refused with 413
MAX_ITEMS = 100_000


async def read_limited(request: Request, limit: int = MAX_BODY) -> bytes:
    """Read the body, refusing it as soon as it passes ``limit`` (no unbounded buffering)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(
            413, f"body of {declared} bytes is larger than the limit of {limit} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_records(body: bytes) -> list[Any]:
    """Parse a body into a list of records; each line of JSON lines may be bad on its own.

    A line that is not JSON stays in the list as an InvalidIndicator, which the
    pipeline reports by index without dropping the rest.
    """
    text = body.strip()
    if not text:
        raise HTTPException(400, "empty body: send a JSON object, a JSON list or JSON lines")
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = None
        records: list[Any] = []
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(orjson.loads(line))
            except orjson.JSONDecodeError as e:
                records.append(InvalidIndicator(f"line {n}", f"not JSON: {e}"))
        if all(isinstance(r, InvalidIndicator) for r in records):
            raise HTTPException(400, "body is neither JSON nor JSON lines") from None
    else:
        records = data if isinstance(data, list) else [data]
    if len(records) > MAX_ITEMS:
        raise HTTPException(
            413, f"{len(records)} records is more than the limit of {MAX_ITEMS} per request"
        )
    return records
