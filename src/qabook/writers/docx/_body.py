"""Stream ``word/document.xml``: title page, table of contents, sections, items, blocks, inlines.

The body is written as WordprocessingML text, chunk by chunk, section by section: every handler
appends strings to one buffer, which is joined, encoded and deflated into a spool after each item
once it has grown past :data:`FLUSH_AT` pieces, and the contents entries go to a second spool. The
title page needs the number of questions, known only after the last section, so the part is
assembled at the end: title page and contents, deflated then, followed by the deflated body (see
:mod:`qabook.writers.docx._zip`). Nothing is parsed or searched afterwards. What the side parts
need (hyperlink targets, one numbering instance per ordered list) is recorded in the writer state;
the package writer turns it into parts.

Every id is given in document order (bookmarks, numIds, rIds), so the same document always gives
the same bytes. Run and paragraph properties come from small caches of ready-made XML strings.
"""

from __future__ import annotations

import datetime
import functools
import pickle
import re
import shutil
import tempfile
import typing
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote

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
    plain_text,
)
from qabook.writers.docx._parts import (
    BULLET_HANG,
    BULLET_NUM_ID,
    FIRST_LINK_RID,
    LIST_MARKER_INDENT,
    SECT_PR,
    TEXT_WIDTH,
    ordered_hang,
)
from qabook.writers.docx._zip import Deflater, ZipWriter
from qabook.writers.docx._xml import M_NS, R_NS, W_NS, XML_DECL, esc

FLUSH_AT = 2048
"""Buffered pieces after which the body is written to the zip stream (checked per item)."""

QUOTE_INDENT = 397
"""How far a quote's text is indented (0.7 cm); the Quote style uses the same value."""
CODE_INDENT = 113
"""Code boxes sit this far in from the text edge so their border stays inside the margin."""
CODE_TAB = 418
"""Tab stop distance in code: four columns of 9.5 pt Consolas (0.5498 em per character)."""
KEEP_CODE_LINES = 20
"""Code blocks up to this many lines are kept on one page."""
MAX_ILVL = 8

NO_ANSWER = "(no answer in the source)"
_ITEM_LINK = re.compile(r"^#item-(\d{1,9})$")
"""A model link to the K-th item of the document (see qabook.audit.appendix)."""
TOC_INSTR = ' TOC \\o "1-2" \\h \\z \\u '
_TOC_BEGIN = (
    '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    f'<w:r><w:instrText xml:space="preserve">{TOC_INSTR}</w:instrText></w:r>'
    '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
)
_TOC_END = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
COPY_CHUNK = 1 << 20
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

# ------------------------------------------------------------------ run properties

BOLD = 1
ITALIC = 2
LINK = 4
_TEXT, _CODE, _MATH = 0, 1, 2


def _make_rpr(kind: int, fmt: int) -> str:
    if kind == _CODE:
        style = "InlineCode"
    elif kind == _MATH:
        style = "MathTeX"
    else:
        style = "Hyperlink" if fmt & LINK else ""
    parts: list[str] = []
    if style:
        parts.append(f'<w:rStyle w:val="{style}"/>')
    if fmt & BOLD:
        parts.append("<w:b/><w:bCs/>")
    if fmt & ITALIC:
        parts.append("<w:i/><w:iCs/>")
    if fmt & LINK and kind != _TEXT:
        # Code or a formula inside a link keeps its own style but still looks like a link.
        parts.append('<w:color w:val="0563C1"/><w:u w:val="single"/>')
    return f"<w:rPr>{''.join(parts)}</w:rPr>" if parts else ""


# _RPR[kind][fmt]: every combination, computed once.
_RPR: tuple[tuple[str, ...], ...] = tuple(
    tuple(_make_rpr(kind, fmt) for fmt in range(8)) for kind in (_TEXT, _CODE, _MATH)
)

# ------------------------------------------------------------------ paragraph properties


