"""`cif webhooks ...`: manage webhooks of a running platform over its API (admin token)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from cif.client import Client, ClientError

from .app import app
from .options import Remote, TokenOpt

webhooks_app = typer.Typer(
    help="Create, list, change and delete webhooks; inspect and retry deliveries.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
ItypeOpt = Annotated[str | None, typer.Option("--itype", help="Comma-separated itypes")]
TagsOpt = Annotated[str | None, typer.Option("--tags", help="Any of these tags (comma-separated)")]
ConfOpt = Annotated[float | None, typer.Option("--confidence", help="Minimum confidence")]
ProviderOpt = Annotated[str | None, typer.Option("--provider", help="Comma-separated providers")]
GroupsOpt = Annotated[str | None, typer.Option("--groups", help="Comma-separated groups")]
StyleOpt = Annotated[str | None, typer.Option("--style", help="json or slack")]
NameOpt = Annotated[str | None, typer.Option("--name")]
SecretOpt = Annotated[
    str | None, typer.Option("--secret", help="Signing secret (16+ chars) [default: generated]")
]


def _call(remote: str | None, token: str | None, fn: Callable[[Client], Any]) -> Any:
    try:
        with Client(remote, token) as c:
            return fn(c)
    except ClientError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


def _fields(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _print(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(list(rows), option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(*columns)
    for r in rows:
        table.add_row(
            *(
                ",".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v)
                for v in (r.get(c) for c in columns)
            )
        )
    Console().print(table)


HOOK_COLUMNS = ("id", "name", "url", "style", "enabled", "itype", "tags", "confidence", "provider")


@webhooks_app.command("list")
def list_(as_json: Json = False, remote: Remote = None, token: TokenOpt = None) -> None:
    """List webhooks (never their secrets)."""
    _print(_call(remote, token, lambda c: c.webhooks()), HOOK_COLUMNS, as_json)


@webhooks_app.command("create")
def create(
    url: Annotated[str, typer.Argument(help="Where to POST, http(s)://...")],
    name: NameOpt = None,
    itype: ItypeOpt = None,
    tags: TagsOpt = None,
    confidence: ConfOpt = None,
    provider: ProviderOpt = None,
    groups: GroupsOpt = None,
    style: StyleOpt = None,
    secret: SecretOpt = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off")] = False,
    as_json: Json = False,
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Create a webhook and print its signing secret (shown only this once)."""
    body = _fields(
        url=url,
        name=name,
        itype=itype,
        tags=tags,
        confidence=confidence,
        provider=provider,
        style=style,
        secret=secret,
        groups=groups.split(",") if groups else None,
    )
    body["enabled"] = not disabled
    made = _call(remote, token, lambda c: c.webhook_create(body))
    if as_json:
        typer.echo(orjson.dumps(made).decode())
        return
    typer.echo(f"created webhook {made['id']} -> {made['url']}")
    typer.echo(f"secret (shown only now): {made['secret']}")


@webhooks_app.command("show")
def show(webhook_id: int, remote: Remote = None, token: TokenOpt = None) -> None:
    """One webhook, with its deliveries counted by state, as JSON."""
    hook = _call(remote, token, lambda c: c.webhook(webhook_id))
    typer.echo(orjson.dumps(hook, option=orjson.OPT_INDENT_2).decode())


@webhooks_app.command("update")
def update(
    webhook_id: int,
    url: Annotated[str | None, typer.Option("--url")] = None,
    name: NameOpt = None,
    itype: ItypeOpt = None,
    tags: TagsOpt = None,
    confidence: ConfOpt = None,
    provider: ProviderOpt = None,
    groups: GroupsOpt = None,
    style: StyleOpt = None,
    secret: SecretOpt = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    rotate_secret: Annotated[bool, typer.Option("--rotate-secret")] = False,
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Change a webhook; a new secret (--secret or --rotate-secret) is printed this once."""
    body = _fields(
        url=url,
        name=name,
        itype=itype,
        tags=tags,
        confidence=confidence,
        provider=provider,
        style=style,
        secret=secret,
        enabled=enable,
        groups=groups.split(",") if groups else None,
    )
    if rotate_secret:
        body["rotate_secret"] = True
    hook = _call(remote, token, lambda c: c.webhook_update(webhook_id, body))
    typer.echo(f"updated webhook {hook['id']}")
    if hook.get("secret"):
        typer.echo(f"secret (shown only now): {hook['secret']}")


@webhooks_app.command("delete")
def delete(webhook_id: int, remote: Remote = None, token: TokenOpt = None) -> None:
    """Delete a webhook and the deliveries it still owed."""
    _call(remote, token, lambda c: c.webhook_delete(webhook_id))
    typer.echo(f"deleted webhook {webhook_id}")


@webhooks_app.command("deliveries")
def deliveries(
    webhook_id: int,
    state: Annotated[str | None, typer.Option(help="pending, delivering, done or dead")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: Json = False,
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Recent deliveries of a webhook, newest first (--state dead: the dead letters)."""
    rows = _call(remote, token, lambda c: c.webhook_deliveries(webhook_id, state, limit))
    cols = (
        "id",
        "state",
        "attempts",
        "count",
        "created_at",
        "next_at",
        "last_status",
        "last_error",
    )
    _print(rows, cols, as_json)


@webhooks_app.command("retry")
def retry(webhook_id: int, delivery_id: str, remote: Remote = None, token: TokenOpt = None) -> None:
    """Send a dead delivery again (same delivery id, fresh count of tries)."""
    _call(remote, token, lambda c: c.webhook_retry(webhook_id, delivery_id))
    typer.echo(f"delivery {delivery_id} is due again")
