"""Errors of feed ingestion, each naming where the problem is."""

from __future__ import annotations


class RuleError(ValueError):
    """A feed rule that cannot be used: names the file, the feed and the key."""

    def __init__(self, file: str, feed: str | None, key: str | None, reason: str) -> None:
        self.file, self.feed, self.key, self.reason = file, feed, key, reason
        where = file
        if feed:
            where += f", feed {feed!r}"
        if key:
            where += f", key {key!r}"
        super().__init__(f"{where}: {reason}")


class FetchError(RuntimeError):
    """A feed that could not be fetched; the last good copy is kept."""

    def __init__(self, remote: str, reason: str) -> None:
        self.remote, self.reason = remote, reason
        super().__init__(f"{remote}: {reason}")
