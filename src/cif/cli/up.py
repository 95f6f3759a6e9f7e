"""`cif up`: run the platform."""

from __future__ import annotations

from typing import Annotated

import typer

from cif.runtime import Settings
from cif.server import ROLES, Listen, Options, load_config, run

from .app import app
from .options import DataDir, StoreUrl


@app.command()
def up(
    http: Annotated[str, typer.Option("--http", help="Listen on HOST:PORT")] = "127.0.0.1:5000",
    data_dir: DataDir = None,
    store: StoreUrl = None,
    no_fetch: Annotated[bool, typer.Option("--no-fetch", help="Do not pull feeds")] = False,
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}")] = "all",
    bus: Annotated[
        str | None,
        typer.Option("--bus", envvar="CIF_BUS", help="memory:// (default) or nats://HOST:PORT"),
    ] = None,
    zmq: Annotated[
        str | None, typer.Option("--zmq", help="ZeroMQ PUB endpoint, e.g. tcp://127.0.0.1:5001")
    ] = None,
    zmq_curve_secret: Annotated[
        str | None,
        typer.Option("--zmq-curve-secret", help="Z85 CURVE secret key of the PUB socket"),
    ] = None,
    zmq_curve_client: Annotated[
        list[str] | None,
        typer.Option("--zmq-curve-client", help="Z85 public key of an allowed subscriber (repeat)"),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="YAML with enrich: and probability: sections")
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
    webhooks_allow_private: Annotated[
        bool,
        typer.Option(
            "--webhooks-allow-private",
            help="Let webhooks post to loopback, private and link-local addresses",
        ),
    ] = False,
) -> None:
    """Run the platform in the foreground (HTTP API, streams, feeds) until Ctrl-C or SIGTERM."""
    try:
        listen = Listen.parse(http)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--http") from None
    if role not in ROLES:
        raise typer.BadParameter(f"{role!r}: not one of {', '.join(ROLES)}", param_hint="--role")
    try:
        cfg = load_config(config)
    except (OSError, ValueError) as e:
        raise typer.BadParameter(str(e), param_hint="--config") from None
    opts = Options(
        fetch=not no_fetch,
        role=role,
        bus=bus,
        zmq=zmq,
        zmq_curve_secret=zmq_curve_secret,
        zmq_curve_clients=zmq_curve_client or (),
        config=cfg,
        log_level=log_level,
        webhooks_allow_private=webhooks_allow_private,
    )
    run(Settings.resolve(data_dir, store), listen, opts, say=typer.echo)
