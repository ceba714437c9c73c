r"""``qabook verify``: prove that an output file still holds every source item's words, in order.

An output is read back into items (number, question, answer) with a small reader per format:
DOCX (``word/document.xml``: a Heading 2 paragraph starts an item, the paragraphs after it are
its answer; title page, contents and notes are skipped), qabook Markdown, and qabook JSON. The
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
import unicodedata
import zipfile
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
    """Tokens of a run of inlines (text runs joined before splitting into words)."""
    pending: list[str] = []
    for node in inlines:
        match node:
            case Text(text=t) | Code(text=t):
                pending.append(t)
            case Strong(children=c) | Emphasis(children=c) | Link(children=c):
                yield from text_words("".join(pending))
                pending = []
                yield from inline_tokens(c)
            case Math(tex=t):
                yield from text_words("".join(pending))
                pending = []
                yield _formula_token(formula_glyphs(t))
            case LineBreak():
                pending.append(" ")
            case _:
                raise AssertionError(node)
    yield from text_words("".join(pending))


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

_HEADING_NUMBER = re.compile(r"^(\d{1,9})\.\s+(.*)$", re.DOTALL)


def _docx_paragraph_tokens(p: Any) -> tuple[list[str], str]:
    """(tokens, plain text) of one w:p, formulas as single tokens."""
    tokens: list[str] = []
    text: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        tokens.extend(text_words("".join(pending)))
        pending.clear()

    for el in p.iter(f"{W}r", f"{M}oMath", f"{W}tab", f"{W}br"):
        if el.tag == f"{M}oMath":
            flush()
            tokens.append(_formula_token(_glyphs("".join(t.text or "" for t in el.iter(f"{M}t")))))
            continue
        if el.tag in (f"{W}tab", f"{W}br"):
            pending.append(" ")
            continue
        if any(a.tag == f"{M}oMath" for a in el.iterancestors()):
            continue
        style = el.find(f"{W}rPr/{W}rStyle")
        run_text = "".join(t.text or "" for t in el.iter(f"{W}t"))
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
    except (zipfile.BadZipFile, KeyError) as exc:
        raise InputError(f"is not a readable DOCX file ({exc})") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"word/document.xml is not well-formed XML ({exc})") from None
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


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def read_output(data: bytes, name: str) -> list[ReadItem]:
    """Read back an output file by its content (DOCX, qabook Markdown or JSON)."""
    if data.startswith(b"PK\x03\x04"):
        return read_docx(data)
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
    for src, qtext in zip(source, source_questions):
        if src.number is not None:
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
