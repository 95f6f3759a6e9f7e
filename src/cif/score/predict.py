"""Probability of being malicious for fqdn and url values, and the pipeline stage that fills it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cif.indicator import Indicator

from .model import ITYPES, LexicalModel, load_model


def predict(values: Sequence[str], itype: str, model: LexicalModel | None = None) -> list[float]:
    """0-100 per value (canonical form), rounded to 2 places; batch for speed."""
    m = model or load_model(itype)
    return [round(float(p), 2) for p in m.predict(list(values))]


class ProbabilityStage:
    """``Stage``: sets ``probability`` on fqdn/url indicators that have none.

    A feed's own probability is kept; ``models`` maps itype -> model file to use
    instead of the shipped ones.
    """

    def __init__(
        self, models: Mapping[str, str] | None = None, itypes: Sequence[str] = ITYPES
    ) -> None:
        self.models = {t: load_model(t, (models or {}).get(t)) for t in itypes}

    def __call__(self, batch: list[Indicator]) -> list[Indicator]:
        for itype, model in self.models.items():
            todo = [i for i in batch if i.itype == itype and i.probability is None]
            if todo:
                for ind, p in zip(todo, model.predict([i.indicator for i in todo]), strict=True):
                    ind.probability = round(float(p), 2)
        return batch


def classify(
    values: Sequence[str], itype: str | None = None, model_path: str | None = None
) -> list[dict[str, object]]:
    """One result per value for people and the API: canonical value, itype, probability, flag.

    Values are normalized first; ones that are not urls or names get an ``error``.
    """
    from cif.indicator import InvalidIndicator
    from cif.indicator.normalize import normalize

    rows: list[dict[str, object]] = []
    todo: dict[str, list[int]] = {"url": [], "fqdn": []}
    for v in values:
        try:
            n = normalize(v, itype)
        except InvalidIndicator as e:
            rows.append({"input": v, "error": str(e)})
            continue
        if n.itype not in todo:
            rows.append({"input": v, "error": f"no probability model for itype {n.itype}"})
            continue
        todo[n.itype].append(len(rows))
        rows.append({"indicator": n.indicator, "itype": n.itype})
    for t, idx in todo.items():
        if idx:
            m = load_model(t, model_path)
            probs = predict([str(rows[i]["indicator"]) for i in idx], t, m)
            for i, p in zip(idx, probs, strict=True):
                rows[i]["probability"] = p
                rows[i]["flagged"] = p >= m.threshold
    return rows
