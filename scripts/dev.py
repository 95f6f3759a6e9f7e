#!/usr/bin/env python3
"""Bootstrap a local virtual environment and run cif or its tests.

Needs nothing but python3: `python3 scripts/dev.py up` or `python3 scripts/dev.py test`.
The Makefile's `make up` / `make test` call this script.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("CIF_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".cif-installed"


def run(*cmd: str | os.PathLike[str]) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def make_venv() -> None:
    if PY.exists():
        return
    try:
        run(sys.executable, "-m", "venv", VENV)
        return
    except subprocess.CalledProcessError:
        # Debian's python3 ships venv without ensurepip (python3-venv is separate):
        # build the venv without pip and install pip into it with the system's pip.
        shutil.rmtree(VENV, ignore_errors=True)
    run(sys.executable, "-m", "venv", "--without-pip", VENV)
    has_pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if has_pip.returncode != 0:
        sys.exit(
            "python3 has neither ensurepip nor pip: install one of them "
            "(Debian: apt-get install python3-venv) and run this again"
        )
    run(sys.executable, "-m", "pip", "--python", PY, "install", "pip")


def install(extras: str) -> None:
    """Install the project (editable) once per change of pyproject.toml and extras."""
    make_venv()
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "-q", "-e", f".[{extras}]" if extras else ".")
    STAMP.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"up", "test", "bench", "install"}:
        print("usage: dev.py up [cif up options] | test [pytest options] | bench | install")
        return 2
    what, rest = argv[0], argv[1:]
    if what == "up":
        install("")
        os.execv(str(BIN / "cif"), [str(BIN / "cif"), "up", *rest])
    if what == "test":
        install("test")
        code = subprocess.run([str(PY), "-m", "pytest", *rest], cwd=ROOT).returncode
        # pytest exits 5 when it collected no test: that is a failure of the suite, say so.
        if code == 5:
            print("no tests were collected", file=sys.stderr)
        return code
    if what == "bench":
        install("test,bench")
        return subprocess.run([str(PY), "bench/run.py", *rest], cwd=ROOT).returncode
    install("test")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
