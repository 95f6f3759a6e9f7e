"""/ping (no auth) and /health (checks the store)."""

from __future__ import annotations

from fastapi import APIRouter, Request

import cif

from .auth import Reader
from .responses import FastJSON

router = APIRouter()


@router.get("/ping", response_class=FastJSON)
def ping() -> FastJSON:
    """Liveness only: answers without a token and touches nothing."""
    return FastJSON({"pong": True, "version": cif.__version__})


@router.get("/health", response_class=FastJSON)
def health(request: Request, token: Reader) -> FastJSON:
    """Readiness: the store must answer a query."""
    try:
        request.app.state.store.ping()
    except Exception as e:  # any store failure is a health failure, reported, not raised
        return FastJSON({"status": "error", "store": f"{type(e).__name__}: {e}"}, status_code=503)
    return FastJSON({"status": "ok", "store": "ok", "version": cif.__version__})
