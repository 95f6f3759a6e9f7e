"""`cif up`: run the platform."""

from __future__ import annotations

from typing import Annotated

import typer

from cif.runtime import Settings
from cif.server import Listen, run

from .app import app
from .options import DataDir, StoreUrl


@app.command()
def up(
    http: Annotated[str, typer.Option("--http", help="Listen on HOST:PORT")] = "127.0.0.1:5000",
    data_dir: DataDir = None,
    store: StoreUrl = None,
    no_fetch: Annotated[bool, typer.Option("--no-fetch", help="Do not pull feeds")] = False,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Run the platform in the foreground (HTTP API, feeds) until Ctrl-C or SIGTERM."""
    try:
        listen = Listen.parse(http)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--http") from None
    run(Settings.resolve(data_dir, store), listen, fetch=not no_fetch, say=typer.echo, log_level=log_level)
