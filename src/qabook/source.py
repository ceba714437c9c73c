"""Input bytes to text: encodings, newlines and characters no document may hold.

Chat exports arrive as UTF-8 with or without a byte-order mark, as UTF-16 from some Windows tools,
with CRLF or CR newlines, and now and then with bytes that are not text at all. Everything is
decoded here once, and every change made to the text is reported, so readers only ever see clean
``str`` with ``\\n`` newlines.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import typing
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, Callable, Iterator, TypeVar, assert_never

from qabook.model import (
    Block,
    BulletList,
    Code,
    CodeBlock,
    Document,
    Emphasis,
    Inline,
    Item,
    LineBreak,
    Link,
    ListItem,
    Math,
    MathBlock,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Section,
    Strong,
    Table,
    Text,
)
from qabook.readers.base import InputError

_T = TypeVar("_T")

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


def _refuse_containers(data: bytes) -> None:
    for magic, what in _CONTAINERS:
        if data.startswith(magic):
            raise InputError(f"is {what}, not text; qabook reads chat transcripts, Markdown, Word files, "
                             "ChatGPT/Claude/Gemini exports and qabook JSON")


def decode(data: bytes) -> SourceText:
    """Decode input bytes; raises :class:`InputError` for input that is not text."""
    _refuse_containers(data)
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


_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
"""The bytes of the control characters :data:`_FORBIDDEN_RE` removes (tab, newline and carriage
return are allowed)."""


def clean_utf8(data: bytes) -> bool:
    """Whether UTF-8 ``data`` (valid or not) decodes to text without a character
    :data:`_FORBIDDEN_RE` removes: no control byte and no U+FFFE or U+FFFF (``EF BF BE`` /
    ``EF BF BF``). Surrogates do not decode from UTF-8, invalid bytes become U+FFFD. A sequence
    cut at the end of ``data`` is decoded with the next data, which is searched then."""
    if len(data.translate(None, _CONTROL_BYTES)) != len(data):
        return False
    return b"\xef\xbf\xbe" not in data and b"\xef\xbf\xbf" not in data


CHUNK = 1 << 20
"""Bytes read at a time by :meth:`Source.lines`."""


class _Utf8Lines:
    """:func:`decode` for UTF-8 input fed in chunks: the same text, split into lines, the same
    warnings and errors. (An invalid sequence cut by a chunk boundary is completed by the next
    chunk, as in one decode; only a final incomplete sequence is replaced.)"""

    def __init__(self, head: bytes, total: int) -> None:
        _refuse_containers(head)
        self.encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        self.total = total
        self.buffer = b""
        self.rest = ""
        self.bad = 0
        self.removed = 0
        self.start = ""
        """The first 4,096 characters, where NULs tell a binary file."""
        self.binary = False
        self.watch = ""
        self.found = False
        """Whether the text decoded so far holds :attr:`watch`."""

    def feed(self, data: bytes, final: bool) -> list[str]:
        data = self.buffer + data
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError:
            text, used = codecs.utf_8_decode(data, "replace", final)
            ignored, _ = codecs.utf_8_decode(data, "ignore", final)
            self.bad += text.count("\ufffd") - ignored.count("\ufffd")
            if self.encoding == "utf-8" and self.bad > max(64, self.total // 20):
                raise InputError("is not UTF-8 or UTF-16 text (too many invalid bytes)") from None
        self.buffer = data[used:]
        if len(self.start) < 4096:
            self.start += text[:4096 - len(self.start)]
        if final and self.encoding == "utf-8" and self.start.count("\x00") > len(self.start) // 8:
            self.binary = True
        if final and self.binary:  # after the count of invalid bytes, as decode() checks
            raise InputError("looks like a binary file, not text")
        rest = self.rest  # the start of a line from the chunk before, not yet searched
        text = rest + text
        if "\r" in text:
            held = "\r" if text.endswith("\r") and not final else ""
            if held:
                text = text[:-1]
            text = text.replace("\r\n", "\n").replace("\r", "\n") + held
        if self.watch and not self.found and self.watch in text:
            self.found = True
        lines = text.split("\n")
        self.rest = "" if final else lines.pop()
        if final and self.rest:
            lines.append(self.rest)
        if clean_utf8(data) and (not rest or _FORBIDDEN_RE.search(rest) is None):
            return lines  # nothing to remove (the common case, told in C from the bytes)
        cleaned = []
        for line in lines:
            if _FORBIDDEN_RE.search(line) is not None:
                new = _FORBIDDEN_RE.sub("", line)
                self.removed += len(line) - len(new)
                line = new
            cleaned.append(line)
        return cleaned

    def warnings(self) -> tuple[str, ...]:
        out = []
        if self.bad:
            out.append(f"{self.bad} invalid byte sequence(s) replaced by “\ufffd”")
        if self.removed:
            out.append(f"{self.removed} control character(s) removed (not allowed in documents)")
        return tuple(out)


class _Watched(io.RawIOBase):
    """A binary stream that tells a callback how far it has been read (for a progress bar)."""

    def __init__(self, inner: BinaryIO, progress: Callable[[int, int], None]) -> None:
        super().__init__()
        self._inner = inner
        self._progress = progress
        position = inner.tell()
        self._size = inner.seek(0, io.SEEK_END)
        inner.seek(position)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self._progress(self._inner.tell(), self._size)
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        data = self._inner.read(-1 if size is None else size)
        self._progress(self._inner.tell(), self._size)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        self._inner.close()
        super().close()


class _Window(io.RawIOBase):
    """The bytes ``start`` to ``end`` of a binary stream, as a stream of their own."""

    def __init__(self, inner: BinaryIO, start: int, end: int) -> None:
        super().__init__()
        self._inner = inner
        self._start = start
        self._end = end
        inner.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._end - self._inner.tell()
        if left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), left)]
        return int(self._inner.readinto(view))  # type: ignore[attr-defined]

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = self._start + offset
        elif whence == io.SEEK_CUR:
            target = self._inner.tell() + offset
        else:
            target = self._end + offset
        self._inner.seek(min(max(target, self._start), self._end))
        return self._inner.tell() - self._start

    def tell(self) -> int:
        return self._inner.tell() - self._start

    def close(self) -> None:
        self._inner.close()
        super().close()


class Source:
    """One input: a file on disk or bytes in memory, read only as far as a reader needs.

    Readers of big exports stream from :meth:`open`; text readers call :meth:`text` once.
    """

    HEAD = 65536

    def __init__(self, name: str, *, data: bytes | None = None, path: str | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        if (data is None) == (path is None):
            raise ValueError("give either data or path")
        self.name = name
        self.progress = progress
        """Called with (position, size) in bytes as a stream from :meth:`open` is read."""
        """The input's file name as documents show it (``-`` for standard input)."""
        self.path = path
        self._data = data
        self._window: tuple[int, int] | None = None
        self._head: bytes | None = None
        self._text: SourceText | None = None
        self._streamed: tuple[str, tuple[str, ...]] | None = None
        self.watched = False
        """Whether the text :meth:`lines` has read holds its ``watch`` string."""

    def window(self, start: int, end: int | None = None) -> Source:
        """The bytes from ``start`` to ``end`` (the end of the input by default) as a source of
        their own, with the same name (for a reader that reads a file in parts)."""
        if self._data is not None:
            return Source(self.name, data=self._data[start:end])
        assert self.path is not None and self._window is None
        part = Source(self.name, path=self.path)
        part._window = (start, os.stat(self.path).st_size if end is None else end)
        return part

    def open(self) -> BinaryIO:
        """A fresh binary stream over the whole input."""
        if self._data is not None:
            stream: BinaryIO = io.BytesIO(self._data)
        else:
            assert self.path is not None
            stream = open(self.path, "rb")
            if self._window is not None:
                stream = typing.cast(BinaryIO, io.BufferedReader(_Window(stream, *self._window)))
        if self.progress is not None:
            # looked up at each read, so a callback set later (in a forked reader) takes over
            return typing.cast(BinaryIO, _Watched(stream, self._tell_progress))
        return stream

    def _tell_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

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

    @property
    def encoding(self) -> str:
        """The text encoding found (``""`` when no reader decoded the input as text)."""
        if self._text is not None:
            return self._text.encoding
        return self._streamed[0] if self._streamed else ""

    @property
    def warnings(self) -> tuple[str, ...]:
        """What decoding changed in the text (invalid bytes, control characters)."""
        if self._text is not None:
            return self._text.warnings
        return self._streamed[1] if self._streamed else ()

    def lines(self, watch: str = "") -> Iterator[str]:
        """The input decoded as :meth:`text` decodes it, one line at a time (without newlines),
        read in chunks so a big file never sits in memory whole: the lines are those of
        ``text().text.split("\n")``, and :attr:`encoding` and :attr:`warnings` are the same once
        the last line has been read. UTF-16 and UTF-32 input is decoded whole.

        With ``watch``, :attr:`watched` turns True once the text read so far holds that string
        (in a chunk already decoded, so possibly a little ahead of the lines handed out)."""
        head = self.head()
        self.watched = False
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = self.text().text
            self.watched = bool(watch) and watch in text
            yield from text.split("\n")
            return
        if self._data is not None:
            total = len(self._data)
        elif self._window is not None:
            total = self._window[1] - self._window[0]
        else:
            assert self.path is not None
            total = os.stat(self.path).st_size
        decoder = _Utf8Lines(head, total)
        with self.open() as fh:
            if head.startswith(codecs.BOM_UTF8):
                fh.read(len(codecs.BOM_UTF8))
            decoder.watch = watch
            while chunk := fh.read(CHUNK):
                lines = decoder.feed(chunk, final=False)
                self.watched = decoder.found
                yield from lines
            lines = decoder.feed(b"", final=True)
            self.watched = decoder.found
            yield from lines
        self._streamed = (decoder.encoding, decoder.warnings())


