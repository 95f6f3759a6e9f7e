"""`cif normalize`: print the canonical form of values, one JSON object per line."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from ..indicator.describe import describe
from ..indicator.normalize import ITYPES
from .app import app


@app.command("normalize")
def normalize_cmd(
    values: Annotated[
        list[str] | None,
        typer.Argument(help="Values to normalize; with none, read lines on stdin."),
    ] = None,
    itype: Annotated[
        str | None,
        typer.Option("--itype", help=f"Declare the itype of every value: {', '.join(ITYPES)}."),
    ] = None,
) -> None:
    """Normalize indicators: itype, canonical form, flags (bad values print an error object)."""
    if itype is not None and itype not in ITYPES:
        raise typer.BadParameter(
            f"{itype!r} is not an itype; expected one of {', '.join(ITYPES)}", param_hint="--itype"
        )
    source = values if values else (line.rstrip("\r\n") for line in sys.stdin)
    out = sys.stdout
    for value in source:
        if not value.strip():
            continue
        out.write(orjson.dumps(describe(value, itype)).decode() + "\n")
    out.flush()
