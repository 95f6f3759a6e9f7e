"""`cif up`: run the platform in the foreground until Ctrl-C or SIGTERM.

One process runs the HTTP API and (unless told not to) the feed scheduler over one
store. Shutdown is graceful: uvicorn stops taking connections and finishes the
requests in flight, the scheduler finishes its current batch, then the store closes;
every batch the pipeline accepted was committed before its request answered.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

from cif.api.app import create_app
from cif.ingest import FeedScheduler, rule_files
from cif.pipeline import Pipeline
from cif.runtime import Settings, ensure_admin_token

log = logging.getLogger("cif.server")


@dataclass(slots=True)
class Listen:
    host: str
    port: int

    @classmethod
    def parse(cls, value: str) -> Listen:
        """``HOST:PORT``, ``:PORT`` or ``[v6]:PORT``."""
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"{value!r}: expected HOST:PORT, e.g. 127.0.0.1:5000")
        host = host.strip("[]") or "127.0.0.1"
        return cls(host, int(port))


def run(
    settings: Settings,
    listen: Listen,
    *,
    fetch: bool = True,
    say: Callable[[str], Any] = print,
    log_level: str = "info",
) -> None:
    store = settings.open_store()
    try:
        token = ensure_admin_token(store, settings.admin_token_path)
        if token:
            say(f"created the first admin token; it is in {settings.admin_token_path} (mode 0600)")
        pipeline = Pipeline(store)
        app = create_app(store, pipeline=pipeline, data_dir=settings.data_dir)
        scheduler = _start_feeds(pipeline, settings) if fetch else None
        say(f"cif is up on http://{listen.host}:{listen.port} with store {settings.store_url}")
        try:
            config = uvicorn.Config(
                app, host=listen.host, port=listen.port, log_level=log_level, access_log=False,
                timeout_graceful_shutdown=30,
            )
            _serve_until_signal(uvicorn.Server(config))
        finally:
            if scheduler is not None:
                scheduler.stop()
    finally:
        store.close()
        say("cif stopped")


class _Stop(Exception):
    """Raised in the main thread by SIGTERM once uvicorn has finished its graceful shutdown."""


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


def _serve_until_signal(server: uvicorn.Server) -> None:
    """Run uvicorn; return normally after Ctrl-C or SIGTERM so the caller can close up.

    uvicorn drains connections, restores the previous handlers and re-raises the
    signal; our SIGTERM handler turns that into an exception we catch (SIGINT comes
    back as KeyboardInterrupt), instead of the process dying before the store closes.
    """
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        server.run()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start_feeds(pipeline: Pipeline, settings: Settings) -> FeedScheduler:
    """Run the bundled rules and the data dir's rules folder on their intervals."""
    scheduler = FeedScheduler(pipeline, rule_files(settings.data_dir), settings.data_dir)
    scheduler.start()
    return scheduler
