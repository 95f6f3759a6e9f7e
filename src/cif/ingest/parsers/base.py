"""What parsers yield: raw field dicts, or a Bad line that is counted and skipped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..content import MAX_LINE, iter_lines
from ..rules import FeedRule

COMMENT_PREFIXES = ("#", ";", "//")
# Header or key names that hold the observable, most specific first.
INDICATOR_KEYS = (
    "indicator",
    "ioc",
    "ioc_value",
    "observable",
    "url",
    "dst_ip",
    "dstip",
    "ip_address",
    "ipaddress",
    "ip",
    "ipv4",
    "ipv6",
    "cidr",
    "network",
    "netblock",
    "domain",
    "fqdn",
    "hostname",
    "host",
    "sha256",
    "sha1",
    "md5",
    "hash",
    "value",
    "address",
)
_LOOKS = re.compile(
    r"^(?:[0-9a-fA-F:.]+(?:/\d+)?|[a-z][a-z0-9+.-]*://\S+|[^\s/]+\.[A-Za-z]{2,}\.?|[0-9a-fA-F]{32,128}|AS\d+)$"
)


@dataclass(slots=True)
class Bad:
    """A line or item that could not be parsed."""

    line: int
    text: str
    reason: str


def looks_like_indicator(s: str) -> bool:
    """A cheap shape test (ip, cidr, url, domain, hash) used to find headers and columns."""
    s = s.strip()
    return bool(s) and any(c.isdigit() or c == "." for c in s) and bool(_LOOKS.match(s))


def pick_indicator_key(keys: list[str]) -> str | None:
    low = {k.lower(): k for k in keys}
    for k in INDICATOR_KEYS:
        if k in low:
            return low[k]
    return None


def numbered_lines(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[tuple[int, str] | Bad]:
    """Lines after ``skip_first``, ``skip`` and ``line_filter``; blank lines dropped.

    Comment lines are passed through (parsers may read headers from them);
    over-long lines come back as Bad.
    """
    skip, keep, first = rule.skip, rule.line_filter, rule.skip_first
    for n, line in enumerate(iter_lines(path, max_bytes), 1):
        if n <= first:
            continue
        if len(line) > MAX_LINE:
            yield Bad(n, line[:200], f"line is longer than {MAX_LINE} characters")
            continue
        if not line.strip():
            continue
        if skip is not None and skip.search(line):
            continue
        if keep is not None and not line.startswith(COMMENT_PREFIXES) and not keep.search(line):
            continue
        yield n, line


def is_comment(line: str) -> bool:
    return line.lstrip().startswith(COMMENT_PREFIXES)
