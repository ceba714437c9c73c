r"""``qabook verify``: prove that an output file still holds every source item's words, in order.

An output is read back into items (number, question, answer) with a small reader per format:
DOCX (``word/document.xml``: a Heading 2 paragraph starts an item, the paragraphs after it are
its answer; title page, contents and notes are skipped), the HTML page (``details.qa``), the Anki
package (its notes' fields), CSV/TSV records, qabook Markdown, and qabook JSON. The
source is converted again the same way, and each source item is compared with the output item of
the same number (or, for unnumbered items, the same place).

What "the same words" means here is deliberately independent of how a format shows things:

* text counts by its words (letters and digits; punctuation, bold and lists do not count);
* a formula counts as one token: the letters and digits it shows (``\frac{x-\mu}{\sigma}`` shows
  x, μ, σ), so TeX source, a Word equation and MathML compare equal when they show the same
  symbols, and a changed symbol is a changed formula;
* code counts by its words, like text.

A missing item, a changed question, a changed answer (a word deleted, added or replaced, or two
answers swapped) are each reported with a word diff.
"""

from __future__ import annotations

import difflib
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Iterator

from qabook import model
from qabook.model import (
    Block,
    BulletList,
    Code,
    CodeBlock,
    Document,
    Emphasis,
    Inline,
    LineBreak,
    Link,
    Math,
    MathBlock,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Strong,
    Table,
    Text,
)
from qabook.readers.base import InputError
from qabook.repair.tex_symbols import SYMBOLS
from qabook.words import text_words

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"

# --------------------------------------------------------------------------- tokens

_FUNCTIONS = frozenset(
    "log ln lg exp sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh max min sup inf lim "
    "liminf limsup arg det dim gcd deg hom ker mod bmod Pr".split()
)
_KEEP_CONTENT = re.compile(
    r"\\(?:text|textrm|textbf|textit|texttt|mathrm|mathbf|mathit|mathsf|mathtt|mathcal|mathbb|"
    r"mathfrak|boldsymbol|bm|operatorname\*?|hat|bar|tilde|vec|dot|ddot|overline|underline|widehat|"
    r"widetilde|frac|dfrac|tfrac|sqrt|left|right|big|Big|bigg|Bigg)(?![A-Za-z])"
)
_COMMAND = re.compile(r"\\([A-Za-z]+)|\\(.)")


def formula_glyphs(tex: str) -> str:
    """The letters and digits a formula shows (for comparing formulas across formats)."""

    def command(m: re.Match[str]) -> str:
        name = m.group(1)
        if name is None:
            return m.group(2)  # \%, \#, \{ … print their character
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in _FUNCTIONS:
            return name
        return ""

    shown = _COMMAND.sub(command, _KEEP_CONTENT.sub("", tex))
    return _glyphs(shown)


def _glyphs(text: str) -> str:
    norm = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in norm if ch.isalnum())


def _formula_token(glyphs: str) -> str:
    return f"⟨{glyphs}⟩"


def inline_tokens(inlines: Iterable[Inline]) -> Iterator[str]:
    """Tokens of a run of inlines: text runs are joined across bold, italics and links (as every
    format shows them), formulas are single tokens, a line break separates words."""
    pending: list[str] = []
    out: list[str] = []

    def walk(nodes: Iterable[Inline]) -> None:
        for node in nodes:
            match node:
                case Text(text=t) | Code(text=t):
                    pending.append(t)
                case Strong(children=c) | Emphasis(children=c) | Link(children=c):
                    walk(c)
                case Math(tex=t):
                    out.extend(text_words("".join(pending)))
                    pending.clear()
                    out.append(_formula_token(formula_glyphs(t)))
                case LineBreak():
                    pending.append(" ")
                case _:
                    raise AssertionError(node)

    walk(inlines)
    out.extend(text_words("".join(pending)))
    return iter(out)


def block_tokens(blocks: Iterable[Block]) -> Iterator[str]:
    """Tokens of blocks in reading order."""
    for b in blocks:
        match b:
            case Paragraph(inlines=i):
                yield from inline_tokens(i)
            case BulletList(items=items) | OrderedList(items=items):
                for li in items:
                    yield from block_tokens(li.blocks)
            case CodeBlock(text=t):
                yield from text_words(t)
            case MathBlock(tex=t):
                yield _formula_token(formula_glyphs(t))
            case Quote(blocks=inner):
                yield from block_tokens(inner)
            case Table(header=header, rows=rows):
                for cell in header:
                    yield from inline_tokens(cell)
                for row in rows:
                    for cell in row:
                        yield from inline_tokens(cell)
            case Rule():
                pass
            case _:
                raise AssertionError(b)


