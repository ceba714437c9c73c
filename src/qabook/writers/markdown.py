"""Markdown (CommonMark + GFM tables, ``$…$`` / ``$$…$$`` math), each question a heading.

Layout (after a first-line comment naming it)::

    # Title
    ## Section
    ### 12. Question
    answer blocks

Text is escaped just enough that the file parses back into the same model (qabook reads it with
:mod:`qabook.readers.markdown`): characters that would open emphasis, code, math, links or HTML,
and line starts that would open a block. Nothing is hard-wrapped.
"""

from __future__ import annotations

import re
import typing
from typing import BinaryIO, Iterable, Iterator

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

NAME = "markdown"
EXTENSIONS = (".md", ".markdown")

_ESCAPE_RE = re.compile(r"([\\`*$<>\[\]~|])")
_UNDERSCORE_RE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BLOCK_START_RE = re.compile(r"^(\s*)([#+=-])")
_NUMBER_START_RE = re.compile(r"^(\s*\d{1,9})([.)])")
_ENTITY_RE = re.compile(r"&(?=#?\w+;)")


def escape(text: str, line_start: bool) -> str:
    """Escape plain text so Markdown reads it back as the same text."""
    out = _ESCAPE_RE.sub(r"\\\1", text)
    out = _UNDERSCORE_RE.sub(r"\\_", out)
    out = _ENTITY_RE.sub("&amp;", out)
    if line_start:
        out = _BLOCK_START_RE.sub(r"\1\\\2", out, count=1)
        out = _NUMBER_START_RE.sub(r"\1\\\2", out, count=1)
    return out


def _code_span(text: str) -> str:
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inlines(nodes: typing.Iterable[Inline], line_start: bool = True, in_heading: bool = False,
            in_cell: bool = False) -> str:
    """Markdown for a run of inlines (``in_cell``: in a table cell, where every ``|`` needs escaping,
    in code spans and formulas too)."""
    parts: list[str] = []
    start = line_start  # at the start of a Markdown line (also after a hard line break)
    for node in nodes:
        at_start, start = start, False
        match node:
            case Text(text=t):
                # a newline inside text would start a new Markdown line: escape that line's start
                # too (in a heading, where a line cannot break, it becomes a space)
                lines = t.split("\n")
                parts.append((" " if in_heading else "\n").join(
                    escape(ln, at_start if i == 0 else not in_heading) for i, ln in enumerate(lines)))
            case Strong(children=c):
                parts.append("**" + inlines(c, False, in_heading, in_cell) + "**")
            case Emphasis(children=c):
                parts.append("*" + inlines(c, False, in_heading, in_cell) + "*")
            case Code(text=t):  # a line end in a code span reads as a space, and a line of it could start a block
                parts.append(_pipes(_code_span(t.replace("\n", " ")), in_cell))
            case Math(tex=t):
                parts.append(_pipes("$" + (t.replace("\n", " ") if in_heading or _breaks_out(t) else t) + "$",
                                    in_cell))
            case Link(target=target, children=c):
                parts.append("[" + inlines(c, False, in_heading, in_cell) + "](<"
                             + _pipes(_destination(target), in_cell) + ">)")
            case LineBreak():
                parts.append(" " if in_heading else "\\\n")
                start = not in_heading
            case _:
                typing.assert_never(node)
    return "".join(parts)


_BLOCK_LINE_RE = re.compile(r"\n[ \t]*(?:$|[-+*#>|=<`~_]|\d{1,9}[.)])", re.M)


def _breaks_out(tex: str) -> bool:
    """Whether a line of an inline formula would start a block of its own (a list, a heading, a
    quote, a fence, a table row, or a blank line ending the paragraph): then its line ends are
    written as spaces, which TeX reads the same."""
    return _BLOCK_LINE_RE.search(tex) is not None


def _destination(target: str) -> str:
    """A link target as the inside of ``<…>``, which may hold no unescaped ``<``, ``>`` or line end."""
    return re.sub(r"([\\<>])", r"\\\1", target).replace("\r", " ").replace("\n", " ")


def _pipes(markdown: str, in_cell: bool) -> str:
    return markdown.replace("|", "\\|") if in_cell else markdown


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join([first + lines[0]] + [(rest + ln) if ln else "" for ln in lines[1:]])


_THEMATIC_BREAK_RE = re.compile(r"^ {0,3}([-*_])[ \t]*(?:\1[ \t]*){2,}$")


