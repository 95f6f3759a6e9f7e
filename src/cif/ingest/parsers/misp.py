"""MISP feed events (``{"Event": ...}``, API ``{"response": [...]}`` or lists of events).

Attributes marked ``to_ids`` become records; composite types (``ip-dst|port``,
``filename|sha256``, ``domain|ip``) give the part cif indexes. Event tags become
tags, ``tlp:*`` tags set the TLP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..content import read_all
from ..rules import FeedRule
from .base import Bad

TYPES = {
    "ip-dst": "ip",
    "ip-src": "ip",
    "domain": "fqdn",
    "hostname": "fqdn",
    "url": "url",
    "uri": "url",
    "link": None,
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "email-src": "email",
    "email-dst": "email",
    "email": "email",
    "AS": "asn",
    "ip-dst|port": "ip",
    "ip-src|port": "ip",
    "domain|ip": "fqdn",
    "hostname|port": "fqdn",
    "filename|md5": "md5",
    "filename|sha1": "sha1",
    "filename|sha256": "sha256",
    "filename|sha512": "sha512",
}


def _events(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and "response" in doc:
        doc = doc["response"]
    items = doc if isinstance(doc, list) else [doc]
    out = []
    for x in items:
        if isinstance(x, dict):
            ev = x.get("Event", x)
            if isinstance(ev, dict):
                out.append(ev)
    return out


def parse(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    try:
        doc = orjson.loads(read_all(path, max_bytes))
    except orjson.JSONDecodeError as e:
        yield Bad(0, "", f"not valid JSON: {e}")
        return
    n = 0
    for ev in _events(doc):
        tags, tlp = [], None
        for t in ev.get("Tag") or []:
            name = str(t.get("name", "")) if isinstance(t, dict) else ""
            if name.lower().startswith("tlp:"):
                tlp = name[4:]
            elif name:
                # machine tags (ns:predicate="value") keep their value
                value = name.split("=", 1)[1] if "=" in name else name.split(":")[-1]
                tags.append(value.strip('"').strip()[:64])
        attrs = list(ev.get("Attribute") or [])
        for obj in ev.get("Object") or []:
            if isinstance(obj, dict):
                attrs.extend(obj.get("Attribute") or [])
        for a in attrs:
            n += 1
            if not isinstance(a, dict):
                yield Bad(n, str(a)[:200], "an attribute must be an object")
                continue
            atype = str(a.get("type", ""))
            if atype not in TYPES or TYPES[atype] is None or not a.get("to_ids", True):
                continue
            value = str(a.get("value") or "")
            if "|" in atype:
                parts = value.split("|")
                value = parts[1] if atype.startswith("filename|") else parts[0]
            if not value:
                yield Bad(n, str(a)[:200], f"{atype} attribute without a value")
                continue
            rec: dict[str, Any] = {"indicator": value, "misp_event": ev.get("uuid")}
            if TYPES[atype] not in ("ip",):
                rec["itype"] = TYPES[atype]
            desc = a.get("comment") or ev.get("info")
            if desc:
                rec["description"] = str(desc)[:1024]
            if tags:
                rec["tags"] = tags
            if tlp:
                rec["tlp"] = tlp
            ts = a.get("timestamp") or ev.get("timestamp")
            if ts:
                rec["last_at"] = ts
            yield rec
