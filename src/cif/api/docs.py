"""/openapi.json (authenticated) and /docs, a page shipped in the package: no CDN."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .auth import Reader
from .responses import FastJSON

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, token: Reader) -> FastJSON:
    return FastJSON(request.app.openapi())


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """A static page with no data in it; it fetches /openapi.json with the reader's token."""
    page = resources.files("cif.api").joinpath("static/docs.html").read_text(encoding="utf-8")
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": (
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
            )
        },
    )