def _build_ppr(
    style: str = "",
    *,
    keep_next: bool = False,
    page_break: bool = False,
    numpr: str = "",
    border: str = "",
    tabs: str = "",
    spacing: str = "",
    left: int | None = None,
    hanging: int = 0,
) -> str:
    """``<w:pPr>`` in schema order (pStyle, keepNext, pageBreakBefore, numPr, pBdr, tabs, spacing, ind)."""
    parts: list[str] = []
    if style:
        parts.append(f'<w:pStyle w:val="{style}"/>')
    if keep_next:
        parts.append("<w:keepNext/>")
    if page_break:
        parts.append("<w:pageBreakBefore/>")
    parts.append(numpr)
    parts.append(border)
    parts.append(tabs)
    parts.append(spacing)
    if left is not None:
        if hanging:
            parts.append(f'<w:ind w:left="{left}" w:hanging="{hanging}"/>')
        else:
            parts.append(f'<w:ind w:left="{left}"/>')
    body = "".join(parts)
    return f"<w:pPr>{body}</w:pPr>" if body else ""


_ppr = functools.cache(_build_ppr)
"""Cached :func:`_build_ppr`, for the properties that recur (not for per-list numbering)."""


_TITLE_SPACING = '<w:spacing w:before="2880"/>'
_RULE_BORDER = '<w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" w:color="C3CAD2"/></w:pBdr>'
_RULE_SPACING = '<w:spacing w:before="120" w:after="240"/>'
_SPACER = (
    '<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="160" w:lineRule="exact"/></w:pPr></w:p>'
)
_HEADER_CELL_SHD = '<w:shd w:val="clear" w:color="auto" w:fill="E6EDF5"/>'
_TBL_LOOK = (
    '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
    'w:noHBand="1" w:noVBand="1"/>'
)


@functools.cache
def _code_tabs(left: int) -> str:
    """Tab stops every :data:`CODE_TAB` from a code line's left edge (stops count from the margin)."""
    stops = range(left + CODE_TAB, TEXT_WIDTH, CODE_TAB)
    return "<w:tabs>" + "".join(f'<w:tab w:val="left" w:pos="{pos}"/>' for pos in stops) + "</w:tabs>"


class _Ctx(NamedTuple):
    """Where blocks are being written."""

    left: int
    """Left edge of the text, in twips from the margin."""
    quote: int
    """How many quotes enclose the blocks."""
    depth: int
    """How many lists enclose the blocks."""


_TOP = _Ctx(0, 0, 0)
_NUM_ID = "\x00"
"""Where a part's ordered-list numId goes in the paragraph properties made for it (no text of the
document holds the character: it is removed from every input)."""


# ------------------------------------------------------------------ equations


# ------------------------------------------------------------------ text helpers


def _t(text: str) -> str:
    return f'<w:t xml:space="preserve">{esc(text)}</w:t>'


