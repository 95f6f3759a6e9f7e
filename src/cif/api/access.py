"""What a token may see: its groups, its itypes, and the TLP red rule."""

from __future__ import annotations

from fastapi import HTTPException

from cif.store import TokenRecord


def readable_groups(token: TokenRecord) -> list[str] | None:
    """The groups a token may read; None means all (admin)."""
    return None if token.admin else list(token.groups)


def red_groups(token: TokenRecord) -> list[str]:
    """TLP red leaves the API only to members of the indicator's group, admins included."""
    return list(token.groups)


def check_itype(token: TokenRecord, itype: str) -> None:
    if token.itypes and itype not in token.itypes:
        raise HTTPException(403, f"this token may not read itype {itype!r}")


def allowed_itypes(token: TokenRecord, asked: list[str]) -> list[str]:
    """Intersect the asked itypes with the token's allow-list (empty list: every itype)."""
    if not token.itypes:
        return asked
    if not asked:
        return list(token.itypes)
    bad = [i for i in asked if i not in token.itypes]
    if bad:
        raise HTTPException(403, f"this token may not read itype {bad[0]!r}")
    return asked
