"""The `cif` Typer application that every subcommand module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="cif",
    help="Realtime threat intelligence: pull feeds, normalize, score, store, and push to defenses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
