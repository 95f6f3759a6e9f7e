"""`cif up`: run the platform in the foreground until Ctrl-C or SIGTERM.

One process runs the HTTP API, the realtime outputs (bus, SSE/WebSocket, ZeroMQ)
and, unless told not to, the feed scheduler, over one store. With ``--bus nats://``
several processes with different roles share one stream:

- ``all``: everything (the default);
- ``api``: the API and its SSE/WebSocket streams, no feed pulls, no ZeroMQ;
- ``ingest``: feed pulls and the API (for submissions and health), no streams;
- ``stream``: the API's streams and ZeroMQ, no feed pulls.

Shutdown is graceful: uvicorn stops taking connections and finishes the requests in
flight, the scheduler finishes its current batch, the realtime outputs stop, then
the store closes; every batch the pipeline accepted was committed before its
request answered.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from cif.api.app import create_app
from cif.enrich import EnrichConfig, EnrichStage
from cif.ingest import FeedScheduler, rule_files
from cif.pipeline import Pipeline
from cif.runtime import Settings, ensure_admin_token
from cif.score.predict import ProbabilityStage
from cif.stream import start_realtime
from cif.stream.webhooks import start_webhooks

log = logging.getLogger("cif.server")
ROLES = ("all", "api", "ingest", "stream")
MAX_CONFIG = 1024 * 1024


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


@dataclass(slots=True)
class Options:
    """Everything `cif up` can be told besides where to listen and keep data."""

    fetch: bool = True
    role: str = "all"
    bus: str | None = None
    zmq: str | None = None
    zmq_curve_secret: str | None = None
    zmq_curve_clients: Sequence[str] = ()
    config: dict[str, Any] = field(default_factory=dict)
    log_level: str = "info"
    webhooks_allow_private: bool = False


def load_config(path: str | Path | None) -> dict[str, Any]:
    """The optional YAML config (enrichment, probability models); empty when absent."""
    if path is None:
        return {}
    p = Path(path)
    if p.stat().st_size > MAX_CONFIG:
        raise ValueError(f"{p}: the config file is larger than {MAX_CONFIG} bytes")
    data = yaml.safe_load(p.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{p}: the config must be a YAML mapping")
    unknown = set(data) - {"enrich", "probability"}
    if unknown:
        raise ValueError(
            f"{p}: unknown config key {sorted(unknown)[0]!r} (known: enrich, probability)"
        )
    return data


def build_stages(config: dict[str, Any]) -> list[Any]:
    """Enrichment, then probability: both run on each batch before the store."""
    stages: list[Any] = [EnrichStage(EnrichConfig.from_dict(config.get("enrich")))]
    prob = config.get("probability", {})
    if prob is not False:
        stages.append(ProbabilityStage(models=(prob or {}).get("models")))
    return stages


def run(
    settings: Settings, listen: Listen, opts: Options, *, say: Callable[[str], Any] = print
) -> None:
    if opts.role not in ROLES:
        raise ValueError(f"{opts.role!r}: the role must be one of {', '.join(ROLES)}")
    store = settings.open_store()
    stages: list[Any] = []
    realtime = scheduler = webhooks = app = None
    try:
        token = ensure_admin_token(store, settings.admin_token_path)
        if token:
            say(f"created the first admin token; it is in {settings.admin_token_path} (mode 0600)")
        realtime = start_realtime(
            bus_url=opts.bus,
            zmq_url=opts.zmq,
            role=opts.role,
            curve_secret=opts.zmq_curve_secret,
            curve_clients=list(opts.zmq_curve_clients) or None,
        )
        if opts.role in ("all", "stream"):  # the processes that hear the bus deliver webhooks
            webhooks = start_webhooks(
                settings.store_url, realtime.bus, allow_private=opts.webhooks_allow_private
            )
        stages = build_stages(opts.config)
        pipeline = Pipeline(store, realtime.bus, stages=stages)
        app = create_app(
            store,
            pipeline=pipeline,
            data_dir=settings.data_dir,
            warninglist_dir=settings.data_dir / "warninglists",
        )
        realtime.attach(app)
        app.state.webhooks_allow_private = opts.webhooks_allow_private
        app.state.outbox = webhooks.outbox if webhooks is not None else None
        if opts.fetch and opts.role in ("all", "ingest"):
            scheduler = FeedScheduler(pipeline, rule_files(settings.data_dir), settings.data_dir)
            scheduler.start()
        say(
            f"cif is up on http://{listen.host}:{listen.port} (role {opts.role})"
            f" with store {settings.store_url}"
        )
        config = uvicorn.Config(
            app,
            host=listen.host,
            port=listen.port,
            log_level=opts.log_level,
            access_log=False,
            timeout_graceful_shutdown=30,
        )
        _serve_until_signal(uvicorn.Server(config))
    finally:
        if scheduler is not None:
            scheduler.stop()
        if realtime is not None:
            realtime.stop()
        if webhooks is not None:  # after the bus has handed it its last batches
            webhooks.stop()
        elif app is not None and getattr(app.state, "outbox", None) is not None:
            app.state.outbox.close()
        for stage in stages:
            close = getattr(stage, "close", None)
            if close is not None:
                close()
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
