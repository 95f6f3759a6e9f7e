"""Where a running platform keeps its things: data dir, store URL, first admin token.

Shared by `cif up`, `cif tokens` and `cif fm run`, so every entry point finds the
same store the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cif.store import Store, TokenRecord, hash_token, new_token, open_store
from cif.store.tokens import clean_groups

DB_NAME = "cif.sqlite3"
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 (a file name, not a secret)


def default_data_dir() -> Path:
    """``$CIF_DATA_DIR``, else ``~/.cif``."""
    env = os.environ.get("CIF_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cif"


@dataclass(slots=True)
class Settings:
    data_dir: Path
    store_url: str

    @classmethod
    def resolve(cls, data_dir: str | Path | None = None, store: str | None = None) -> Settings:
        d = Path(data_dir).expanduser() if data_dir else default_data_dir()
        url = store or os.environ.get("CIF_STORE") or str(d / DB_NAME)
        return cls(data_dir=d, store_url=url)

    def prepare(self) -> None:
        """Create the data dir, private to its owner: it holds the database and a token."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.data_dir.chmod(0o700)
        except PermissionError:
            pass

    def open_store(self) -> Store:
        self.prepare()
        return open_store(self.store_url)

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / ADMIN_TOKEN_FILE


def ensure_admin_token(store: Store, path: Path) -> str | None:
    """On first start (no token at all in the store), create an admin token.

    The clear token is written once to ``path`` with mode 0600 and returned; on
    later starts nothing is created and None is returned.
    """
    if store.token_list():
        return None
    token = new_token()
    store.token_add(
        TokenRecord(
            username="admin", token_hash=hash_token(token), read=True, write=True, admin=True
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    return token


def issue_token(
    store: Store,
    username: str,
    *,
    read: bool = False,
    write: bool = False,
    admin: bool = False,
    groups: list[str] | None = None,
    expires_at: datetime | None = None,
    itypes: list[str] | None = None,
) -> tuple[str, TokenRecord]:
    """Create a token; returns the clear token (shown once, never stored) and its record.

    A token asked for with no right at all gets read, the least surprising default.
    """
    username = username.strip()
    if not username or len(username) > 128:
        raise ValueError(f"{username!r}: a username must be 1 to 128 characters")
    if not (read or write or admin):
        read = True
    token_groups = clean_groups(groups or ["everyone"])
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise ValueError(f"{expires_at.isoformat()}: the expiry is in the past")
    clear = new_token()
    record = store.token_add(
        TokenRecord(
            username=username,
            token_hash=hash_token(clear),
            read=read or admin,
            write=write or admin,
            admin=admin,
            groups=token_groups,
            itypes=list(itypes or []),
            expires_at=expires_at,
        )
    )
    return clear, record
