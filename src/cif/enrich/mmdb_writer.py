"""A small MaxMind DB (.mmdb) writer: build lookup databases from your own data.

Deployments use it to turn internal address plans (site ASNs, office countries)
into the same format as MaxMind's databases, and the tests and benchmarks use it to
build real files the reader opens. It follows the published MaxMind DB format 2.0:
a binary search tree over address bits, a 16-byte separator, a data section and a
metadata map after the ``\\xab\\xcd\\xefMaxMind.com`` marker. IPv4 networks live at
``::a.b.c.d/96+n`` in an IPv6 tree, where readers look for them.
"""

from __future__ import annotations

import ipaddress
import struct
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
_EMPTY = object()


def _ctrl(type_no: int, size: int) -> bytes:
    """Control byte(s) for a field of ``type_no`` holding ``size`` (bytes or items)."""
    if size < 29:
        first, ext = size, b""
    elif size < 285:
        first, ext = 29, bytes([size - 29])
    elif size < 65821:
        first, ext = 30, struct.pack(">H", size - 285)
    else:
        first, ext = 31, struct.pack(">I", size - 65821)[1:]
    if type_no <= 7:
        return bytes([(type_no << 5) | first]) + ext
    return bytes([first, type_no - 7]) + ext


def _uint(type_no: int, v: int, width: int) -> bytes:
    if v < 0 or v >= 1 << (8 * width):
        raise ValueError(f"{v} does not fit an unsigned {8 * width}-bit field")
    raw = v.to_bytes(width, "big").lstrip(b"\x00")
    return _ctrl(type_no, len(raw)) + raw


def encode(value: Any) -> bytes:
    """One value in the MaxMind DB data-section encoding."""
    if isinstance(value, bool):
        return _ctrl(14, int(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _ctrl(2, len(raw)) + raw
    if isinstance(value, bytes):
        return _ctrl(4, len(value)) + value
    if isinstance(value, float):
        return _ctrl(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        if value < 0:
            return _ctrl(8, 4) + struct.pack(">i", value)
        if value < 1 << 32:
            return _uint(6, value, 4)
        if value < 1 << 64:
            return _uint(9, value, 8)
        return _uint(10, value, 16)
    if isinstance(value, Mapping):
        out = bytearray(_ctrl(7, len(value)))
        for k, v in value.items():
            out += encode(str(k)) + encode(v)
        return bytes(out)
    if isinstance(value, (list, tuple)):
        out = bytearray(_ctrl(11, len(value)))
        for v in value:
            out += encode(v)
        return bytes(out)
    raise TypeError(f"cannot store {type(value).__name__} in an mmdb")


def _bits(network: str) -> tuple[int, int]:
    """(address as a 128-bit int, prefix length) in the IPv6 tree."""
    net = ipaddress.ip_network(network, strict=False)
    if net.version == 4:
        return int(net.network_address), net.prefixlen + 96
    return int(net.network_address), net.prefixlen


def write_mmdb(
    path: str | Path,
    networks: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    database_type: str = "cif-test",
    description: str = "built by cif",
    languages: tuple[str, ...] = ("en",),
) -> Path:
    """Write ``(network, record)`` pairs to an .mmdb file; more specific networks win."""
    items = sorted(((*_bits(n), rec) for n, rec in networks), key=lambda t: t[1])
    root: list[Any] = [_EMPTY, _EMPTY]
    data = bytearray()
    offsets: dict[bytes, int] = {}
    for addr, plen, rec in items:
        blob = encode(rec)
        if blob not in offsets:
            offsets[blob] = len(data)
            data += blob
        leaf = ("data", offsets[blob])
        node = root
        for depth in range(plen - 1):
            bit = (addr >> (127 - depth)) & 1
            child = node[bit]
            if not isinstance(child, list):  # empty or a wider network: split it
                child = [child, child]
                node[bit] = child
            node = child
        bit = (addr >> (127 - plen + 1)) & 1 if plen else 0
        if plen == 0:
            root[0] = root[1] = leaf
        else:
            node[bit] = leaf
    # number the nodes breadth-first
    order: list[list[Any]] = [root]
    ids: dict[int, int] = {id(root): 0}
    i = 0
    while i < len(order):
        for child in order[i]:
            if isinstance(child, list):
                ids[id(child)] = len(order)
                order.append(child)
        i += 1
    node_count = len(order)
    record_size = 24 if node_count + 16 + len(data) < 1 << 24 else 32

    def record(child: Any) -> int:
        if isinstance(child, list):
            return ids[id(child)]
        if child is _EMPTY:
            return node_count
        return node_count + 16 + child[1]

    tree = bytearray()
    width = record_size // 8
    for node in order:
        tree += record(node[0]).to_bytes(width, "big") + record(node[1]).to_bytes(width, "big")
    meta = {
        "binary_format_major_version": _U16(2),
        "binary_format_minor_version": _U16(0),
        "build_epoch": _U64(int(time.time())),
        "database_type": database_type,
        "description": {"en": description},
        "ip_version": _U16(6),
        "languages": list(languages),
        "node_count": node_count,
        "record_size": _U16(record_size),
    }
    out = Path(path)
    out.write_bytes(bytes(tree) + b"\x00" * 16 + bytes(data) + METADATA_MARKER + _encode_meta(meta))
    return out


class _U16(int):
    """An int the metadata stores as uint16, as readers expect for these keys."""


class _U64(int):
    """An int the metadata stores as uint64."""


def _encode_meta(meta: Mapping[str, Any]) -> bytes:
    out = bytearray(_ctrl(7, len(meta)))
    for k, v in meta.items():
        out += encode(k)
        if isinstance(v, _U16):
            out += _uint(5, int(v), 2)
        elif isinstance(v, _U64):
            out += _uint(9, int(v), 8)
        else:
            out += encode(v)
    return bytes(out)
