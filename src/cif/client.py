"""A small HTTP client for a running platform, used by `cif search` and `cif submit`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import orjson

DEFAULT_REMOTE = "http://127.0.0.1:5000"


class ClientError(Exception):
    """The platform refused the request or could not be reached; the message says which."""


class Client:
    def __init__(
        self, remote: str | None = None, token: str | None = None, timeout: float = 30
    ) -> None:
        self.remote = (remote or os.environ.get("CIF_REMOTE") or DEFAULT_REMOTE).rstrip("/")
        self.token = token or os.environ.get("CIF_TOKEN")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self._http = httpx.Client(base_url=self.remote, headers=headers, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """Send; a refusal or an unreachable platform becomes a ClientError that says which."""
        try:
            r = self._http.request(method, path, **kw)
        except httpx.HTTPError as e:
            raise ClientError(f"cannot reach {self.remote}: {e}") from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("error", r.text)
            except ValueError:
                detail = r.text
            raise ClientError(f"{method} {path} answered {r.status_code}: {detail}")
        return r

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        return self._request(method, path, **kw).json()

    def _raw(self, path: str, params: Mapping[str, Any]) -> bytes:
        return self._request("GET", path, params=_clean(params)).content

    def feed(self, itype: str, params: Mapping[str, Any]) -> bytes:
        """A rendered feed, as the platform serves it to defenses."""
        return self._raw(f"/feeds/{itype}", params)

    def feed_explain(self, itype: str, value: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("GET", f"/feeds/{itype}/explain", params={**params, "q": value})

    def explain(self, value: str) -> dict[str, Any]:
        return self._call("GET", "/indicators/explain", params={"q": value})

    def ping(self) -> dict[str, Any]:
        return self._call("GET", "/ping")

    def search(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("GET", "/indicators", params=_clean(params))

    def search_all(self, params: Mapping[str, Any], limit: int) -> list[dict[str, Any]]:
        """Follow cursors until ``limit`` indicators or the end."""
        out: list[dict[str, Any]] = []
        p = dict(params)
        while len(out) < limit:
            p["limit"] = min(limit - len(out), 10_000)
            page = self.search(p)
            out.extend(page["indicators"])
            if not page.get("cursor"):
                break
            p["cursor"] = page["cursor"]
        return out

    def submit(self, records: Iterable[Mapping[str, Any]], batch: int = 5000) -> dict[str, Any]:
        """Send records as JSON lines in batches; returns summed counts and errors."""
        total: dict[str, Any] = {"accepted": 0, "rejected": 0, "errors": []}
        buf: list[bytes] = []
        offset = 0

        def flush() -> None:
            nonlocal offset
            if not buf:
                return
            res = self._call(
                "POST",
                "/indicators",
                content=b"\n".join(buf),
                headers={"Content-Type": "application/x-ndjson"},
            )
            total["accepted"] += res["accepted"]
            total["rejected"] += res["rejected"]
            for e in res["errors"]:
                e["index"] += offset
                total["errors"].append(e)
            offset += len(buf)
            buf.clear()

        for rec in records:
            buf.append(orjson.dumps(rec))
            if len(buf) >= batch:
                flush()
        flush()
        return total

    def webhooks(self) -> list[dict[str, Any]]:
        return self._call("GET", "/webhooks")["webhooks"]

    def webhook(self, webhook_id: int) -> dict[str, Any]:
        return self._call("GET", f"/webhooks/{webhook_id}")

    def webhook_create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The answer holds the webhook's secret, shown this once."""
        return self._call("POST", "/webhooks", json=dict(body))

    def webhook_update(self, webhook_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", f"/webhooks/{webhook_id}", json=dict(body))

    def webhook_delete(self, webhook_id: int) -> dict[str, Any]:
        return self._call("DELETE", f"/webhooks/{webhook_id}")

    def webhook_deliveries(
        self, webhook_id: int, state: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"state": state} if state else {})}
        r = self._call("GET", f"/webhooks/{webhook_id}/deliveries", params=params)
        return r["deliveries"]

    def webhook_retry(self, webhook_id: int, delivery_id: str) -> dict[str, Any]:
        path = f"/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"
        return self._call("POST", path)


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out parameters that were not given, so the server's defaults apply."""
    return {k: v for k, v in params.items() if v not in (None, "", [], ())}
