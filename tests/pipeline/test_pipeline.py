"""The one pipeline: batches, per-item errors, defaults, checks, store and publish."""

from __future__ import annotations

from cif.indicator import Indicator, InvalidIndicator
from cif.pipeline import Pipeline, normalize_records
from cif.store import Query, open_store


class Collect:
    """A publisher that keeps what it was given, in order."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def publish(self, indicators):
        self.batches.append([i.indicator for i in indicators])


def test_normalize_records_fills_defaults_and_reports_errors():
    recs = [
        {"indicator": "HXXP://Example[.]com"},
        {"indicator": ""},
        "not a mapping",
        {"indicator": "10.0.0.1", "tags": "b"},
        InvalidIndicator("line 9", "not JSON"),
    ]
    inds, errs = normalize_records(
        recs, defaults={"provider": "Feed.Example", "tags": ["a"]}, start=10
    )
    assert [i.indicator for i in inds] == ["http://example.com/", "10.0.0.1"]
    assert inds[0].provider == "feed.example" and inds[0].tags == {"a"}
    assert inds[1].tags == {"a", "b"}
    assert "private" in inds[1].flags
    assert [e.index for e in errs] == [11, 12, 14]
    assert (
        "missing" in errs[0].error and "JSON object" in errs[1].error and "line 9" in errs[2].error
    )


def test_pipeline_batches_store_and_publish_once(tmp_path):
    store = open_store(str(tmp_path / "s.db"))
    pub = Collect()
    p = Pipeline(store, pub, batch_size=3)
    recs = [{"indicator": f"203.0.113.{i}"} for i in range(7)] + [{"indicator": "bad..name"}]
    res = p.submit(recs, defaults={"provider": "t"})
    assert (res.accepted, res.rejected) == (7, 1)
    assert res.errors[0].index == 7 and "bad..name" in res.errors[0].error
    assert [len(b) for b in pub.batches] == [3, 3, 1]
    page = store.search(Query(itypes=["ipv4"], limit=100))
    assert len(page.items) == 7
    store.close()


def test_check_refuses_single_records(tmp_path):
    store = open_store(str(tmp_path / "s.db"))

    def only_everyone(ind: Indicator) -> None:
        if ind.group != "everyone":
            raise InvalidIndicator(ind.group, "not allowed")

    res = Pipeline(store).submit(
        [{"indicator": "198.51.100.1"}, {"indicator": "198.51.100.2", "group": "x"}],
        check=only_everyone,
    )
    assert (res.accepted, res.rejected) == (1, 1) and "'x'" in res.errors[0].error
    store.close()


def test_stages_run_in_order_before_store(tmp_path):
    store = open_store(str(tmp_path / "s.db"))

    def tag(ind_list):
        for i in ind_list:
            i.tags.add("seen")
        return ind_list

    def drop_private(ind_list):
        return [i for i in ind_list if not i.flags]

    p = Pipeline(store, stages=[tag, drop_private])
    res = p.submit([{"indicator": "192.168.1.1"}, {"indicator": "93.184.216.34"}])
    assert res.accepted == 1
    [ind] = store.search(Query()).items
    assert ind.indicator == "93.184.216.34" and ind.tags == {"seen"}
    store.close()


def test_derived_indicators_are_stored_after_their_parents_and_linked(tmp_path):
    from cif.enrich import EnrichConfig, EnrichStage

    store = open_store(str(tmp_path / "s.db"))
    stage = EnrichStage(EnrichConfig.from_dict({}))
    pub = Collect()
    res = Pipeline(store, pub, stages=[stage]).submit(
        [{"indicator": "http://login.evil-bank.net/a", "confidence": 80, "provider": "p"}]
    )
    stage.close()
    [url] = store.search(Query(itypes=["url"])).items
    [host] = store.search(Query(q="login.evil-bank.net", itypes=["fqdn"])).items
    assert host.parent == url.id and host.confidence < url.confidence and url.count == 1
    assert res.accepted == len(pub.batches[0]) >= 2
    store.close()
