"""`cif tokens create|list|revoke`: manage API tokens in the local store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cif.indicator import InvalidIndicator, format_time, parse_time
from cif.runtime import Settings, issue_token

from .app import app
from .options import DataDir, StoreUrl

tokens_app = typer.Typer(
    help="Create, list and revoke API tokens (stored hashed).", no_args_is_help=True
)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def create(
    username: Annotated[str, typer.Option("--username", help="Who the token is for")],
    admin: Annotated[bool, typer.Option("--admin")] = False,
    read: Annotated[bool, typer.Option("--read")] = False,
    write: Annotated[bool, typer.Option("--write")] = False,
    groups: Annotated[str, typer.Option("--groups", help="Comma-separated groups")] = "everyone",
    expires: Annotated[str | None, typer.Option("--expires", help="ISO-8601 expiry time")] = None,
    data_dir: DataDir = None,
    store: StoreUrl = None,
) -> None:
    """Create a token and print it (it is shown only this once)."""
    try:
        expires_at = parse_time(expires, "--expires") if expires else None
    except InvalidIndicator as e:
        raise typer.BadParameter(str(e), param_hint="--expires") from None
    st = Settings.resolve(data_dir, store).open_store()
    try:
        clear, _ = issue_token(
            st,
            username,
            read=read,
            write=write,
            admin=admin,
            groups=groups.split(","),
            expires_at=expires_at,
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    finally:
        st.close()
    typer.echo(clear)


@tokens_app.command("list")
def list_(data_dir: DataDir = None, store: StoreUrl = None) -> None:
    """List tokens (never the tokens themselves: only their records)."""
    st = Settings.resolve(data_dir, store).open_store()
    try:
        records = st.token_list()
    finally:
        st.close()
    table = Table("id", "username", "rights", "groups", "expires", "state", "last used")
    for r in records:
        rights = ",".join(
            n for n, on in (("read", r.read), ("write", r.write), ("admin", r.admin)) if on
        )
        state = "revoked" if r.revoked else ("expired" if not r.usable() else "active")
        table.add_row(
            str(r.id),
            r.username,
            rights,
            ",".join(r.groups),
            format_time(r.expires_at) if r.expires_at else "-",
            state,
            format_time(r.last_used_at) if r.last_used_at else "-",
        )
    Console().print(table)


@tokens_app.command("revoke")
def revoke(
    id: Annotated[int | None, typer.Option("--id", help="Token id (see `cif tokens list`)")] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Revoke every token of this user")
    ] = None,
    data_dir: DataDir = None,
    store: StoreUrl = None,
) -> None:
    """Revoke tokens by id or by username; they are refused from the next request on."""
    if (id is None) == (username is None):
        raise typer.BadParameter("give exactly one of --id or --username")
    st = Settings.resolve(data_dir, store).open_store()
    try:
        n = st.token_revoke(id=id, username=username)
    finally:
        st.close()
    if n == 0:
        typer.echo("no matching active token", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {n} token(s)")
