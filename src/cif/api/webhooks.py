"""/webhooks (admin only): create, list, change and delete webhooks; inspect their deliveries.

The secret is shown once, in the answer that created (or rotated) it; it is stored so
the delivery worker can sign, but no GET ever returns it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from cif.indicator import ITYPES, format_time
from cif.store.outbox import STATES, STYLES, Delivery, Outbox, WebhookRecord, open_outbox
from cif.stream.filters import StreamFilter
from cif.stream.webhooks import WebhookRefused, check_url, new_secret

from .auth import Admin
from .responses import FastJSON

router = APIRouter()

Names = list[str] | str | None


class WebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048)
    name: str = Field(default="", max_length=128)
    itype: Names = None
    tags: Names = None
    confidence: float | None = Field(default=None, ge=0, le=100)
    provider: Names = None
    groups: list[str] = Field(default_factory=lambda: ["everyone"], max_length=100)
    style: Literal["json", "slack"] = "json"
    enabled: bool = True
    secret: str | None = Field(default=None, min_length=16, max_length=256)


class WebhookPatch(BaseModel):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    name: str | None = Field(default=None, max_length=128)
    itype: Names = None
    tags: Names = None
    confidence: float | None = Field(default=None, ge=0, le=100)
    provider: Names = None
    groups: list[str] | None = Field(default=None, max_length=100)
    style: Literal["json", "slack"] | None = None
    enabled: bool | None = None
    secret: str | None = Field(default=None, min_length=16, max_length=256)
    rotate_secret: bool = False


def _time(us: int) -> str | None:
    return format_time(datetime.fromtimestamp(us / 1e6, UTC)) if us else None


def webhook_view(r: WebhookRecord) -> dict[str, Any]:
    """A webhook as the API shows it: never its secret."""
    return {
        "id": r.id,
        "name": r.name,
        "url": r.url,
        "itype": r.itypes,
        "tags": r.tags,
        "confidence": r.confidence,
        "provider": r.providers,
        "groups": r.groups,
        "style": r.style,
        "enabled": r.enabled,
        "created_at": _time(r.created_at),
        "updated_at": _time(r.updated_at),
    }


def delivery_view(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "webhook": d.webhook_id,
        "state": d.state,
        "attempts": d.attempts,
        "count": d.count,
        "indicators": [i.get("indicator") for i in d.indicators()],
        "created_at": _time(d.created_at),
        "updated_at": _time(d.updated_at),
        "next_at": _time(d.next_at) if d.state == "pending" else None,
        "last_status": d.last_status,
        "last_error": d.last_error,
    }


def _outbox(request: Request) -> Outbox:
    box: Outbox | None = getattr(request.app.state, "outbox", None)
    if box is None:
        box = open_outbox(request.app.state.store.url)
        request.app.state.outbox = box
    return box


def _check_url(request: Request, url: str) -> None:
    allow = bool(getattr(request.app.state, "webhooks_allow_private", False))
    try:
        check_url(url, allow_private=allow, resolve=not allow)
    except WebhookRefused as e:
        raise HTTPException(400, f"url: {e}") from None


def _filters(itype: Names, tags: Names, confidence: float | None, provider: Names) -> StreamFilter:
    try:
        f = StreamFilter.build(itype, tags, confidence, provider)
    except ValueError as e:
        raise HTTPException(400, str(e)) from None
    bad = sorted(f.itypes - set(ITYPES))
    if bad:
        raise HTTPException(400, f"itype {bad[0]!r}: not one of {', '.join(ITYPES)}")
    return f


def _groups(values: list[str]) -> list[str]:
    groups = sorted({g.strip().lower() for g in values if g.strip()})
    if not groups:
        raise HTTPException(400, f"{values!r}: a webhook needs at least one group")
    return groups


def _get(box: Outbox, webhook_id: int) -> WebhookRecord:
    r = box.webhook_get(webhook_id)
    if r is None:
        raise HTTPException(404, f"webhook {webhook_id}: no such webhook")
    return r


@router.get("/webhooks", response_class=FastJSON)
def list_webhooks(request: Request, token: Admin) -> FastJSON:
    return FastJSON({"webhooks": [webhook_view(r) for r in _outbox(request).webhook_list()]})


@router.post("/webhooks", response_class=FastJSON, status_code=201)
def create_webhook(body: WebhookIn, request: Request, token: Admin) -> FastJSON:
    """Create a webhook; the answer carries its secret in clear this once."""
    _check_url(request, body.url)
    f = _filters(body.itype, body.tags, body.confidence, body.provider)
    secret = body.secret or new_secret()
    record = _outbox(request).webhook_add(
        WebhookRecord(
            url=body.url,
            secret=secret,
            name=body.name,
            itypes=sorted(f.itypes),
            tags=sorted(f.tags),
            confidence=f.confidence,
            providers=sorted(f.providers),
            groups=_groups(body.groups),
            style=body.style,
            enabled=body.enabled,
        )
    )
    return FastJSON({"secret": secret, **webhook_view(record)}, status_code=201)


@router.get("/webhooks/{webhook_id}", response_class=FastJSON)
def get_webhook(webhook_id: int, request: Request, token: Admin) -> FastJSON:
    box = _outbox(request)
    r = _get(box, webhook_id)
    return FastJSON({**webhook_view(r), "deliveries": box.counts(webhook_id)})


@router.patch("/webhooks/{webhook_id}", response_class=FastJSON)
def change_webhook(webhook_id: int, body: WebhookPatch, request: Request, token: Admin) -> FastJSON:
    """Change fields; a new secret (given or ``rotate_secret``) is shown in this answer only."""
    box = _outbox(request)
    old = _get(box, webhook_id)
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if body.url is not None:
        _check_url(request, body.url)
        changes["url"] = body.url
    for k in ("name", "style", "enabled"):
        if k in given and getattr(body, k) is not None:
            changes[k] = getattr(body, k)
    if given & {"itype", "tags", "confidence", "provider"}:
        f = _filters(
            body.itype if "itype" in given else old.itypes,
            body.tags if "tags" in given else old.tags,
            body.confidence if "confidence" in given else old.confidence,
            body.provider if "provider" in given else old.providers,
        )
        changes.update(
            itypes=sorted(f.itypes),
            tags=sorted(f.tags),
            confidence=f.confidence,
            providers=sorted(f.providers),
        )
    if body.groups is not None:
        changes["groups"] = _groups(body.groups)
    secret = body.secret or (new_secret() if body.rotate_secret else None)
    if secret:
        changes["secret"] = secret
    record = box.webhook_update(webhook_id, **changes)
    if record is None:
        raise HTTPException(404, f"webhook {webhook_id}: no such webhook")
    view = webhook_view(record)
    return FastJSON({"secret": secret, **view} if secret else view)


@router.delete("/webhooks/{webhook_id}", response_class=FastJSON)
def delete_webhook(webhook_id: int, request: Request, token: Admin) -> FastJSON:
    """Delete the webhook and the deliveries it still owed."""
    if not _outbox(request).webhook_delete(webhook_id):
        raise HTTPException(404, f"webhook {webhook_id}: no such webhook")
    return FastJSON({"deleted": webhook_id})


@router.get("/webhooks/{webhook_id}/deliveries", response_class=FastJSON)
def list_deliveries(
    webhook_id: int,
    request: Request,
    token: Admin,
    state: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> FastJSON:
    """Newest first; ``state=dead`` lists the dead letters."""
    if state is not None and state not in STATES:
        raise HTTPException(400, f"state {state!r}: not one of {', '.join(STATES)}")
    box = _outbox(request)
    _get(box, webhook_id)
    rows = box.deliveries(webhook_id, state=state, limit=limit, payload=True)
    return FastJSON({"deliveries": [delivery_view(d) for d in rows]})


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", response_class=FastJSON)
def retry_delivery(webhook_id: int, delivery_id: str, request: Request, token: Admin) -> FastJSON:
    """Send a dead (or done) delivery again, with a fresh count of tries and the same id."""
    if not _outbox(request).redeliver(webhook_id, delivery_id):
        raise HTTPException(404, f"delivery {delivery_id}: no such dead or done delivery")
    return FastJSON({"retried": delivery_id})


__all__ = ["STYLES", "router"]
