"""Turning a parser's raw fields into an indicator record: names, defaults, templates.

Old field names (``lasttime``, ``altid``...) get cif's names, ``mask`` joins the
indicator as a CIDR, fields cif has no column for go to ``extra``, the rule's
defaults fill what the line left empty (``{field}`` templates filled from the
line), and the rule's confidence is mapped from its scale to 0-100.
"""

from __future__ import annotations

from typing import Any

from cif.indicator.model import FIELD_NAMES

from .rules import LEGACY_FIELDS, FeedRule
from .templates import has_template, render

_FIELDS = frozenset(FIELD_NAMES) - {"extra", "flags", "id"}
MAX_EXTRA = 32


class Shaper:
    """Prepared once per feed, applied to every raw record.

    The rule's plain defaults are not copied into each record: they travel with the
    batch as ``defaults`` (the pipeline validates them once per batch). Only what
    differs per line is in the record: its own fields, filled templates, extras.
    """

    def __init__(self, rule: FeedRule) -> None:
        self.static: dict[str, Any] = {}
        self.templated: dict[str, str] = {}
        self.extra_defaults: dict[str, Any] = {}
        self.tags: list[str] = []
        for k, v in rule.defaults.items():
            k = LEGACY_FIELDS.get(k, k) or ""
            if not k or v is None:
                continue
            if k == "tags":
                self.tags = (
                    [t.strip() for t in v.split(",")] if isinstance(v, str) else [str(t) for t in v]
                )
            elif k == "confidence" and v != "":
                self.static[k] = round(float(v) * 100.0 / rule.confidence_scale, 2)
            elif has_template(v):
                self.templated[k] = str(v)
            elif k in _FIELDS:
                self.static[k] = v
            else:
                self.extra_defaults[k] = v
        if rule.itype:
            self.static["itype"] = rule.itype
        self.defaults: dict[str, Any] = dict(self.static)
        if self.tags:
            self.defaults["tags"] = self.tags

    def __call__(self, raw: dict[str, Any]) -> dict[str, Any]:
        rec: dict[str, Any] = {}
        extra: dict[str, Any] = dict(self.extra_defaults)
        for k, v in raw.items():
            if v is None or v == "":
                continue
            k = LEGACY_FIELDS.get(k, k) or ""
            if not k:
                continue
            if k in _FIELDS:
                rec[k] = v
            elif len(extra) < MAX_EXTRA:
                extra[k] = v if isinstance(v, (int, float, bool, list)) else str(v)[:1024]
        mask = extra.pop("mask", None)
        ind = rec.get("indicator")
        if isinstance(ind, str):
            ind = ind.strip()
            if mask and "/" not in ind:
                ind = f"{ind}/{mask}"
            rec["indicator"] = ind
        if self.templated:
            ctx = {**self.static, **extra, **rec}
            for k, t in self.templated.items():
                if k not in rec:
                    filled = render(t, ctx)
                    if filled is not None:
                        if k in _FIELDS:
                            rec[k] = filled
                        else:
                            extra[k] = filled
        if extra:
            rec["extra"] = extra
        return rec
