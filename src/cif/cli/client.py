"""`cif search` and `cif submit`: talk to a running platform over its API."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from cif.client import Client, ClientError

from .app import app
from .options import Remote, TokenOpt
from .output import OUTPUT_FORMATS, print_indicators

Format = Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(OUTPUT_FORMATS)}")]


def _check_format(fmt: str) -> None:
    if fmt not in OUTPUT_FORMATS:
        raise typer.BadParameter(
            f"{fmt!r}: not one of {', '.join(OUTPUT_FORMATS)}", param_hint="--format"
        )


@app.command()
def search(
    q: Annotated[
        str | None,
        typer.Argument(help="Indicator, IP/CIDR (containment) or domain (with subdomains)"),
    ] = None,
    itype: Annotated[str | None, typer.Option(help="Comma-separated itypes")] = None,
    tags: Annotated[str | None, typer.Option(help="Any of these tags; -tag excludes")] = None,
    provider: Annotated[str | None, typer.Option()] = None,
    group: Annotated[str | None, typer.Option()] = None,
    tlp: Annotated[str | None, typer.Option()] = None,
    confidence: Annotated[float | None, typer.Option(help="Minimum confidence")] = None,
    probability: Annotated[float | None, typer.Option(help="Minimum probability")] = None,
    days: Annotated[float | None, typer.Option(help="Reported in the last N days")] = None,
    hours: Annotated[float | None, typer.Option(help="Reported in the last N hours")] = None,
    since: Annotated[str | None, typer.Option(help="Reported since (ISO-8601)")] = None,
    until: Annotated[str | None, typer.Option(help="Reported until (ISO-8601)")] = None,
    cc: Annotated[str | None, typer.Option()] = None,
    asn: Annotated[str | None, typer.Option()] = None,
    sort: Annotated[str, typer.Option(help="Field, prefixed with - for descending")] = "-last_at",
    limit: Annotated[int, typer.Option(min=1)] = 100,
    fmt: Format = "table",
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Search indicators on a running platform."""
    _check_format(fmt)
    params: dict[str, Any] = {
        "q": q,
        "itype": itype,
        "tags": tags,
        "provider": provider,
        "group": group,
        "tlp": tlp,
        "confidence": confidence,
        "probability": probability,
        "days": days,
        "hours": hours,
        "since": since,
        "until": until,
        "cc": cc,
        "asn": asn,
        "sort": sort,
    }
    try:
        with Client(remote, token) as c:
            rows = c.search_all(params, limit)
    except ClientError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    print_indicators(rows, fmt)


@app.command()
def submit(
    values: Annotated[
        list[str] | None,
        typer.Argument(help="Indicators; none: JSON lines or one value per line on stdin"),
    ] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags")] = None,
    confidence: Annotated[float | None, typer.Option()] = None,
    provider: Annotated[str | None, typer.Option()] = None,
    group: Annotated[str | None, typer.Option()] = None,
    tlp: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    itype: Annotated[str | None, typer.Option()] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Submit indicators to a running platform; prints what was accepted and why others were not."""
    common = {
        k: v
        for k, v in {
            "tags": tags,
            "confidence": confidence,
            "provider": provider,
            "group": group,
            "tlp": tlp,
            "description": description,
            "itype": itype,
        }.items()
        if v is not None
    }
    lines = values if values else (line.strip() for line in sys.stdin)
    records = (_record(line, common) for line in lines if line)
    try:
        with Client(remote, token) as c:
            result = c.submit(records)
    except ClientError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    if fmt == "json":
        typer.echo(orjson.dumps(result).decode())
    else:
        typer.echo(f"accepted {result['accepted']}, rejected {result['rejected']}")
        for err in result["errors"]:
            typer.echo(f"  #{err['index']}: {err['error']}", err=True)
    if result["rejected"] and not result["accepted"]:
        raise typer.Exit(1)


def _record(line: str, common: dict[str, Any]) -> dict[str, Any]:
    """A line is a JSON object, or a bare value; command-line options fill what it leaves out."""
    rec: dict[str, Any]
    if line.startswith("{"):
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            rec = {"indicator": line}
    else:
        rec = {"indicator": line}
    return {**common, **rec}


@app.command("explain")
def explain(
    value: Annotated[str, typer.Argument(help="Any indicator")],
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Every sighting of VALUE, its confidence step by step, its probability and feed status."""
    try:
        with Client(remote, token) as c:
            res = c.explain(value)
    except ClientError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(orjson.dumps(res, option=orjson.OPT_INDENT_2).decode())
