"""/tokens (admin only): create, list, change and revoke API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from cif.indicator import ITYPES, InvalidIndicator, format_time, parse_time
from cif.runtime import issue_token
from cif.store import Store, TokenRecord
from cif.store.tokens import clean_groups

from .auth import Admin
from .responses import FastJSON

router = APIRouter()


class TokenIn(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    read: bool = False
    write: bool = False
    admin: bool = False
    groups: list[str] = Field(default_factory=lambda: ["everyone"], max_length=100)
    itypes: list[str] = Field(default_factory=list, max_length=len(ITYPES))
    expires: str | None = None


class TokenPatch(BaseModel):
    read: bool | None = None
    write: bool | None = None
    admin: bool | None = None
    groups: list[str] | None = Field(default=None, max_length=100)
    itypes: list[str] | None = Field(default=None, max_length=len(ITYPES))
    expires: str | None = None


def token_view(r: TokenRecord) -> dict[str, Any]:
    """A token's record as the API shows it: never the hash, never the token."""
    return {
        "id": r.id,
        "username": r.username,
        "read": r.read,
        "write": r.write,
        "admin": r.admin,
        "groups": r.groups,
        "itypes": r.itypes,
        "revoked": r.revoked,
        "usable": r.usable(),
        "expires_at": format_time(r.expires_at) if r.expires_at else None,
        "created_at": format_time(r.created_at),
        "last_used_at": format_time(r.last_used_at) if r.last_used_at else None,
    }


def _itypes(values: list[str]) -> list[str]:
    bad = [v for v in values if v not in ITYPES]
    if bad:
        raise HTTPException(400, f"itype {bad[0]!r}: not one of {', '.join(ITYPES)}")
    return values


def _expiry(value: str | None):
    try:
        return parse_time(value, "expires") if value else None
    except InvalidIndicator as e:
        raise HTTPException(400, str(e)) from None


@router.get("/tokens", response_class=FastJSON)
def list_tokens(request: Request, token: Admin) -> FastJSON:
    store: Store = request.app.state.store
    return FastJSON({"tokens": [token_view(r) for r in store.token_list()]})


@router.post("/tokens", response_class=FastJSON, status_code=201)
def create_token(body: TokenIn, request: Request, token: Admin) -> FastJSON:
    """Create a token; the answer carries it in clear this once."""
    store: Store = request.app.state.store
    try:
        clear, record = issue_token(
            store,
            body.username,
            read=body.read,
            write=body.write,
            admin=body.admin,
            groups=body.groups,
            itypes=_itypes(body.itypes),
            expires_at=_expiry(body.expires),
        )
    except ValueError as e:
        raise HTTPException(400, str(e)) from None
    return FastJSON({"token": clear, **token_view(record)}, status_code=201)


@router.patch("/tokens/{token_id}", response_class=FastJSON)
def change_token(token_id: int, body: TokenPatch, request: Request, token: Admin) -> FastJSON:
    store: Store = request.app.state.store
    changes: dict[str, Any] = {
        k: v for k, v in body.model_dump(exclude_unset=True).items() if k != "expires"
    }
    if "itypes" in changes and changes["itypes"] is not None:
        _itypes(changes["itypes"])
    if "groups" in changes:
        try:
            changes["groups"] = clean_groups(changes["groups"] or [])
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
    if "expires" in body.model_fields_set:
        changes["expires_at"] = _expiry(body.expires)
    record = store.token_update(token_id, **changes)
    if record is None:
        raise HTTPException(404, f"token {token_id}: no such token")
    return FastJSON(token_view(record))


@router.delete("/tokens/{token_id}", response_class=FastJSON)
def revoke_token(token_id: int, request: Request, token: Admin) -> FastJSON:
    store: Store = request.app.state.store
    if store.token_revoke(id=token_id) == 0:
        raise HTTPException(404, f"token {token_id}: no such active token")
    return FastJSON({"revoked": token_id})
