"""`cif up --webhooks-allow-private` delivers what is submitted; `cif webhooks` manages it."""

from __future__ import annotations

import json

import httpx
from typer.testing import CliRunner

from cif.cli import app
from tests.cli.test_up import free_port, start, stop

from .conftest import Receiver


def test_up_delivers_to_a_webhook_made_with_the_cli(tmp_path, receiver: Receiver) -> None:
    receiver.secret = "a-receiver-secret-of-some-length"
    port = free_port()
    proc = start(tmp_path, port, "--webhooks-allow-private")
    try:
        token = (tmp_path / "admin.token").read_text().strip()
        env = {"CIF_REMOTE": f"http://127.0.0.1:{port}", "CIF_TOKEN": token}
        run = CliRunner().invoke
        r = run(
            app,
            [
                "webhooks",
                "create",
                receiver.url,
                "--secret",
                receiver.secret,
                "--tags",
                "c2",
                "--name",
                "soc",
                "--json",
            ],
            env=env,
        )
        assert r.exit_code == 0, r.output
        made = json.loads(r.output)
        assert made["secret"] == receiver.secret and made["tags"] == ["c2"]
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.post(
            f"{env['CIF_REMOTE']}/indicators",
            headers=auth,
            json=[
                {"indicator": "198.51.100.23", "tags": "botnet,c2", "confidence": 80},
                {"indicator": "bad.example.com", "tags": "phishing"},
            ],
            timeout=10,
        )
        assert r.json()["accepted"] == 2, r.text
        receiver.wait(lambda: receiver.indicators() == ["198.51.100.23"], 15)
        r = run(app, ["webhooks", "list", "--json"], env=env)
        assert r.exit_code == 0 and receiver.secret not in r.output
        assert [h["name"] for h in json.loads(r.output)] == ["soc"]
        r = run(
            app, ["webhooks", "deliveries", str(made["id"]), "--state", "done", "--json"], env=env
        )
        (d,) = json.loads(r.output)
        assert d["id"] == receiver.headers[0]["x-cif-delivery"] and d["attempts"] == 1
        r = run(app, ["webhooks", "update", str(made["id"]), "--rotate-secret"], env=env)
        assert r.exit_code == 0 and "secret (shown only now)" in r.output
        r = run(app, ["webhooks", "delete", str(made["id"])], env=env)
        assert r.exit_code == 0
        r = run(app, ["webhooks", "show", str(made["id"])], env=env)
        assert r.exit_code == 1 and "404" in r.output
    finally:
        out = stop(proc)
    assert "cif stopped" in out
