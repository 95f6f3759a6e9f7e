"""Options shared by several subcommands."""

from __future__ import annotations

from typing import Annotated

import typer

DataDir = Annotated[
    str | None,
    typer.Option("--data-dir", help="Data directory [default: $CIF_DATA_DIR, else ~/.cif]"),
]
StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store URL: a SQLite path or postgresql://... [default: the data dir's cif.sqlite3]",
    ),
]
Remote = Annotated[
    str | None,
    typer.Option(
        "--remote", envvar="CIF_REMOTE", help="Platform URL [default: http://127.0.0.1:5000]"
    ),
]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="CIF_TOKEN", help="API token")]
