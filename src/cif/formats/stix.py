"""STIX 2.1 bundle of indicator objects, marked with the TLP 2.0 marking definitions.

Ids are uuid5 of the itype and value, so the same indicator keeps the same id
across builds; the bundle id is uuid5 of the member ids. Patterns follow the STIX
patterning grammar: ``[ipv4-addr:value = '1.2.3.4']``, ``[domain-name:value = ...]``,
``[url:value = ...]``, ``[email-addr:value = ...]``, ``[file:hashes.'SHA-256' = ...]``,
``[autonomous-system:number = 64500]``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from cif.indicator.model import Indicator

from .common import clean

NAMESPACE = uuid.UUID("6c1f4f46-1c6b-5e0a-9d51-7a1b0c2e3f40")
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
PATH = {
    "ipv4": "ipv4-addr:value",
    "ipv4_cidr": "ipv4-addr:value",
    "ipv6": "ipv6-addr:value",
    "ipv6_cidr": "ipv6-addr:value",
    "fqdn": "domain-name:value",
    "url": "url:value",
    "email": "email-addr:value",
}


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _quote(v: str) -> str:
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(ind: Indicator) -> str | None:
    """The STIX pattern for one indicator, or None for an itype STIX cannot express."""
    if ind.itype in PATH:
        return f"[{PATH[ind.itype]} = {_quote(ind.indicator)}]"
    if ind.itype in HASH_NAMES:
        return f"[file:hashes.'{HASH_NAMES[ind.itype]}' = {_quote(ind.indicator)}]"
    if ind.itype == "asn" and ind.indicator.isdigit():
        return f"[autonomous-system:number = {int(ind.indicator)}]"
    return None


def marking(tlp: str) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object, as published with the TLP extension."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_IDS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp.upper()}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp}},
    }


def indicator_object(ind: Indicator, now: datetime) -> dict[str, Any] | None:
    pat = pattern(ind)
    if pat is None:
        return None
    created = ind.first_at or ind.reported_at or now
    modified = max(created, ind.last_at or created)
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NAMESPACE, f'{ind.itype}:{ind.indicator}')}",
        "created": _ts(created),
        "modified": _ts(modified),
        "name": f"{ind.itype} {ind.indicator}"[:250],
        "pattern": pat,
        "pattern_type": "stix",
        "valid_from": _ts(created),
        "confidence": max(0, min(100, round(ind.confidence))),
        "indicator_types": ["malicious-activity"],
        "object_marking_refs": [TLP_IDS.get(ind.tlp, TLP_IDS["amber"])],
    }
    if ind.tags:
        obj["labels"] = sorted(ind.tags)
    if ind.description:
        obj["description"] = clean(ind.description, 1000)
    if ind.reference and "://" in ind.reference:
        obj["external_references"] = [{"source_name": ind.provider or "cif", "url": ind.reference}]
    return obj


def render(indicators: Iterable[Indicator], *, now: datetime | None = None, **_: object) -> bytes:
    """A bundle (UTF-8 JSON bytes) with indicator objects and the markings they use."""
    now = now or datetime.now(UTC)
    objs: list[dict[str, Any]] = []
    used: set[str] = set()
    for ind in indicators:
        o = indicator_object(ind, now)
        if o is not None:
            objs.append(o)
            used.add(ind.tlp if ind.tlp in TLP_IDS else "amber")
    marks = [marking(t) for t in TLP_IDS if t in used]
    ids = "\n".join(o["id"] for o in objs)
    bundle = {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(NAMESPACE, ids)}",
        "objects": marks + objs,
    }
    return orjson.dumps(bundle)
