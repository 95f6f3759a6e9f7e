"""Lexical features of urls and names: what a value looks like, without looking it up.

Two parts, both stateless so a saved model needs only its coefficients:

- character 3-5-grams of the UTF-8 bytes, hashed with 32-bit FNV-1a into ``n_features``
  buckets (no vocabulary to store), counted and divided by the square root of the
  number of n-grams, so long values do not dominate;
- a few dense measures (length, entropy, digits, dots, hyphens, path depth, query
  length, an address as host, phishing keywords, an often-abused suffix, host length,
  subdomain depth, special characters), standardised with the training mean and spread.

The scheme is dropped: whether a site uses https says little about intent and the
data sets differ on it.

Names (the ``host`` layout, used by the fqdn model) get more: a leading ``www.`` is
dropped (it says nothing about intent, and lists differ on it); the registered label
(``paypal`` in ``a.b.paypal.co.uk``) and the subdomain part (``a.b``) each get their own
hashed 3-5-grams, apart from those of the whole name; the public suffix, the label count
and the registered label's length are hashed as tokens; and more dense measures
describe the parts (digits and hyphens in the registered label, its vowel share and
longest consonant run, how plausible its letter pairs are, a known brand outside the
registered label). Everything is vectorised over a batch with numpy: sklearn's
HashingVectorizer builds every n-gram as a Python string and is several times slower.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

FEATURE_VERSION = 1
LAYOUTS = ("v1", "host")
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
HOST_DENSE_NAMES = (
    "reg_length",
    "reg_digits",
    "reg_hyphens",
    "reg_vowels",
    "reg_consonant_run",
    "reg_bigram_plausibility",
    "sub_length",
    "labels",
    "brand_outside",
)
# Brands that phishing names borrow; one outside its own registered label is a red flag.
BRANDS = (
    "paypal",
    "apple",
    "icloud",
    "google",
    "gmail",
    "microsoft",
    "office365",
    "outlook",
    "hotmail",
    "live",
    "amazon",
    "facebook",
    "instagram",
    "whatsapp",
    "netflix",
    "dropbox",
    "docusign",
    "adobe",
    "chase",
    "wellsfargo",
    "bankofamerica",
    "citibank",
    "hsbc",
    "barclays",
    "santander",
    "itau",
    "bradesco",
    "caixa",
    "linkedin",
    "yahoo",
    "ebay",
    "alibaba",
    "dhl",
    "fedex",
    "usps",
    "steam",
    "coinbase",
    "blockchain",
    "binance",
    "metamask",
    "twitter",
    "onedrive",
    "sharepoint",
    "wetransfer",
    "visa",
    "mastercard",
    "americanexpress",
    "amex",
    "natwest",
    "lloyds",
    "halifax",
    "irs",
    "gov",
)
# The commonest letter pairs of English words: a name made of words is mostly these.
_COMMON_BIGRAMS = frozenset(
    "th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou "
    "io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns di "
    "fo ho pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em "
    "ad ol rt po we na ul ni ts mo ow pa im mi ai sh ir su id os iv ia am fi ci vi pl ig "
    "tu ev ld ry mp fe bl ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd do "
    "uc bu ei ov by rm ep tt oc fa ef cu rn sc gi da yo cr cl du ga qu ue ff ba ey ls va "
    "um pp ua up lu go ht ru ug ds lt pi rc rr eg au ck ew mu br bi pt ak pu ui rg ib tl "
    "ny ki rk ys ob mm fu ph og ms ye ud mb ip ub oi rl gu dr hr cc tw ft wn nu af hu nn "
    "eo vo rv nf xp gn sm fl iz ok nl my gl aw ju oa eq sy sl ps jo lf nv je nk kn gs dy".split()
)
_VOWELS = frozenset("aeiouy")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]+")
_BRANDS = re.compile("|".join(sorted(BRANDS, key=len, reverse=True)))
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
    def of(cls, values: Sequence[str], strip: bool = True) -> Encoded:
        texts = [strip_scheme(v) for v in values] if strip else list(values)
        enc = [t.encode("utf-8") for t in texts]
        lens = np.fromiter((len(b) for b in enc), dtype=np.int64, count=len(enc))
        buf = np.frombuffer(b"".join(enc), dtype=np.uint8)
        doc = np.repeat(np.arange(len(enc), dtype=np.int64), lens)
        return cls(texts, buf, doc, lens, np.cumsum(lens))


def ngram_hashes(
    e: Encoded, n_features: int, ngrams: tuple[int, int] = NGRAMS, salt: int = 0
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
    h = np.full(len(buf), np.uint32((int(_FNV_OFFSET) + salt * 0x9E3779B1) & 0xFFFFFFFF))
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


def split_host(host: str) -> tuple[str, str, str]:
    """(subdomain part, registered label, public suffix) of a name, ``www.`` dropped."""
    from cif.indicator.psl import suffix_labels

    if host.startswith("www."):
        host = host[4:]
    labels = host.split(".")
    k = suffix_labels(host) if len(labels) > 1 else 0
    if k >= len(labels):
        return "", labels[0], ".".join(labels[1:])
    cut = len(labels) - k - 1
    return ".".join(labels[:cut]), labels[cut], ".".join(labels[cut + 1 :])


_PAIR_COMMON = np.zeros(256 * 256, dtype=bool)
for _p in _COMMON_BIGRAMS:
    _PAIR_COMMON[ord(_p[0]) * 256 + ord(_p[1])] = True
_LETTER = np.zeros(256, dtype=bool)
_LETTER[ord("a") : ord("z") + 1] = True
_VOWEL = np.zeros(256, dtype=bool)
_VOWEL[[ord(c) for c in _VOWELS]] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True


def _brand_outside(sub: str, reg: str) -> float:
    if _BRANDS.search(sub):
        return 1.0
    return 1.0 if any(m.group(0) != reg for m in _BRANDS.finditer(reg)) else 0.0


def _reg_measures(r: Encoded, subs: Sequence[str]) -> np.ndarray:
    """HOST_DENSE_NAMES but the last, for the registered labels ``r`` (vectorised)."""
    n = len(r.texts)
    ln = np.maximum(r.lens, 1).astype(np.float64)
    b = r.buf
    # letter pairs inside one label, and how many of them are common in English words
    same = np.zeros(len(b), dtype=bool)
    if len(b) > 1:
        same[:-1] = r.doc[:-1] == r.doc[1:]
        same[:-1] &= _LETTER[b[:-1]] & _LETTER[b[1:]]
    idx = np.flatnonzero(same)
    pairs = np.bincount(r.doc[idx], minlength=n).astype(np.float64)
    common = np.bincount(
        r.doc[idx], weights=_PAIR_COMMON[b[idx].astype(np.int64) * 256 + b[idx + 1]], minlength=n
    )
    runs = [max((len(x) for x in _CONSONANT_RUN.findall(t)), default=0) for t in r.texts]
    return np.column_stack(
        [
            np.log1p(r.lens.astype(np.float64)),
            _per_text(r, _DIGIT[b]) / ln,
            _per_text(r, b == 45),
            _per_text(r, _VOWEL[b]) / ln,
            np.asarray(runs, dtype=np.float64),
            np.divide(common, pairs, out=np.zeros(n), where=pairs > 0),
            np.log1p(np.fromiter((len(x) for x in subs), np.float64, count=n)),
            np.fromiter((x.count(".") + 1 if x else 0 for x in subs), np.float64, count=n),
        ]
    ).reshape(n, -1)


_TOKENS: dict[tuple[str, int], int] = {}
_LABEL_TOKENS = [f"labels:{i}" for i in range(6)]
_REGLEN_TOKENS = [f"reglen:{i}" for i in range(26)]


def _token_bucket(token: str, n_features: int) -> int:
    key = (token, n_features)
    got = _TOKENS.get(key)
    if got is None:
        if len(_TOKENS) > 100_000:
            _TOKENS.clear()
        got = _TOKENS[key] = zlib.crc32(token.encode("utf-8")) & (n_features - 1)
    return got


@dataclass(slots=True)
class HostParts:
    """A batch of names split up: the text to featurise, its parts and part tokens."""

    texts: list[str]
    subs: list[str]
    regs: list[str]
    brand: np.ndarray
    tokens: np.ndarray  # (n, 3) buckets: suffix, label count, registered label length

    @classmethod
    def of(cls, texts: Sequence[str], n_features: int) -> HostParts:
        out_t, subs, regs, brand, toks = [], [], [], [], []
        for t in texts:
            host = t.partition("/")[0]
            sub, reg, suf = split_host(host)
            out_t.append(t[4:] if host.startswith("www.") else t)
            subs.append(sub)
            regs.append(reg)
            brand.append(_brand_outside(sub, reg))
            nl = sub.count(".") + 1 if sub else 0
            toks.append(_token_bucket("suffix:" + suf, n_features))
            toks.append(_token_bucket(_LABEL_TOKENS[min(nl, 5)], n_features))
            toks.append(_token_bucket(_REGLEN_TOKENS[min(len(reg), 25)], n_features))
        return cls(
            out_t,
            subs,
            regs,
            np.asarray(brand, dtype=np.float64),
            np.asarray(toks, dtype=np.int64).reshape(-1, 3),
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
    """Values -> features: a sparse matrix for training, a direct score for predicting.

    ``layout`` ``v1``: n-grams of the whole value and DENSE_NAMES (urls); ``host``: also
    the parts of the name (see the module notes), for the fqdn model.
    """

    def __init__(
        self,
        n_features: int = DEFAULT_N_FEATURES,
        mean: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        layout: str = "v1",
    ) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown feature layout {layout!r}")
        self.n_features = n_features
        self.layout = layout
        k = self.n_dense
        self.mean = np.asarray(mean if mean is not None else np.zeros(k), np.float32)
        self.scale = np.asarray(scale if scale is not None else np.ones(k), np.float32)

    @property
    def n_dense(self) -> int:
        return len(DENSE_NAMES) + (len(HOST_DENSE_NAMES) if self.layout == "host" else 0)

    @property
    def width(self) -> int:
        return self.n_features + self.n_dense

    def _grams(
        self, texts: Sequence[str], salt: int, strip: bool = True
    ) -> tuple[Encoded, np.ndarray, np.ndarray, np.ndarray]:
        e = Encoded.of(texts, strip)
        rows, cols = ngram_hashes(e, self.n_features, salt=salt)
        counts = np.bincount(rows, minlength=len(e.texts)).astype(np.float64)
        inv = 1.0 / np.sqrt(np.maximum(counts, 1.0))
        return e, rows, cols, inv[rows]

    def _parts(
        self, values: Sequence[str]
    ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(count, rows, buckets, weights, unscaled dense matrix)."""
        if self.layout == "v1":
            e, rows, cols, w = self._grams(values, 0)
            return len(e.texts), rows, cols, w, dense_matrix(e).astype(np.float64)
        hp = HostParts.of([strip_scheme(v) for v in values], self.n_features)
        e, r0, c0, w0 = self._grams(hp.texts, 0, False)
        er, r1, c1, w1 = self._grams(hp.regs, 1, False)
        _, r2, c2, w2 = self._grams(hp.subs, 2, False)
        n = len(e.texts)
        r3 = np.repeat(np.arange(n, dtype=np.int64), hp.tokens.shape[1])
        c3 = hp.tokens.reshape(-1)
        w3 = np.full(len(r3), 0.5)
        d = np.hstack(
            [dense_matrix(e).astype(np.float64), _reg_measures(er, hp.subs), hp.brand[:, None]]
        )
        return (
            n,
            np.concatenate([r0, r1, r2, r3]),
            np.concatenate([c0, c1, c2, c3]),
            np.concatenate([w0, w1, w2, w3]),
            d,
        )

    def fit_scaler(self, values: Sequence[str]) -> None:
        d = self._parts(values)[4]
        self.mean = d.mean(axis=0).astype(np.float32)
        sd = d.std(axis=0)
        self.scale = np.where(sd > 0, sd, 1.0).astype(np.float32)

    def transform(self, values: Sequence[str]) -> sparse.csr_matrix:
        """The full feature matrix (for fitting)."""
        n, rows, cols, w, d = self._parts(values)
        grams = sparse.csr_matrix(
            (w.astype(np.float32), (rows, cols)), shape=(n, self.n_features), dtype=np.float32
        )
        d = (d.astype(np.float32) - self.mean) / self.scale
        return sparse.hstack([grams, sparse.csr_matrix(d)], format="csr", dtype=np.float32)

    def score(self, values: Sequence[str], coef: np.ndarray, intercept: float) -> np.ndarray:
        """``transform(values) @ coef + intercept`` without building the matrix."""
        n, rows, cols, w, d = self._parts(values)
        cw = coef[: self.n_features].astype(np.float64)
        s = np.bincount(rows, weights=cw[cols] * w, minlength=n)
        d = (d.astype(np.float32) - self.mean) / self.scale
        return s + d.astype(np.float64) @ coef[self.n_features :].astype(np.float64) + intercept
