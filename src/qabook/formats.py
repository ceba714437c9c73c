"""The table of input and output formats.

Readers are tried by content, not by file name: each reader's ``sniff`` says how sure it is that
the text is its format, and the most specific reader (highest score, then earliest in the table)
reads it. Writers are chosen by the output file's extension.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterable, Sequence

from qabook import model
from qabook.readers import markdown as markdown_reader
from qabook.readers.base import Cut, InputError, Reading, Streamed
from qabook.source import Source
from qabook.writers import markdown as markdown_writer

ReadFn = Callable[[Source, "str | None"], Reading]
WriteFn = Callable[[model.Document, BinaryIO, "dt.date | None"], None]
StreamFn = Callable[[Source, "str | None"], Streamed]
WriteStreamFn = Callable[..., Sequence[str]]
"""(head, sections, out, date) -> warnings; see :attr:`WriterFormat.write_stream`."""
WritePartFn = Callable[[Iterable[model.Section], BinaryIO], Any]


@dataclass(frozen=True, slots=True)
class ReaderFormat:
    """An input format.

    ``sniff`` looks at the input (usually only ``source.head()`` / ``source.head_text()``) and
    says how sure it is, 0 meaning "not mine"; ``read`` reads the whole input with an optional
    title override. A text format reads ``source.text().text``; a container or a big export
    streams from ``source.open()``.
    """

    name: str
    description: str
    sniff: Callable[[Source], int]
    read: ReadFn
    copied: bool = False
    """Text copied from a rendered chat page: it may carry copy damage, so the repair passes run."""
    stream: StreamFn | None = None
    """Read the input as a :class:`~qabook.readers.base.Streamed` reading (sections chunk by
    chunk), for readers of inputs that can be too big to hold as one model; ``read`` then
    collects it."""
    cut: Callable[[Source], Cut | None] | None = None
    """Where the input can be read in two parts by two processes, if it can (see
    :func:`qabook.pipeline.convert`): ``stream`` then reads the bytes before the cut as it would
    a whole input, and ``stream_from`` the bytes from the cut on."""
    stream_from: Callable[[Source, Cut], Streamed] | None = None
    most: int = 100
    """The highest score ``sniff`` gives: a reader that cannot beat the best score so far is not
    asked (nor imported)."""


@dataclass(frozen=True, slots=True)
class WriterFormat:
    """An output format."""

    name: str
    description: str
    extensions: tuple[str, ...]
    write: WriteFn
    write_stream: WriteStreamFn | None = None
    """Write a document given as its head (no sections) and its sections one at a time, without
    holding them all; ``write`` is then the same for a whole document. Returns warnings about
    what it could not render as asked (formulas kept as TeX). A writer with ``write_part`` takes
    a fifth argument: what gives the part that follows the sections (see ``write_part``)."""
    write_part: WritePartFn | None = None
    """Write sections as the later part of a document, to a file of records (for another process
    to join: ``write_stream``'s fifth argument returns the summary this returns, and the file)."""
    equations: bool = False
    """Turns TeX into equations; formulas that cannot be converted are reported (they stay TeX)."""


def _sniff_json(source: Source) -> int:
    head = source.head_text().lstrip()[:4096]
    return 100 if head.startswith("{") and '"qabook-model"' in head else 0


def _read_json(source: Source, title: str | None) -> Reading:
    try:
        doc = model.from_json(source.text().text)
    except model.ModelError as exc:
        raise InputError(f"is not a valid qabook model: {exc}") from None
    if title:
        doc = model.Document(title, doc.source, doc.sections, doc.meta)
    return Reading(doc)


def _text_format(module: Any) -> tuple[Callable[[Source], int], ReadFn]:
    """Adapters for a reader module of text formats (``sniff(text)``, ``read(text, name, title)``);
    ``module`` may be a module's name, imported on first use."""

    def loaded() -> Any:
        return importlib.import_module(module) if isinstance(module, str) else module

    def sniff(source: Source) -> int:
        return int(loaded().sniff(source.head_text()))

    def read(source: Source, title: str | None) -> Reading:
        return loaded().read(source.text().text, source.name, title)  # type: ignore[no-any-return]

    return sniff, read


def _write_json(doc: model.Document, out: BinaryIO, date: dt.date | None) -> None:
    out.write(model.to_json(doc).encode("utf-8"))


def _write_markdown(doc: model.Document, out: BinaryIO, date: dt.date | None) -> None:
    markdown_writer.write(doc, out)


def _write_markdown_stream(head: model.Document, sections: Iterable[model.Section], out: BinaryIO,
                           date: dt.date | None) -> Sequence[str]:
    return markdown_writer.write_stream(head, sections, out)


def _write_docx(doc: model.Document, out: BinaryIO, date: dt.date | None) -> None:
    from qabook.writers import docx

    docx.write(doc, out, date=date)


def _write_docx_stream(head: model.Document, sections: Iterable[model.Section], out: BinaryIO,
                       date: dt.date | None, then: Callable[[], Any] | None = None) -> Sequence[str]:
    from qabook.writers import docx

    return docx.write_stream(head, sections, out, date=date, then=then)


def _write_docx_part(sections: Iterable[model.Section], records: BinaryIO) -> Any:
    from qabook.writers import docx

    return docx.write_part(sections, records)


def _write_html_stream(head: model.Document, sections: Iterable[model.Section], out: BinaryIO,
                       date: dt.date | None) -> Sequence[str]:
    from qabook.writers import html

    return html.write_stream(head, sections, out, date)


def _lazy_writer(module: str, function: str = "write") -> WriteFn:
    """A writer imported on first use, so a command pays only for the formats it writes."""

    def write(doc: model.Document, out: BinaryIO, date: dt.date | None) -> None:
        getattr(importlib.import_module(module), function)(doc, out, date)

    return write


def _may_be_export(source: Source) -> bool:
    """Whether the input can be a chat-app export at all: JSON, HTML or a ZIP archive."""
    if source.head().startswith(b"PK\x03\x04"):
        return True
    return source.head_text().lstrip("\ufeff \t\r\n")[:1] in ("[", "{", "<")


def _export(name: str) -> tuple[Callable[[Source], int], ReadFn, StreamFn | None]:
    """Adapters for the reader module of an export, imported only for input that can be one
    (transcripts and Markdown, the common case, never load the export readers)."""

    def module() -> Any:
        return importlib.import_module(f"qabook.readers.{name}")

    def sniff(source: Source) -> int:
        return int(module().sniff(source)) if _may_be_export(source) else 0

    def read(source: Source, title: str | None) -> Reading:
        return module().read(source, title)  # type: ignore[no-any-return]

    def stream(source: Source, title: str | None) -> Streamed:
        return module().stream(source, title)  # type: ignore[no-any-return]

    return sniff, read, (stream if name in ("chatgpt", "claude") else None)


_CHATGPT, _CLAUDE = _export("chatgpt"), _export("claude")

READERS: tuple[ReaderFormat, ...] = (
    ReaderFormat("qabook-json", "qabook's model as JSON (what `-o file.json` writes)", _sniff_json, _read_json),
    ReaderFormat("markdown", "Markdown Q&A: question headings (### 1. …), **bold questions?**, <details> blocks, "
                 "numbered questions with - Answer:, **Q:**/**A:**, question/answer tables",
                 *_text_format(markdown_reader), stream=markdown_reader.stream,
                 cut=markdown_reader.cut, stream_from=markdown_reader.stream_from),
    ReaderFormat("docx", "a Word document holding Q&A (question headings, numbered questions, Answer: "
                 "paragraphs, bold questions, question/answer tables), qabook's own DOCX too",
                 lambda source: importlib.import_module("qabook.readers.docx").sniff(source)
                 if source.head().startswith(b"PK\x03\x04") else 0,
                 lambda source, title: importlib.import_module("qabook.readers.docx").read(source, title)),
    ReaderFormat("transcript", "a chat transcript as text or Markdown (You said: / ChatGPT said: …)",
                 *_text_format("qabook.readers.transcript"), copied=True, most=60),
    ReaderFormat("chatgpt", "ChatGPT's data export: conversations.json, chat.html or the ZIP",
                 *_CHATGPT[:2], stream=_CHATGPT[2], most=90),
    ReaderFormat("claude", "Claude's data export: conversations.json or the ZIP",
                 *_CLAUDE[:2], stream=_CLAUDE[2], most=90),
    ReaderFormat("gemini", "Gemini in Google Takeout: My Activity JSON or HTML, or the ZIP",
                 *_export("gemini")[:2], most=90),  # Takeout is read whole (its days are regrouped)
)

WRITERS: tuple[WriterFormat, ...] = (
    WriterFormat("docx", "Word document", (".docx",), _write_docx, _write_docx_stream, equations=True,
                 write_part=_write_docx_part),
    WriterFormat("markdown", "Markdown (CommonMark + GFM, $ math)", (".md", ".markdown"), _write_markdown,
                 _write_markdown_stream),
    WriterFormat("json", "qabook model JSON (versioned; see docs/model.md)", (".json",), _write_json),
    WriterFormat("html", "one self-contained HTML page: contents, collapsible answers, search, MathML",
                 (".html", ".htm"), _lazy_writer("qabook.writers.html"), _write_html_stream, equations=True),
    WriterFormat("anki", "Anki deck package: a note per item, a subdeck per section", (".apkg",),
                 _lazy_writer("qabook.writers.anki")),
    WriterFormat("csv", "CSV for Anki's text import and Quizlet (question, HTML answer, tags)", (".csv",),
                 _lazy_writer("qabook.writers.csv", "write_csv")),
    WriterFormat("tsv", "tab-separated text for Anki's text import and Quizlet (question, HTML answer, tags)",
                 (".tsv",), _lazy_writer("qabook.writers.csv", "write_tsv")),
)


def pick_reader(source: Source) -> ReaderFormat:
    """The most specific reader for this input: highest sniff score, earliest in the table on ties.
    (A reader whose :attr:`~ReaderFormat.most` cannot beat the best score so far is skipped.)"""
    score, best = 0, READERS[0]
    for r in READERS:
        if r.most > score:
            s = r.sniff(source)
            if s > score:
                score, best = s, r
    if score <= 0:
        raise InputError("is empty or holds no text")
    return best


def reader_named(name: str) -> ReaderFormat:
    """The reader called ``name`` (for forcing a format)."""
    for r in READERS:
        if r.name == name:
            return r
    raise InputError(f"unknown input format {name!r} (known: {', '.join(r.name for r in READERS)})")


def writer_for(path: str) -> WriterFormat:
    """The writer for an output file name, by its extension."""
    lower = path.lower()
    for w in WRITERS:
        if lower.endswith(w.extensions):
            return w
    known = ", ".join(e for w in WRITERS for e in w.extensions)
    raise InputError(f"cannot write {path!r}: unknown output extension (use {known})")
