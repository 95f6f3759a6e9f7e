"""Helpers for ingest tests: run a feed on a local file, a local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cif.indicator import Indicator
from cif.ingest import Fetcher, load_rule, run_feed
from cif.pipeline.core import Result, normalize_records

FIXTURES = Path(__file__).parent / "fixtures"


class Collect:
    """A dry-run submit: normalizes like the pipeline and keeps the indicators."""

    def __init__(self) -> None:
        self.indicators: list[Indicator] = []
        self.errors: list[Any] = []

    def __call__(self, batch: list[dict[str, Any]], defaults: dict[str, Any]) -> Result:
        inds, errors = normalize_records(batch, defaults=defaults)
        self.indicators.extend(inds)
        self.errors.extend(errors)
        return Result(accepted=len(inds), rejected=len(errors), errors=errors)


def run_on(
    rule: str | Path, feed: str, remote: str | Path, tmp: Path, **kw: Any
) -> tuple[list[Indicator], dict[str, Any]]:
    feeds = {f.name: f for f in load_rule(str(rule))}
    sink = Collect()
    rec = run_feed(
        feeds[feed], fetcher=Fetcher(tmp / "cache"), submit=sink, remote=str(remote), **kw
    )
    return sink.indicators, rec


@pytest.fixture
def http_server() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], str]]:
    """Start a server on 127.0.0.1:0 whose GET is the given function; yields its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(get: Callable[[BaseHTTPRequestHandler], None]) -> str:
        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                get(self)

            def log_message(self, *a: Any) -> None:
                pass

        srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()
