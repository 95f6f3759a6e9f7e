"""/indicators: search and submit. Routes only translate HTTP; the work is below."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from cif.formats import FORMATS, FormatError, media_type, render
from cif.indicator import Indicator, InvalidIndicator
from cif.pipeline import Pipeline
from cif.store import InvalidQuery, Query, Store

from .access import allowed_itypes, readable_groups, red_groups
from .auth import Reader, Writer
from .body import parse_records, read_limited
from .responses import FastJSON

router = APIRouter()


@router.get("/indicators")
def search(request: Request, token: Reader) -> Response:
    """Search stored indicators with the filters of the store's Query.

    ``format=`` renders the page in any output format (default json, with a cursor).
    Unless ``nolog`` is given, the search itself is recorded for the admins.
    """
    params = request.query_params
    fmt = params.get("format", "json")
    if fmt != "json" and fmt not in FORMATS:
        raise HTTPException(400, f"format {fmt!r}: not one of json, {', '.join(FORMATS)}")
    try:
        query = Query.from_params(params)
    except InvalidQuery as e:
        raise HTTPException(400, str(e)) from None
    query.itypes = allowed_itypes(token, query.itypes)
    query.allowed_groups = readable_groups(token)
    query.red_groups = red_groups(token)
    store: Store = request.app.state.store
    try:
        page = store.search(query)
    except InvalidQuery as e:
        raise HTTPException(400, str(e)) from None
    if "nolog" not in params:
        request.app.state.search_log.add(token.username, _describe(params), len(page.items))
    if fmt == "json":
        return FastJSON({"indicators": [i.to_dict() for i in page.items], "cursor": page.cursor})
    try:
        body = render(fmt, page.items)
    except FormatError as e:
        raise HTTPException(400, str(e)) from None
    headers = {"X-Cif-Cursor": page.cursor} if page.cursor else {}
    return Response(body, media_type=media_type(fmt), headers=headers)


def _describe(params: Any) -> str:
    """The search as it was asked, for the search log (bounded)."""
    return "&".join(f"{k}={v}" for k, v in params.multi_items() if k != "cursor")[:1024]


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
        if token.itypes and ind.itype not in token.itypes:
            raise InvalidIndicator(ind.itype, "this token may not write that itype")

    result = await run_in_threadpool(pipeline.submit, records, defaults=defaults, check=may_write)
    return FastJSON(
        {
            "accepted": result.accepted,
            "rejected": result.rejected,
            "errors": [e.to_dict() for e in result.errors],
        }
    )
