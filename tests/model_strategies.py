"""Hypothesis strategies for qabook's document model, for property-based tests of the writers.

The models are the ones qabook's readers make: text without control characters, words separated by
single spaces (Markdown joins runs of space and trims a paragraph's edges, so a model with edge
spaces cannot round-trip by construction), bold, italic and links with a space on either side
(CommonMark cannot write every bold run glued to a word: in ``**`x`**y`` the closing ``**`` follows
punctuation and precedes a letter, so it closes nothing), lists nested a few levels (an item may start with any block), code, formulas written with a small
TeX alphabet that every format shows the same way, tables and rules anywhere; neighbouring sections
may share a title.

The composite strategies are cached per argument (``functools.cache``), so hypothesis builds and
validates each once instead of on every draw.
"""

from __future__ import annotations

import functools
import string

from hypothesis import strategies as st

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

LETTERS = string.ascii_letters + string.digits + "àéüßçñøπλЖж漢字한"
PUNCTUATION = "*_`$<>[]~|#+-=.!?()&;:'\"/\\%@^{},"

word = st.text(LETTERS, min_size=1, max_size=8)
"""A word of letters and digits."""
symbol = st.text(PUNCTUATION, min_size=1, max_size=3)
"""Markdown's special characters, which the writer must escape."""
token = st.one_of(word, word, word, symbol)
words = st.lists(token, min_size=1, max_size=8).map(" ".join)
"""Words separated by single spaces, no space at either end."""

# TeX that shows the same symbols as TeX source, as a Word equation and as MathML
_ATOMS = ["x", "y", "n", "a", "b", "2", "10", "\\alpha", "\\beta", "\\pi", "\\sigma", "\\mu"]
_OPERATORS = ["+", "-", "=", "<", ">", "\\cdot", "\\times", "\\leq"]


@functools.cache
@st.composite
def tex(draw: st.DrawFn, depth: int = 2) -> str:
    """A formula from a small TeX alphabet: atoms, operators, sub/superscripts, fractions, roots."""
    parts = []
    for i in range(draw(st.integers(1, 4))):
        if i:
            parts.append(draw(st.sampled_from(_OPERATORS)))
        kind = draw(st.integers(0, 5 if depth else 1))
        atom = draw(st.sampled_from(_ATOMS))
        if kind <= 1:
            parts.append(atom)
        elif kind == 2:
            parts.append(f"{atom}^{{{draw(tex(depth - 1))}}}")
        elif kind == 3:
            parts.append(f"{atom}_{{{draw(st.sampled_from(_ATOMS))}}}")
        elif kind == 4:
            parts.append(f"\\frac{{{draw(tex(depth - 1))}}}{{{draw(tex(depth - 1))}}}")
        else:
            parts.append(f"\\sqrt{{{draw(tex(depth - 1))}}}")
    return " ".join(parts)


code_text = st.text(string.ascii_letters + string.digits + " ()[]{}=+-*/<>_.,;:'\"#$%&|\\`~!?",
                    min_size=1, max_size=20).map(str.strip).filter(bool).filter(lambda t: "`" not in (t[0], t[-1]))
url = st.builds(lambda a, b: f"https://{a}.example/{b}", st.text(string.ascii_lowercase, min_size=1, max_size=6),
                st.text(string.ascii_lowercase + string.digits + "-_", max_size=8))


def _spaced(parts: list[Inline]) -> tuple[Inline, ...]:
    """Inlines with a single space between neighbours (merged into the text beside it)."""
    out: list[Inline] = []
    for p in parts:
        if out:
            if isinstance(out[-1], Text):
                out[-1] = Text(out[-1].text + " ")
            elif isinstance(p, Text):
                p = Text(" " + p.text)
            else:
                out.append(Text(" "))
        if isinstance(p, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + p.text)
        else:
            out.append(p)
    return tuple(out)


