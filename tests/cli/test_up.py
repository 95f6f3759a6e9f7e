"""`cif up` as a user runs it: a real process, real HTTP, the client commands, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CIF = [sys.executable, "-m", "cif"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data_dir: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CIF_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [*CIF, "up", "--http", f"127.0.0.1:{port}", "--no-fetch", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"cif up exited early: {proc.stdout.read() if proc.stdout else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("cif up did not answer /ping within 30 s")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def cli(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CIF, *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_up_submit_search_restart(tmp_path, request, backend):
    extra: tuple[str, ...] = ()
    if backend == "postgresql":
        extra = ("--store", request.getfixturevalue("pg_url"))
    port = free_port()
    proc = start(tmp_path, port, *extra)
    try:
        token_file = tmp_path / "admin.token"
        assert token_file.exists()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        env = {"CIF_REMOTE": f"http://127.0.0.1:{port}", "CIF_TOKEN": token}
        r = cli(
            "submit",
            "--tags",
            "botnet,c2",
            "--confidence",
            "80",
            "--format",
            "json",
            env=env,
            stdin="198.51.100.23\nevil[.]example[.]com\n999.1.1.1\n",
        )
        res = json.loads(r.stdout)
        assert res["accepted"] == 2 and res["rejected"] == 1, r.stdout + r.stderr
        assert "999.1.1.1" in res["errors"][0]["error"]
        r = cli("search", "--tags", "c2", "-f", "json", env=env)
        assert r.returncode == 0, r.stderr
        got = {i["indicator"]: i for i in json.loads(r.stdout)}
        assert set(got) == {"198.51.100.23", "evil.example.com"}
        assert got["evil.example.com"]["tags"] == ["botnet", "c2"]
        r = cli("search", "198.51.100.0/24", "-f", "csv", env=env)
        lines = r.stdout.strip().splitlines()
        assert lines[0].startswith("indicator,itype") and lines[1].startswith("198.51.100.23,ipv4")
        r = cli("search", "-f", "table", env=env)
        assert "evil.example.com" in r.stdout
        r = cli("explain", "evil[.]example[.]com", env=env)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["sightings"][0]["tags"] == ["botnet", "c2"]
        r = cli("feed", "--itype", "ipv4", "-f", "plain", env=env)
        assert r.returncode == 0, r.stderr  # 198.51.100.23 is documentation space: never fed
        assert "198.51.100.23" not in r.stdout
        bad = cli("search", env={**env, "CIF_TOKEN": "wrong"})
        assert bad.returncode == 1 and "401" in bad.stderr
    finally:
        out = stop(proc)
    assert "stopped" in out
    # a second start finds the same data and does not make a second admin token
    proc = start(tmp_path, port, *extra)
    try:
        env = {
            "CIF_REMOTE": f"http://127.0.0.1:{port}",
            "CIF_TOKEN": (tmp_path / "admin.token").read_text().strip(),
        }
        r = cli("search", "evil.example.com", "-f", "jsonl", env=env)
        assert json.loads(r.stdout.splitlines()[0])["indicator"] == "evil.example.com"
    finally:
        out = stop(proc)
    assert "created the first admin token" not in out


def test_tokens_commands(tmp_path):
    env = {"CIF_DATA_DIR": str(tmp_path)}
    r = cli("tokens", "create", "--username", "eve", "--write", "--groups", "a,b", env=env)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("cif_") and len(token) > 40
    r = cli("tokens", "list", env=env)
    assert "eve" in r.stdout and "write" in r.stdout and "a,b" in r.stdout
    assert token not in r.stdout
    assert token not in (tmp_path / "cif.sqlite3").read_bytes().decode("latin-1")
    r = cli("tokens", "create", "--username", "x", "--expires", "yesterday", env=env)
    assert r.returncode != 0 and "yesterday" in r.stderr
    r = cli("tokens", "revoke", "--username", "eve", env=env)
    assert r.returncode == 0 and "revoked 1" in r.stdout
    r = cli("tokens", "list", env=env)
    assert "revoked" in r.stdout
