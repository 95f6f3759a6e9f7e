"""Feed parsers: each turns a body file into raw field dicts (and Bad items)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..rules import FeedRule
from . import delimited, jsonfeed, misp, pattern, plain, stix, xmlfeed
from .base import Bad

Parser = Callable[[Path, FeedRule, int], Iterator[dict[str, Any] | Bad]]

PARSERS: dict[str, Parser] = {
    "csv": delimited.parse,
    "tsv": delimited.parse,
    "pipe": delimited.parse,
    "semicolon": delimited.parse,
    "delimited": delimited.parse,
    "pattern": pattern.parse,
    "plain": plain.parse,
    "json": jsonfeed.parse,
    "jsonl": jsonfeed.parse_lines,
    "rss": xmlfeed.parse,
    "stix": stix.parse,
    "misp": misp.parse,
}


def get_parser(name: str) -> Parser:
    try:
        return PARSERS[name]
    except KeyError:
        raise ValueError(f"unknown parser {name!r} (known: {', '.join(sorted(PARSERS))})") from None


__all__ = ["PARSERS", "Bad", "Parser", "get_parser"]
