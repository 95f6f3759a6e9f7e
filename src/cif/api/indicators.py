"""/indicators: search and submit. Routes only translate HTTP; the work is below."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from cif.indicator import Indicator, InvalidIndicator
from cif.pipeline import Pipeline
from cif.store import InvalidQuery, Query, Store, TokenRecord

from .auth import Reader, Writer
from .body import parse_records, read_limited
from .responses import FastJSON

router = APIRouter()


def readable_groups(token: TokenRecord) -> list[str] | None:
    """The groups a token may read; None means all (admin)."""
    return None if token.admin else list(token.groups)


@router.get("/indicators", response_class=FastJSON)
def search(request: Request, token: Reader) -> FastJSON:
    """Search stored indicators with the filters of the store's Query."""
    try:
        query = Query.from_params(request.query_params)
    except InvalidQuery as e:
        raise HTTPException(400, str(e)) from None
    query.allowed_groups = readable_groups(token)
    store: Store = request.app.state.store
    try:
        page = store.search(query)
    except InvalidQuery as e:
        raise HTTPException(400, str(e)) from None
    return FastJSON({"indicators": [i.to_dict() for i in page.items], "cursor": page.cursor})


@router.post("/indicators", response_class=FastJSON)
async def submit(request: Request, token: Writer) -> FastJSON:
    """Accept one object, a JSON list or JSON lines; every record goes through the pipeline."""
    records = parse_records(await read_limited(request, request.app.state.max_body))
    pipeline: Pipeline = request.app.state.pipeline
    defaults: dict[str, Any] = {"provider": token.username}
    if token.groups:
        defaults["group"] = token.groups[0]

    def may_write(ind: Indicator) -> None:
        if not token.admin and ind.group not in token.groups:
            raise InvalidIndicator(ind.group, "this token may not write into that group")

    result = await run_in_threadpool(pipeline.submit, records, defaults=defaults, check=may_write)
    return FastJSON(
        {
            "accepted": result.accepted,
            "rejected": result.rejected,
            "errors": [e.to_dict() for e in result.errors],
        }
    )
