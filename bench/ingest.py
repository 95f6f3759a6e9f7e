"""Feed ingestion end to end: a 1,000,000-line CSV feed read, parsed, normalized and
upserted into SQLite through the pipeline, beside csirtg-smrt 1.0.11 on the same data.

csirtg-smrt is installed into its own virtual environment under bench/.work and
timed on a prefix of the file (it is far slower); the prefix size is reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

from common import WORK, table, write_section

LINES = 1_000_000
SMRT_LINES = 20_000
SMRT_VERSION = "1.0.11"
RULE = """parser: csv
defaults:
  provider: bench.example
  confidence: 8
  tags: scanner
  values:
    - indicator
    - portlist
    - lasttime
feeds:
  bench:
    remote: {remote}
"""

CIF_RUN = r"""
import json, resource, sys, time
from cif.ingest import Fetcher, load_rule, run_feed
from cif.pipeline import Pipeline
from cif.store import open_store
rule, data, db, cache = sys.argv[1:5]
feed = load_rule(rule)[0]
store = open_store(db)
pipe = Pipeline(store)
t = time.perf_counter()
rec = run_feed(feed, fetcher=Fetcher(cache), submit=pipe.submit, remote=data)
secs = time.perf_counter() - t
# Peak RSS of this process from VmHWM: ru_maxrss survives exec on Linux, so a child
# started by a big parent would report the parent's peak instead of its own.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
peak_kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"secs": secs, "rec": rec, "count": store.count(), "maxrss_kb": peak_kb}))
"""

SMRT_RUN = r"""
import sys, time
from csirtg_smrt import Smrt
from csirtg_smrt.archiver import NOOPArchiver
from csirtg_smrt.rule import Rule
rule, feed = sys.argv[1:3]
r = Rule(path=rule)
t = time.perf_counter()
with Smrt(None, None, client="stdout", archiver=NOOPArchiver()) as s:
    n = sum(1 for _ in s.process(r, feed))
print(time.perf_counter() - t, n)
"""


def make_feed(path: Path, n: int) -> None:
    if path.exists() and sum(1 for _ in path.open()) == n:
        return
    with path.open("w") as f:
        for i in range(n):
            a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
            f.write(f"{11 + a}.{b}.{c}.{1 + i % 250},{22 + i % 3},2024-05-01T{i % 24:02d}:00:00Z\n")


def run_cif(rule: Path, data: Path) -> dict:
    db = WORK / "ingest-bench.sqlite3"
    for p in WORK.glob("ingest-bench.sqlite3*"):
        p.unlink()
    out = subprocess.run(
        [sys.executable, "-c", CIF_RUN, str(rule), str(data), str(db), str(WORK / "cache")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_smrt(rule: Path, data: Path) -> tuple[float, int] | str:
    env_dir = WORK / "smrt-venv"
    py = env_dir / "bin" / "python"
    if not py.exists():
        venv.create(env_dir, with_pip=True)
    ok = subprocess.run([str(py), "-c", "import csirtg_smrt"], capture_output=True)
    if ok.returncode != 0:
        inst = subprocess.run(
            [str(py), "-m", "pip", "install", "-q", f"csirtg-smrt=={SMRT_VERSION}"],
            capture_output=True,
            text=True,
        )
        if inst.returncode != 0:
            return "install failed: " + (inst.stderr.strip().splitlines() or ["?"])[-1][:200]
    smrt_rule = WORK / "smrt-rule.yml"
    smrt_rule.write_text(RULE.format(remote=data))
    res = subprocess.run(
        [str(py), "-c", SMRT_RUN, str(smrt_rule), "bench"], capture_output=True, text=True
    )
    if res.returncode != 0:
        return "run failed: " + (res.stderr.strip().splitlines() or ["?"])[-1][:200]
    secs, n = res.stdout.split()
    return float(secs), int(n)


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    data = WORK / "feed-1m.csv"
    make_feed(data, LINES)
    prefix = WORK / f"feed-{SMRT_LINES}.csv"
    with data.open() as src, prefix.open("w") as dst:
        for _, line in zip(range(SMRT_LINES), src, strict=False):
            dst.write(line)
    rule = WORK / "bench-rule.yml"
    rule.write_text(RULE.format(remote=data))
    cif = run_cif(rule, data)
    c = cif["rec"]["counts"]
    cif_rate = c["accepted"] / cif["secs"]
    mem_mb = cif["maxrss_kb"] / 1024
    smrt = run_smrt(rule, prefix)
    rows = [
        [
            "cif (read, parse, normalize, upsert SQLite)",
            f"{LINES:,}",
            f"{cif['secs']:.1f}",
            f"{cif_rate:,.0f}",
            f"{mem_mb:.0f}",
        ]
    ]
    if isinstance(smrt, tuple):
        s_rate = smrt[1] / smrt[0] if smrt[0] else 0.0
        rows.append(
            [
                f"csirtg-smrt {SMRT_VERSION} (parse only, first {SMRT_LINES:,} lines)",
                f"{smrt[1]:,}",
                f"{smrt[0]:.1f}",
                f"{s_rate:,.0f}",
                "-",
            ]
        )
        ratio = cif_rate / s_rate if s_rate else float("inf")
        verdict = f"cif is {ratio:.1f}x csirtg-smrt: target >= 20x " + (
            "met." if ratio >= 20 else "NOT met."
        )
    else:
        verdict = f"csirtg-smrt {SMRT_VERSION} could not be measured here ({smrt}); the 20x target is unverified."
    mem_verdict = f"Peak memory {mem_mb:.0f} MB: target < 300 MB " + (
        "met." if mem_mb < 300 else "NOT met."
    )
    body = "\n\n".join(
        [
            f"A {LINES:,}-line CSV feed (ip, port, time), unique IPv4s, one rule with csirtg-smrt-style "
            "`values` in `defaults`. cif runs `run_feed` into a fresh SQLite store through the pipeline "
            f"(stored: {cif['count']:,}); csirtg-smrt parses a prefix of the same file with the same rule "
            "(it does not store), because the whole file would take too long.",
            table(["run", "indicators", "seconds", "indicators/s", "peak RSS MB"], rows),
            verdict,
            mem_verdict,
        ]
    )
    write_section("ingest", "Feed ingestion", body)


if __name__ == "__main__":
    main()
