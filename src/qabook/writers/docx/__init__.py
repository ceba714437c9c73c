"""The DOCX writer: a :class:`~qabook.model.Document` as a Word document.

Why the WordprocessingML is written by hand, as a stream
---------------------------------------------------------
A collection can hold thousands of questions. python-docx builds the body as an lxml tree and its
``add_paragraph`` appends by rescanning the body for the final ``w:sectPr``, so building a long
document costs time quadratic in its length, and the whole tree must be in memory before anything
is written. Here the body is plain text written in document order, section by section, to a spool
(memory, then a temporary file) and copied into the zip member ``word/document.xml``
(``ZipFile.open(name, "w")``) after the title page, which counts the questions: time stays linear,
memory does not grow with the document (:func:`write_stream` takes the sections one at a time),
and nothing is ever parsed back or searched.

What the body needs elsewhere (one relationship per hyperlink target, one numbering instance per
ordered list so each list restarts at its own start) is collected in the writer state while the
body streams and written into ``word/_rels/document.xml.rels`` and ``word/numbering.xml`` after it.
Styles, settings and the font table are bundled reference parts (``reference/*.xml``), written by
hand like the rest and copied unchanged.

Output is deterministic: fixed zip member order, timestamps (1980-01-01), compression and
attributes; ids assigned in document order; no clock is read. The ``date`` argument alone puts a
date on the title page and into ``docProps/core.xml``.

Formulas become Office Math, equations Word shows and edits: an inline formula is an ``m:oMath``
inside its paragraph, a display formula an ``m:oMathPara`` alone in a "Math Block" paragraph
(:mod:`qabook.math` converts TeX -> MathML -> OMML, cached per formula). A formula that cannot be
converted keeps its TeX, visibly, in the "Math TeX" character style; none is dropped.

A document can be written in two parts by two processes (:func:`write_part` for the later one,
then ``write_stream(..., then=…)`` for the earlier one, which joins it): the later part leaves a
reference wherever a number depends on what came before (bookmark ids, item numbers, hyperlink
relationships, numbering instances), and joining fills them in, so the bytes are those one
process would write. A reference is a record of where it goes, not a string to search for.

Every part validates against the ECMA-376 Transitional schemas (the tests check this); no Word
extensions (``mc:Ignorable``, ``w14``) are used.
"""

from __future__ import annotations

import datetime
import typing

from qabook.model import Document, Section
from qabook.writers.docx._body import BodyWriter, PartSummary
from qabook.writers.docx._zip import ZipWriter
from qabook.writers.docx._parts import (
    APP_XML,
    CONTENT_TYPES,
    FOOTER_XML,
    REFERENCE_PARTS,
    ROOT_RELS,
    core_xml,
    document_rels,
    numbering_xml,
    reference_part,
)

__all__ = ["PartSummary", "write", "write_part", "write_stream"]

def _put(zw: ZipWriter, name: str, data: str | bytes) -> None:
    zw.put(name, data.encode("utf-8") if isinstance(data, str) else data)


def write(doc: Document, out: typing.BinaryIO, *, date: datetime.date | None = None) -> list[str]:
    """Write ``doc`` as a complete .docx package to the binary stream ``out``.

    ``date``, when given, is shown on the title page and stored as the created/modified date;
    without it the document carries no date at all. The same document and date always give the
    same bytes. The caller owns ``out`` (it is not closed) and any temp-file-and-rename.
    Returns a warning per formula that could not be converted (it is written as TeX).
    """
    return write_stream(doc, doc.sections, out, date=date)


def write_stream(head: Document, sections: typing.Iterable[Section], out: typing.BinaryIO, *,
                 date: datetime.date | None = None,
                 then: typing.Callable[[], tuple[PartSummary, typing.BinaryIO]] | None = None) -> list[str]:
    """Write the document ``head`` (title, source; its own sections are ignored) with
    ``sections`` taken one at a time, as :func:`write` does for a whole document: memory does not
    grow with the number of sections (the body waits in a temporary file until the title page,
    which counts the questions, has been written).

    ``then``, called once the sections are written, gives the rest of the document as a part
    another process wrote with :func:`write_part` (its summary, and its records from the start)."""
    body = BodyWriter()
    for section in sections:
        body.section(section)
    if then is not None:
        summary, records = then()
        body.join(summary, records)
    with ZipWriter(out) as zf:
        _put(zf, "[Content_Types].xml", CONTENT_TYPES)
        _put(zf, "_rels/.rels", ROOT_RELS)
        body.finish(head, date, zf, "word/document.xml")
        _put(zf, "word/_rels/document.xml.rels", document_rels(body.links))
        _put(zf, "word/numbering.xml", numbering_xml(body.widths, body.ordered))
        for name in REFERENCE_PARTS:
            _put(zf, f"word/{name}", reference_part(name))
        _put(zf, "word/footer1.xml", FOOTER_XML)
        _put(zf, "docProps/core.xml", core_xml(head.title, date))
        _put(zf, "docProps/app.xml", APP_XML)
    return body.unconverted


def write_part(sections: typing.Iterable[Section], records: typing.BinaryIO) -> PartSummary:
    """Write ``sections`` as the later part of a document, as records to ``records``, for the
    writer of the earlier part to join (see ``then`` of :func:`write_stream`)."""
    body = BodyWriter(part=records)
    for section in sections:
        body.section(section)
    summary = body.part_summary()
    records.flush()
    return summary