@functools.cache
@st.composite
def inlines(draw: st.DrawFn, depth: int = 2, breaks: bool = True) -> tuple[Inline, ...]:
    """A run of inlines as a paragraph holds them (lines joined by hard line breaks)."""
    lines: list[list[Inline]] = [[]]
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.integers(0, 9 if depth else 4))
        if kind <= 2:
            lines[-1].append(Text(draw(words)))
        elif kind == 3:
            lines[-1].append(Code(draw(code_text)))
        elif kind == 4:
            lines[-1].append(Math(draw(tex())))
        elif kind == 5:
            lines[-1].append(Strong(draw(_plain_inlines())))
        elif kind == 6:
            lines[-1].append(Emphasis(draw(_plain_inlines())))
        elif kind == 7:
            lines[-1].append(Link(draw(url), (Text(draw(words)),)))
        elif kind == 8 and breaks and lines[-1]:
            lines.append([])
        else:
            lines[-1].append(Text(draw(words)))
    out: list[Inline] = []
    for line in (ln for ln in lines if ln):
        if out:
            out.append(LineBreak())
        out.extend(_spaced(line))
    return tuple(out)


@functools.cache
@st.composite
def _plain_inlines(draw: st.DrawFn) -> tuple[Inline, ...]:
    """Inside bold or italic: text, code and formulas."""
    parts: list[Inline] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 3))
        if kind <= 1:
            parts.append(Text(draw(st.lists(word, min_size=1, max_size=4).map(" ".join))))
        elif kind == 2:
            parts.append(Code(draw(code_text)))
        else:
            parts.append(Math(draw(tex(1))))
    return _spaced(parts)


@functools.cache
@st.composite
def blocks(draw: st.DrawFn, depth: int = 3) -> tuple[Block, ...]:
    """An answer: paragraphs, lists (nested), code, formulas, quotes, tables and rules."""
    out: list[Block] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 9 if depth else 3))
        if kind <= 2:
            out.append(Paragraph(draw(inlines())))
        elif kind == 3:
            lines = draw(st.lists(st.text(string.printable.replace("\r", "").replace("\x0b", "").replace(
                "\x0c", "").replace("\n", ""), max_size=30).map(str.rstrip), min_size=1, max_size=4))
            if not "".join(lines).strip():
                lines = ["pass"]
            while not lines[0].strip():
                lines.pop(0)
            while not lines[-1].strip():
                lines.pop()
            out.append(CodeBlock("\n".join(lines), draw(st.sampled_from(["", "python", "bash", "c++"]))))
        elif kind == 4:
            out.append(MathBlock(draw(tex())))
        elif kind in (5, 6):
            items = tuple(ListItem(draw(_item_blocks(depth - 1))) for _ in range(draw(st.integers(1, 3))))
            out.append(BulletList(items) if kind == 5 else OrderedList(items, draw(st.integers(0, 99))))
        elif kind == 7:
            out.append(Quote(draw(blocks(depth - 1))))
        elif kind == 8:
            width = draw(st.integers(1, 3))
            cell = inlines(0, breaks=False)
            header = tuple(draw(cell) for _ in range(width))
            rows = tuple(tuple(draw(cell) for _ in range(width)) for _ in range(draw(st.integers(0, 3))))
            out.append(Table(header, rows))
        else:
            out.append(Rule())
    return tuple(out)


@functools.cache
@st.composite
def _item_blocks(draw: st.DrawFn, depth: int) -> tuple[Block, ...]:
    """A list item: mostly a paragraph first (as Markdown lists mostly are), then maybe more blocks;
    now and then any blocks (a rule, code, a table or another list first)."""
    choice = draw(st.integers(0, 5)) if depth else 0
    if choice == 5:
        return draw(blocks(depth))
    first: tuple[Block, ...] = (Paragraph(draw(inlines(1))),)
    return first + draw(blocks(depth)) if choice >= 3 else first


@functools.cache
@st.composite
def items(draw: st.DrawFn, number: int | None) -> Item:
    question = draw(inlines(1, breaks=False))
    answered = draw(st.integers(0, 9)) > 0
    return Item(number, question, draw(blocks()) if answered else (), "answered" if answered else "unanswered")


@functools.cache
@st.composite
def documents(draw: st.DrawFn) -> Document:
    """A collection: a few sections of numbered (or unnumbered) items."""
    numbered = draw(st.booleans())
    sections: list[Section] = []
    n = draw(st.integers(1, 50))
    for _ in range(draw(st.integers(1, 3))):
        its = []
        for _ in range(draw(st.integers(1, 3))):
            its.append(draw(items(n if numbered else None)))
            n += 1
        title = draw(words)
        sections.append(Section(title, tuple(its)))
    return Document(draw(words), "generated.txt", tuple(sections))
