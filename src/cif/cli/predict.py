"""`cif predict`: probability (0-100) that urls and names are malicious, from the shipped models."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from ..score.predict import classify
from .app import app


@app.command("predict")
def predict_cmd(
    values: Annotated[
        list[str] | None, typer.Argument(help="urls or names; with none, read lines on stdin.")
    ] = None,
    itype: Annotated[
        str | None,
        typer.Option("--itype", help="Treat every value as url or fqdn [default: detect]."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="A model file from `cif model train` (needs --itype)."),
    ] = None,
) -> None:
    """Print one JSON object per value: indicator, itype, probability, and whether it is flagged."""
    if itype is not None and itype not in ("url", "fqdn"):
        raise typer.BadParameter(f"{itype!r}: only url and fqdn have a model", param_hint="--itype")
    if model is not None and itype is None:
        raise typer.BadParameter("--model needs --itype", param_hint="--model")
    items = values if values else [s.strip() for s in sys.stdin if s.strip()]
    failed = False
    for row in classify(items, itype, model):
        failed = failed or "error" in row
        sys.stdout.buffer.write(orjson.dumps(row) + b"\n")
    if failed:
        raise typer.Exit(1)
