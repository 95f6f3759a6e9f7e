"""Concurrent writers (threads and processes) upserting overlapping keys lose nothing."""

from __future__ import annotations

import multiprocessing
import threading

from cif.store import Query, open_store

from .conftest import ind

KEYS = 40
ROUNDS = 6


def _write(url: str, worker: int) -> None:
    store = open_store(url)
    try:
        for r in range(ROUNDS):
            batch = [
                ind(f"k{k}.shared.example", "fqdn", tags={f"w{worker}", f"r{r}"})
                for k in range(KEYS)
            ]
            # every other round in reverse order, so writers cross each other
            store.upsert(batch if r % 2 else batch[::-1])
    finally:
        store.close()


def _check(url: str, workers: int) -> None:
    store = open_store(url)
    try:
        items = store.search(Query(q="shared.example", limit=1000)).items
        assert len(items) == KEYS
        want_tags = {f"w{w}" for w in range(workers)} | {f"r{r}" for r in range(ROUNDS)}
        for i in items:
            assert i.count == workers * ROUNDS, i
            assert i.tags == want_tags
    finally:
        store.close()


def test_threads_share_one_store(store_url: str) -> None:
    store = open_store(store_url)
    errors: list[BaseException] = []

    def run(w: int) -> None:
        try:
            for r in range(ROUNDS):
                store.upsert(
                    [
                        ind(f"k{k}.shared.example", "fqdn", tags={f"w{w}", f"r{r}"})
                        for k in range(KEYS)
                    ]
                )
                store.search(Query(q="shared.example"))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert not errors, errors
    _check(store_url, 4)


def test_processes_share_one_database(store_url: str) -> None:
    open_store(store_url).close()  # create the schema once
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write, args=(store_url, w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    _check(store_url, 3)
