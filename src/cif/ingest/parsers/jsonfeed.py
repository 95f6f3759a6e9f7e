"""JSON documents and JSON lines; ``envelope`` reaches the record list, ``map`` picks fields.

``map`` is either ``{source.key.path: field}`` or (csirtg-fm style) a list of
source keys paired with ``values``. Without a map, keys are kept as they are and
the observable is found under a usual name (indicator, url, ip, domain...).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..content import read_all
from ..rules import FeedRule
from .base import Bad, is_comment, numbered_lines, pick_indicator_key


def parse(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    try:
        doc = orjson.loads(read_all(path, max_bytes))
    except orjson.JSONDecodeError as e:
        yield Bad(0, "", f"not valid JSON: {e}")
        return
    items = _enter(doc, rule.envelope)
    if items is None:
        yield Bad(
            0, "", f"envelope {'.'.join(rule.envelope or [])!r} does not lead to a list of records"
        )
        return
    for i, item in enumerate(items, 1):
        yield to_record(item, rule, i)


def parse_lines(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    for item in numbered_lines(path, rule, max_bytes):
        if isinstance(item, Bad):
            yield item
            continue
        n, line = item
        if is_comment(line):
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            yield Bad(n, line[:200], f"not valid JSON: {e}")
            continue
        if rule.envelope:
            inner = _enter(obj, rule.envelope)
            if inner is None:
                yield Bad(n, line[:200], "envelope not found in this line")
                continue
            for x in inner:
                yield to_record(x, rule, n)
        else:
            yield to_record(obj, rule, n)


def _enter(doc: Any, envelope: list[str] | None) -> list[Any] | None:
    for key in envelope or []:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    if isinstance(doc, dict) and not envelope:
        return [doc]
    return doc if isinstance(doc, list) else None


def get_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def to_record(item: Any, rule: FeedRule, n: int) -> dict[str, Any] | Bad:
    if isinstance(item, (str, int)) and not isinstance(item, bool):
        return {"indicator": str(item)}
    if not isinstance(item, dict):
        return Bad(n, str(item)[:200], "a record must be an object or a string")
    out: dict[str, Any] = {}
    mp = rule.map
    if isinstance(mp, list):
        pairs = list(zip(mp, rule.values or [], strict=False))
    elif isinstance(mp, dict):
        pairs = list(mp.items())
    else:
        pairs = []
    for src, dst in pairs:
        if dst:
            v = get_path(item, str(src))
            if v is not None:
                out[dst] = _flat(v)
    if "indicator" not in out:
        if mp is None:
            for k, v in item.items():
                if isinstance(v, (str, int, float, list)) and not isinstance(v, bool):
                    out.setdefault(k, _flat(v))
        key = pick_indicator_key([k for k in item if isinstance(item[k], (str, int))])
        if key is not None:
            out["indicator"] = str(item[key])
            if key != "indicator":
                out.pop(key, None)
    if not out.get("indicator"):
        return Bad(
            n,
            orjson.dumps(item)[:200].decode("utf-8", "replace"),
            "no indicator field in this record",
        )
    return out


def _flat(v: Any) -> Any:
    if isinstance(v, list):
        return [str(x) for x in v if isinstance(x, (str, int, float))]
    if isinstance(v, dict):
        return orjson.dumps(v).decode()[:1024]
    return v