def _run_content(text: str) -> str:
    """The inside of a run for ``text``: ``\\n`` becomes ``w:br``, ``\\t`` becomes ``w:tab``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines: list[str] = []
    for line in text.split("\n"):
        if "\t" in line:
            lines.append("<w:tab/>".join(_t(p) if p else "" for p in line.split("\t")))
        else:
            lines.append(_t(line) if line else "")
    return "<w:br/>".join(lines)


def _run(text: str, rpr: str) -> str:
    if "\n" in text or "\t" in text or "\r" in text:
        return f"<w:r>{rpr}{_run_content(text)}</w:r>"
    return f'<w:r>{rpr}<w:t xml:space="preserve">{esc(text)}</w:t></w:r>'


def _one_line(text: str) -> str:
    """Text for a table-of-contents entry: whitespace runs (newlines too) become one space."""
    return " ".join(text.split())


def _uri(target: str) -> str:
    """A link target as a URI: outer spaces trimmed, spaces and non-ASCII percent-encoded."""
    return quote(target.strip(), safe="!#$%&'()*+,/:;=?@[]~")


def format_date(date: datetime.date) -> str:
    """``1 May 2024``: English month names, whatever the process locale."""
    return f"{date.day} {_MONTHS[date.month - 1]} {date.year}"


_SPACES = re.compile(r"\s+")


def _has_math(nodes: tuple[Inline, ...]) -> bool:
    for n in nodes:
        if n.__class__ is Math:
            return True
        if n.__class__ in (Strong, Emphasis, Link) and _has_math(n.children):
            return True
    return False


def _flat(nodes: tuple[Inline, ...], out: list[str | Math]) -> None:
    """Inlines as plain text pieces and formulas (bold, italic and links as their content)."""
    for n in nodes:
        match n:
            case Text(text=t) | Code(text=t):
                out.append(t)
            case Math():
                out.append(n)
            case Strong(children=c) | Emphasis(children=c) | Link(children=c):
                _flat(c, out)
            case LineBreak():
                out.append(" ")
            case _:
                typing.assert_never(n)


def _quiet_equation(tex: str) -> str | None:
    """The OMML of a formula, or ``None`` (the heading's own copy reports the failure)."""
    from qabook.math import MathError, tex_to_omml

    try:
        return tex_to_omml(tex, False)
    except MathError:
        return None


def heading_text(item: Item) -> str:
    """The plain text of an item's heading (as in the table of contents)."""
    question = _one_line(plain_text(item.question))
    return question if item.number is None else f"{item.number}. {question}"


class _Ref(NamedTuple):
    """A number the body of a part cannot know, filled in when the part is joined (see
    :meth:`BodyWriter.join`): ``b`` a bookmark id, ``S`` / ``Q`` a section's / an item's number
    (``_TocS3``, ``_TocQ12``), ``r`` a hyperlink's relationship, ``n`` an ordered list's numId, ``p``
    the first section heading's paragraph properties (a page break when nothing comes before it).
    ``value`` counts within the part."""

    kind: str
    value: int


@dataclass(frozen=True, slots=True)
class PartSummary:
    """What a part of the body (:meth:`BodyWriter.part_summary`) needs from the whole document,
    and what it adds to it; small, so it crosses from the process that wrote the part."""

    sections: int
    items: int
    bookmarks: int
    links: tuple[str, ...]
    """Hyperlink targets in the order the part first used them."""
    ordered: tuple[tuple[int, int, int], ...]
    """``(digits, ilvl, start)`` per ordered list, in order."""
    unconverted: tuple[str, ...]


# ------------------------------------------------------------------ the writer


class BodyWriter:
    """Writes ``word/document.xml`` and records what the side parts need.

    Sections arrive one at a time (:meth:`section`); the body is deflated into a spool (a
    temporary file) and the table of contents written to another, because
    both come after the title page, which names the number of questions, known only at the end.
    :meth:`finish` writes the part: title page and contents, then the deflated body.

    With ``part``, the writer writes a later part of a document whose earlier part another
    process writes: the body and contents go to ``part`` as records, with :class:`_Ref` in place
    of every number that depends on what comes before (bookmarks, item numbers, relationships,
    numbering), and :meth:`part_summary` tells the rest. The writer of the earlier part then
    :meth:`join` s it, and the document is the same bytes as if one writer had written it all.
    """

    def __init__(self, part: typing.BinaryIO | None = None) -> None:
        self._part = part
        self._refs: list[int] = []
        """Where the buffer holds a :class:`_Ref` (only for a part)."""
        self._toc_part: list[tuple[str, str, int, str]] = []
        # temporary files, not memory: the memory of a conversion does not grow with the document
        # (a file that small stays in the system's cache)
        self._body = Deflater(tempfile.TemporaryFile())
        """The body, deflated as it is written (see :meth:`finish`)."""
        self._toc_spool = tempfile.TemporaryFile()
        self._buf: list[str] = []
        self._out = self._buf.append
        self._toc_buf: list[str] = []
        self._toc_held: tuple[str, str, int, str] | None = None
        """The last contents entry, written when the next one comes (the last one ends the field)."""
        self.links: dict[str, str] = {}
        """Link target -> rId, in first-use order."""
        self.widths: dict[int, int] = {}
        """Digit count -> id of the ordered abstractNum for that width."""
        self.ordered: list[tuple[int, int, int]] = []
        """``(abstractNumId, ilvl, start)`` per ordered list; list ``k`` is numId ``k + 2``."""
        self._bookmarks = 0
        self._sections = 0
        self._items = 0
        self._toc_started = False
        self._number: int | None = None
        self.unconverted: list[str] = []
        """A warning per formula written as TeX because it could not be converted."""

    # -------------------------------------------------------------- plumbing

    def _flush(self) -> None:
        if self._part is not None:
            self._flush_part()
        elif self._buf:
            self._body.write("".join(self._buf).encode("utf-8"))
            self._buf.clear()

    def _flush_part(self) -> None:
        """The buffer as a ``body`` record: its UTF-8 and where (in bytes) each reference goes."""
        buf, part = self._buf, self._part
        assert part is not None
        if buf:
            pieces: list[bytes] = []
            refs: list[tuple[int, str, int]] = []  # plain tuples: pickled without a constructor call
            position = start = 0
            for i in self._refs:
                data = "".join(buf[start:i]).encode("utf-8")
                pieces.append(data)
                position += len(data)
                kind, value = typing.cast(_Ref, buf[i])
                refs.append((position, kind, value))
                start = i + 1
            pieces.append("".join(buf[start:]).encode("utf-8"))
            pickle.dump(("body", b"".join(pieces), refs), part, protocol=pickle.HIGHEST_PROTOCOL)
            buf.clear()
            self._refs.clear()
        if self._toc_part:
            pickle.dump(("toc", self._toc_part), part, protocol=pickle.HIGHEST_PROTOCOL)
            self._toc_part = []

    def _ref(self, kind: str, value: int) -> None:
        self._refs.append(len(self._buf))
        self._buf.append(_Ref(kind, value))  # type: ignore[arg-type]  # (strings but for these)

    def _maybe_flush(self) -> None:
        if len(self._buf) >= FLUSH_AT:
            self._flush()

    def _rel(self, target: str) -> str:
        rid = self.links.get(target)
        if rid is None:
            rid = f"rId{FIRST_LINK_RID + len(self.links)}"
            self.links[target] = rid
        return rid

    def _rel_attribute(self, target: str) -> None:
        """``r:id="…"`` for a hyperlink to ``target``."""
        if self._part is None:
            self._out(f'r:id="{self._rel(target)}"')
            return
        self._out('r:id="')
        self._ref("r", int(self._rel(target)[3:]) - FIRST_LINK_RID)
        self._out('"')

    def _ordered_num(self, digits: int, ilvl: int, start: int) -> int:
        abstract_id = self.widths.get(digits)
        if abstract_id is None:
            abstract_id = len(self.widths) + 1  # 0 is the bullet definition
            self.widths[digits] = abstract_id
        self.ordered.append((abstract_id, ilvl, start))
        return BULLET_NUM_ID + len(self.ordered)

    def _equation(self, tex: str, display: bool) -> str | None:
        """The OMML of a formula (cached by :mod:`qabook.math`), or ``None`` when it cannot be
        converted (then a warning is recorded in :attr:`unconverted`).

        qabook.math (and latex2mathml, ~80 ms to import) is loaded on the first formula only.
        """
        from qabook.math import MathError, tex_to_omml

        try:
            return tex_to_omml(tex, display)
        except MathError as exc:
            from qabook.math.check import formula_warning

            self.unconverted.append(formula_warning(self._number, tex, exc.reason))
            return None

    # -------------------------------------------------------------- document

    def section(self, section: Section) -> None:
        """Write one section (its heading and items) to the body and its entries to the contents."""
        index = self._sections
        self._sections += 1
        self._toc_entry("TOC1", "S", index + 1, _run(_one_line(section.title), ""))
        self._section_heading(section, index, first=index == 0)
        for item in section.items:
            self._items += 1
            self._toc_entry("TOC2", "Q", self._items, self._toc_content(item))
            self._item(item, self._items)
            self._maybe_flush()
        self._flush()

    def part_summary(self) -> PartSummary:
        """What :meth:`join` needs besides the records (for a part, once its sections are written)."""
        assert self._part is not None
        self._flush()
        digits = {abstract: width for width, abstract in self.widths.items()}
        return PartSummary(self._sections, self._items, self._bookmarks, tuple(self.links),
                           tuple((digits[a], ilvl, start) for a, ilvl, start in self.ordered),
                           tuple(self.unconverted))

    def join(self, summary: PartSummary, records: typing.BinaryIO) -> None:
        """Append a part written by another writer (``records`` from its start, ``summary`` from
        :meth:`part_summary`): its references become this document's numbers, in the order one
        writer would have given them, and its contents entries follow this writer's."""
        self._flush()
        bookmarks, sections, items = self._bookmarks, self._sections, self._items
        rids = [self._rel(target) for target in summary.links]
        num_ids = [self._ordered_num(digits, ilvl, start) for digits, ilvl, start in summary.ordered]
        first = _ppr("Heading1", page_break=sections == 0).encode()
        rid_bytes = [rid.encode() for rid in rids]
        write = self._body.write
        while True:
            try:
                record = pickle.load(records)
            except EOFError:
                break
            if record[0] == "body":
                _, data, refs = record
                pieces: list[bytes] = []
                last = 0
                for position, kind, value in refs:
                    pieces.append(data[last:position])
                    last = position
                    if kind == "b":
                        pieces.append(b"%d" % (bookmarks + value))
                    elif kind == "Q":
                        pieces.append(b"%d" % (items + value))
                    elif kind == "S":
                        pieces.append(b"%d" % (sections + value))
                    elif kind == "r":
                        pieces.append(rid_bytes[value])
                    elif kind == "n":
                        pieces.append(b"%d" % num_ids[value])
                    else:
                        pieces.append(first)
                pieces.append(data[last:])
                write(b"".join(pieces))
            else:
                for style, kind, number, entry in record[1]:
                    self._toc_entry(style, kind, number + (sections if kind == "S" else items), entry)
        self._sections += summary.sections
        self._items += summary.items
        self._bookmarks += summary.bookmarks
        self.unconverted.extend(summary.unconverted)

    def finish(self, head: Document, date: datetime.date | None, zw: ZipWriter, name: str) -> None:
        """Write ``word/document.xml`` as member ``name`` of ``zw``: ``head``'s title page and the
        contents, deflated now, then the body, deflated as it was written."""
        self._flush()
        start = Deflater(tempfile.TemporaryFile())
        self._buf.append(XML_DECL)
        self._out(f'<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}" xmlns:m="{M_NS}"><w:body>')
        self._title_page(head, date)
        self._out(f'<w:p>{_ppr("TOCHeading", page_break=True)}{_run("Contents", "")}</w:p>')
        if self._toc_held is None:
            self._out(f'<w:p>{_TOC_BEGIN}{_TOC_END}</w:p>')
        start.write("".join(self._buf).encode("utf-8"))
        self._buf.clear()
        if self._toc_held is not None:
            self._write_toc_entry(*self._toc_held, last=True)
            self._toc_spool.write("".join(self._toc_buf).encode("utf-8"))
            self._toc_buf.clear()
        self._toc_spool.seek(0)
        shutil.copyfileobj(self._toc_spool, start, COPY_CHUNK)
        self._toc_spool.close()
        start.end(last=False)
        self._body.write(f"{SECT_PR}</w:body></w:document>".encode())
        self._body.end(last=True)
        zw.put_deflated(name, [start, self._body])
        start.sink.close()
        self._body.sink.close()

    def _title_page(self, doc: Document, date: datetime.date | None) -> None:
        out = self._out
        count = self._items
        out(f'<w:p>{_ppr("Title", spacing=_TITLE_SPACING)}{_run(doc.title, "")}</w:p>')
        lines = [f"{count:,} question" + ("" if count == 1 else "s"), f"Source: {doc.source}"]
        if date is not None:
            lines.append(format_date(date))
        subtitle = _ppr("Subtitle")
        for line in lines:
            out(f"<w:p>{subtitle}{_run(line, '')}</w:p>")

    def _toc_content(self, item: Item) -> str:
        """The runs of an item's contents entry: its heading's plain text on one line, with its
        formulas as equations (as the heading shows them; TeX where they cannot be converted)."""
        if not _has_math(item.question):
            return _run(heading_text(item), "")
        flat: list[str | Math] = [f"{item.number}. "] if item.number is not None else []
        _flat(item.question, flat)
        pieces: list[str | Math] = []
        for piece in flat:  # neighbouring text as one piece
            if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
                pieces[-1] += piece
            else:
                pieces.append(piece)
        out: list[str] = []
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            if isinstance(piece, Math):
                equation = _quiet_equation(piece.tex)
                out.append(_run(piece.tex, _RPR[_MATH][0]) if equation is None else equation)
                continue
            text = _SPACES.sub(" ", piece)  # as _one_line does, piece by piece
            if i == 0:
                text = text.lstrip(" ")
            if i == last:
                text = text.rstrip(" ")
            if text:
                out.append(_run(text, ""))
        return "".join(out)

    def _toc_entry(self, style: str, kind: str, number: int, text: str) -> None:
        """A contents entry, linking to bookmark ``_Toc{kind}{number}``; each is written when the
        next arrives, so the last can end the field (in a part, each is a record)."""
        if self._part is not None:
            self._toc_part.append((style, kind, number, text))
            return
        held = self._toc_held
        self._toc_held = (style, kind, number, text)
        if held is not None:
            self._write_toc_entry(*held, last=False)
            if len(self._toc_buf) >= FLUSH_AT:
                self._toc_spool.write("".join(self._toc_buf).encode("utf-8"))
                self._toc_buf.clear()

    def _write_toc_entry(self, style: str, kind: str, number: int, runs: str, *, last: bool) -> None:
        out = self._toc_buf.append
        out(f"<w:p>{_ppr(style)}")
        if not self._toc_started:
            self._toc_started = True
            out(_TOC_BEGIN)
        out(f'<w:hyperlink w:anchor="_Toc{kind}{number}" w:history="1">{runs}</w:hyperlink>')
        if last:
            out(_TOC_END)
        out("</w:p>")

    def _bookmark_start(self, kind: str, number: int) -> int:
        """Bookmark ``_Toc{kind}{number}`` starts here; returns its id."""
        bid = self._bookmarks
        self._bookmarks += 1
        if self._part is None:
            self._out(f'<w:bookmarkStart w:id="{bid}" w:name="_Toc{kind}{number}"/>')
            return bid
        out, ref = self._out, self._ref
        out('<w:bookmarkStart w:id="')
        ref("b", bid)
        out(f'" w:name="_Toc{kind}')
        ref(kind, number)
        out('"/>')
        return bid

    def _bookmark_end(self, bid: int) -> None:
        if self._part is None:
            self._out(f'<w:bookmarkEnd w:id="{bid}"/>')
            return
        self._out('<w:bookmarkEnd w:id="')
        self._ref("b", bid)
        self._out('"/>')

    def _section_heading(self, section: Section, index: int, *, first: bool) -> None:
        out = self._out
        if first and self._part is not None:  # first in the part: first in the document only
            out("<w:p>")  # when no section came before it (see join)
            self._ref("p", 0)
        else:
            out(f"<w:p>{_ppr('Heading1', page_break=first)}")
        bid = self._bookmark_start("S", index + 1)
        out(_run(section.title, ""))
        self._bookmark_end(bid)
        out("</w:p>")

    def _item(self, item: Item, number: int) -> None:
        out = self._out
        self._number = item.number
        out(f"<w:p>{_ppr('Heading2')}")
        bid = self._bookmark_start("Q", number)
        if item.number is not None:
            out(_run(f"{item.number}. ", ""))
        self._inlines(item.question, 0)
        self._bookmark_end(bid)
        out("</w:p>")
        for block in item.answer:
            self._block(block, _TOP)
        if item.status == "unanswered":
            out(f'<w:p>{_ppr("Note")}{_run(NO_ANSWER, "")}</w:p>')

    # -------------------------------------------------------------- blocks

    def _block(self, block: Block, ctx: _Ctx) -> None:
        match block:
            case Paragraph():
                self._paragraph(block, ctx)
            case BulletList():
                self._bullet_list(block, ctx)
            case OrderedList():
                self._ordered_list(block, ctx)
            case CodeBlock():
                self._code_block(block, ctx)
            case MathBlock():
                self._math_block(block, ctx)
            case Quote():
                self._quote(block, ctx)
            case Table():
                self._table(block, ctx)
            case Rule():
                self._rule(block, ctx)
            case _:
                typing.assert_never(block)

    @staticmethod
    def _text_style(ctx: _Ctx) -> str:
        if ctx.quote:
            return "Quote"
        return "ListParagraph" if ctx.depth else ""

    def _paragraph(self, block: Paragraph, ctx: _Ctx) -> None:
        self._out(f"<w:p>{_ppr(self._text_style(ctx), left=ctx.left or None)}")
        self._inlines(block.inlines, 0)
        self._out("</w:p>")

    def _bullet_list(self, block: BulletList, ctx: _Ctx) -> None:
        self._list_items(block.items, BULLET_NUM_ID, BULLET_HANG, ctx)

    def _ordered_list(self, block: OrderedList, ctx: _Ctx) -> None:
        start = max(block.start, 0)
        largest = start + max(len(block.items) - 1, 0)
        digits = len(str(largest))
        num_id = self._ordered_num(digits, min(ctx.depth, MAX_ILVL), start)
        if self._part is not None:  # numId of the document: known when the part is joined
            self._list_items(block.items, _Ref("n", num_id - BULLET_NUM_ID - 1), ordered_hang(digits), ctx)
            return
        self._list_items(block.items, num_id, ordered_hang(digits), ctx)

    def _list_items(self, items: tuple[ListItem, ...], num_id: int | _Ref, hang: int, ctx: _Ctx) -> None:
        """Items of one list: the first paragraph of each carries the number, the rest indent."""
        out = self._out
        ilvl = min(ctx.depth, MAX_ILVL)
        marker = ctx.left + (LIST_MARKER_INDENT if ctx.depth == 0 and ctx.quote == 0 else 0)
        text_left = marker + hang
        inner = _Ctx(text_left, ctx.quote, ctx.depth + 1)
        shown = _NUM_ID if isinstance(num_id, _Ref) else num_id
        numpr = f'<w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{shown}"/></w:numPr>'
        ppr = _build_ppr(  # not cached: numId differs for every ordered list
            "Quote" if ctx.quote else "ListParagraph", numpr=numpr, left=text_left, hanging=hang
        )
        ref: _Ref | None = num_id if isinstance(num_id, _Ref) else None
        if ref is not None:  # a part's ordered list: the numId goes between the two halves
            before, after = ppr.split(_NUM_ID)
        for item in items:
            blocks = item.blocks
            if ref is None:
                out(f"<w:p>{ppr}")
            else:
                out(f"<w:p>{before}")
                self._ref(*ref)
                out(after)
            if blocks and isinstance(blocks[0], Paragraph):
                self._inlines(blocks[0].inlines, 0)
                blocks = blocks[1:]
            out("</w:p>")
            for block in blocks:
                self._block(block, inner)

    def _code_block(self, block: CodeBlock, ctx: _Ctx) -> None:
        out = self._out
        text = block.text
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        left = CODE_INDENT + ctx.left if ctx.left else None
        keep = len(lines) <= KEEP_CODE_LINES
        ppr = _ppr("CodeBlock", keep_next=keep, left=left)
        last_ppr = _ppr("CodeBlock", left=left)
        tabs = _code_tabs(CODE_INDENT + ctx.left)
        last = len(lines) - 1
        for i, line in enumerate(lines):
            p = last_ppr if i == last else ppr
            if not line:
                out(f"<w:p>{p}</w:p>")
            elif "\t" in line:
                p = _ppr("CodeBlock", keep_next=keep and i != last, tabs=tabs, left=left)
                out(f"<w:p>{p}<w:r>{_run_content(line)}</w:r></w:p>")
            else:
                out(f'<w:p>{p}<w:r><w:t xml:space="preserve">{esc(line)}</w:t></w:r></w:p>')

    def _math_block(self, block: MathBlock, ctx: _Ctx) -> None:
        """A display formula: ``m:oMathPara`` alone in a Math Block paragraph (TeX if it fails)."""
        ppr = _ppr("MathBlock", left=ctx.left or None)
        equation = self._equation(block.tex, True)
        if equation is None:
            equation = _run(block.tex, _RPR[_MATH][0])
        self._out(f"<w:p>{ppr}{equation}</w:p>")

    def _quote(self, block: Quote, ctx: _Ctx) -> None:
        inner = _Ctx(ctx.left + QUOTE_INDENT, ctx.quote + 1, ctx.depth)
        for child in block.blocks:
            self._block(child, inner)

    def _table(self, block: Table, ctx: _Ctx) -> None:
        out = self._out
        ncols = max([len(block.header), *(len(row) for row in block.rows)])
        if ncols == 0:
            return
        if ctx.left:
            width = TEXT_WIDTH - ctx.left
            size = f'<w:tblW w:w="{width}" w:type="dxa"/><w:tblInd w:w="{ctx.left}" w:type="dxa"/>'
        else:
            width = TEXT_WIDTH
            size = '<w:tblW w:w="5000" w:type="pct"/>'
        col = width // ncols
        out(f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>{size}{_TBL_LOOK}</w:tblPr>')
        grid_col = f'<w:gridCol w:w="{col}"/>'
        out(f"<w:tblGrid>{grid_col * ncols}</w:tblGrid>")
        if block.header:
            out("<w:tr><w:trPr><w:tblHeader/></w:trPr>")
            head_tcpr = f'<w:tcPr><w:tcW w:w="{col}" w:type="dxa"/>{_HEADER_CELL_SHD}</w:tcPr>'
            self._cells(block.header, ncols, head_tcpr, BOLD)
            out("</w:tr>")
        body_tcpr = f'<w:tcPr><w:tcW w:w="{col}" w:type="dxa"/></w:tcPr>'
        for row in block.rows:
            out("<w:tr>")
            self._cells(row, ncols, body_tcpr, 0)
            out("</w:tr>")
        out("</w:tbl>")
        out(_SPACER)

    def _cells(self, cells: tuple[tuple[Inline, ...], ...], ncols: int, tcpr: str, fmt: int) -> None:
        out = self._out
        ppr = _ppr("TableText")
        for i in range(ncols):
            out(f"<w:tc>{tcpr}<w:p>{ppr}")
            if i < len(cells):
                self._inlines(cells[i], fmt)
            out("</w:p></w:tc>")

    def _rule(self, block: Rule, ctx: _Ctx) -> None:
        ppr = _ppr(border=_RULE_BORDER, spacing=_RULE_SPACING, left=ctx.left or None)
        self._out(f"<w:p>{ppr}</w:p>")

    # -------------------------------------------------------------- inlines

    def _inlines(self, nodes: tuple[Inline, ...], fmt: int) -> None:
        for node in nodes:
            match node:
                case Text():
                    self._text(node, fmt)
                case Strong():
                    self._strong(node, fmt)
                case Emphasis():
                    self._emphasis(node, fmt)
                case Code():
                    self._code(node, fmt)
                case Math():
                    self._math(node, fmt)
                case Link():
                    self._link(node, fmt)
                case LineBreak():
                    self._line_break(node, fmt)
                case _:
                    typing.assert_never(node)

    def _text(self, node: Text, fmt: int) -> None:
        if node.text:
            self._out(_run(node.text, _RPR[_TEXT][fmt]))

    def _strong(self, node: Strong, fmt: int) -> None:
        self._inlines(node.children, fmt | BOLD)

    def _emphasis(self, node: Emphasis, fmt: int) -> None:
        self._inlines(node.children, fmt | ITALIC)

    def _code(self, node: Code, fmt: int) -> None:
        if node.text:
            self._out(_run(node.text, _RPR[_CODE][fmt]))

    def _math(self, node: Math, fmt: int) -> None:
        """An inline formula: ``m:oMath`` in the paragraph (its TeX, styled, if it fails)."""
        if not node.tex:
            return
        equation = self._equation(node.tex, False)
        self._out(_run(node.tex, _RPR[_MATH][fmt]) if equation is None else equation)

    def _link(self, node: Link, fmt: int) -> None:
        internal = _ITEM_LINK.match(node.target)
        target = "" if internal else _uri(node.target)
        if fmt & LINK or not (target or internal):
            # A link inside a link (or one going nowhere): keep the text, not a second hyperlink.
            self._inlines(node.children, fmt)
            return
        if internal:  # "#item-K": the K-th question's heading (its bookmark)
            self._out(f'<w:hyperlink w:anchor="_TocQ{int(internal.group(1))}" w:history="1">')
            self._inlines(node.children, fmt | LINK)
            self._out("</w:hyperlink>")
            return
        self._out("<w:hyperlink ")
        self._rel_attribute(target)
        self._out(' w:history="1">')
        self._inlines(node.children, fmt | LINK)
        self._out("</w:hyperlink>")

    def _line_break(self, node: LineBreak, fmt: int) -> None:
        self._out("<w:r><w:br/></w:r>")

