"""RSS 2.0 and Atom feeds (through defusedxml): one record per item or entry.

Fields: ``title``, ``link``, ``description``, ``guid``, ``last_at``; the
observable is the link unless the rule's ``map`` says otherwise (e.g. ``title: indicator``).
A ``pattern`` is applied to the mapped indicator text to pull the value out of prose.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from ..content import read_all
from ..rules import FeedRule
from .base import Bad

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    try:
        root = ElementTree.fromstring(read_all(path, max_bytes))
    except (ElementTree.ParseError, DefusedXmlException) as e:
        yield Bad(0, "", f"not a usable RSS/Atom document: {e}")
        return
    items = root.iter("item") if root.tag != f"{ATOM}feed" else root.iter(f"{ATOM}entry")
    mp = dict(rule.map) if isinstance(rule.map, dict) else {"link": "indicator"}
    mp.setdefault("link", "reference")
    for i, el in enumerate(items, 1):
        raw = _rss(el) if el.tag == "item" else _atom(el)
        rec: dict[str, Any] = {}
        for k, v in raw.items():
            if v:
                rec[mp.get(k, k)] = v
        ind = rec.get("indicator")
        if ind and rule.pattern is not None:
            m = rule.pattern.search(str(ind))
            if m is None:
                yield Bad(i, str(ind)[:200], "item does not match the pattern")
                continue
            rec["indicator"] = m.group(1) if m.groups() else m.group(0)
        if not rec.get("indicator"):
            yield Bad(i, str(raw.get("title") or "")[:200], "item has no indicator")
            continue
        yield rec


def _text(el: Element, tag: str) -> str | None:
    x = el.find(tag)
    return x.text.strip() if x is not None and x.text else None


def _date(s: str | None) -> str | None:
    if not s:
        return None
    try:
        return email.utils.parsedate_to_datetime(s).isoformat()
    except (TypeError, ValueError):
        return s


def _rss(el: Element) -> dict[str, Any]:
    return {
        "title": _text(el, "title"),
        "link": _text(el, "link"),
        "description": _text(el, "description"),
        "guid": _text(el, "guid"),
        "last_at": _date(_text(el, "pubDate")),
    }


def _atom(el: Element) -> dict[str, Any]:
    link = el.find(f"{ATOM}link")
    return {
        "title": _text(el, f"{ATOM}title"),
        "link": link.get("href") if link is not None else None,
        "description": _text(el, f"{ATOM}summary") or _text(el, f"{ATOM}content"),
        "guid": _text(el, f"{ATOM}id"),
        "last_at": _text(el, f"{ATOM}updated") or _text(el, f"{ATOM}published"),
    }
