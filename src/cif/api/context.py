"""/predict and /indicators/explain: probability and the confidence computation, explained."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Query as Param

from cif.indicator import InvalidIndicator, normalize
from cif.score import explain_confidence
from cif.score.predict import classify
from cif.store import Query, Store

from .access import allowed_itypes, readable_groups, red_groups
from .auth import Reader
from .responses import FastJSON

router = APIRouter()
MAX_PREDICT = 1000


@router.get("/predict", response_class=FastJSON)
def predict(token: Reader, q: Annotated[list[str], Param(max_length=MAX_PREDICT)]) -> FastJSON:
    """Probability (0-100) that each fqdn or url is malicious, from the shipped models."""
    values = [v for item in q for v in item.split(",") if v.strip()]
    if len(values) > MAX_PREDICT:
        raise HTTPException(413, f"{len(values)} values is more than the limit of {MAX_PREDICT}")
    return FastJSON({"predictions": classify(values)})


@router.get("/indicators/explain", response_class=FastJSON)
def explain(request: Request, token: Reader, q: str) -> FastJSON:
    """Every sighting of ``q`` the token may see, with the confidence computed step by step."""
    try:
        norm = normalize(q)
    except InvalidIndicator as e:
        raise HTTPException(400, str(e)) from None
    allowed_itypes(token, [norm.itype])
    store: Store = request.app.state.store
    query = Query(limit=10_000, allowed_groups=readable_groups(token), red_groups=red_groups(token))
    query.q = norm.indicator
    sightings = [i for i in store.search(query).items if i.indicator == norm.indicator]
    feed_explanation = None
    whitelisted: list[str] = []
    if norm.itype in ("ipv4", "ipv6", "fqdn", "url"):
        from cif.feeds.service import FeedRequest

        feed_itype = norm.itype
        feed_explanation = request.app.state.feeds.explain(
            norm.indicator, FeedRequest(itype=feed_itype), readable_groups(token), red_groups(token)
        ).to_dict()
        whitelisted = list(feed_explanation["whitelisted_by"])
    now = datetime.now(UTC)
    out = {
        "indicator": norm.indicator,
        "itype": norm.itype,
        "flags": sorted(norm.flags),
        "sightings": [i.to_dict() for i in sightings],
        "confidence": explain_confidence(sightings, now, whitelisted or False, norm.flags)
        if sightings
        else None,
        "probability": classify([norm.indicator])[0] if norm.itype in ("fqdn", "url") else None,
        "feed": feed_explanation,
    }
    return FastJSON(out)
