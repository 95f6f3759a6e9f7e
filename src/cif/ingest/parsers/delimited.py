"""csv, tsv, pipe, semicolon and other delimited lines: quoted fields, comments, headers.

Columns are named by the rule's ``values`` or, without them, by a header row
(the first data row, or a commented header such as abuse.ch's ``# id,dateadded,url``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..rules import FeedRule
from .base import Bad, is_comment, looks_like_indicator, numbered_lines, pick_indicator_key

DELIMITERS = {"csv": ",", "tsv": "\t", "pipe": "|", "semicolon": ";"}
csv.field_size_limit(64 * 1024)


def parse(path: Path, rule: FeedRule, max_bytes: int) -> Iterator[dict[str, Any] | Bad]:
    delim = rule.delimiter or DELIMITERS.get(rule.parser, ",")
    names: list[str | None] | None = list(rule.values) if rule.values else None
    header_from_comment: list[str] | None = None
    where: dict[str, int] = {"n": 0}
    pending: list[Bad] = []

    def data_lines() -> Iterator[str]:
        nonlocal header_from_comment
        for item in numbered_lines(path, rule, max_bytes):
            if isinstance(item, Bad):
                pending.append(item)
                continue
            n, line = item
            if is_comment(line):
                if names is None:
                    body = line.lstrip().lstrip("#;/").strip()
                    cells = next(csv.reader([body], delimiter=delim, skipinitialspace=True), [])
                    if len(cells) > 1 and not any(looks_like_indicator(c) for c in cells):
                        header_from_comment = [c.strip().lower() for c in cells]
                continue
            where["n"] = n
            yield line

    reader = csv.reader(data_lines(), delimiter=delim, skipinitialspace=True)
    guess = False
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            yield Bad(where["n"], "", f"bad {rule.parser} line: {e}")
            continue
        if pending:
            yield from pending
            pending.clear()
        if names is None:
            if header_from_comment is not None:
                names = _header(header_from_comment)
            elif not any(looks_like_indicator(c) for c in row):
                names = _header([c.strip().lower() for c in row])
                continue
            else:
                guess = True
                names = []
        if guess:
            col = next((c for c in row if looks_like_indicator(c)), None)
            if col is None:
                yield Bad(where["n"], delim.join(row)[:200], "no column looks like an indicator")
                continue
            yield {"indicator": col.strip()}
            continue
        if len(row) < sum(1 for x in names if x):
            if len(row) < _last_named(names) + 1:
                yield Bad(
                    where["n"],
                    delim.join(row)[:200],
                    f"{len(row)} columns, the rule names {len(names)}",
                )
                continue
        yield {name: cell.strip() for name, cell in zip(names, row, strict=False) if name}
    yield from pending


def _last_named(names: list[str | None]) -> int:
    return max((i for i, n in enumerate(names) if n), default=0)


def _header(cells: list[str]) -> list[str | None]:
    """Header cells as field names; the observable's column is named ``indicator``."""
    out: list[str | None] = [c or None for c in cells]
    key = pick_indicator_key([c for c in cells if c])
    if key is not None and "indicator" not in cells:
        out[cells.index(key)] = "indicator"
    return out
