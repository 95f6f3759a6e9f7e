"""Tokens: kept hashed, found by hash, listed, revoked, last use recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cif.store import TokenRecord, hash_token, new_token
from cif.store.sqlite_schema import CURRENT


def test_token_lifecycle(store) -> None:  # type: ignore[no-untyped-def]
    clear = new_token()
    exp = datetime(2030, 1, 1, 0, 0, 0, 5, tzinfo=UTC)
    rec = store.token_add(
        TokenRecord(
            username="alice",
            token_hash=hash_token(clear),
            write=True,
            groups=["everyone", "partners"],
            itypes=["ipv4"],
            expires_at=exp,
        )
    )
    other = store.token_add(TokenRecord(username="bob", token_hash=hash_token(new_token())))
    assert rec.id is not None and other.id != rec.id
    got = store.token_by_hash(hash_token(clear))
    assert got is not None
    assert (got.username, got.read, got.write, got.admin) == ("alice", True, True, False)
    assert got.groups == ["everyone", "partners"] and got.itypes == ["ipv4"]
    assert got.expires_at == exp and got.created_at == rec.created_at
    assert store.token_by_hash(hash_token("cif_wrong")) is None
    assert [t.username for t in store.token_list()] == ["alice", "bob"]
    assert all(clear not in repr(t) for t in store.token_list())

    when = datetime.now(UTC) - timedelta(seconds=5)
    assert store.token_touch(rec.token_hash, when) is True
    assert store.token_touch(rec.token_hash) is False  # throttled: no write
    assert store.token_by_hash(rec.token_hash).last_used_at == when

    assert store.token_revoke(username="alice") == 1
    assert store.token_revoke(username="alice") == 0
    assert store.token_by_hash(rec.token_hash).usable() is False
    assert store.token_revoke(id=other.id) == 1
    assert store.token_by_hash(other.token_hash).revoked is True


def test_ping_and_version(store) -> None:  # type: ignore[no-untyped-def]
    store.ping()
    assert store.schema_version() == CURRENT
