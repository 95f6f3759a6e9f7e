"""`cif sync`: keep a defense artifact current from the feed and the live stream."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from cif.client import DEFAULT_REMOTE
from cif.stream.sync import Artifact, SSEFollower, Syncer, SyncOptions, api_fetch, format_renderer

from .app import app
from .options import Remote, TokenOpt


@app.command()
def sync(
    itype: Annotated[
        str, typer.Option("--itype", help="Indicator type of the artifact, e.g. ipv4")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to keep current")],
    fmt: Annotated[
        str, typer.Option("--format", help="Output format, e.g. plain, rpz, zeek")
    ] = "plain",
    reload: Annotated[
        str | None, typer.Option("--reload", help="Command run after each change (no shell)")
    ] = None,
    confidence: Annotated[
        float, typer.Option("--confidence", min=0, max=100, help="Confidence floor")
    ] = 0,
    tags: Annotated[
        str | None, typer.Option("--tags", help="Any of these tags, comma-separated")
    ] = None,
    debounce: Annotated[float, typer.Option("--debounce", help="Seconds between rewrites")] = 2.0,
    resync: Annotated[
        float, typer.Option("--resync", help="Seconds between full refreshes")
    ] = 300.0,
    max_shrink: Annotated[
        float,
        typer.Option("--max-shrink", min=0, max=1, help="Largest allowed shrink of a refresh, 0-1"),
    ] = 0.5,
    allow_shrink: Annotated[
        bool, typer.Option("--allow-shrink", help="Write even a much smaller file")
    ] = False,
    once: Annotated[
        bool, typer.Option("--once", help="Refresh once, write, and exit (for cron)")
    ] = False,
    remote: Remote = None,
    token: TokenOpt = None,
) -> None:
    """Write ITYPE indicators in FORMAT to OUT, then keep it current from the live stream."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        render = format_renderer(fmt)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from None
    remote = remote or DEFAULT_REMOTE
    params = {"itype": itype, "confidence": confidence or None, "tags": tags}
    params = {k: v for k, v in params.items() if v is not None}
    opts = SyncOptions(
        out=out,
        reload=reload,
        debounce=debounce,
        resync=resync,
        max_shrink=max_shrink,
        allow_shrink=allow_shrink,
        confidence=confidence or 0.0,
    )
    artifact = Artifact(render, opts)
    fetch = api_fetch(remote, token, params)
    if once:
        ok = Syncer(artifact, fetch).once()
        typer.echo(f"{'wrote' if ok else 'kept'} {out} ({artifact.written} entries)")
        raise typer.Exit(0 if ok else 1)
    syncer = Syncer(artifact, fetch, SSEFollower(remote, token, params))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        syncer.run(stop)
    except KeyboardInterrupt:
        pass
