"""Word files (.docx) holding Q&A, read straight from the ZIP package with lxml.

A .docx is a ZIP of XML parts. This reader opens only the parts it needs
(``word/document.xml``, ``styles.xml``, ``numbering.xml``, the document's relationships and
``docProps/core.xml``), guards against hostile packages (member names that climb out of the
package, more than :data:`MAX_TOTAL` bytes unpacked, members that inflate more than
:data:`MAX_RATIO` times, XML with a DTD) and parses with entities, the network and huge trees off.

The body becomes a list of *records*, one per paragraph or table, each knowing its style, heading
level, list numbering (the number Word would show, computed from ``numbering.xml``, since an
auto-numbered question does not hold its number in its text), whether it is all bold, code, a
display formula or a rule. As in :mod:`qabook.readers.markdown`, each layout is one function:

``headings``
    Heading-styled questions (``Heading 2`` "12. What is …?", or unnumbered ones that read as
    questions), higher headings are sections; this is how qabook's own DOCX writer lays out a
    collection, so its files read back into the same items.
``numbered``
    Auto-numbered list paragraphs holding the questions (numbers from ``w:numPr``).
``labels``
    "Q: …" paragraphs, or any paragraph followed by an "Answer: …" paragraph.
``table``
    Tables with question and answer columns.
``bold``
    Paragraphs that are all bold and read as questions.

The answer of an item is every record up to the next question or section heading: consecutive
list paragraphs become nested lists (by ``w:ilvl``; paragraphs indented under an item stay in it),
consecutive code paragraphs one code block, tables tables. Equations (``m:oMath``) are kept as
their linear text, since Word does not keep the TeX. Origins count body paragraphs and tables
(1-based) instead of lines.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import PurePath, PurePosixPath
from typing import BinaryIO, Callable, Iterator, Sequence

from lxml import etree  # type: ignore[import-untyped]

from qabook.model import (
    Block,
    BulletList,
    Code,
    CodeBlock,
    Emphasis,
    Inline,
    LineBreak,
    Link,
    ListItem,
    Math,
    MathBlock,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Strong,
    Table,
    Text,
    plain_text,
)
from qabook.readers.base import InputError, Reading
from qabook.readers.markdown import (
    Builder,
    labelled_question,
    looks_like_question,
    qa_columns,
    split_number,
    table_items,
)
from qabook.source import Source

NAME = "docx"

MAX_TOTAL = 512 * 1024 * 1024
"""Most bytes all members of the package may unpack to (as declared, and as actually read)."""
MAX_RATIO = 200
"""Most a member bigger than :data:`RATIO_FLOOR` may inflate (unpacked / packed size)."""
RATIO_FLOOR = 1024 * 1024
MAX_MEMBERS = 10_000

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
DC = "http://purl.org/dc/elements/1.1/"
EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


_P, _TBL, _R, _T, _PPR, _RPR = _w("p"), _w("tbl"), _w("r"), _w("t"), _w("pPr"), _w("rPr")
_VAL = _w("val")
_MONO = {"consolas", "courier new", "courier", "menlo", "monaco", "lucida console", "source code pro",
         "dejavu sans mono", "liberation mono", "cascadia code", "cascadia mono", "fira code", "jetbrains mono"}
_CODE_STYLES = {"code block", "code", "html preformatted", "source code", "plain text", "preformatted text",
                "macro text"}
_CODE_CHAR_STYLES = {"inline code", "html code", "code char", "verbatim char", "source code char", "html typewriter"}
_QUOTE_STYLES = {"quote", "intense quote", "block text"}
_SKIP_STYLES = {"subtitle", "toc heading", "header", "footer", "caption"}
_NO_ANSWER = "(no answer in the source)"
_HEADING_STYLE_RE = re.compile(r"^heading\s*([1-9])$")
_TOC_STYLE_RE = re.compile(r"^toc\s*\d$")
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, struct.error, OverflowError,
               RuntimeError, NotImplementedError)
"""What :mod:`zipfile` raises for a damaged, encrypted or unsupported archive."""
_UNSAFE_NAME_RE = re.compile(r"(^|/)\.\.(/|$)|^/|^[A-Za-z]:|\\|\x00")


# --------------------------------------------------------------------------- the package


class _Package:
    """The parts of a .docx package this reader needs, read with size and name checks."""

    def __init__(self, stream: BinaryIO) -> None:
        try:
            self.zip = zipfile.ZipFile(stream)
        except _ZIP_ERRORS as exc:
            raise InputError("is not a readable Word file: the ZIP archive is damaged or truncated "
                             f"({_why(exc)})") from None
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"is not a usable Word file: {len(infos)} members in the package")
        total = 0
        for info in infos:
            if _UNSAFE_NAME_RE.search(info.filename):
                raise InputError(f"is not a usable Word file: unsafe member name {info.filename!r}")
            total += info.file_size
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(f"is not a usable Word file: member {info.filename!r} would inflate "
                                 f"{info.file_size // max(info.compress_size, 1)} times (a ZIP bomb?)")
        if total > MAX_TOTAL:
            raise InputError(f"is not a usable Word file: it unpacks to {total // 2**20} MiB "
                             f"(more than {MAX_TOTAL // 2**20} MiB)")
        self.names = {info.filename for info in infos}
        self.read_total = 0

    def read(self, name: str) -> bytes | None:
        """A member's bytes (None when absent), never more than declared or allowed."""
        if name not in self.names:
            return None
        info = self.zip.getinfo(name)
        limit = min(info.file_size, MAX_TOTAL - self.read_total)
        try:
            with self.zip.open(info) as fh:
                data = fh.read(limit + 1)
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
            raise InputError(f"is not a readable Word file: {name} cannot be unpacked ({_why(exc)})") from None
        except _ZIP_ERRORS as exc:
            raise InputError(f"is not a readable Word file: {name} is damaged ({_why(exc)})") from None
        if len(data) > limit:
            raise InputError(f"is not a usable Word file: {name} unpacks to more than it declares")
        self.read_total += len(data)
        return data

    def xml(self, name: str) -> etree._Element | None:
        """A member parsed as XML: no DTD, no entities, no network, no huge trees."""
        data = self.read(name)
        if data is None:
            return None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise InputError(f"is not a readable Word file: {name} is not well-formed XML ({_why(exc)})") from None
        if root.getroottree().docinfo.doctype:
            raise InputError(f"is not a usable Word file: {name} declares a DTD")
        return root


