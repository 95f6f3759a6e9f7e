"""/feeds: feeds for defenses, their explanations, and feed ingestion health."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from cif.feeds import InvalidFeed
from cif.feeds.service import FeedRequest, FeedService
from cif.ingest import feed_status

from .access import check_itype, readable_groups, red_groups
from .auth import Reader
from .responses import FastJSON

router = APIRouter()


@router.get("/feeds/status", response_class=FastJSON)
def feeds_status(request: Request, token: Reader) -> FastJSON:
    """Per feed: last run, last success, counts, rejects with sample reasons, next run, errors."""
    data_dir = request.app.state.data_dir
    return FastJSON({"feeds": feed_status(data_dir) if data_dir else []})


@router.get("/feeds/{itype}")
def feed(itype: str, request: Request, token: Reader) -> Response:
    """The ``itype`` feed: filtered, aggregated, whitelist-subtracted, rendered in ``format``."""
    check_itype(token, itype)
    service: FeedService = request.app.state.feeds
    try:
        req = FeedRequest.from_params(itype, request.query_params)
        out = service.rendered(req, readable_groups(token), red_groups(token))
    except InvalidFeed as e:
        raise HTTPException(400, str(e)) from None
    headers = {"ETag": out.etag, "Cache-Control": "no-cache", "X-Cif-Count": str(out.count)}
    if out.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(out.body, media_type=out.media_type, headers=headers)


@router.get("/feeds/{itype}/explain", response_class=FastJSON)
def feed_explain(itype: str, request: Request, token: Reader, q: str) -> FastJSON:
    """Whether ``q`` is in the feed and why: its records, removals and whitelist entries."""
    check_itype(token, itype)
    service: FeedService = request.app.state.feeds
    try:
        req = FeedRequest.from_params(itype, request.query_params)
        result = service.explain(q, req, readable_groups(token), red_groups(token))
    except InvalidFeed as e:
        raise HTTPException(400, str(e)) from None
    return FastJSON(result.to_dict())


def _etags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
