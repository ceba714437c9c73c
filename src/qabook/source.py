"""Input bytes to text: encodings, newlines and characters no document may hold.

Chat exports arrive as UTF-8 with or without a byte-order mark, as UTF-16 from some Windows tools,
with CRLF or CR newlines, and now and then with bytes that are not text at all. Everything is
decoded here once, and every change made to the text is reported, so readers only ever see clean
``str`` with ``\\n`` newlines.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from typing import BinaryIO

from qabook.readers.base import InputError

# XML 1.0 allows only \t \n \r below U+0020, no surrogates, and not U+FFFE/U+FFFF.
_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_CONTAINERS = (
    (b"PK\x03\x04", "a ZIP archive (or a DOCX file)"),
    (b"%PDF", "a PDF file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "an SQLite database"),
)


@dataclass(frozen=True, slots=True)
class SourceText:
    """Decoded input."""

    text: str
    encoding: str
    warnings: tuple[str, ...]


def decode(data: bytes) -> SourceText:
    """Decode input bytes; raises :class:`InputError` for input that is not text."""
    for magic, what in _CONTAINERS:
        if data.startswith(magic):
            raise InputError(f"is {what}, not text; qabook reads chat transcripts, Markdown, Word files, "
                             "ChatGPT/Claude/Gemini exports and qabook JSON")
    warnings: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8-sig", data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding, body = "utf-32", data
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        encoding, body = "utf-8", data
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        text = body.decode(codec, errors="replace")
        bad = text.count("\ufffd") - body.decode(codec, errors="ignore").count("\ufffd")
        if encoding == "utf-8" and bad > max(64, len(data) // 20):
            raise InputError("is not UTF-8 or UTF-16 text (too many invalid bytes)") from None
        warnings.append(f"{bad} invalid byte sequence(s) replaced by “\ufffd”")
    if encoding == "utf-8" and "\x00" in text[:4096] and text[:4096].count("\x00") > len(text[:4096]) // 8:
        raise InputError("looks like a binary file, not text")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    forbidden = len(_FORBIDDEN_RE.findall(text))
    if forbidden:
        text = _FORBIDDEN_RE.sub("", text)
        warnings.append(f"{forbidden} control character(s) removed (not allowed in documents)")
    return SourceText(text, encoding, tuple(warnings))


class Source:
    """One input: a file on disk or bytes in memory, read only as far as a reader needs.

    Readers of big exports stream from :meth:`open`; text readers call :meth:`text` once.
    """

    HEAD = 65536

    def __init__(self, name: str, *, data: bytes | None = None, path: str | None = None) -> None:
        if (data is None) == (path is None):
            raise ValueError("give either data or path")
        self.name = name
        """The input's file name as documents show it (``-`` for standard input)."""
        self.path = path
        self._data = data
        self._head: bytes | None = None
        self._text: SourceText | None = None

    def open(self) -> BinaryIO:
        """A fresh binary stream over the whole input."""
        if self._data is not None:
            return io.BytesIO(self._data)
        assert self.path is not None
        return open(self.path, "rb")

    def head(self) -> bytes:
        """The first bytes (64 KiB), for sniffing."""
        if self._head is None:
            if self._data is not None:
                self._head = self._data[: self.HEAD]
            else:
                with self.open() as fh:
                    self._head = fh.read(self.HEAD)
        return self._head

    def head_text(self) -> str:
        """The head decoded leniently, for sniffing text formats."""
        head = self.head()
        for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                           (codecs.BOM_UTF16_BE, "utf-16")):
            if head.startswith(bom):
                return head.decode(codec, errors="ignore")
        return head.decode("utf-8", errors="ignore")

    def read_bytes(self) -> bytes:
        """The whole input."""
        if self._data is not None:
            return self._data
        with self.open() as fh:
            return fh.read()

    def text(self) -> SourceText:
        """The whole input decoded (see :func:`decode`); cached."""
        if self._text is None:
            self._text = decode(self.read_bytes())
        return self._text

    @property
    def decoded(self) -> SourceText | None:
        """The decoded text if a reader asked for it."""
        return self._text
