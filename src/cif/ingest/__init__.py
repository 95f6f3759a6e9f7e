"""Feed ingestion: rules, fetchers, parsers, the scheduler and feed health.

Batches go to the pipeline; nothing here writes to the store directly.
"""

from .errors import FetchError, RuleError
from .fetch import Fetcher, allow_private_from_env
from .health import HealthStore, feed_status
from .rules import FeedRule, bundled_rules, load_rule, resolve_rule
from .runner import iter_records, run_feed
from .scheduler import FeedScheduler, rule_files

__all__ = [
    "FeedRule",
    "FeedScheduler",
    "FetchError",
    "Fetcher",
    "HealthStore",
    "RuleError",
    "allow_private_from_env",
    "bundled_rules",
    "feed_status",
    "iter_records",
    "load_rule",
    "resolve_rule",
    "rule_files",
    "run_feed",
]
