"""Training and evaluating the lexical models, with an honest held-out split.

Values are split by *site* (a url's host, a name's registered domain), not by
line: phishing kits put hundreds of urls on one host, and a line split would let
the model recognise hosts it has seen instead of learning what bad looks like.
The default threshold is picked on a validation part of the training data (the
lowest score above 99.9 % of benign validation values, at least 50), never on the test split.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from cif.indicator import InvalidIndicator
from cif.indicator.normalize import host_of, normalize
from cif.indicator.psl import registered_domain

from .features import DEFAULT_N_FEATURES, Featurizer
from .model import ITYPES, LexicalModel

# Names get the richer ``host`` features; urls keep the original layout.
DEFAULT_LAYOUT = {"url": "v1", "fqdn": "host"}
POSITIVE = {"1", "malicious", "bad", "true", "yes", "phishing", "malware", "blacklist"}
NEGATIVE = {"0", "benign", "good", "false", "no", "whitelist", "clean"}


class TrainingError(ValueError):
    """Labelled data that cannot be used; the message names the file and line."""


def parse_label(raw: str, where: str) -> int:
    s = raw.strip().lower()
    if s in POSITIVE:
        return 1
    if s in NEGATIVE:
        return 0
    raise TrainingError(f"{where}: label {raw!r} is not one of 1/0, malicious/benign")


def read_labelled(path: str | Path) -> list[tuple[str, int]]:
    """Lines of ``VALUE<TAB or ,>LABEL`` (the label is the last field); # starts a comment."""
    out = []
    for n, line in enumerate(Path(path).read_text("utf-8", errors="replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        sep = "\t" if "\t" in line else ","
        value, _, label = line.rpartition(sep)
        if not value:
            raise TrainingError(f"{path}:{n}: expected VALUE{sep!r}LABEL")
        out.append((value.strip(), parse_label(label, f"{path}:{n}")))
    return out


def read_list(path: str | Path) -> list[str]:
    """One value per line; blank lines and # comments skipped."""
    lines = Path(path).read_text("utf-8", errors="replace").splitlines()
    return [s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")]


def canonical(values: Iterable[str], itype: str) -> list[str]:
    """Values in cif's canonical form as ``itype`` (a url given for fqdn gives its host)."""
    out = []
    for v in values:
        try:
            n = normalize(v)
        except InvalidIndicator:
            continue
        if itype == "fqdn" and n.itype == "url":
            h = host_of(n.indicator, "url")
            if h:
                out.append(h)
        elif n.itype == itype:
            out.append(n.indicator)
    return out


def site_of(value: str, itype: str) -> str:
    host = host_of(value, itype) or value
    return registered_domain(host) or host if itype == "fqdn" else host


@dataclass(slots=True)
class TrainResult:
    model: LexicalModel
    report: dict[str, Any]
    test_values: list[str]
    test_labels: list[int]


def evaluate(model: LexicalModel, values: Sequence[str], labels: Sequence[int]) -> dict[str, Any]:
    """Precision, recall, ROC AUC and false-positive rate at the model's threshold."""
    y = np.asarray(labels)
    p = model.predict(values)
    flag = p >= model.threshold
    neg = int((y == 0).sum())
    out: dict[str, Any] = {
        "n": len(y),
        "malicious": int(y.sum()),
        "benign": neg,
        "precision": round(float(precision_score(y, flag, zero_division=0)), 4),
        "recall": round(float(recall_score(y, flag, zero_division=0)), 4),
        "false_positives": int((flag & (y == 0)).sum()),
        "fpr": round(float((flag & (y == 0)).sum() / neg), 5) if neg else None,
    }
    out["roc_auc"] = round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None
    return out


def _split(groups: np.ndarray, size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    gss = GroupShuffleSplit(n_splits=1, test_size=size, random_state=seed)
    return next(gss.split(np.zeros(len(groups)), groups=groups))


def train(
    values: Sequence[str],
    labels: Sequence[int],
    itype: str,
    *,
    test_size: float = 0.2,
    seed: int = 7,
    n_features: int = DEFAULT_N_FEATURES,
    C: float = 4.0,
    layout: str | None = None,
) -> TrainResult:
    """Fit on a site-grouped split and report held-out figures (values already canonical)."""
    if itype not in ITYPES:
        raise TrainingError(f"itype must be one of {', '.join(ITYPES)}")
    pairs = dict(zip(values, labels, strict=True))  # one label per value; the last wins
    vals = np.asarray(list(pairs), dtype=object)
    y = np.asarray(list(pairs.values()), dtype=np.int8)
    if y.sum() < 10 or (len(y) - y.sum()) < 10:
        raise TrainingError(
            f"need at least 10 malicious and 10 benign values, "
            f"got {int(y.sum())} and {int(len(y) - y.sum())}"
        )
    groups = np.asarray([site_of(v, itype) for v in vals])
    tr, te = _split(groups, test_size, seed)
    fit_i, val_i = _split(groups[tr], 0.2, seed + 1)
    fit_i, val_i = tr[fit_i], tr[val_i]
    fz = Featurizer(n_features, layout=layout or DEFAULT_LAYOUT[itype])
    fz.fit_scaler(list(vals[fit_i]))
    clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000)
    clf.fit(fz.transform(list(vals[fit_i])), y[fit_i])
    model = LexicalModel(itype, fz, clf.coef_[0].astype(np.float32), float(clf.intercept_[0]))
    vp = model.predict(list(vals[val_i]))
    benign = np.sort(vp[y[val_i] == 0])
    if len(benign):
        q = benign[min(len(benign) - 1, int(np.ceil(0.999 * len(benign))) - 1)]
        model.threshold = round(float(min(max(50.0, q + 0.01), 99.0)), 2)
    report = {
        "itype": itype,
        "train": len(fit_i),
        "validation": len(val_i),
        "test": len(te),
        "sites": {"train": len(set(groups[fit_i])), "test": len(set(groups[te]))},
        "threshold": model.threshold,
        "held_out": evaluate(model, list(vals[te]), list(y[te])),
    }
    model.card = {
        "trained_on": {"values": int(len(fit_i)), "malicious": int(y[fit_i].sum())},
        "held_out": report["held_out"],
        "threshold": model.threshold,
    }
    return TrainResult(model, report, [str(v) for v in vals[te]], [int(v) for v in y[te]])


def train_from_files(
    itype: str,
    labelled: Sequence[str | Path] = (),
    malicious: Sequence[str | Path] = (),
    benign: Sequence[str | Path] = (),
    **kw: Any,
) -> TrainResult:
    """Read labelled files and plain malicious/benign lists, canonicalise, and train."""
    bad: list[str] = []
    good: list[str] = []
    for f in labelled:
        for v, y in read_labelled(f):
            (bad if y else good).append(v)
    for f in malicious:
        bad += read_list(f)
    for f in benign:
        good += read_list(f)
    good_c = canonical(good, itype)
    good_set = set(good_c)
    bad_c = [v for v in canonical(bad, itype) if v not in good_set]
    return train(bad_c + good_c, [1] * len(bad_c) + [0] * len(good_c), itype, **kw)
