"""/stream/sse and /stream/ws: live indicators over HTTP, filtered and access-checked.

Auth is the API's bearer token. Browsers cannot set headers on EventSource or
WebSocket, so ``?token=`` is accepted too; it can end up in proxy and access logs,
so prefer the header, and use short-lived read-only tokens in URLs. Filters come
from the query (itype, tags, confidence, provider). The token is looked up again at
every heartbeat, so a revoked token stops streaming within one heartbeat.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from cif.store import TokenRecord, hash_token

from .filters import Audience, StreamFilter
from .hub import Hub, Subscriber
from .ring import Event

router = APIRouter()

WS_POLICY = 1008  # close code: bad token or bad filter
WS_TOO_SLOW = 1013  # close code: the client fell too far behind


def _raw_token(headers: Any, query: Any) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    q = query.get("token")
    return q.strip() if q and q.strip() else None


async def _lookup(app: Any, raw: str | None) -> TokenRecord | None:
    """The token's record if it exists, is usable and may read."""
    if not raw:
        return None
    rec: TokenRecord | None = await run_in_threadpool(
        app.state.store.token_by_hash, hash_token(raw)
    )
    if rec is None or not rec.usable() or not (rec.read or rec.admin):
        return None
    return rec


def _hub(app: Any) -> Hub:
    hub: Hub | None = getattr(app.state, "stream_hub", None)
    if hub is None:
        raise HTTPException(503, "streaming is not enabled on this server")
    return hub


def _last_id(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise HTTPException(400, f"Last-Event-ID {value!r} must be a whole number") from None


def _filter(query: Any) -> StreamFilter:
    try:
        return StreamFilter.from_params(query)
    except ValueError as e:
        raise HTTPException(400, str(e)) from None


def sse_frame(ev: Event) -> bytes:
    return b"id: %d\nevent: indicator\ndata: %s\n\n" % (ev.id, ev.data)


def ws_line(ev: Event) -> bytes:
    return b'{"type":"indicator","id":%d,"indicator":%s}' % (ev.id, ev.data)


def _gap(hub: Hub, last_id: int | None) -> dict[str, Any]:
    return {
        "type": "gap",
        "after": last_id,
        "oldest_kept": hub.ring.last_id - len(hub.ring) + 1,
        "detail": "some events were not kept; resync from the feed",
    }


@router.get("/stream/sse")
async def stream_sse(request: Request) -> StreamingResponse:
    """Server-Sent Events: ``event: indicator`` with ``id:``; replay after Last-Event-ID."""
    app = request.app
    hub = _hub(app)
    raw = _raw_token(request.headers, request.query_params)
    token = await _lookup(app, raw)
    if token is None:
        raise HTTPException(
            401,
            "missing, invalid, revoked or expired token, or no read right",
            headers={"WWW-Authenticate": "Bearer"},
        )
    filt = _filter(request.query_params)
    last_id = _last_id(
        request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    )
    sub, replay, gap = hub.subscribe("sse", Audience.of_token(token), filt, last_id)

    async def body() -> Any:
        try:
            yield b"retry: 3000\n\n"
            if gap:
                yield b"event: gap\ndata: %s\n\n" % orjson.dumps(_gap(hub, last_id))
            for i in range(0, len(replay), 500):
                yield b"".join(sse_frame(e) for e in replay[i : i + 500])
            while True:
                events = await sub.next(hub.heartbeat)
                if sub.closed:
                    yield b"event: closed\ndata: %s\n\n" % orjson.dumps({"reason": sub.closed})
                    return
                if events:
                    yield b"".join(sse_frame(e) for e in events)
                else:
                    if await _lookup(app, raw) is None:
                        yield b'event: closed\ndata: {"reason":"token no longer valid"}\n\n'
                        return
                    yield b": heartbeat\n\n"
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.websocket("/stream/ws")
async def stream_ws(websocket: WebSocket) -> None:
    """WebSocket: each text message holds one or more JSON lines (indicator, heartbeat, gap)."""
    app = websocket.app
    hub: Hub | None = getattr(app.state, "stream_hub", None)
    raw = _raw_token(websocket.headers, websocket.query_params)
    token = await _lookup(app, raw)
    if hub is None or token is None:
        await websocket.close(
            code=WS_POLICY, reason="streaming disabled" if hub is None else "bad token"
        )
        return
    try:
        filt = StreamFilter.from_params(websocket.query_params)
        last_id = _last_id(websocket.query_params.get("last_event_id"))
    except (ValueError, HTTPException) as e:
        await websocket.close(code=WS_POLICY, reason=str(getattr(e, "detail", e))[:120])
        return
    await websocket.accept()
    sub, replay, gap = hub.subscribe("ws", Audience.of_token(token), filt, last_id)
    try:
        if gap:
            await websocket.send_text(orjson.dumps(_gap(hub, last_id)).decode())
        for i in range(0, len(replay), 500):
            await websocket.send_text(b"\n".join(ws_line(e) for e in replay[i : i + 500]).decode())
        await _ws_pump(websocket, hub, sub, raw, app)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(sub)


async def _ws_pump(
    websocket: WebSocket, hub: Hub, sub: Subscriber, raw: str | None, app: Any
) -> None:
    import asyncio

    async def watch_close() -> None:
        # Clients send nothing we need; reading is how a closed socket is noticed.
        while True:
            msg = await websocket.receive()
            if msg["type"] == "websocket.disconnect":
                return

    closer = asyncio.ensure_future(watch_close())
    try:
        while not closer.done():
            getter = asyncio.ensure_future(sub.next(hub.heartbeat))
            await asyncio.wait({getter, closer}, return_when=asyncio.FIRST_COMPLETED)
            if closer.done():
                getter.cancel()
                return
            events = getter.result()
            if sub.closed:
                await websocket.send_text(
                    orjson.dumps({"type": "closed", "reason": sub.closed}).decode()
                )
                await websocket.close(code=WS_TOO_SLOW, reason="too slow")
                return
            if events:
                await websocket.send_text(b"\n".join(ws_line(e) for e in events).decode())
            else:
                if await _lookup(app, raw) is None:
                    await websocket.close(code=WS_POLICY, reason="token no longer valid")
                    return
                await websocket.send_text(f'{{"type":"heartbeat","last_id":{hub.ring.last_id}}}')
    finally:
        closer.cancel()


@router.get("/stream/stats")
async def stream_stats(request: Request) -> dict[str, Any]:
    """Counters of the bus, the ZeroMQ publisher and the stream hub (admin only)."""
    raw = _raw_token(request.headers, request.query_params)
    token = await _lookup(request.app, raw)
    if token is None:
        raise HTTPException(401, "missing or invalid token", headers={"WWW-Authenticate": "Bearer"})
    if not token.admin:
        raise HTTPException(403, "this token is not an admin token")
    rt = getattr(request.app.state, "realtime", None)
    if rt is not None:
        return rt.stats()
    return {"hub": _hub(request.app).stats()}
