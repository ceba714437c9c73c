"""The DOCX writer's container and text helpers: its own ZIP writer (``writers/docx/_zip.py``),
whose archives :mod:`zipfile` (a reader that checks every header and CRC) reads back exactly, and
the escape every text goes through (``writers/docx/_xml.py``)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qabook.writers.docx import _zip
from qabook.writers.docx._zip import Deflater, ZipWriter, crc32_combine

MEMBERS = {
    "[Content_Types].xml": b"<Types/>",
    "word/document.xml": b"<w:document>" + b"<w:p>text</w:p>" * 5000 + b"</w:document>",
    "empty.xml": b"",
    "docProps/\u00e9t\u00e9.xml": "caf\u00e9".encode(),
}


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot seek (a pipe), keeping what it was given."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def _runs(data: bytes, cuts: list[int], pieces: int = 7) -> list[Deflater]:
    """``data`` deflated as runs cut at ``cuts``, each written in ``pieces`` pieces."""
    runs = []
    bounds = [0, *sorted(cuts), len(data)]
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        run = Deflater(io.BytesIO())
        step = max(1, (b - a) // pieces + 1)
        for k in range(a, b, step):
            run.write(data[k:min(k + step, b)])
        run.end(last=i == len(bounds) - 2)
        runs.append(run)
    return runs


def _write(out: io.RawIOBase | io.BytesIO, *, pieces: int = 7) -> None:
    with ZipWriter(out) as zw:  # type: ignore[arg-type]
        for name, data in MEMBERS.items():
            if name == "word/document.xml":  # as the DOCX writer puts it: a start, then the body
                zw.put_deflated(name, _runs(data, [len(data) // 3], pieces))
            else:
                zw.put(name, data)


def _read(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None  # every CRC matches
        infos = zf.infolist()
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        assert all(i.external_attr == 0o100644 << 16 for i in infos)
        assert all(not i.flag_bits & 0x08 for i in infos)  # sizes in the local headers
        return {i.filename: zf.read(i) for i in infos}


def test_members_read_back_in_order() -> None:
    out = io.BytesIO()
    _write(out)
    members = _read(out.getvalue())
    assert members == MEMBERS and list(members) == list(MEMBERS)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as zf:
        assert zf.getinfo("docProps/\u00e9t\u00e9.xml").flag_bits & 0x0800  # a UTF-8 name says so


def test_the_same_members_give_the_same_bytes_however_they_are_cut() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    _write(first, pieces=1)
    _write(second, pieces=13)
    assert first.getvalue() == second.getvalue()


def test_an_output_that_cannot_seek_is_enough() -> None:
    pipe = _Pipe()
    _write(pipe)
    assert _read(bytes(pipe.data)) == MEMBERS


def test_zip64_records_past_the_plain_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    # with a limit of 100 bytes, sizes and offsets past it go in ZIP64 records, as past 4 GiB
    monkeypatch.setattr(_zip, "_LIMIT", 100)
    out = io.BytesIO()
    _write(out)
    data = out.getvalue()
    assert _read(data) == MEMBERS
    assert b"PK\x06\x06" in data[-200:]  # the ZIP64 end record (the directory starts past 100)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("word/document.xml")
        local = data[info.header_offset:info.header_offset + 30]
        assert struct.unpack("<II", local[18:26]) == (0xFFFFFFFF, 0xFFFFFFFF)  # in the extra field


def test_more_members_than_a_plain_end_record_counts() -> None:
    out = io.BytesIO()
    with ZipWriter(out) as zw:
        for i in range(0x10001):
            zw.put(f"m{i}", b"")
    data = out.getvalue()
    assert b"PK\x06\x06" in data[-200:]  # the ZIP64 end record
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
    assert len(names) == 0x10001 and names[-1] == "m65536"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000), st.binary(max_size=2000), st.integers(0, 5000))
def test_crc32_combine(a: bytes, b: bytes, pad: int) -> None:
    b = b + bytes(pad)  # long runs of zeros too
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=3000) | st.text(alphabet="<w:p>ab ", max_size=3000).map(str.encode),
                max_size=8), st.lists(st.integers(0, 1 << 14), max_size=3))
def test_deflated_runs_join_into_one_stream_whatever_the_pieces(pieces: list[bytes], cuts: list[int]) -> None:
    # deflated in blocks of 1,000 bytes here, so that pieces cross block boundaries every way
    data = b"".join(pieces)
    cuts = [min(c, len(data)) for c in cuts]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_zip, "BLOCK", 1000)
        runs = _runs(data, cuts)
        joined = b"".join(r.sink.getvalue() for r in runs)  # type: ignore[attr-defined]
        assert zlib.decompress(joined, -15) == data
        assert joined == b"".join(r.sink.getvalue() for r in _runs(data, cuts, pieces=1))  # type: ignore[attr-defined]
        out = io.BytesIO()
        with ZipWriter(out) as zw:
            zw.put_deflated("x.bin", runs)
    assert _read(out.getvalue()) == {"x.bin": data}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_xml_text_keeps_every_allowed_character_and_drops_the_rest(text: str) -> None:
    # the DOCX writer's one escape for text: quick when the text is printable, the same result
    import re

    from qabook.writers.docx._xml import esc

    allowed = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", text)
    expected = allowed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    assert esc(text) == expected
