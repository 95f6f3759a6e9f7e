"""Suricata rules (dns.query / http.host sticky buffers); see :mod:`cif.formats.rules`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cif.indicator.model import Indicator

from .rules import render_rules


def render(indicators: Iterable[Indicator], **options: Any) -> str:
    """One alert rule per address, network, domain or url."""
    return render_rules(indicators, "suricata", **options)
