"""Lexical features of urls and names: what a value looks like, without looking it up.

Two parts, both stateless so a saved model needs only its coefficients:

- character 3-5-grams of the UTF-8 bytes, hashed with 32-bit FNV-1a into ``n_features``
  buckets (no vocabulary to store), counted and divided by the square root of the
  number of n-grams, so long values do not dominate;
- a few dense measures (length, entropy, digits, dots, hyphens, path depth, query
  length, an address as host, phishing keywords, an often-abused suffix, host length,
  subdomain depth, special characters), standardised with the training mean and spread.

The scheme is dropped: whether a site uses https says little about intent and the
data sets differ on it. Everything is vectorised over a batch with numpy: sklearn's
HashingVectorizer builds every n-gram as a Python string and is several times slower.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

FEATURE_VERSION = 1
DEFAULT_N_FEATURES = 2**18
NGRAMS = (3, 5)
KEYWORDS = (
    "login",
    "logon",
    "signin",
    "sign-in",
    "verif",
    "secure",
    "account",
    "update",
    "confirm",
    "bank",
    "paypal",
    "apple",
    "webscr",
    "billing",
    "password",
    "wallet",
    "support",
    "invoice",
    "office",
    "admin",
    "wp-",
    ".php",
    "free",
    "bonus",
    "auth",
    "session",
    "unlock",
)
# Suffixes with a high share of abuse in public reports; a hint, not a verdict.
ABUSED_SUFFIXES = frozenset(
    {
        "tk",
        "ml",
        "ga",
        "cf",
        "gq",
        "xyz",
        "top",
        "club",
        "work",
        "info",
        "ru",
        "cn",
        "pw",
        "cc",
        "online",
        "site",
        "icu",
        "buzz",
        "live",
        "shop",
        "vip",
        "click",
        "link",
        "support",
        "monster",
    }
)
DENSE_NAMES = (
    "log_length",
    "entropy",
    "digit_ratio",
    "dots",
    "hyphens",
    "special",
    "path_depth",
    "query_length",
    "ip_host",
    "keywords",
    "abused_suffix",
    "host_length",
    "subdomain_depth",
)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_KEYWORDS = re.compile("|".join(re.escape(k) for k in sorted(KEYWORDS, key=len, reverse=True)))
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_FNV_OFFSET = np.uint32(2166136261)
_FNV_PRIME = np.uint32(16777619)
_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[[ord(c) for c in "@%=~_&"]] = True


def strip_scheme(value: str) -> str:
    return _SCHEME.sub("", value.strip().lower(), count=1)


@dataclass(slots=True)
class Encoded:
    """A batch as one byte buffer: ``doc[i]`` is the text byte ``i`` belongs to."""

    texts: list[str]
    buf: np.ndarray
    doc: np.ndarray
    lens: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, values: Sequence[str]) -> Encoded:
        texts = [strip_scheme(v) for v in values]
        enc = [t.encode("utf-8") for t in texts]
        lens = np.fromiter((len(b) for b in enc), dtype=np.int64, count=len(enc))
        buf = np.frombuffer(b"".join(enc), dtype=np.uint8)
        doc = np.repeat(np.arange(len(enc), dtype=np.int64), lens)
        return cls(texts, buf, doc, lens, np.cumsum(lens))


def ngram_hashes(
    e: Encoded, n_features: int, ngrams: tuple[int, int] = NGRAMS
) -> tuple[np.ndarray, np.ndarray]:
    """(text index, bucket) for every byte n-gram occurrence in the batch.

    The n-gram hash extends the (n-1)-gram one by a byte, so all lengths cost one pass each.
    """
    if n_features & (n_features - 1):
        raise ValueError("n_features must be a power of two")
    buf = e.buf.astype(np.uint32)
    end_of = e.ends[e.doc]
    pos = np.arange(len(buf), dtype=np.int64)
    mask = np.uint32(n_features - 1)
    rows: list[np.ndarray] = [np.zeros(0, np.int64)]
    cols: list[np.ndarray] = [np.zeros(0, np.int64)]
    h = np.full(len(buf), _FNV_OFFSET, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for n in range(1, ngrams[1] + 1):
            m = len(buf) - n + 1
            if m <= 0:
                break
            h = (h[:m] ^ buf[n - 1 : n - 1 + m]) * _FNV_PRIME
            if n < ngrams[0]:
                continue
            ok = pos[:m] + n <= end_of[:m]
            hv = h[ok]
            rows.append(e.doc[:m][ok])
            cols.append(((hv ^ (hv >> np.uint32(15))) & mask).astype(np.int64))
    return np.concatenate(rows), np.concatenate(cols)


def _per_text(e: Encoded, mask: np.ndarray) -> np.ndarray:
    return np.bincount(e.doc, weights=mask.astype(np.float64), minlength=len(e.texts))


def _entropy(e: Encoded) -> np.ndarray:
    """Shannon entropy (bits per byte) of each text, from its byte histogram."""
    hist = np.bincount(e.doc * 256 + e.buf, minlength=len(e.texts) * 256)
    nz = np.flatnonzero(hist)
    which = nz // 256
    p = hist[nz] / e.lens[which]
    return -np.bincount(which, weights=p * np.log2(p), minlength=len(e.texts))


def _host_measures(text: str) -> tuple[float, float, float, float, float, float, float]:
    host, _, rest = text.partition("/")
    host = host.rpartition("@")[2].partition(":")[0]
    path, _, query = rest.partition("?")
    labels = host.split(".")
    return (
        float(path.count("/") + (1 if path else 0)),
        math.log1p(len(query)),
        1.0 if host.startswith("[") or _IPV4.match(host) else 0.0,
        float(len(_KEYWORDS.findall(text))),
        1.0 if labels[-1] in ABUSED_SUFFIXES else 0.0,
        math.log1p(len(host)),
        float(max(len(labels) - 2, 0)),
    )


def dense_matrix(e: Encoded) -> np.ndarray:
    """The dense measures, one row per text, in DENSE_NAMES order (unscaled)."""
    n = np.maximum(e.lens, 1).astype(np.float64)
    b = e.buf
    head = (
        np.column_stack(
            [
                np.log1p(e.lens.astype(np.float64)),
                _entropy(e),
                _per_text(e, (b >= 48) & (b <= 57)) / n,
                _per_text(e, b == 46),
                _per_text(e, b == 45),
                _per_text(e, _SPECIAL[b]),
            ]
        )
        if len(e.texts)
        else np.zeros((0, 6))
    )
    tail = np.asarray([_host_measures(t) for t in e.texts], dtype=np.float64).reshape(-1, 7)
    return np.hstack([head, tail]).astype(np.float32)


class Featurizer:
    """Values -> features: a sparse matrix for training, a direct score for predicting."""

    def __init__(
        self,
        n_features: int = DEFAULT_N_FEATURES,
        mean: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
    ) -> None:
        self.n_features = n_features
        k = len(DENSE_NAMES)
        self.mean = np.asarray(mean if mean is not None else np.zeros(k), np.float32)
        self.scale = np.asarray(scale if scale is not None else np.ones(k), np.float32)

    @property
    def width(self) -> int:
        return self.n_features + len(DENSE_NAMES)

    def fit_scaler(self, values: Sequence[str]) -> None:
        d = dense_matrix(Encoded.of(values))
        self.mean = d.mean(axis=0)
        sd = d.std(axis=0)
        self.scale = np.where(sd > 0, sd, 1.0).astype(np.float32)

    def _parts(self, values: Sequence[str]) -> tuple[Encoded, np.ndarray, np.ndarray, np.ndarray]:
        e = Encoded.of(values)
        rows, cols = ngram_hashes(e, self.n_features)
        counts = np.bincount(rows, minlength=len(e.texts)).astype(np.float64)
        inv = 1.0 / np.sqrt(np.maximum(counts, 1.0))
        return e, rows, cols, inv

    def transform(self, values: Sequence[str]) -> sparse.csr_matrix:
        """The full feature matrix (for fitting)."""
        e, rows, cols, inv = self._parts(values)
        grams = sparse.csr_matrix(
            (inv[rows].astype(np.float32), (rows, cols)),
            shape=(len(e.texts), self.n_features),
            dtype=np.float32,
        )
        d = (dense_matrix(e) - self.mean) / self.scale
        return sparse.hstack([grams, sparse.csr_matrix(d)], format="csr", dtype=np.float32)

    def score(self, values: Sequence[str], coef: np.ndarray, intercept: float) -> np.ndarray:
        """``transform(values) @ coef + intercept`` without building the matrix."""
        e, rows, cols, inv = self._parts(values)
        w = coef[: self.n_features].astype(np.float64)
        s = np.bincount(rows, weights=w[cols], minlength=len(e.texts)) * inv
        d = (dense_matrix(e) - self.mean) / self.scale
        return s + d.astype(np.float64) @ coef[self.n_features :].astype(np.float64) + intercept
