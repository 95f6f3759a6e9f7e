"""/stats and /searches: what the store holds, and who looked for what (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from cif.indicator import format_time

from .access import readable_groups
from .auth import Admin, Reader
from .responses import FastJSON

router = APIRouter()


@router.get("/stats", response_class=FastJSON)
def stats(request: Request, token: Reader, days: int = Query(30, ge=1, le=3650)) -> FastJSON:
    """Counts by itype, tag, provider and (reported) day, over the token's groups."""
    return FastJSON(request.app.state.store.stats(readable_groups(token), days=days))


@router.get("/searches", response_class=FastJSON)
def searches(request: Request, token: Admin, limit: int = Query(100, ge=1, le=10_000)) -> FastJSON:
    """The search log, newest first: searches are intelligence too."""
    request.app.state.search_log.flush()
    rows = request.app.state.store.search_log(limit)
    return FastJSON({"searches": [{**r, "at": format_time(r["at"])} for r in rows]})
