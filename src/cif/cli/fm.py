"""`cif fm`: run, check and watch feed rules (csirtg-smrt / csirtg-fm compatible)."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import orjson
import typer

from cif.ingest import (
    FeedRule,
    Fetcher,
    HealthStore,
    RuleError,
    allow_private_from_env,
    bundled_rules,
    feed_status,
    load_rule,
    run_feed,
)
from cif.runtime import Settings

from .app import app
from .options import DataDir, StoreUrl

fm = typer.Typer(
    help="Feed manager: run feed rules, check them, see feed health.", no_args_is_help=True
)
app.add_typer(fm, name="fm")

Rules = Annotated[
    list[str], typer.Argument(help="Rule files or bundled rule names (e.g. spamhaus)")
]


def _load(rules: list[str], feed: str | None, scale: float | None) -> list[FeedRule]:
    out: list[FeedRule] = []
    for r in rules:
        try:
            feeds = load_rule(r, confidence_scale=scale)
        except RuleError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        out.extend(f for f in feeds if feed is None or f.name == feed)
    if not out:
        typer.echo(f"error: no feed named {feed!r} in {', '.join(rules)}", err=True)
        raise typer.Exit(2)
    return out


def _logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            stream=sys.stderr,
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )


@fm.command("run")
def run(
    rules: Rules,
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed of the rule")] = None,
    remote: Annotated[
        str | None, typer.Option("--remote", help="Path or URL replacing the rule's remote")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most N records per feed")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print normalized indicators as JSON lines, store nothing"),
    ] = False,
    confidence_scale: Annotated[
        float | None,
        typer.Option("--confidence-scale", help="The rule's confidence scale: 4, 10 or 100"),
    ] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private", help="Allow feed hosts in private/loopback/link-local space"
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Process the body even when the server says it is unchanged"),
    ] = False,
    data_dir: DataDir = None,
    store: StoreUrl = None,
) -> None:
    """Fetch and ingest feeds once (or print them with --dry-run)."""
    if confidence_scale is not None and confidence_scale not in (4, 10, 100):
        raise typer.BadParameter("must be 4, 10 or 100", param_hint="--confidence-scale")
    feeds = _load(rules, feed, confidence_scale)
    settings = Settings.resolve(data_dir, store)
    fetcher = Fetcher(
        settings.data_dir / "feeds" / "cache",
        allow_private=allow_private or allow_private_from_env(),
    )
    health: HealthStore | None = None
    if dry_run:
        submit = _printer()
    else:
        from cif.pipeline import Pipeline

        settings.prepare()
        pipeline = Pipeline(settings.open_store())
        health = HealthStore(settings.data_dir)

        def submit(batch: list[dict[str, Any]], defaults: dict[str, Any]) -> Any:
            return pipeline.submit(batch, defaults=defaults)

    interactive = sys.stderr.isatty()
    if not interactive:
        _logging()
    failed = 0
    for f in feeds:
        if interactive:
            rec = _with_progress(f, fetcher, submit, health, remote, limit, force)
        else:
            rec = run_feed(
                f,
                fetcher=fetcher,
                submit=submit,
                health=health,
                remote=remote,
                limit=limit,
                force=force,
            )
        c = rec["counts"]
        line = (
            f"{f.key}: {rec['status']} parsed={c['parsed']} accepted={c['accepted']} "
            f"rejected={c['rejected']} bad={c['bad']}"
        )
        if rec.get("error"):
            line += f" error={rec['error']}"
            failed += 1
        if interactive or dry_run:
            typer.echo(line, err=True)
        for s in rec.get("samples", [])[:3] if (c["rejected"] or c["bad"]) and interactive else []:
            typer.echo(f"  sample: {s['input']!r}: {s['reason']}", err=True)
    if failed:
        raise typer.Exit(1)


def _printer() -> Any:
    from cif.pipeline.core import Result, normalize_records

    out = sys.stdout.buffer

    def submit(batch: list[dict[str, Any]], defaults: dict[str, Any]) -> Result:
        inds, errors = normalize_records(batch, defaults=defaults)
        out.write(b"".join(orjson.dumps(i.to_dict()) + b"\n" for i in inds))
        out.flush()
        return Result(accepted=len(inds), rejected=len(errors), errors=errors)

    return submit


def _with_progress(
    f: FeedRule,
    fetcher: Fetcher,
    submit: Any,
    health: HealthStore | None,
    remote: str | None,
    limit: int | None,
    force: bool,
) -> dict[str, Any]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        transient=True,
        console=None,
    ) as bar:
        task = bar.add_task(f.key, total=None)
        return run_feed(
            f,
            fetcher=fetcher,
            submit=submit,
            health=health,
            remote=remote,
            limit=limit,
            force=force,
            progress=lambda _k, n: bar.update(task, completed=n),
        )


@fm.command("check")
def check(
    rules: Rules,
    confidence_scale: Annotated[float | None, typer.Option("--confidence-scale")] = None,
) -> None:
    """Validate rule files without fetching anything."""
    bad = 0
    for r in rules:
        try:
            feeds = load_rule(r, confidence_scale=confidence_scale)
        except RuleError as e:
            typer.echo(f"error: {e}", err=True)
            bad += 1
            continue
        for f in feeds:
            typer.echo(
                f"ok {f.key}: parser={f.parser} remote={f.remote} interval={f.interval:g}s "
                f"confidence_scale={f.confidence_scale:g}"
            )
    if bad:
        raise typer.Exit(2)


@fm.command("status")
def status(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Health of every feed: last run and success, counts, errors, next run."""
    rows = feed_status(Settings.resolve(data_dir).data_dir)
    if as_json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(
        "feed",
        "status",
        "last run",
        "last success",
        "next run",
        "parsed",
        "accepted",
        "rejected",
        "bad",
        "error",
    )
    for r in rows:
        c = r.get("counts") or {}
        t.add_row(
            r.get("feed", ""),
            r.get("status", ""),
            r.get("last_run", ""),
            r.get("last_success") or "-",
            r.get("next_run") or "-",
            str(c.get("parsed", "")),
            str(c.get("accepted", "")),
            str(c.get("rejected", "")),
            str(c.get("bad", "")),
            (r.get("error") or "")[:80],
        )
    Console().print(t)


@fm.command("list")
def list_rules() -> None:
    """The bundled rules and their feeds."""
    for p in bundled_rules():
        feeds = load_rule(p)
        typer.echo(f"{p.stem}: {', '.join(f.name for f in feeds)}")
