"""Regular-expression lines: the rule's ``pattern`` groups become the ``values`` fields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..rules import FeedRule
from .base import Bad, is_comment, numbered_lines


def parse(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    rx = rule.pattern
    assert rx is not None
    names = rule.values or ["indicator"]
    for item in numbered_lines(path, rule, max_bytes):
        if isinstance(item, Bad):
            yield item
            continue
        n, line = item
        m = rx.search(line)
        if m is None:
            if not is_comment(line):
                yield Bad(n, line[:200], "line does not match the pattern")
            continue
        groups = m.groups() or (m.group(0),)
        yield {
            name: (g.strip() if g else g) for name, g in zip(names, groups, strict=False) if name
        }
