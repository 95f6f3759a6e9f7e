"""The `cif` command. Subcommands live one module per concern and hold no business logic."""

from __future__ import annotations

from . import normalize as _normalize  # noqa: F401  (registers `cif normalize`)
from .app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
