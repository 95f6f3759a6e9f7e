"""Shared fixtures: real PostgreSQL and NATS when present, a clear skip when not.

With CIF_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails instead of
skipping, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"
NATS_HOST, NATS_PORT = "127.0.0.1", 4222


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    msg = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CIF_REQUIRE_SERVICES") == "1":
        pytest.fail(msg + " and CIF_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(msg)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    import psycopg

    base = f"postgresql://{PG_HOST}:{PG_PORT}/{PG_DB}"
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def nats_url() -> str:
    need_service("NATS", NATS_HOST, NATS_PORT)
    return f"nats://{NATS_HOST}:{NATS_PORT}"
