"""Source.lines(): the input decoded in chunks gives exactly what decode() gives whole."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qabook import source as source_module
from qabook.readers.base import InputError
from qabook.source import Source, decode

PIECES = [b"a", b"b ", b"\n", b"\r", b"\r\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xff",
          b"\xc3", b"\xe2\x82", b"\x00", b"\x01", b"\x0c", "\ufffd".encode(), b"\xef\xbf\xbe",
          b"\xef\xbf\xbf", b"\x1f", b"\x0b", b"\t", b"\xed\xa0\x80"]


def _whole(data: bytes) -> object:
    try:
        text = decode(data)
    except InputError as exc:
        return str(exc)
    return text.text.split("\n"), text.encoding, text.warnings


def _streamed(data: bytes) -> object:
    src = Source("x", data=data)
    try:
        lines = list(src.lines())
    except InputError as exc:
        return str(exc)
    return lines, src.encoding, src.warnings


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=80), st.booleans(), st.integers(1, 9))
def test_lines_equal_decode_for_any_bytes_and_chunk_size(pieces: list[bytes], bom: bool, chunk: int) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(pieces)
    original = source_module.CHUNK
    source_module.CHUNK = chunk  # boundaries inside sequences, between CR and LF
    try:
        assert _streamed(data) == _whole(data)
    finally:
        source_module.CHUNK = original


@pytest.mark.parametrize("data", [
    b"\xff" * 200,  # too many invalid bytes
    b"\x00\x00\x00abc" * 50,  # binary
    b"%PDF-1.7 ...",
    "\ufeffq\r\nä".encode("utf-16"),  # decoded whole
])
def test_errors_and_utf16_match_decode(data: bytes) -> None:
    assert _streamed(data) == _whole(data)


def test_a_file_is_read_in_chunks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.md"
    path.write_bytes(b"line\n" * (3 * source_module.CHUNK // 5 + 7))
    src = Source("big.md", path=str(path))
    lines = src.lines()
    assert next(lines) == "line"
    assert src.decoded is None  # nothing was decoded whole
    assert sum(1 for _ in lines) == 3 * source_module.CHUNK // 5 + 7  # the rest, and the final ""


@pytest.mark.parametrize("chunk", [1, 2, 3, 64])
def test_lines_watch_for_a_string_across_chunk_boundaries(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "CHUNK", chunk)
    src = Source("x", data=b"abc\ndef &#1; ghi\n")
    lines = src.lines(watch="&#")
    assert next(lines) == "abc"
    assert not src.watched or chunk == 64  # a big chunk has read ahead
    rest = list(lines)
    assert rest == ["def &#1; ghi", ""] and src.watched
    clean = Source("y", data=b"a & b #\n")
    list(clean.lines(watch="&#"))
    assert not clean.watched
