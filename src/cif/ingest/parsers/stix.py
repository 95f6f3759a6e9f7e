"""STIX 2.1 bundles: indicator objects whose pattern is one simple comparison.

Supported: ``[ipv4-addr:value = '...']`` (and ipv6-addr, domain-name, url,
email-addr), ``[file:hashes.'SHA-256' = '...']`` (MD5, SHA-1, SHA-256, SHA-512)
and ``[autonomous-system:number = N]``. Other patterns are counted as bad items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..content import read_all
from ..rules import FeedRule
from .base import Bad

_SIMPLE = re.compile(
    r"^\[\s*([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\d+))\s*\]$"
)
_HASHES = {
    "md5": "md5",
    "sha-1": "sha1",
    "sha1": "sha1",
    "sha-256": "sha256",
    "sha256": "sha256",
    "sha-512": "sha512",
    "sha512": "sha512",
}
_VALUE_TYPES = {
    "ipv4-addr": None,
    "ipv6-addr": None,
    "domain-name": "fqdn",
    "url": "url",
    "email-addr": "email",
}
# The STIX 2.1 TLP 1.0 marking definitions, by id.
TLP_MARKINGS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}


def pattern_value(pattern: str) -> tuple[str, str | None] | None:
    """(value, itype or None) of a simple STIX pattern, else None."""
    m = _SIMPLE.match(pattern.strip())
    if not m:
        return None
    obj, prop, text, number = m.groups()
    value = number if number is not None else re.sub(r"\\(.)", r"\1", text)
    if obj in _VALUE_TYPES and prop == "value":
        return value, _VALUE_TYPES[obj]
    if obj == "file" and prop.startswith("hashes."):
        algo = _HASHES.get(prop[7:].strip("'").lower())
        return (value.lower(), algo) if algo else None
    if obj == "autonomous-system" and prop == "number":
        return value, "asn"
    return None


def parse(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    try:
        doc = orjson.loads(read_all(path, max_bytes))
    except orjson.JSONDecodeError as e:
        yield Bad(0, "", f"not valid JSON: {e}")
        return
    objects = doc.get("objects") if isinstance(doc, dict) else doc
    if not isinstance(objects, list):
        yield Bad(0, "", "not a STIX bundle (no objects list)")
        return
    for i, obj in enumerate(objects, 1):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        pattern = str(obj.get("pattern") or "")
        if obj.get("pattern_type", "stix") != "stix":
            yield Bad(i, pattern[:200], f"pattern_type {obj.get('pattern_type')!r} is not stix")
            continue
        found = pattern_value(pattern)
        if found is None:
            yield Bad(i, pattern[:200], "only simple [type:value = '...'] patterns are supported")
            continue
        value, itype = found
        rec: dict[str, Any] = {"indicator": value, "stix_id": obj.get("id")}
        if itype:
            rec["itype"] = itype
        if obj.get("name") or obj.get("description"):
            rec["description"] = obj.get("description") or obj.get("name")
        tags = [str(t) for t in (obj.get("indicator_types") or []) + (obj.get("labels") or [])]
        if tags:
            rec["tags"] = tags
        for src, dst in (("valid_from", "first_at"), ("modified", "last_at")):
            if obj.get(src):
                rec[dst] = obj[src]
        if isinstance(obj.get("confidence"), int):
            rec["confidence"] = obj["confidence"]
        for m in obj.get("object_marking_refs") or []:
            if m in TLP_MARKINGS:
                rec["tlp"] = TLP_MARKINGS[m]
        for ref in obj.get("external_references") or []:
            if isinstance(ref, dict) and ref.get("url"):
                rec["reference"] = ref["url"]
                break
        yield rec
