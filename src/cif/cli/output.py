"""Printing indicator dicts from the API as a table, JSON, JSON lines or CSV."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

TABLE_COLUMNS = (
    "indicator",
    "itype",
    "tags",
    "confidence",
    "provider",
    "group",
    "tlp",
    "last_at",
    "count",
)
CSV_COLUMNS = (
    "indicator",
    "itype",
    "tags",
    "confidence",
    "probability",
    "provider",
    "group",
    "tlp",
    "first_at",
    "last_at",
    "reported_at",
    "count",
    "asn",
    "cc",
    "description",
    "reference",
)
OUTPUT_FORMATS = ("table", "json", "jsonl", "csv")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def print_indicators(rows: Sequence[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(orjson.dumps(list(rows), option=orjson.OPT_INDENT_2).decode() + "\n")
    elif fmt == "jsonl":
        for r in rows:
            sys.stdout.write(orjson.dumps(r).decode() + "\n")
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in CSV_COLUMNS])
    else:
        table = Table(*TABLE_COLUMNS)
        table.columns[0].no_wrap = True
        for r in rows:
            table.add_row(*(_cell(r.get(c)) for c in TABLE_COLUMNS))
        # Piped output is read by people and greps alike: never cut a value short there.
        Console(width=None if sys.stdout.isatty() else 400).print(table)
