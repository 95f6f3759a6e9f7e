"""Reading a fetched body: transparent gzip/bz2/zip, line splitting, size caps."""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

MAX_LINE = 64 * 1024
DEFAULT_MAX_DECOMPRESSED = 2 * 1024 * 1024 * 1024


class TooLarge(ValueError):
    pass


class _Capped(io.RawIOBase):
    """Wraps a binary stream and fails once more than ``cap`` bytes were read."""

    def __init__(self, raw: IO[bytes], cap: int, what: str) -> None:
        self.raw, self.cap, self.seen, self.what = raw, cap, 0, what

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.raw.read(len(b))
        self.seen += len(data)
        if self.seen > self.cap:
            raise TooLarge(f"{self.what} is larger than {self.cap} bytes after decompression")
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_body(path: Path, max_bytes: int = DEFAULT_MAX_DECOMPRESSED) -> IO[bytes]:
    """Open a body file, decompressing gzip, bz2 or (the first member of) zip by magic bytes."""
    f = open(path, "rb")  # noqa: SIM115
    head = f.read(4)
    f.seek(0)
    raw: IO[bytes]
    if head[:2] == b"\x1f\x8b":
        raw = cast(IO[bytes], gzip.GzipFile(fileobj=f))
    elif head[:3] == b"BZh":
        raw = bz2.BZ2File(f)
    elif head == b"PK\x03\x04":
        z = zipfile.ZipFile(f)
        members = [i for i in z.infolist() if not i.is_dir()]
        if not members:
            raise ValueError(f"{path.name}: the zip archive is empty")
        raw = z.open(members[0])
    else:
        raw = f
    capped = cast(io.RawIOBase, _Capped(raw, max_bytes, path.name))
    return io.BufferedReader(capped, buffer_size=1024 * 1024)


def iter_lines(path: Path, max_bytes: int = DEFAULT_MAX_DECOMPRESSED) -> Iterator[str]:
    """Decoded lines without line endings; undecodable bytes become U+FFFD, never fatal."""
    with open_body(path, max_bytes) as b:
        text = io.TextIOWrapper(b, encoding="utf-8", errors="replace", newline=None)
        for line in text:
            yield line.rstrip("\r\n")


def read_all(path: Path, max_bytes: int) -> bytes:
    """Whole body (for document formats: JSON, XML), at most ``max_bytes``."""
    with open_body(path, max_bytes) as b:
        return b.read()
