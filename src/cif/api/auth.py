"""Bearer-token authentication and rights checks for every route but /ping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from cif.store import Store, TokenRecord, hash_token

# last_used_at is bookkeeping, not security: write it at most this often per token.
LAST_USED_EVERY = timedelta(minutes=1)


def _store(request: Request) -> Store:
    return request.app.state.store


def current_token(request: Request) -> TokenRecord:
    """Look the token up on every request, so a revocation or expiry bites at once."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    store = _store(request)
    record = store.token_by_hash(hash_token(value.strip()))
    now = datetime.now(UTC)
    if record is None or not record.usable(now):
        raise HTTPException(
            401, "invalid, revoked or expired token", headers={"WWW-Authenticate": "Bearer"}
        )
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        wait = limiter.take(record.id if record.id is not None else record.token_hash)
        if wait:
            raise HTTPException(
                429,
                f"rate limit of {limiter.rate:g} requests/s for this token exceeded",
                headers={"Retry-After": limiter.retry_after(wait)},
            )
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_EVERY:
        store.token_touch(record.token_hash, now)
    return record


Token = Annotated[TokenRecord, Depends(current_token)]


def need_read(token: Token) -> TokenRecord:
    if not (token.read or token.admin):
        raise HTTPException(403, "this token may not read")
    return token


def need_write(token: Token) -> TokenRecord:
    if not (token.write or token.admin):
        raise HTTPException(403, "this token may not write")
    return token


def need_admin(token: Token) -> TokenRecord:
    if not token.admin:
        raise HTTPException(403, "this token is not an admin token")
    return token


Reader = Annotated[TokenRecord, Depends(need_read)]
Writer = Annotated[TokenRecord, Depends(need_write)]
Admin = Annotated[TokenRecord, Depends(need_admin)]
