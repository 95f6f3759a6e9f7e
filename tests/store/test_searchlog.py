"""The search log writer batches entries off the request path and loses none on close."""

from __future__ import annotations

import threading

from cif.store import open_store
from cif.store.searchlog import SearchLogWriter


def test_entries_are_written_in_batches_and_on_close(store_url):
    store = open_store(store_url)
    w = SearchLogWriter(store, interval=60, batch=7)  # no timed flush during the test

    def search(n: int) -> None:
        for i in range(50):
            w.add(f"user{n}", f"q=10.0.{n}.{i}", i)

    threads = [threading.Thread(target=search, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.search_log(1000) == []  # nothing written yet: it is off the request path
    w.close()
    rows = store.search_log(1000)
    assert len(rows) == 200
    assert {r["username"] for r in rows} == {"user0", "user1", "user2", "user3"}
    assert rows[0]["at"] >= rows[-1]["at"] and rows[0]["at"].tzinfo is not None
    store.close()


def test_timed_flush(store_url):
    store = open_store(store_url)
    w = SearchLogWriter(store, interval=0.05)
    w.add("u", "q=a", 1)
    import time

    deadline = time.monotonic() + 5
    while not store.search_log() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r["query"] for r in store.search_log()] == ["q=a"]
    w.close()
    store.close()