@dataclass(frozen=True, slots=True)
class ReadItem:
    """An item as read back from an output file."""

    number: int | None
    question: tuple[str, ...]
    answer: tuple[str, ...]


def items_of(doc: Document) -> list[ReadItem]:
    """A document's items as tokens."""
    return [ReadItem(it.number, tuple(inline_tokens(it.question)), tuple(block_tokens(it.answer)))
            for it in doc.items()]


# --------------------------------------------------------------------------- reading outputs

_HEADING_NUMBER = re.compile(r"^(\d{1,9})\.(?:\s+(.*))?$", re.DOTALL)


def _docx_paragraph_tokens(p: Any) -> tuple[list[str], str]:
    """(tokens, plain text) of one w:p, formulas as single tokens."""
    tokens: list[str] = []
    text: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        tokens.extend(text_words("".join(pending)))
        pending.clear()

    for el in p.iter(f"{W}r", f"{M}oMath"):
        if el.tag == f"{M}oMath":
            flush()
            tokens.append(_formula_token(_glyphs("".join(t.text or "" for t in el.iter(f"{M}t")))))
            continue
        if any(a.tag == f"{M}oMath" for a in el.iterancestors()):
            continue
        style = el.find(f"{W}rPr/{W}rStyle")
        run_text = "".join(c.text or "" if c.tag == f"{W}t" else " " for c in el
                           if c.tag in (f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"))
        text.append(run_text)
        if style is not None and style.get(f"{W}val") == "MathTeX":
            flush()
            tokens.append(_formula_token(formula_glyphs(run_text)))
        else:
            pending.append(run_text)
    flush()
    return tokens, "".join(text)


def read_docx(data: bytes) -> list[ReadItem]:
    """Items of a DOCX written by qabook (or edited since)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(_bytes_io(data)) as zf:
            info = zf.getinfo("word/document.xml")
            if info.file_size > 512 * 1024 * 1024:
                raise InputError("word/document.xml is too large")
            xml = zf.read(info)
    except (zipfile.BadZipFile, KeyError, zlib.error, EOFError, ValueError, OSError, NotImplementedError,
            RuntimeError, struct.error, OverflowError) as exc:  # what zipfile raises for damaged archives
        raise InputError(f"is not a readable DOCX file ({_one_line(exc)})") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"word/document.xml is not well-formed XML ({_one_line(exc)})") from None
    if root.getroottree().docinfo.doctype:
        raise InputError("word/document.xml declares a DTD (a Word document has none)")
    body = root.find(f"{W}body")
    if body is None:
        raise InputError("word/document.xml has no body")
    items: list[ReadItem] = []
    question: list[str] | None = None
    number: int | None = None
    answer: list[str] = []

    def close() -> None:
        if question is not None:
            items.append(ReadItem(number, tuple(question), tuple(answer)))

    for p in body.iter(f"{W}p"):
        style_el = p.find(f"{W}pPr/{W}pStyle")
        style = style_el.get(f"{W}val") if style_el is not None else ""
        if style == "Heading2":
            close()
            tokens, text = _docx_paragraph_tokens(p)
            m = _HEADING_NUMBER.match(text.strip())
            number = int(m.group(1)) if m else None
            question = tokens[1:] if m and tokens and tokens[0] == m.group(1) else tokens
            answer = []
        elif style == "Heading1":
            close()
            question = None
        elif question is not None and style not in ("Note",) and not style.startswith("TOC"):
            answer.extend(_docx_paragraph_tokens(p)[0])
    close()
    return items


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


# ---- HTML, Anki and CSV: answers are HTML fragments (MathML, or TeX for Anki's MathJax)

_INLINE_TAGS = frozenset("a abbr b code del em i ins kbd mark q s samp small span strong sub sup u var".split())
_TEX_IN_TEXT = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def html_tokens(fragment: Any) -> tuple[str, ...]:
    r"""Tokens of an HTML element: MathML and ``\( \)`` TeX as formulas, block edges as spaces."""
    tokens: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        text = "".join(pending)
        pending.clear()
        last = 0
        for m in _TEX_IN_TEXT.finditer(text):
            tokens.extend(text_words(text[last:m.start()]))
            tokens.append(_formula_token(formula_glyphs(m.group(1) or m.group(2))))
            last = m.end()
        tokens.extend(text_words(text[last:]))

    def walk(el: Any) -> None:
        tag = _local(el.tag)
        classes = (el.get("class") or "").split()
        if tag == "math":
            flush()
            shown = "".join(node.text or "" for node in el.iter()
                            if _local(node.tag) not in ("annotation", "annotation-xml"))
            tokens.append(_formula_token(_glyphs(shown)))
        elif tag == "code" and "tex" in classes:
            flush()
            tokens.append(_formula_token(formula_glyphs(el.text_content())))
        elif tag == "pre" and "tex" not in classes:
            flush()  # code: its words, never read as TeX
            tokens.extend(text_words(el.text_content()))
        elif tag == "p" and "none" in classes:
            pass  # "No answer in the source."
        else:
            block = tag not in _INLINE_TAGS
            if block:
                pending.append(" ")
            if el.text:
                pending.append(el.text)
            for child in el:
                if isinstance(child.tag, str):
                    walk(child)
                if child.tail:
                    pending.append(child.tail)
            if block:
                pending.append(" ")

    walk(fragment)
    flush()
    return tuple(tokens)


def _fragment(html: str) -> Any:
    from lxml import html as lxml_html

    return lxml_html.fragment_fromstring(html or "", create_parent="div")


def read_html(data: bytes) -> list[ReadItem]:
    """Items of an HTML page written by qabook: each ``details.qa`` is one item."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(data)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"is not a readable HTML page ({exc})") from None
    items: list[ReadItem] = []
    for d in root.iter("details"):
        if "qa" not in (d.get("class") or "").split():
            continue
        summary = d.find("summary")
        num_el = summary.find("span[@class='num']") if summary is not None else None
        q_el = summary.find("span[@class='q']") if summary is not None else None
        number = None
        if num_el is not None and num_el.text_content().strip().rstrip(".").isdigit():
            number = int(num_el.text_content().strip().rstrip("."))
        answer = next((c for c in d if _local(c.tag) == "div" and "answer" in (c.get("class") or "").split()), None)
        items.append(ReadItem(number, html_tokens(q_el) if q_el is not None else (),
                              html_tokens(answer) if answer is not None else ()))
    if not items:
        raise InputError('holds no qabook items (no <details class="qa">)')
    return items


def read_apkg(data: bytes) -> list[ReadItem]:
    """Notes of an Anki package written by qabook (fields Question, Answer, Number, Section)."""
    import sqlite3
    import tempfile

    try:
        with zipfile.ZipFile(_bytes_io(data)) as zf:
            member = next((n for n in ("collection.anki21", "collection.anki2") if n in zf.namelist()), None)
            if member is None:
                raise InputError("is not an Anki package (no collection inside)")
            blob = zf.read(member)
    except zipfile.BadZipFile as exc:
        raise InputError(f"is not a readable Anki package ({exc})") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/collection.db"
        with open(path, "wb") as fh:
            fh.write(blob)
        try:
            con = sqlite3.connect(path)
            try:
                rows = con.execute("SELECT flds FROM notes ORDER BY id").fetchall()
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise InputError(f"holds an unreadable Anki collection ({exc})") from None
    items: list[ReadItem] = []
    for (flds,) in rows:
        fields = flds.split("\x1f")
        question, answer = fields[0], fields[1] if len(fields) > 1 else ""
        number = int(fields[2]) if len(fields) > 2 and fields[2].strip().isdigit() else None
        items.append(ReadItem(number, html_tokens(_fragment(question)), html_tokens(_fragment(answer))))
    return items


def read_delimited(data: bytes) -> list[ReadItem]:
    """Records of qabook's CSV or TSV (question, HTML answer, tags), after Anki's ``#`` header lines."""
    import csv as csv_module
    import io

    text = data.decode("utf-8-sig", errors="replace")
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and lines[skip].startswith("#"):
        skip += 1
    header = [ln.strip() for ln in lines[:skip]]
    delimiter = "\t" if "#separator:tab" in header else ","
    items: list[ReadItem] = []
    for row in csv_module.reader(io.StringIO("".join(lines[skip:]), newline=""), delimiter=delimiter):
        if not row:
            continue
        question, answer = row[0], row[1] if len(row) > 1 else ""
        items.append(ReadItem(None, html_tokens(_fragment(question)), html_tokens(_fragment(answer))))
    return items


def read_output(data: bytes, name: str) -> list[ReadItem]:
    """Read back an output file by its content (DOCX, Anki, HTML, CSV/TSV, qabook Markdown or JSON)."""
    head = data[:4096].lstrip().lower()
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(_bytes_io(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile as exc:
            raise InputError(f"is not a readable DOCX file ({exc})") from None
        return read_apkg(data) if names & {"collection.anki2", "collection.anki21"} else read_docx(data)
    if head.startswith((b"<!doctype html", b"<html")):
        return read_html(data)
    if head.startswith(b"#separator:") or name.lower().endswith((".csv", ".tsv")):
        return read_delimited(data)
    from qabook.pipeline import Options, load

    result = load(data, name, Options(repairs=False, rendition="first"))
    return items_of(result.document)


# --------------------------------------------------------------------------- comparing


@dataclass(frozen=True, slots=True)
class Problem:
    """One source item that the output does not hold as it was."""

    number: int | None
    question: str
    kind: str
    """``missing``, ``question changed`` or ``answer changed``."""
    diff: str
    """A readable word diff: ``[-removed-]`` and ``{+added+}`` with a little context."""


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of ``verify``."""

    output: str
    source: str
    items: int
    verified: int
    problems: tuple[Problem, ...]
    extra: tuple[int | None, ...]
    """Numbers of output items with no source item (reported, not a failure)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def word_diff(a: tuple[str, ...], b: tuple[str, ...], context: int = 4, limit: int = 6) -> str:
    """``… context [-old-] {+new+} context …`` for each changed stretch (at most ``limit``)."""
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    for tag, i1, i2, j1, j2 in hunks[:limit]:
        before = " ".join(a[max(0, i1 - context):i1])
        after = " ".join(a[i2:i2 + context])
        old = f"[-{' '.join(a[i1:i2])}-]" if i2 > i1 else ""
        new = f"{{+{' '.join(b[j1:j2])}+}}" if j2 > j1 else ""
        parts.append(f"… {before} {old}{new} {after} …".replace("  ", " "))
    if len(hunks) > limit:
        parts.append(f"… and {len(hunks) - limit} more changes")
    return "\n".join(parts)


def compare(source: list[ReadItem], output: list[ReadItem], source_questions: list[str],
            output_name: str = "", source_name: str = "") -> Verification:
    """Compare source items with read-back output items."""
    by_number: dict[int, list[ReadItem]] = {}
    for it in output:
        if it.number is not None:
            by_number.setdefault(it.number, []).append(it)
    unnumbered = [it for it in output if it.number is None]
    used: set[int] = set()
    problems: list[Problem] = []
    verified = 0
    u = 0
    positional = all(it.number is None for it in output)  # CSV/TSV carry no numbers: match by place
    for index, (src, qtext) in enumerate(zip(source, source_questions)):
        if positional:
            found = output[index] if index < len(output) else None
        elif src.number is not None:
            candidates = by_number.get(src.number, [])
            found = next((c for c in candidates if c.question == src.question and id(c) not in used),
                         next((c for c in candidates if id(c) not in used), None))
        else:
            found = unnumbered[u] if u < len(unnumbered) else None
            u += 1
        if found is None:
            problems.append(Problem(src.number, qtext, "missing", ""))
            continue
        used.add(id(found))
        if found.question != src.question:
            problems.append(Problem(src.number, qtext, "question changed", word_diff(src.question, found.question)))
        elif found.answer != src.answer:
            problems.append(Problem(src.number, qtext, "answer changed", word_diff(src.answer, found.answer)))
        else:
            verified += 1
    extra = tuple(it.number for it in output if id(it) not in used)
    return Verification(output_name, source_name, len(source), verified, tuple(problems), extra)


def verify(output_data: bytes, output_name: str, source_doc: Document, source_name: str) -> Verification:
    """Verify an output file's items against a source document."""
    output = read_output(output_data, output_name)
    src_items = items_of(source_doc)
    questions = [model.plain_text(it.question) for it in source_doc.items()]
    return compare(src_items, output, questions, output_name, source_name)