def clean_document(doc: Document) -> tuple[Document, int]:
    """The document without the characters :func:`decode` removes from text, and how many went.

    Text input is cleaned as it is decoded; this catches what readers make of escapes: ``\\u0000``
    in a JSON export, ``&#1;`` in Markdown or HTML. The document is walked once; nodes are rebuilt
    only where something was removed.
    """
    cleaner = _Cleaner()
    sections = tuple(cleaner.section(s) if _may_hold_forbidden(s) else s for s in doc.sections)
    if all(a is b for a, b in zip(sections, doc.sections)):
        sections = doc.sections
    title, source = cleaner.text(doc.title), cleaner.text(doc.source)
    meta = tuple((cleaner.text(k), cleaner.text(v)) for k, v in doc.meta)
    if not cleaner.removed:
        return doc, 0
    return Document(title, source, sections, meta), cleaner.removed


def _may_hold_forbidden(section: Section) -> bool:
    """Whether any text of ``section`` may hold a character :func:`decode` removes: all its text
    is gathered (flat, without rebuilding anything) and searched at once. Exact for the model's
    node types; True for anything else, so that :class:`_Cleaner` looks at it."""
    parts = [section.title]
    try:
        for it in section.items:
            _inline_strings(it.question, parts)
            _block_strings(it.answer, parts)
    except _Unknown:
        return True
    return _FORBIDDEN_RE.search("\n".join(parts)) is not None


