from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from cif.api.app import create_app
from cif.runtime import issue_token
from cif.store import Store, open_store


@dataclass
class Api:
    client: TestClient
    store: Store
    admin: str
    reader: str
    writer: str

    def h(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path) -> Iterator[Api]:
    url = (
        str(tmp_path / "cif.sqlite3")
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    store = open_store(url)
    admin, _ = issue_token(store, "root", admin=True)
    reader, _ = issue_token(store, "alice", read=True, groups=["everyone"])
    writer, _ = issue_token(store, "bob", write=True, groups=["everyone", "partners"])
    with TestClient(create_app(store, max_body=64 * 1024)) as client:
        yield Api(client, store, admin, reader, writer)
    store.close()
