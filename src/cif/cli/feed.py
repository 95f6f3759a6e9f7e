"""`cif feed` and `cif feed explain`: a feed for a defense, and why a value is (not) in it."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from cif.client import Client, ClientError

from .app import app
from .options import Remote, TokenOpt

feed_app = typer.Typer(
    help="Feeds for defenses: filtered, aggregated, whitelist-subtracted.",
    invoke_without_command=True,
)
app.add_typer(feed_app, name="feed")

ITYPE_HELP = "ipv4, ipv6, fqdn, url, email, md5, sha1, sha256, sha512 or asn"


def _params(
    confidence: float | None,
    tags: str | None,
    provider: str | None,
    group: str | None,
    tlp: str | None,
    days: float | None,
    hours: float | None,
    limit: int | None,
) -> dict[str, Any]:
    return {
        "confidence": confidence,
        "tags": tags,
        "provider": provider,
        "group": group,
        "tlp": tlp,
        "days": days,
        "hours": hours,
        "limit": limit,
    }


@feed_app.callback()
def feed(
    ctx: typer.Context,
    itype: Annotated[str | None, typer.Option("--itype", help=ITYPE_HELP)] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Any output format (plain, rpz, zeek, stix, ...)")
    ] = "plain",
    confidence: Annotated[float | None, typer.Option(help="Minimum confidence")] = None,
    tags: Annotated[str | None, typer.Option(help="Any of these tags; -tag excludes")] = None,
    provider: Annotated[str | None, typer.Option()] = None,
    group: Annotated[str | None, typer.Option()] = None,
    tlp: Annotated[str | None, typer.Option()] = None,
    days: Annotated[float | None, typer.Option(help="Window in days [default: per itype]")] = None,
    hours: Annotated[float | None, typer.Option(help="Window in hours")] = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="Format option KEY=VALUE (action=drop, origin=rpz.example, sid_base=...)",
        ),
    ] = None,
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Print the ITYPE feed in a format a defense reads."""
    ctx.obj = {
        "remote": remote,
        "token": token,
        "params": _params(confidence, tags, provider, group, tlp, days, hours, limit),
    }
    if ctx.invoked_subcommand is not None:
        return
    if not itype:
        raise typer.BadParameter("--itype is required", param_hint="--itype")
    params = {**ctx.obj["params"], "format": fmt}
    for kv in option or []:
        k, sep, v = kv.partition("=")
        if not sep:
            raise typer.BadParameter(f"{kv!r}: expected KEY=VALUE", param_hint="--option")
        params[k] = v
    try:
        with Client(remote, token) as c:
            body = c.feed(itype, params)
    except ClientError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    sys.stdout.buffer.write(body)
    sys.stdout.flush()


@feed_app.command("explain")
def explain(
    ctx: typer.Context,
    value: Annotated[str, typer.Argument(help="The value to explain")],
    itype: Annotated[str, typer.Option("--itype", help=ITYPE_HELP)],
) -> None:
    """Say whether VALUE is in the ITYPE feed, and why (records, removals, whitelist entries)."""
    o = ctx.obj or {}
    try:
        with Client(o.get("remote"), o.get("token")) as c:
            res = c.feed_explain(itype, value, o.get("params", {}))
    except ClientError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(orjson.dumps(res, option=orjson.OPT_INDENT_2).decode())
