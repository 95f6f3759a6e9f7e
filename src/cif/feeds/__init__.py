"""Building feeds for defenses: aggregate records, subtract guards and whitelists, explain."""

from .aggregate import aggregate, providers_of
from .builder import (
    DEFAULT_WINDOWS,
    FEED_ITYPES,
    Feed,
    FeedOptions,
    InvalidFeed,
    Removal,
    build_feed,
    guard_domain,
    guard_whitelist,
)
from .explain import Explanation, explain
from .warninglist import (
    InvalidWarninglist,
    LoadReport,
    load_warninglist,
    load_warninglist_dir,
    load_warninglist_file,
)
from .whitelist import WHITELIST_TAG, Entry, InvalidWhitelistEntry, Whitelist

__all__ = [
    "DEFAULT_WINDOWS",
    "FEED_ITYPES",
    "WHITELIST_TAG",
    "Entry",
    "Explanation",
    "Feed",
    "FeedOptions",
    "InvalidFeed",
    "InvalidWarninglist",
    "InvalidWhitelistEntry",
    "LoadReport",
    "Removal",
    "Whitelist",
    "aggregate",
    "build_feed",
    "explain",
    "guard_domain",
    "guard_whitelist",
    "load_warninglist",
    "load_warninglist_dir",
    "load_warninglist_file",
    "providers_of",
]
