"""One indicator per line (the first word), comments and blank lines ignored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..rules import FeedRule
from .base import Bad, is_comment, numbered_lines


def parse(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    field = (rule.values or ["indicator"])[0] or "indicator"
    for item in numbered_lines(path, rule, max_bytes):
        if isinstance(item, Bad):
            yield item
            continue
        _, line = item
        if is_comment(line):
            continue
        yield {field: line.split(None, 1)[0]}