def _list(items: tuple[ListItem, ...], marker: typing.Callable[[int], str]) -> str:
    tight = all(len(li.blocks) <= 1 and all(isinstance(b, Paragraph) for b in li.blocks) for li in items)

    def render(marker: typing.Callable[[int], str]) -> list[str]:
        out: list[str] = []
        for n, li in enumerate(items):
            m = marker(n)
            body = blocks(li.blocks) if li.blocks else ""
            if m == "- " and isinstance(li.blocks[0] if li.blocks else None, Rule):
                body = "***" + body[3:]  # '- ---' is one rule, not an item holding a rule
            out.append(_indent(body, m, " " * len(m)) if body else m.rstrip())
        return out

    out = render(marker)
    if any(_THEMATIC_BREAK_RE.match(o.split("\n", 1)[0]) for o in out):
        out = render(lambda n: "* ")  # '- - -' (items holding empty items) is a rule too; '* - -' is not
    return ("\n" if tight else "\n\n").join(out)


def block(b: Block) -> str:
    """Markdown for one block."""
    match b:
        case Paragraph(inlines=i):
            return inlines(i)
        case BulletList(items=items):
            return _list(items, lambda n: "- ")
        case OrderedList(items=items, start=start):
            return _list(items, lambda n: f"{start + n}. ")
        case CodeBlock(text=t, language=lang):
            longest = max((len(r) for r in re.findall(r"^\s*(`{3,})", t, re.M)), default=2)
            fence = "`" * max(3, longest + 1)
            return f"{fence}{lang}\n{t}\n{fence}"
        case MathBlock(tex=t):
            return f"$$\n{t}\n$$" if "\n" in t else f"$${t}$$"
        case Quote(blocks=inner):
            body = blocks(inner)
            return "\n".join("> " + ln if ln else ">" for ln in body.split("\n"))
        case Table(header=header, rows=rows):
            width = max([len(header)] + [len(r) for r in rows])

            def row(cells: tuple[tuple[Inline, ...], ...]) -> str:
                cells_md = [inlines(c, False, in_cell=True).replace("\n", " ") for c in cells]
                cells_md += [""] * (width - len(cells_md))
                return "| " + " | ".join(cells_md) + " |"

            lines = [row(header), "|" + "|".join(["---"] * width) + "|"] + [row(r) for r in rows]
            return "\n".join(lines)
        case Rule():
            return "---"
        case _:
            typing.assert_never(b)


def blocks(bs: typing.Iterable[Block]) -> str:
    """Markdown for a sequence of blocks, separated by blank lines."""
    out: list[str] = []
    prev: Block | None = None
    for b in bs:
        if isinstance(prev, (BulletList, OrderedList)) and type(prev) is type(b):
            out.append("<!-- -->")  # keeps two neighbouring lists of one kind apart
        out.append(block(b))
        prev = b
    return "\n\n".join(out)


def _closing_safe(text: str) -> str:
    """A heading's text whose last ``#`` run is escaped when Markdown would read it as the heading's
    optional closing sequence (``# C #`` is the heading "C")."""
    stripped = text.rstrip(" \t")
    bare = stripped.rstrip("#")
    if bare != stripped and (not bare or bare[-1] in " \t"):
        return bare + "\\" + stripped[len(bare):]
    return text


def _heading(item: Item) -> str:
    text = _closing_safe(inlines(item.question, line_start=False, in_heading=True))
    if item.number is not None:
        return f"### {item.number}. {text}"
    if re.match(r"^\d{1,9}[.)]", text):
        text = re.sub(r"^(\d{1,9})([.)])", r"\1\\\2", text)
    return f"### {text}" if text else "###"


SIGNATURE = "<!-- qabook markdown: # title, ## sections, ### numbered questions -->"
"""First line of every file this writer produces: an invisible comment that tells qabook's reader
the layout is exactly this writer's, so it can read it without a full parse of the document."""


def _one_line(title: str) -> str:
    """A title on one line (a heading cannot break)."""
    return " ".join(title.split("\n"))


def render(doc: Document) -> str:
    """The whole document as Markdown text."""
    return "".join(_pieces(doc, doc.sections))


def _pieces(head: Document, sections: Iterable[Section]) -> Iterator[str]:
    """The text of the document, one section at a time (each piece ends with its newline)."""
    yield f"{SIGNATURE}\n\n# {_closing_safe(escape(_one_line(head.title), False))}\n"
    for section in sections:
        parts = [f"\n## {_closing_safe(escape(_one_line(section.title), False))}\n"]
        for item in section.items:
            parts.append(f"\n{_heading(item)}\n")
            if item.answer:
                parts.append(f"\n{blocks(item.answer)}\n")
        yield "".join(parts)


def write(doc: Document, out: BinaryIO) -> None:
    """Write the document as UTF-8 Markdown."""
    write_stream(doc, doc.sections, out)


def write_stream(head: Document, sections: Iterable[Section], out: BinaryIO) -> list[str]:
    """Write ``head``'s title and ``sections`` taken one at a time, as :func:`write` does for a
    whole document, without holding them all. Nothing is lost in Markdown: no warnings."""
    for piece in _pieces(head, sections):
        out.write(piece.encode("utf-8"))
    return []
