"""`cif stream`: subscribe to the platform's ZeroMQ PUB and print indicators as they come."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from cif.stream.filters import StreamFilter
from cif.stream.zmq_sub import ZmqSubscriber

from .app import app

COLUMNS = ("reported_at", "itype", "indicator", "confidence", "provider", "tags")


@app.command()
def stream(
    zmq_url: Annotated[
        str, typer.Option("--zmq", envvar="CIF_ZMQ", help="PUB endpoint")
    ] = "tcp://127.0.0.1:5001",
    itype: Annotated[
        list[str] | None, typer.Option("--itype", help="Only these itypes (server-side)")
    ] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", help="Any of these tags, comma-separated")
    ] = None,
    confidence: Annotated[
        float, typer.Option("--confidence", min=0, max=100, help="Confidence floor")
    ] = 0,
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="Only these providers")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or jsonl")] = "table",
    server_key: Annotated[
        str | None,
        typer.Option(
            "--server-key", envvar="CIF_ZMQ_SERVER_KEY", help="Server CURVE public key (z85)"
        ),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret",
            envvar="CIF_ZMQ_CLIENT_SECRET",
            help="This client's CURVE secret key (z85)",
        ),
    ] = None,
    count: Annotated[int, typer.Option("--count", help="Stop after this many (0: never)")] = 0,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Stop after this many idle seconds (0: never)")
    ] = 0,
) -> None:
    """Print live indicators from the ZeroMQ stream (table or JSON lines) until Ctrl-C."""
    if fmt not in ("table", "jsonl"):
        raise typer.BadParameter("table or jsonl", param_hint="--format")
    filt = StreamFilter.build(itype=itype, tags=tags, confidence=confidence, provider=provider)
    sub = ZmqSubscriber(zmq_url, filt, server_key=server_key, client_secret=client_secret)
    out = sys.stdout
    if fmt == "table":
        out.write("\t".join(COLUMNS) + "\n")
    seen = 0
    try:
        while True:
            ind = sub.recv(timeout or None)
            if ind is None:
                break
            if fmt == "jsonl":
                out.write(orjson.dumps(ind).decode() + "\n")
            else:
                out.write("\t".join(_cell(ind.get(c)) for c in COLUMNS) + "\n")
            out.flush()
            seen += 1
            if count and seen >= count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        sub.close()


def _cell(v: object) -> str:
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return "" if v is None else str(v)