class _Unknown(Exception):
    """A node of a type the fast check does not know."""


def _inline_strings(nodes: tuple[Inline, ...], out: list[str]) -> None:
    for n in nodes:
        c = n.__class__
        if c is Text or c is Code:
            out.append(n.text)  # type: ignore[union-attr]
        elif c is Strong or c is Emphasis:
            _inline_strings(n.children, out)  # type: ignore[union-attr]
        elif c is Math:
            out.append(n.tex)  # type: ignore[union-attr]
        elif c is Link:
            out.append(n.target)  # type: ignore[union-attr]
            _inline_strings(n.children, out)  # type: ignore[union-attr]
        elif c is not LineBreak:
            raise _Unknown


def _block_strings(blocks: tuple[Block, ...], out: list[str]) -> None:
    for b in blocks:
        c = b.__class__
        if c is Paragraph:
            _inline_strings(b.inlines, out)  # type: ignore[union-attr]
        elif c is BulletList or c is OrderedList:
            for li in b.items:  # type: ignore[union-attr]
                _block_strings(li.blocks, out)
        elif c is CodeBlock:
            out.append(b.text)  # type: ignore[union-attr]
            out.append(b.language)  # type: ignore[union-attr]
        elif c is MathBlock:
            out.append(b.tex)  # type: ignore[union-attr]
        elif c is Quote:
            _block_strings(b.blocks, out)  # type: ignore[union-attr]
        elif c is Table:
            for row in (b.header, *b.rows):  # type: ignore[union-attr]
                for cell in row:
                    _inline_strings(cell, out)
        elif c is not Rule:
            raise _Unknown


