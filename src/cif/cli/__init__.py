"""The `cif` command. Subcommands live one module per concern and hold no business logic."""

from __future__ import annotations

from . import client as _client  # noqa: F401  (cif search, cif submit)
from . import feed as _feed  # noqa: F401  (cif feed, cif feed explain)
from . import fm as _fm  # noqa: F401
from . import model as _model  # noqa: F401  (cif model train, cif model info)
from . import normalize as _normalize  # noqa: F401  (cif normalize)
from . import predict as _predict  # noqa: F401  (cif predict)
from . import stream as _stream  # noqa: F401  (cif stream)
from . import sync as _sync  # noqa: F401  (cif sync)
from . import tokens as _tokens  # noqa: F401  (cif tokens ...)
from . import up as _up  # noqa: F401  (cif up)
from . import webhooks as _webhooks  # noqa: F401  (cif webhooks ...)
from .app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
