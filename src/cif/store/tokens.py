"""API tokens: generated at random, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

TOKEN_PREFIX = "cif_"  # noqa: S105 - the marker every token starts with, not a secret


def new_token() -> str:
    """A fresh token: 256 bits of randomness, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough (no password KDF)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class TokenRecord:
    username: str
    token_hash: str
    read: bool = True
    write: bool = False
    admin: bool = False
    groups: list[str] = field(default_factory=lambda: ["everyone"])
    itypes: list[str] = field(default_factory=list)  # empty: every itype
    expires_at: datetime | None = None
    revoked: bool = False
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_used_at: datetime | None = None
    id: int | None = None

    def usable(self, now: datetime | None = None) -> bool:
        if self.revoked:
            return False
        if self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC)):
            return False
        return True
