"""The FastAPI application: wiring only; every route calls the packages below it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError

import cif
from cif.feeds.service import FeedService
from cif.pipeline import Pipeline
from cif.store import Store
from cif.store.searchlog import SearchLogWriter

from . import context, docs, feeds, indicators, stats, system, tokens
from . import webhooks as webhooks_api
from .body import MAX_BODY
from .ratelimit import RateLimiter
from .responses import FastJSON

DEFAULT_RATE_LIMIT = (100.0, 200)  # per token: sustained requests/s, burst


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.search_log.close()  # write the searches still queued


def create_app(
    store: Store,
    *,
    pipeline: Pipeline | None = None,
    data_dir: Path | None = None,
    warninglist_dir: Path | None = None,
    max_body: int = MAX_BODY,
    rate_limit: tuple[float, int] | None = DEFAULT_RATE_LIMIT,
) -> FastAPI:
    """Build the app over a store. ``rate_limit`` is (requests/s, burst) per token, or None."""
    app = FastAPI(
        title="cif",
        version=cif.__version__,
        description="Realtime threat intelligence: search, submit and feed indicators.",
        default_response_class=FastJSON,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan,
    )
    app.state.store = store
    app.state.pipeline = pipeline or Pipeline(store)
    app.state.data_dir = data_dir
    app.state.max_body = max_body
    app.state.rate_limiter = RateLimiter(*rate_limit) if rate_limit else None

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> FastJSON:
        return FastJSON({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> FastJSON:
        return FastJSON({"error": "invalid request", "detail": exc.errors()}, status_code=400)

    app.state.feeds = FeedService(store, warninglist_dir)
    app.state.search_log = SearchLogWriter(store)
    for module in (system, context, indicators, feeds, tokens, stats, docs, webhooks_api):
        app.include_router(module.router)
    return app