class _Cleaner:
    def __init__(self) -> None:
        self.removed = 0

    def text(self, s: str) -> str:
        if _FORBIDDEN_RE.search(s) is None:
            return s
        cleaned = _FORBIDDEN_RE.sub("", s)
        self.removed += len(s) - len(cleaned)
        return cleaned

    def all(self, nodes: tuple[_T, ...], fn: Callable[[_T], _T]) -> tuple[_T, ...]:
        out = tuple(fn(n) for n in nodes)
        return nodes if all(a is b for a, b in zip(out, nodes)) else out

    def section(self, s: Section) -> Section:
        title, items = self.text(s.title), self.all(s.items, self.item)
        return s if title is s.title and items is s.items else replace(s, title=title, items=items)

    def item(self, it: Item) -> Item:
        q, a = self.all(it.question, self.inline), self.all(it.answer, self.block)
        return it if q is it.question and a is it.answer else replace(it, question=q, answer=a)

    def cell(self, c: tuple[Inline, ...]) -> tuple[Inline, ...]:
        return self.all(c, self.inline)

    def row(self, r: tuple[tuple[Inline, ...], ...]) -> tuple[tuple[Inline, ...], ...]:
        return self.all(r, self.cell)

    def list_item(self, li: ListItem) -> ListItem:
        blocks = self.all(li.blocks, self.block)
        return li if blocks is li.blocks else ListItem(blocks)

    def block(self, b: Block) -> Block:
        match b:
            case Paragraph(inlines=i):
                new = self.all(i, self.inline)
                return b if new is i else Paragraph(new)
            case BulletList(items=items):
                new_items = self.all(items, self.list_item)
                return b if new_items is items else BulletList(new_items)
            case OrderedList(items=items, start=start):
                new_items = self.all(items, self.list_item)
                return b if new_items is items else OrderedList(new_items, start)
            case CodeBlock(text=t, language=lang):
                nt, nl = self.text(t), self.text(lang)
                return b if nt is t and nl is lang else CodeBlock(nt, nl)
            case MathBlock(tex=t):
                nt = self.text(t)
                return b if nt is t else MathBlock(nt)
            case Quote(blocks=inner):
                new_inner = self.all(inner, self.block)
                return b if new_inner is inner else Quote(new_inner)
            case Table(header=header, rows=rows):
                nh, nr = self.row(header), self.all(rows, self.row)
                return b if nh is header and nr is rows else Table(nh, nr)
            case Rule():
                return b
            case _:
                assert_never(b)

    def inline(self, n: Inline) -> Inline:
        match n:
            case Text(text=t):
                nt = self.text(t)
                return n if nt is t else Text(nt)
            case Code(text=t):
                nt = self.text(t)
                return n if nt is t else Code(nt)
            case Math(tex=t):
                nt = self.text(t)
                return n if nt is t else Math(nt)
            case Strong(children=c):
                nc = self.all(c, self.inline)
                return n if nc is c else Strong(nc)
            case Emphasis(children=c):
                nc = self.all(c, self.inline)
                return n if nc is c else Emphasis(nc)
            case Link(target=target, children=c):
                ntarget, nc = self.text(target), self.all(c, self.inline)
                return n if ntarget is target and nc is c else Link(ntarget, nc)
            case LineBreak():
                return n
            case _:
                assert_never(n)
