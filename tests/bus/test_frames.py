from __future__ import annotations

import pytest

from cif.bus.frames import decode_frame, encode_frames


def test_frames_split_under_the_cap_and_keep_order():
    batch = [{"indicator": f"host{i}.example.com", "pad": "x" * 100} for i in range(500)]
    frames = list(encode_frames(batch, "me", 4096))
    assert len(frames) > 10 and all(len(f) <= 4096 for f in frames)
    out = []
    for f in frames:
        origin, inds = decode_frame(f)
        assert origin == "me"
        out.extend(inds)
    assert out == batch


def test_a_foreign_frame_is_refused():
    with pytest.raises(ValueError):
        decode_frame(b'{"v": 2, "indicators": []}')
    with pytest.raises(ValueError):
        decode_frame(b'{"v": 1}')
