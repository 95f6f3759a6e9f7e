"""Run benchmarks: `python bench/run.py` runs all, `python bench/run.py NAME...` some.

Each bench/NAME.py has a main() that measures and writes its section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["normalize", "store", "ingest", "feeds", "stream", "webhooks", "enrich"]


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    names = argv or [n for n in ORDER if (HERE / f"{n}.py").exists()]
    for name in names:
        print(f"== bench {name}", flush=True)
        importlib.import_module(name).main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
