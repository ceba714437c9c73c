"""Find the formulas of a document and the ones that cannot be converted."""

from __future__ import annotations

import typing
from collections.abc import Iterator

from qabook.math.errors import MathError
from qabook.math.omml import tex_to_omml
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

__all__ = ["check_formulas", "formula_warning", "formula_warnings", "iter_formulas"]


def formula_warning(number: int | None, tex: str, reason: str) -> str:
    """The report's line for a formula that stays TeX: where, why, and its start."""
    where = f"Q{number}" if number is not None else "an item"
    short = tex if len(tex) <= 60 else tex[:57] + "…"
    return f"{where}: formula kept as TeX ({reason}): {short}"


def _inline_formulas(nodes: tuple[Inline, ...]) -> Iterator[tuple[str, bool]]:
    for node in nodes:
        match node:
            case Math(tex=tex):
                yield tex, False
            case Strong(children=c) | Emphasis(children=c) | Link(children=c):
                yield from _inline_formulas(c)
            case Text() | Code() | LineBreak():
                pass
            case _:
                typing.assert_never(node)


def _block_formulas(blocks: tuple[Block, ...]) -> Iterator[tuple[str, bool]]:
    for block in blocks:
        match block:
            case Paragraph(inlines=inlines):
                yield from _inline_formulas(inlines)
            case BulletList(items=items) | OrderedList(items=items):
                for item in items:
                    yield from _block_formulas(item.blocks)
            case MathBlock(tex=tex):
                yield tex, True
            case Quote(blocks=inner):
                yield from _block_formulas(inner)
            case Table(header=header, rows=rows):
                for cell in header:
                    yield from _inline_formulas(cell)
                for row in rows:
                    for cell in row:
                        yield from _inline_formulas(cell)
            case CodeBlock() | Rule():
                pass
            case _:
                typing.assert_never(block)


def iter_formulas(doc: Document) -> Iterator[tuple[int | None, str, bool]]:
    """``(item number, tex, display)`` for every formula, questions first, in document order."""
    for item in doc.items():
        for tex, display in _inline_formulas(item.question):
            yield item.number, tex, display
        for tex, display in _block_formulas(item.answer):
            yield item.number, tex, display


def check_formulas(doc: Document) -> list[tuple[int | None, str, str]]:
    """``(item number, tex, reason)`` for each formula that cannot be converted (empty: all can).

    A formula that fails here is written as its TeX (in the Math TeX style) by the DOCX writer.
    """
    failures: list[tuple[int | None, str, str]] = []
    for number, tex, display in iter_formulas(doc):
        try:
            tex_to_omml(tex, display)
        except MathError as exc:
            failures.append((number, tex, exc.reason))
    return failures


def formula_warnings(doc: Document) -> list[str]:
    """A warning per formula that a writer of equations keeps as TeX, with the reason."""
    return [formula_warning(number, tex, reason) for number, tex, reason in check_formulas(doc)]
