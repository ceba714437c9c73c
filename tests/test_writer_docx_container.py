"""The DOCX writer's container and text helpers: its own ZIP writer (``writers/docx/_zip.py``),
whose archives :mod:`zipfile` (a reader that checks every header and CRC) reads back exactly, and
the escape every text goes through (``writers/docx/_xml.py``)."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qabook.writers.docx import _zip
from qabook.writers.docx._zip import ZipWriter

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


def _write(out: io.RawIOBase | io.BytesIO, *, zip64: bool = False, pieces: int = 7) -> None:
    with ZipWriter(out) as zw:  # type: ignore[arg-type]
        for name, data in MEMBERS.items():
            if name == "word/document.xml":
                with zw.open(name, zip64=zip64) as member:
                    step = len(data) // pieces + 1
                    for i in range(0, len(data), step):
                        member.write(data[i:i + step])
            else:
                zw.put(name, data)


def _read(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None  # every CRC matches
        infos = zf.infolist()
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        assert all(i.external_attr == 0o100644 << 16 for i in infos)
        return {i.filename: zf.read(i) for i in infos}


def test_members_read_back_in_order_with_sizes_in_the_local_headers() -> None:
    out = io.BytesIO()
    _write(out)
    data = out.getvalue()
    members = _read(data)
    assert members == MEMBERS and list(members) == list(MEMBERS)
    # a seekable output gets no data descriptor: the streamed member's sizes were written back
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("word/document.xml")
        assert not info.flag_bits & 0x08
        local = data[info.header_offset:info.header_offset + 30]
        crc, compressed, size = struct.unpack("<III", local[14:26])
        assert (crc, compressed, size) == (info.CRC, info.compress_size, info.file_size)
        assert zf.getinfo("docProps/\u00e9t\u00e9.xml").flag_bits & 0x0800  # a UTF-8 name says so


def test_the_same_members_give_the_same_bytes_however_they_are_cut() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    _write(first, pieces=1)
    _write(second, pieces=13)
    assert first.getvalue() == second.getvalue()


def test_an_output_that_cannot_seek_gets_data_descriptors() -> None:
    pipe = _Pipe()
    _write(pipe)
    data = bytes(pipe.data)
    assert _read(data) == MEMBERS
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("word/document.xml").flag_bits & 0x08


@pytest.mark.parametrize("seekable", [True, False])
def test_zip64_sizes_when_announced(seekable: bool) -> None:
    out: io.RawIOBase | io.BytesIO = io.BytesIO() if seekable else _Pipe()
    _write(out, zip64=True)
    data = out.getvalue() if isinstance(out, io.BytesIO) else bytes(out.data)  # type: ignore[attr-defined]
    assert _read(data) == MEMBERS
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


def test_a_member_that_outgrows_plain_sizes_is_refused() -> None:
    out = io.BytesIO()
    zw = ZipWriter(out)
    member = zw.open("big.xml")
    member._size = 1 << 32  # as if 4 GiB had been written
    with pytest.raises(ValueError, match="over 4 GiB"):
        member.close()


def _streamed(pieces: list[bytes]) -> bytes:
    out = io.BytesIO()
    with ZipWriter(out) as zw, zw.open("x.bin") as member:
        for p in pieces:
            member.write(p)
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=3000) | st.text(alphabet="<w:p>ab ", max_size=3000).map(str.encode),
                max_size=8))
def test_any_pieces_read_back_and_give_the_bytes_of_one_piece(pieces: list[bytes]) -> None:
    # deflated in blocks of 1,000 bytes here, so that pieces cross block boundaries every way
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_zip, "BLOCK", 1000)
        data = _streamed(pieces)
        assert data == _streamed([b"".join(pieces)])
    assert _read(data) == {"x.bin": b"".join(pieces)}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_xml_text_keeps_every_allowed_character_and_drops_the_rest(text: str) -> None:
    # the DOCX writer's one escape for text: quick when the text is printable, the same result
    import re

    from qabook.writers.docx._xml import esc

    allowed = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", text)
    expected = allowed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    assert esc(text) == expected