def _why(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _part_name(base: str, target: str) -> str:
    """A relationship target as a package member name."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (PurePosixPath(base).parent / target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in (".", ""):
            parts.append(piece)
    return "/".join(parts)


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _on(el: etree._Element | None) -> bool:
    """A toggle property (``<w:b/>``, ``<w:b w:val="0"/>``) as a bool."""
    if el is None:
        return False
    return el.get(_VAL, "true").lower() not in ("0", "false", "off", "none")


# --------------------------------------------------------------------------- styles and numbering


@dataclass
class _Style:
    name: str
    based_on: str | None = None
    outline: int | None = None
    num: tuple[int, int] | None = None
    bold: bool | None = None
    mono: bool = False


class _Styles:
    def __init__(self, root: etree._Element | None) -> None:
        self.styles: dict[str, _Style] = {}
        self.default_para = ""
        if root is None:
            return
        for st in root.iter(_w("style")):
            sid = st.get(_w("styleId"), "")
            name_el = st.find(_w("name"))
            name = (name_el.get(_VAL, sid) if name_el is not None else sid).casefold()
            based = st.find(_w("basedOn"))
            style = _Style(name, based.get(_VAL) if based is not None else None)
            ppr = st.find(_PPR)
            if ppr is not None:
                ol = ppr.find(_w("outlineLvl"))
                if ol is not None:
                    style.outline = _int(ol.get(_VAL), 9)
                num = ppr.find(_w("numPr"))
                if num is not None:
                    nid = num.find(_w("numId"))
                    ilvl = num.find(_w("ilvl"))
                    style.num = (_int(nid.get(_VAL) if nid is not None else None),
                                 _int(ilvl.get(_VAL) if ilvl is not None else None))
            rpr = st.find(_RPR)
            if rpr is not None:
                b = rpr.find(_w("b"))
                if b is not None:
                    style.bold = _on(b)
                style.mono = _mono(rpr)
            self.styles[sid] = style
            if st.get(_w("type")) == "paragraph" and st.get(_w("default")) in ("1", "true", "on"):
                self.default_para = sid

    def chain(self, sid: str) -> Iterator[_Style]:
        seen: set[str] = set()
        while sid and sid in self.styles and sid not in seen:
            seen.add(sid)
            style = self.styles[sid]
            yield style
            sid = style.based_on or ""

    def name(self, sid: str) -> str:
        style = self.styles.get(sid)
        return style.name if style else sid.casefold()

    def outline(self, sid: str) -> int | None:
        return next((s.outline for s in self.chain(sid) if s.outline is not None), None)

    def num(self, sid: str) -> tuple[int, int] | None:
        return next((s.num for s in self.chain(sid) if s.num is not None), None)

    def bold(self, sid: str) -> bool:
        return next((s.bold for s in self.chain(sid) if s.bold is not None), False)

    def mono(self, sid: str) -> bool:
        return any(s.mono for s in self.chain(sid))


def _mono(rpr: etree._Element) -> bool:
    fonts = rpr.find(_w("rFonts"))
    if fonts is None:
        return False
    return any((fonts.get(_w(k)) or "").casefold() in _MONO for k in ("ascii", "hAnsi", "cs"))


@dataclass
class _Level:
    fmt: str = "decimal"
    start: int = 1


class _Numbering:
    """List formats and the numbers Word shows, counted the way Word counts them."""

    def __init__(self, root: etree._Element | None) -> None:
        self.abstract: dict[int, dict[int, _Level]] = {}
        self.nums: dict[int, tuple[int, dict[int, int]]] = {}  # numId -> (abstractNumId, start overrides)
        self.counters: dict[tuple[str, int], list[int]] = {}
        if root is None:
            return
        for an in root.iter(_w("abstractNum")):
            levels: dict[int, _Level] = {}
            for lvl in an.iter(_w("lvl")):
                fmt = lvl.find(_w("numFmt"))
                start = lvl.find(_w("start"))
                levels[_int(lvl.get(_w("ilvl")))] = _Level(
                    fmt.get(_VAL, "decimal") if fmt is not None else "decimal",
                    _int(start.get(_VAL) if start is not None else None, 1))
            self.abstract[_int(an.get(_w("abstractNumId")), -1)] = levels
        for num in root.iter(_w("num")):
            aid = num.find(_w("abstractNumId"))
            overrides: dict[int, int] = {}
            for ov in num.iter(_w("lvlOverride")):
                so = ov.find(_w("startOverride"))
                if so is not None:
                    overrides[_int(ov.get(_w("ilvl")))] = _int(so.get(_VAL), 1)
            self.nums[_int(num.get(_w("numId")), -1)] = (
                _int(aid.get(_VAL) if aid is not None else None, -1), overrides)

    def level(self, num_id: int, ilvl: int) -> _Level | None:
        if num_id not in self.nums:
            return None
        aid, overrides = self.nums[num_id]
        base = self.abstract.get(aid, {}).get(ilvl, _Level())
        return _Level(base.fmt, overrides.get(ilvl, base.start))

    def count(self, num_id: int, ilvl: int) -> int:
        """The number the next paragraph of this list and level shows."""
        aid, overrides = self.nums[num_id]
        key = (f"n{num_id}", 0) if overrides else (f"a{aid}", 0)  # lists without overrides share a counter
        counter = self.counters.setdefault(key, [0] * 9)
        ilvl = max(0, min(ilvl, 8))
        counter[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counter[deeper] = 0
        level = self.level(num_id, ilvl) or _Level()
        return level.start + counter[ilvl] - 1


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class _Num:
    key: str
    """Which list (the numbering instance)."""
    ilvl: int
    ordered: bool
    number: int


@dataclass(frozen=True, slots=True)
class _Rec:
    index: int
    """1-based position among the body's paragraphs and tables."""
    kind: str
    """"p" or "table"."""
    style: str = ""
    heading: int = 0
    inlines: tuple[Inline, ...] = ()
    text: str = ""
    num: _Num | None = None
    indent: int = 0
    bold: bool = False
    code: bool = False
    math: str | None = None
    rule: bool = False
    table: Table | None = None
    toc: bool = False
    skip: bool = False
    """Not content: the title page, a table of contents, qabook's "no answer" note, an empty line."""


@dataclass
class _Piece:
    kind: str  # "text" | "code" | "math" | "br"
    text: str
    bold: bool = False
    italic: bool = False
    link: str | None = None


@dataclass
class _Reader:
    styles: _Styles
    numbering: _Numbering
    rels: dict[str, str]
    title: str | None = None
    records: list[_Rec] = field(default_factory=list)

    # ---------------------------------------------------------------- body

    def body(self, body: etree._Element) -> None:
        for el in _block_children(body):
            index = len(self.records) + 1
            if el.tag == _P:
                self.records.append(self.paragraph(el, index))
            elif el.tag == _TBL:
                self.records.append(self.table(el, index))

    def paragraph(self, p: etree._Element, index: int) -> _Rec:
        ppr = p.find(_PPR)
        sid = ""
        direct_num: tuple[int, int] | None = None
        indent = 0
        outline: int | None = None
        rule = False
        if ppr is not None:
            ps = ppr.find(_w("pStyle"))
            sid = ps.get(_VAL, "") if ps is not None else ""
            numpr = ppr.find(_w("numPr"))
            if numpr is not None:
                nid = numpr.find(_w("numId"))
                ilvl = numpr.find(_w("ilvl"))
                direct_num = (_int(nid.get(_VAL) if nid is not None else None),
                              _int(ilvl.get(_VAL) if ilvl is not None else None))
            ind = ppr.find(_w("ind"))
            if ind is not None:
                indent = _int(ind.get(_w("left")) or ind.get(_w("start")))
            ol = ppr.find(_w("outlineLvl"))
            if ol is not None:
                outline = _int(ol.get(_VAL), 9)
            rule = ppr.find(f"{_w('pBdr')}/{_w('bottom')}") is not None
        sid = sid or self.styles.default_para
        style = self.styles.name(sid)
        pieces = list(self.pieces(p))
        inlines = tuple(_build_inlines(pieces))
        text = plain_text(inlines)
        display = [el for el in p.iter(f"{{{M}}}oMathPara")]
        if _TOC_STYLE_RE.match(style) or style in _SKIP_STYLES:
            toc = _TOC_STYLE_RE.match(style) is not None or style == "toc heading"
            return _Rec(index, "p", style, text=text, inlines=inlines, toc=toc, skip=True)
        if style == "title":
            if self.title is None and text.strip():
                self.title = " ".join(text.split())
            return _Rec(index, "p", style, skip=True)
        if style == "note" and text.strip() == _NO_ANSWER:
            return _Rec(index, "p", style, text=text, skip=True)
        level = 0
        m = _HEADING_STYLE_RE.match(style)
        if m:
            level = int(m.group(1))
        else:
            if outline is None:
                outline = self.styles.outline(sid)
            if outline is not None and 0 <= outline < 9:
                level = outline + 1
        num: _Num | None = None
        num_ref = direct_num if direct_num is not None else self.styles.num(sid)
        if num_ref is not None and num_ref[0] > 0 and num_ref[0] in self.numbering.nums:
            lvl = self.numbering.level(*num_ref)
            if lvl is not None and lvl.fmt != "none":
                ordered = lvl.fmt != "bullet"
                number = self.numbering.count(*num_ref)
                num = _Num(f"{num_ref[0]}", num_ref[1], ordered, number)
        visible = [pc for pc in pieces if pc.kind != "br" and pc.text.strip()]
        bold = bool(visible) and all(pc.bold for pc in visible)
        code = style in _CODE_STYLES or self.styles.mono(sid) or (
            bool(visible) and all(pc.kind == "code" for pc in visible))
        math: str | None = None
        if display and not [pc for pc in visible if pc.kind != "math"]:
            math = " ".join(pc.text for pc in visible)
        elif style == "math block" and visible:
            math = "".join(pc.text for pc in pieces)
        is_rule = rule and not text.strip() and math is None
        empty = not text.strip() and math is None and not is_rule and not code and num is None
        return _Rec(index, "p", style, level, inlines, text, num, indent, bold, code, math, is_rule, skip=empty)

    def pieces(self, parent: etree._Element, bold: bool = False, italic: bool = False,
               link: str | None = None) -> Iterator[_Piece]:
        """Text pieces of a paragraph (or part of one) in order, with their formatting."""
        field_depth: list[bool] = []  # per open complex field: are we in its instruction part?
        for el in parent:
            tag = el.tag
            if not isinstance(tag, str):
                continue
            if tag == _R:
                yield from self.run(el, bold, italic, link, field_depth)
            elif tag == _w("hyperlink"):
                rid = el.get(f"{{{R}}}id")
                anchor = el.get(_w("anchor"))
                target = self.rels.get(rid or "", "") if rid else (f"#{anchor}" if anchor else "")
                yield from self.pieces(el, bold, italic, target or link)
            elif tag in (_w("ins"), _w("smartTag"), _w("customXml"), _w("fldSimple"), _w("dir"), _w("bdo")):
                yield from self.pieces(el, bold, italic, link)
            elif tag == _w("sdt"):
                content = el.find(_w("sdtContent"))
                if content is not None:
                    yield from self.pieces(content, bold, italic, link)
            elif tag in (f"{{{M}}}oMath", f"{{{M}}}oMathPara"):
                tex = omml_tex(el)
                if tex.strip():
                    yield _Piece("math", tex.strip(), bold, italic, link)

    def run(self, r: etree._Element, bold: bool, italic: bool, link: str | None,
            fields: list[bool]) -> Iterator[_Piece]:
        rpr = r.find(_RPR)
        kind = "text"
        if rpr is not None:
            rs = rpr.find(_w("rStyle"))
            csid = rs.get(_VAL, "") if rs is not None else ""
            cname = self.styles.name(csid) if csid else ""
            b = rpr.find(_w("b"))
            bold = bold or (_on(b) if b is not None else self.styles.bold(csid) if csid else False)
            italic = italic or _on(rpr.find(_w("i")))
            if cname in _CODE_CHAR_STYLES or _mono(rpr) or (csid and self.styles.mono(csid)):
                kind = "code"
            elif cname == "math tex":
                kind = "math"
        for el in r:
            tag = el.tag
            if tag == _w("fldChar"):
                ftype = el.get(_w("fldCharType"))
                if ftype == "begin":
                    fields.append(True)
                elif ftype == "separate" and fields:
                    fields[-1] = False
                elif ftype == "end" and fields:
                    fields.pop()
            elif fields and fields[-1]:
                continue  # a field's instruction text ("TOC \o …", "HYPERLINK …")
            elif tag == _T:
                yield _Piece(kind, el.text or "", bold, italic, link)
            elif tag == _w("tab"):
                yield _Piece(kind, "\t", bold, italic, link)
            elif tag in (_w("br"), _w("cr")):
                if el.get(_w("type")) not in ("page", "column"):
                    if kind == "code":
                        yield _Piece(kind, "\n", bold, italic, link)
                    else:
                        yield _Piece("br", "", bold, italic, link)
            elif tag == _w("noBreakHyphen"):
                yield _Piece(kind, "-", bold, italic, link)
            elif tag == _w("sym"):
                char = el.get(_w("char"), "")
                if re.fullmatch(r"[0-9A-Fa-f]{4}", char) and int(char, 16) >= 0x20 and not 0xF000 <= int(char, 16):
                    yield _Piece(kind, chr(int(char, 16)), bold, italic, link)

    def table(self, tbl: etree._Element, index: int) -> _Rec:
        rows: list[tuple[tuple[Inline, ...], ...]] = []
        for tr in tbl.iterchildren(_w("tr")):
            cells: list[tuple[Inline, ...]] = []
            for tc in tr.iterchildren(_w("tc")):
                cell: list[Inline] = []
                for p in tc.iter(_P):
                    inl = _build_inlines(list(self.pieces(p)))
                    if inl:
                        if cell:
                            cell.append(LineBreak())
                        cell.extend(inl)
                cells.append(tuple(cell))
            rows.append(tuple(cells))
        indent = 0
        ind = tbl.find(f"{_w('tblPr')}/{_w('tblInd')}")
        if ind is not None:
            indent = _int(ind.get(_w("w")))
        header = tuple(_unbold(cell) for cell in rows[0]) if rows else ()
        table = Table(header, tuple(rows[1:]))
        return _Rec(index, "table", indent=indent, table=table, text=" ".join(
            plain_text(c) for row in rows for c in row))


# --------------------------------------------------------------------------- equations


_ACCENTS = {"\u0302": "\\hat", "^": "\\hat", "\u0303": "\\tilde", "~": "\\tilde", "\u0304": "\\bar",
            "\u0305": "\\bar", "\u0307": "\\dot", "\u0308": "\\ddot", "\u20d7": "\\vec", "\u2192": "\\vec"}
_WRAPPERS = {"oMath", "oMathPara", "e", "num", "den", "sub", "sup", "deg", "lim", "fName", "box", "borderBox",
             "groupChr", "phant", "argPr"}


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _m(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(f"{{{M}}}{name}")


def _prop(el: etree._Element, props: str, name: str, default: str) -> str:
    pr = _m(el, props)
    found = pr.find(f"{{{M}}}{name}") if pr is not None else None
    return found.get(f"{{{M}}}val", default) if found is not None else default


def _group(text: str) -> str:
    return text if len(text) == 1 else "{" + text + "}"


def omml_tex(el: etree._Element) -> str:
    """An Office Math equation as TeX-like text (fractions, scripts, roots, delimiters, sums,
    accents, matrices; symbols stay Unicode). Word keeps no TeX, so this is a reading, not the
    original source."""
    name = _local(el)

    def sub(part: str) -> str:
        child = _m(el, part)
        return omml_tex(child) if child is not None else ""

    if name == "r":
        return "".join(t.text or "" for t in el.iter(f"{{{M}}}t"))
    if name == "f":
        return f"\\frac{{{sub('num')}}}{{{sub('den')}}}"
    if name == "sSup":
        return f"{sub('e')}^{_group(sub('sup'))}"
    if name == "sSub":
        return f"{sub('e')}_{_group(sub('sub'))}"
    if name == "sSubSup":
        return f"{sub('e')}_{_group(sub('sub'))}^{_group(sub('sup'))}"
    if name == "sPre":
        return f"{{}}_{_group(sub('sub'))}^{_group(sub('sup'))}{sub('e')}"
    if name == "rad":
        deg = sub("deg")
        return f"\\sqrt[{deg}]{{{sub('e')}}}" if deg else f"\\sqrt{{{sub('e')}}}"
    if name == "d":
        beg = _prop(el, "dPr", "begChr", "(")
        end = _prop(el, "dPr", "endChr", ")")
        sep = _prop(el, "dPr", "sepChr", "|")
        return beg + sep.join(omml_tex(e) for e in el.iterchildren(f"{{{M}}}e")) + end
    if name == "nary":
        op = _prop(el, "naryPr", "chr", "\u222b")
        lo, hi = sub("sub"), sub("sup")
        return op + (f"_{_group(lo)}" if lo else "") + (f"^{_group(hi)}" if hi else "") + " " + sub("e")
    if name == "func":
        return f"{sub('fName')} {sub('e')}"
    if name == "acc":
        accent = _ACCENTS.get(_prop(el, "accPr", "chr", "^"), "\\hat")
        return f"{accent}{{{sub('e')}}}"
    if name == "bar":
        return f"\\overline{{{sub('e')}}}"
    if name == "limLow":
        return f"{sub('e')}_{_group(sub('lim'))}"
    if name == "limUpp":
        return f"{sub('e')}^{_group(sub('lim'))}"
    if name == "m":
        rows = [" & ".join(omml_tex(e) for e in mr.iterchildren(f"{{{M}}}e"))
                for mr in el.iterchildren(f"{{{M}}}mr")]
        return "\\begin{matrix}" + " \\\\ ".join(rows) + "\\end{matrix}"
    if name == "eqArr":
        return " \\\\ ".join(omml_tex(e) for e in el.iterchildren(f"{{{M}}}e"))
    if name in _WRAPPERS:
        return "".join(omml_tex(child) for child in el)
    return ""


def _block_children(parent: etree._Element) -> Iterator[etree._Element]:
    """Paragraphs and tables of a body in order, looking through content controls."""
    for el in parent:
        if el.tag in (_P, _TBL):
            yield el
        elif el.tag == _w("sdt"):
            content = el.find(_w("sdtContent"))
            if content is not None:
                yield from _block_children(content)
        elif el.tag in (_w("customXml"), _w("ins")):
            yield from _block_children(el)


def _leaf(piece: _Piece) -> Inline:
    if piece.kind == "code":
        return Code(piece.text)
    if piece.kind == "math":
        return Math(piece.text)
    if piece.kind == "br":
        return LineBreak()
    return Text(piece.text)


def _merge(nodes: list[Inline]) -> list[Inline]:
    """Neighbouring runs of the same kind as one (text and code joined, bold and italic runs' children
    merged), empty text dropped; each run of neighbours is merged once, so this is linear."""
    out: list[Inline] = []
    kept = [n for n in nodes if not (isinstance(n, Text) and not n.text)]
    for _, same in groupby(kept, key=lambda n: type(n) if isinstance(n, (Text, Code, Strong, Emphasis)) else id(n)):
        group = list(same)
        first = group[0]
        if len(group) == 1:
            out.append(first)
        elif isinstance(first, (Text, Code)):
            out.append(type(first)("".join(n.text for n in group if isinstance(n, (Text, Code)))))
        elif isinstance(first, (Strong, Emphasis)):
            kids = [k for n in group if isinstance(n, (Strong, Emphasis)) for k in n.children]
            out.append(type(first)(tuple(_merge(kids))))
        else:
            out.extend(group)
    return out


def _build_inlines(pieces: Sequence[_Piece]) -> list[Inline]:
    """Pieces with formatting as nested inlines: links around bold around italic."""
    out: list[Inline] = []
    for target, group in groupby(pieces, key=lambda pc: pc.link):
        nodes: list[Inline] = []
        for bold, bgroup in groupby(group, key=lambda pc: pc.bold and pc.kind != "br"):
            inner: list[Inline] = []
            for italic, igroup in groupby(bgroup, key=lambda pc: pc.italic and pc.kind != "br"):
                leaves = _merge([_leaf(pc) for pc in igroup])
                if italic and leaves:
                    inner.append(Emphasis(tuple(leaves)))
                else:
                    inner.extend(leaves)
            if bold and inner:
                nodes.append(Strong(tuple(inner)))
            else:
                nodes.extend(inner)
        nodes = _merge(nodes)
        if target and nodes:
            out.append(Link(target, tuple(nodes)))
        else:
            out.extend(nodes)
    return _merge(out)


# --------------------------------------------------------------------------- records to blocks


def _continues_list(rec: _Rec) -> bool:
    """A record that sits inside a list item (indented, not numbered, not a heading)."""
    return rec.num is None and not rec.heading and rec.indent > 0 and (
        rec.style == "list paragraph" or rec.code or rec.kind == "table" or rec.style in _QUOTE_STYLES
        or rec.math is not None)


def _blocks(recs: Sequence[_Rec]) -> list[Block]:
    """Answer records as model blocks."""
    out: list[Block] = []
    i, n = 0, len(recs)
    while i < n:
        rec = recs[i]
        if rec.skip:
            i += 1
        elif rec.num is not None and not rec.heading:
            j = i + 1
            while j < n and (recs[j].num is not None or _continues_list(recs[j]) or recs[j].skip):
                j += 1
            run = [r for r in recs[i:j] if not r.skip]
            out.extend(_list_blocks(run, min(r.num.ilvl for r in run if r.num is not None)))
            i = j
        elif rec.code:
            j = i
            while j < n and recs[j].code and recs[j].num is None and recs[j].indent == rec.indent:
                j += 1
            out.append(CodeBlock("\n".join(r.text for r in recs[i:j])))
            i = j
        elif rec.style in _QUOTE_STYLES and rec.kind == "p":
            j = i
            while j < n and recs[j].style in _QUOTE_STYLES and recs[j].num is None and recs[j].kind == "p":
                j += 1
            inner = _blocks([_Rec(r.index, "p", "", 0, r.inlines, r.text, None, 0, r.bold, r.code, r.math,
                                  r.rule, skip=r.skip) for r in recs[i:j]])
            if inner:
                out.append(Quote(tuple(inner)))
            i = j
        else:
            block = _single_block(rec)
            if block is not None:
                out.append(block)
            i += 1
    return out


def _single_block(rec: _Rec) -> Block | None:
    if rec.table is not None:
        return rec.table
    if rec.math is not None:
        return MathBlock(rec.math)
    if rec.rule:
        return Rule()
    if rec.heading and rec.inlines:
        return Paragraph((Strong(rec.inlines),))
    return Paragraph(rec.inlines) if rec.inlines else None


def _starts_item(rec: _Rec, level: int) -> bool:
    return rec.num is not None and rec.num.ilvl <= level


def _list_blocks(run: Sequence[_Rec], level: int) -> list[Block]:
    """A run of list paragraphs (and what is indented under them) as lists nested by level."""
    out: list[Block] = []
    items: list[ListItem] = []
    current: tuple[bool, str] | None = None
    start = 1

    def flush() -> None:
        nonlocal items, current
        if items and current is not None:
            out.append(OrderedList(tuple(items), start) if current[0] else BulletList(tuple(items)))
        items, current = [], None

    i, n = 0, len(run)
    while i < n:
        rec = run[i]
        if rec.num is not None and _starts_item(rec, level):
            key = (rec.num.ordered, rec.num.key if rec.num.ordered else "")
            if current is not None and key != current:
                flush()
            if not items:
                start = rec.num.number
            current = key
            j = i + 1
            while j < n and not _starts_item(run[j], level):
                j += 1
            kids: list[Block] = [Paragraph(rec.inlines)] if rec.inlines else []
            kids.extend(_blocks(run[i + 1:j]) if j > i + 1 else [])
            items.append(ListItem(tuple(kids)))
            i = j
        else:
            flush()
            out.extend(_blocks([rec]))
            i += 1
    flush()
    return out


# --------------------------------------------------------------------------- layouts

_Found = tuple[int | None, tuple[Inline, ...]]


def _unbold(inlines: tuple[Inline, ...]) -> tuple[Inline, ...]:
    nodes = [n for n in inlines if not (isinstance(n, Text) and not n.text.strip())]
    if len(nodes) == 1 and isinstance(nodes[0], Strong):
        return nodes[0].children
    return inlines


def _question_level(recs: Sequence[_Rec]) -> tuple[int, int, bool]:
    numbered: dict[int, int] = {}
    asking: dict[int, int] = {}
    for r in recs:
        if not r.heading or r.skip:
            continue
        if split_number(r.inlines)[0] is not None or (r.num is not None and r.num.ordered):
            numbered[r.heading] = numbered.get(r.heading, 0) + 1
        elif looks_like_question(r.text):
            asking[r.heading] = asking.get(r.heading, 0) + 1
    if numbered:
        level = max(sorted(numbered), key=lambda k: numbered[k])
        return level, numbered[level] + asking.get(level, 0), True
    if asking:
        level = max(sorted(asking), key=lambda k: asking[k])
        return level, asking[level], False
    return 0, 0, False


def _count_headings(recs: Sequence[_Rec]) -> tuple[int, int]:
    _, count, numbered = _question_level(recs)
    return count, (70 if numbered else 45) if count >= 2 else (30 if count else 0)


def _headings_questions(recs: Sequence[_Rec]) -> Callable[[int], _Found | None]:
    return _heading_questions_at(recs, _question_level(recs)[0])


def _heading_questions_at(recs: Sequence[_Rec], level: int) -> Callable[[int], _Found | None]:
    def question(i: int) -> _Found | None:
        r = recs[i]
        if r.heading != level or not r.inlines:
            return None
        number, text = split_number(_unbold(r.inlines))
        if number is None and r.num is not None and r.num.ordered:
            number = r.num.number
        return number, text

    return question


def _answer_label(rec: _Rec | None) -> bool:
    return rec is not None and rec.kind == "p" and re.match(r"^\s*(?:Ans(?:wer)?|A)\s*[:：]", rec.text,
                                                             re.IGNORECASE) is not None


def _next_content(recs: Sequence[_Rec], i: int) -> _Rec | None:
    return next((r for r in recs[i + 1:] if not r.skip), None)


def _numbered_set(recs: Sequence[_Rec]) -> set[int]:
    """Indexes of auto-numbered (level 0) paragraphs that hold the questions."""
    candidates: dict[str, list[int]] = {}
    members: dict[str, list[int]] = {}
    for i, r in enumerate(recs):
        if r.num is None or not r.num.ordered or r.num.ilvl != 0 or r.skip:
            continue
        members.setdefault(r.num.key, []).append(i)
        if looks_like_question(r.text) or _answer_label(_next_content(recs, i)):
            candidates.setdefault(r.num.key, []).append(i)
    out: set[int] = set()
    for key, found in candidates.items():
        if len(found) * 2 >= len(members[key]):
            out.update(members[key])
        else:
            out.update(found)
    return out


def _count_numbered(recs: Sequence[_Rec]) -> tuple[int, int]:
    count = len(_numbered_set(recs))
    return count, 60 if count >= 2 else (25 if count else 0)


def _numbered_questions(recs: Sequence[_Rec]) -> Callable[[int], _Found | None]:
    chosen = _numbered_set(recs)

    def question(i: int) -> _Found | None:
        r = recs[i]
        if i not in chosen or r.num is None:
            return None
        return r.num.number, _unbold(r.inlines)

    return question


def _labelled(recs: Sequence[_Rec], i: int) -> _Found | None:
    r = recs[i]
    if r.kind != "p" or r.skip or r.heading or _answer_label(r):
        return None
    found = labelled_question(r.inlines)
    if found is not None and found[2] is None:
        return found[0], found[1]
    if found is None and _answer_label(_next_content(recs, i)) and r.text.strip():
        number, question = split_number(_unbold(r.inlines))
        if r.num is not None and r.num.ordered and number is None:
            number = r.num.number
        return number, question
    return None


def _count_labels(recs: Sequence[_Rec]) -> tuple[int, int]:
    count = sum(1 for i in range(len(recs)) if _labelled(recs, i) is not None)
    return count, 55 if count >= 2 else (25 if count else 0)


def _labels_questions(recs: Sequence[_Rec]) -> Callable[[int], _Found | None]:
    return lambda i: _labelled(recs, i)


def _bold(recs: Sequence[_Rec], i: int) -> _Found | None:
    r = recs[i]
    if r.kind != "p" or r.skip or r.heading or not r.bold or not looks_like_question(r.text):
        return None
    number, question = split_number(_unbold(r.inlines))
    if number is None and r.num is not None and r.num.ordered:
        number = r.num.number
    return number, question


def _count_bold(recs: Sequence[_Rec]) -> tuple[int, int]:
    count = sum(1 for i in range(len(recs)) if _bold(recs, i) is not None)
    return count, 50 if count >= 2 else (20 if count else 0)


def _bold_questions(recs: Sequence[_Rec]) -> Callable[[int], _Found | None]:
    return lambda i: _bold(recs, i)


def _walk(recs: Sequence[_Rec], b: Builder, question: Callable[[int], _Found | None],
          answer_level: int = 10) -> None:
    """Cut the records at questions; headings at or above ``answer_level`` open sections."""
    content: list[_Rec] = []

    def flush() -> None:
        kept = [r for r in content if not r.skip]
        if b.item is not None and kept:
            b.answer(_blocks(kept), kept[-1].index)
        elif b.item is None:
            _skip_run(b, content)
        content.clear()

    for i, r in enumerate(recs):
        found = question(i)
        if found is not None:
            flush()
            b.question(found[0], found[1], r.index)
        elif r.heading and not (b.item is not None and r.heading > answer_level):
            flush()
            b.heading(r.text, r.heading)
        else:
            content.append(r)
    flush()


def _skip_run(b: Builder, recs: Sequence[_Rec]) -> None:
    """Report records outside any item, a run of them at a time (a table of contents as one)."""
    for toc, group in groupby(recs, key=lambda r: r.toc):
        shown = [r for r in group if r.text.strip() or r.table is not None]
        if not shown:
            continue
        if toc:
            b.skip(shown[0].index, shown[0].text.strip()[:120], toc=True)
            continue
        for r in shown:
            if r.style in ("subtitle",):
                continue
            b.skip(r.index, r.text.strip()[:120], entries=[r.text] if r.num is not None else [])


def _read_headings(recs: Sequence[_Rec], b: Builder) -> None:
    level, _, _ = _question_level(recs)
    b.drop_rules = False
    _walk(recs, b, _headings_questions(recs), level)


def _read_numbered(recs: Sequence[_Rec], b: Builder) -> None:
    _walk(recs, b, _numbered_questions(recs))


def _read_labels(recs: Sequence[_Rec], b: Builder) -> None:
    _walk(recs, b, _labels_questions(recs))


def _read_bold(recs: Sequence[_Rec], b: Builder) -> None:
    _walk(recs, b, _bold_questions(recs))


def _qa_table(rec: _Rec) -> tuple[Table, int, int, int | None] | None:
    if rec.table is None:
        return None
    columns = qa_columns(rec.table.header)
    return None if columns is None else (rec.table, *columns)


def _count_tables(recs: Sequence[_Rec]) -> tuple[int, int]:
    count = 0
    for r in recs:
        found = _qa_table(r)
        if found is not None:
            count += len(table_items(*found))
    return count, 55 if count >= 2 else (25 if count else 0)


def _read_tables(recs: Sequence[_Rec], b: Builder) -> None:
    pending: list[_Rec] = []
    for r in recs:
        found = _qa_table(r)
        if found is None:
            if r.heading:
                _skip_run(b, pending)
                pending.clear()
                b.heading(r.text, r.heading)
            else:
                pending.append(r)
            continue
        b.close()
        _skip_run(b, pending)
        pending.clear()
        for _, number, question, answer in table_items(*found):
            b.question(number, question, r.index)
            b.answer(answer, r.index)
        b.close()
    _skip_run(b, pending)


@dataclass(frozen=True, slots=True)
class _Layout:
    name: str
    count: Callable[[Sequence[_Rec]], tuple[int, int]]
    read: Callable[[Sequence[_Rec], Builder], None]


LAYOUTS: tuple[_Layout, ...] = (
    _Layout("headings", _count_headings, _read_headings),
    _Layout("numbered", _count_numbered, _read_numbered),
    _Layout("labels", _count_labels, _read_labels),
    _Layout("table", _count_tables, _read_tables),
    _Layout("bold", _count_bold, _read_bold),
)
"""Most specific first: on equal counts the earlier layout reads the file."""


def _count_own(recs: Sequence[_Rec]) -> tuple[int, int]:
    return sum(1 for r in recs if r.heading == _OWN_LEVEL and not r.skip), 100


def _read_own(recs: Sequence[_Rec], b: Builder) -> None:
    _walk(recs, b, _heading_questions_at(recs, _OWN_LEVEL), _OWN_LEVEL)


_OWN_LEVEL = 2
OWN = _Layout("headings", _count_own, _read_own)
"""qabook's own DOCX (its ``Application`` property is "qabook"): every Heading 2 is a question and
Heading 1 a section, whatever their words look like (the writer lays out nothing else), and answers
are read as they are: a stand-in ("TBD") or a label is an answer, a rule stays."""


def _choose(recs: Sequence[_Rec]) -> tuple[_Layout, int]:
    best: tuple[_Layout, int, int] | None = None
    for layout in LAYOUTS:
        count, score = layout.count(recs)
        if count and (best is None or (count, score) > (best[1], best[2])):
            best = (layout, count, score)
    return (best[0], best[1]) if best is not None else (LAYOUTS[0], 0)


# --------------------------------------------------------------------------- sniff and read


def sniff(source: Source) -> int:
    """A ZIP package with ``word/document.xml`` (a damaged one that looks like Word: still ours)."""
    head = source.head()
    if not head.startswith(b"PK\x03\x04"):
        return 0
    try:
        with source.open() as fh, zipfile.ZipFile(fh) as zf:
            return 100 if "word/document.xml" in zf.namelist() else 0
    except _ZIP_ERRORS:
        return 90 if (b"word/" in head or b"[Content_Types].xml" in head) else 0


def read(source: Source, title: str | None = None) -> Reading:
    """Read a Word file's Q&A into a document."""
    with source.open() as stream:
        package = _Package(stream)
        document = package.xml("word/document.xml")
        if document is None:
            raise InputError("is a ZIP archive but not a Word document (no word/document.xml)")
        rels = _relationships(package)
        styles = _Styles(package.xml(_related(package, rels, "styles") or "word/styles.xml"))
        numbering = _Numbering(package.xml(_related(package, rels, "numbering") or "word/numbering.xml"))
        core_title = _core_title(package)
        own = _application(package) == "qabook"
    body = document.find(_w("body"))
    if document.tag != _w("document") or body is None:
        raise InputError("is not a usable Word file: word/document.xml has no document body")
    reader = _Reader(styles, numbering, {k: v for k, v in rels.items() if not v.startswith("part:")})
    reader.body(body)
    layout, count = (OWN, _count_own(reader.records)[0]) if own else _choose(reader.records)
    if not count:
        raise InputError("found no questions in this Word file (no question headings, numbered questions, "
                         "Q:/Answer: paragraphs, bold questions or question/answer tables)")
    doc_title = title or reader.title or core_title or _stem(source.name)
    builder = Builder(doc_title, NAME, short_labels=True, h1_title=False)
    if own:
        builder.labels = builder.stand_ins = builder.drop_rules = False
    layout.read(reader.records, builder)
    return builder.reading(source.name, layout.name)


def _relationships(package: _Package) -> dict[str, str]:
    """The document's relationships: id -> target (external URLs as they are, parts as member names)."""
    root = package.xml("word/_rels/document.xml.rels")
    out: dict[str, str] = {}
    if root is None:
        return out
    for rel in root.iter(f"{{{PR}}}Relationship"):
        rid, target = rel.get("Id"), rel.get("Target")
        if not rid or target is None:
            continue
        if rel.get("TargetMode") == "External":
            out[rid] = target
        else:
            out[rid] = "part:" + _part_name("word/document.xml", target) + "|" + (rel.get("Type") or "")
    return out


def _related(package: _Package, rels: dict[str, str], kind: str) -> str | None:
    for target in rels.values():
        if target.startswith("part:") and target.endswith("/" + kind):
            name = target[5:].split("|")[0]
            return name if name in package.names else None
    return None


def _application(package: _Package) -> str:
    """The program that wrote the file (``docProps/app.xml``), "" when it does not say."""
    try:
        root = package.xml("docProps/app.xml")
    except InputError:  # damaged properties do not make the document unreadable
        return ""
    el = root.find(f"{{{EP}}}Application") if root is not None else None
    return (el.text or "").strip() if el is not None else ""


def _core_title(package: _Package) -> str | None:
    root = package.xml("docProps/core.xml")
    if root is None:
        return None
    el = root.find(f"{{{DC}}}title")
    text = " ".join((el.text or "").split()) if el is not None else ""
    return text or None


def _stem(name: str) -> str:
    stem = PurePath(name).stem if name not in ("", "-") else ""
    return stem.replace("_", " ").strip() or "Questions and answers"
