"""The table of input and output formats.

Readers are tried by content, not by file name: each reader's ``sniff`` says how sure it is that
the text is its format, and the most specific reader (highest score, then earliest in the table)
reads it. Writers are chosen by the output file's extension.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import BinaryIO, Callable

from qabook import model
from qabook.readers import markdown as markdown_reader
from qabook.readers import transcript
from qabook.readers.base import InputError, Reading
from qabook.writers import markdown as markdown_writer

ReadFn = Callable[[str, str, "str | None"], Reading]
WriteFn = Callable[[model.Document, BinaryIO, "dt.date | None"], None]


@dataclass(frozen=True, slots=True)
class ReaderFormat:
    """An input format."""

    name: str
    description: str
    sniff: Callable[[str], int]
    read: ReadFn


@dataclass(frozen=True, slots=True)
class WriterFormat:
    """An output format."""

    name: str
    description: str
    extensions: tuple[str, ...]
    write: WriteFn


def _sniff_json(text: str) -> int:
    head = text.lstrip()[:4096]
    return 100 if head.startswith("{") and '"qabook-model"' in head else 0


def _read_json(text: str, name: str, title: str | None) -> Reading:
    try:
        doc = model.from_json(text)
    except model.ModelError as exc:
        raise InputError(f"is not a valid qabook model: {exc}") from None
    if title:
        doc = model.Document(title, doc.source, doc.sections, doc.meta)
    return Reading(doc)


def _write_json(doc: model.Document, out: BinaryIO, date: dt.date | None) -> None:
    out.write(model.to_json(doc).encode("utf-8"))


def _write_markdown(doc: model.Document, out: BinaryIO, date: dt.date | None) -> None:
    markdown_writer.write(doc, out)


def _write_docx(doc: model.Document, out: BinaryIO, date: dt.date | None) -> None:
    from qabook.writers import docx

    docx.write(doc, out, date=date)


READERS: tuple[ReaderFormat, ...] = (
    ReaderFormat("qabook-json", "qabook's model as JSON (what `-o file.json` writes)", _sniff_json, _read_json),
    ReaderFormat("markdown", "Markdown with numbered question headings (### 1. …)",
                 markdown_reader.sniff, markdown_reader.read),
    ReaderFormat("transcript", "a chat transcript as text or Markdown (You said: / ChatGPT said: …)",
                 transcript.sniff, transcript.read),
)

WRITERS: tuple[WriterFormat, ...] = (
    WriterFormat("docx", "Word document", (".docx",), _write_docx),
    WriterFormat("markdown", "Markdown (CommonMark + GFM, $ math)", (".md", ".markdown"), _write_markdown),
    WriterFormat("json", "qabook model JSON (versioned; see docs/model.md)", (".json",), _write_json),
)


def pick_reader(text: str) -> ReaderFormat:
    """The most specific reader for this text."""
    best = max(READERS, key=lambda r: r.sniff(text))  # max keeps the earliest of equals
    if best.sniff(text) <= 0:
        raise InputError("is empty or holds no text")
    return best


def writer_for(path: str) -> WriterFormat:
    """The writer for an output file name, by its extension."""
    lower = path.lower()
    for w in WRITERS:
        if lower.endswith(w.extensions):
            return w
    known = ", ".join(e for w in WRITERS for e in w.extensions)
    raise InputError(f"cannot write {path!r}: unknown output extension (use {known})")
