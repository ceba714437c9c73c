"""Question/answer/tags as CSV (``.csv``) or tab-separated text (``.tsv``) for Anki's text import
and Quizlet.

Each item is one record on one line: ``question``, ``answer``, ``tags``. The question and the answer
are **HTML** (the fragments of :mod:`qabook.writers.html`: ``<p>``, ``<ul><li>``, ``<pre><code>``,
``<strong>`` …) with formulas as ``\\( … \\)`` / ``\\[ … \\]`` for Anki's MathJax. Line breaks inside a
code block are written as the character reference ``&#10;`` and tabs as ``&#9;``, which HTML reads
back as the same characters, so no record spans two lines and a ``.tsv`` needs no quoting at all.
Tags are the section's name (spaces become ``_``), space-separated as Anki expects.

The file starts with Anki's header lines (Anki ≥ 2.1.55 reads them and skips them)::

    #separator:tab          (or comma)
    #html:true              <- the HTML flag
    #notetype:Basic
    #deck:Title
    #columns:Front<TAB>Back<TAB>Tags     <- the Basic notetype's fields
    #tags column:3

**The HTML flag.** ``#html:true`` tells Anki the fields are HTML, so lists, code and formulas
render; it is the same as ticking *Allow HTML in fields* in the import dialog. An importer that
does not read these headers (older Anki, or anything else) must be told the same by hand: in
Anki ≤ 2.1.54 tick *Allow HTML in fields* and map column 3 to Tags; otherwise the answers show
their tags as text.

**Quizlet** imports pasted text with *Tab* between term and definition and *New line* between
cards: paste the lines of the ``.tsv`` after the ``#`` header lines. Quizlet shows no HTML, so the
answers keep their tags as text there; the tags column lands at the end of the definition.

CSV follows RFC 4180 (fields with commas or quotes are quoted, quotes doubled, CRLF line ends);
the ``.tsv`` uses LF line ends. Both are UTF-8 without a byte order mark.
"""

from __future__ import annotations

import csv as _csv
import datetime as dt
import io
from typing import BinaryIO

from qabook.model import Document
from qabook.writers import html as html_writer
from qabook.writers.anki import deck_name, tag

NAME = "csv"
EXTENSIONS = (".csv", ".tsv")


def _one_line(html: str) -> str:
    return html.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;")


def rows(doc: Document) -> list[tuple[str, str, str]]:
    """(question, answer, tags) per item: HTML on one line."""
    out: list[tuple[str, str, str]] = []
    for section in doc.sections:
        tags = tag(section.title)
        for item in section.items:
            question = html_writer.inlines(item.question, math="mathjax")
            answer = html_writer.blocks(item.answer, math="mathjax")
            out.append((_one_line(question), _one_line(answer), tags))
    return out


def _headers(doc: Document, separator: str, sep_char: str) -> list[str]:
    deck = deck_name(doc.title)
    return [
        f"#separator:{separator}",
        "#html:true",
        "#notetype:Basic",
        f"#deck:{deck}",
        f"#columns:Front{sep_char}Back{sep_char}Tags",
        "#tags column:3",
    ]


def render(doc: Document, tab: bool) -> str:
    """The whole file: tab-separated when ``tab``, else CSV."""
    if tab:
        lines = _headers(doc, "tab", "\t")
        for record in rows(doc):
            lines.append("\t".join(record))
        return "\n".join(lines) + "\n"
    buf = io.StringIO()
    for line in _headers(doc, "comma", ","):
        buf.write(line + "\r\n")
    writer = _csv.writer(buf, lineterminator="\r\n")
    writer.writerows(rows(doc))
    return buf.getvalue()


def write_csv(doc: Document, out: BinaryIO, date: dt.date | None = None) -> None:
    """Write comma-separated values."""
    out.write(render(doc, tab=False).encode("utf-8"))


def write_tsv(doc: Document, out: BinaryIO, date: dt.date | None = None) -> None:
    """Write tab-separated values."""
    out.write(render(doc, tab=True).encode("utf-8"))
