"""`cif model ...`: train a probability model on labelled data, or describe one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from ..score.model import ModelError, load_model
from ..score.train import TrainingError, train_from_files
from .app import app

model_app = typer.Typer(
    help="Probability models for url and fqdn indicators.", no_args_is_help=True
)
app.add_typer(model_app, name="model")

Itype = Annotated[str, typer.Option("--itype", help="url or fqdn")]


def _check_itype(itype: str) -> None:
    if itype not in ("url", "fqdn"):
        raise typer.BadParameter(f"{itype!r}: only url and fqdn have a model", param_hint="--itype")


@model_app.command("train")
def train_cmd(
    itype: Itype,
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Labelled files: VALUE<TAB or ,>LABEL per line (1/0, malicious/benign)."
        ),
    ] = None,
    malicious: Annotated[
        list[Path] | None, typer.Option("--malicious", help="A list of malicious values.")
    ] = None,
    benign: Annotated[
        list[Path] | None, typer.Option("--benign", help="A list of benign values.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to save [default: ./ITYPE.npz]")
    ] = None,
    test_size: Annotated[
        float, typer.Option("--test-size", help="Held-out share, split by site.")
    ] = 0.2,
    seed: Annotated[int, typer.Option("--seed")] = 7,
) -> None:
    """Train; print precision, recall, ROC AUC and false-positive rate held out; save."""
    _check_itype(itype)
    try:
        res = train_from_files(
            itype, files or [], malicious or [], benign or [], test_size=test_size, seed=seed
        )
    except (TrainingError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    path = res.model.save(out or Path(f"{itype}.npz"))
    res.report["saved"] = str(path)
    typer.echo(orjson.dumps(res.report, option=orjson.OPT_INDENT_2).decode())


@model_app.command("info")
def info_cmd(
    itype: Itype,
    model: Annotated[
        str | None, typer.Option("--model", help="A model file [default: shipped]")
    ] = None,
) -> None:
    """Print a model's card: what it was trained on and its held-out figures."""
    _check_itype(itype)
    try:
        m = load_model(itype, model)
    except ModelError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    card = {"itype": m.itype, "threshold": m.threshold, "features": m.featurizer.width, **m.card}
    typer.echo(orjson.dumps(card, option=orjson.OPT_INDENT_2).decode())
