"""API tokens: generated at random, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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


# Token fields an admin may change, and their column names in both backends.
TOKEN_COLUMNS = {
    "read": "can_read",
    "write": "can_write",
    "admin": "is_admin",
    "groups": "groups",
    "itypes": "itypes",
    "expires_at": "expires_at",
}


def token_changes(changes: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(field, column, value) for each change, refusing fields that cannot change;
    a None means "leave as is", except for expires_at, where it means "never"."""
    out = []
    for k, v in changes.items():
        col = TOKEN_COLUMNS.get(k)
        if col is None:
            raise ValueError(f"{k!r}: not a token field that can change")
        if v is None and k != "expires_at":
            continue
        out.append((k, col, v))
    return out


def clean_groups(groups: list[str]) -> list[str]:
    """A token's groups as stored: trimmed, lowercased, sorted, at least one."""
    out = sorted({g.strip().lower() for g in groups if g.strip()})
    if not out:
        raise ValueError(f"{groups!r}: a token needs at least one group")
    return out
