"""The context a repair pass reports into, and helpers to walk an item's blocks."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from qabook.model import (
    Block, BulletList, Emphasis, Inline, Item, Link, ListItem, OrderedList, Paragraph, Quote,
    Strong, Table, Text,
)

BlockSeqFn = Callable[[tuple[Block, ...]], tuple[Block, ...]]


@dataclass
class PassContext:
    """What one pass reports while it runs over a document."""

    count: int = 0
    notes: list[str] = field(default_factory=list)
    item: Item | None = None

    def note(self, message: str) -> None:
        """Record a remark about the current item."""
        where = f"Q{self.item.number}" if self.item is not None and self.item.number is not None else "item"
        rendition = self.item.origin.rendition if self.item is not None else 1
        suffix = f" (rendition {rendition})" if rendition > 1 else ""
        self.notes.append(f"{where}{suffix}: {message}")



def map_sequences(blocks: tuple[Block, ...], fn: BlockSeqFn) -> tuple[Block, ...]:
    """Apply ``fn`` to every block sequence, innermost first: list items and quotes, then ``blocks``."""
    inner: list[Block] = []
    for b in blocks:
        if isinstance(b, (BulletList, OrderedList)):
            b = replace(b, items=tuple(ListItem(map_sequences(li.blocks, fn)) for li in b.items))
        elif isinstance(b, Quote):
            b = Quote(map_sequences(b.blocks, fn))
        inner.append(b)
    return fn(tuple(inner))


def on_answer(item: Item, fn: BlockSeqFn) -> Item:
    """The item with ``fn`` applied to every block sequence of its answer."""
    answer = map_sequences(item.answer, fn)
    return item if answer == item.answer else replace(item, answer=answer)


TextFn = Callable[[str], str]


def map_text(item: Item, fn: TextFn) -> Item:
    """The item with ``fn`` applied to every plain text run (not code, not formulas)."""

    def inl(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
        out: list[Inline] = []
        for n in nodes:
            if isinstance(n, Text):
                n = Text(fn(n.text))
            elif isinstance(n, (Strong, Emphasis, Link)):
                n = replace(n, children=inl(n.children))
            out.append(n)
        return tuple(out)

    def blk(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out: list[Block] = []
        for b in blocks:
            if isinstance(b, Paragraph):
                b = Paragraph(inl(b.inlines))
            elif isinstance(b, (BulletList, OrderedList)):
                b = replace(b, items=tuple(ListItem(blk(li.blocks)) for li in b.items))
            elif isinstance(b, Quote):
                b = Quote(blk(b.blocks))
            elif isinstance(b, Table):
                b = Table(tuple(inl(c) for c in b.header),
                          tuple(tuple(inl(c) for c in row) for row in b.rows))
            out.append(b)
        return tuple(out)

    question = inl(item.question)
    answer = blk(item.answer)
    if question == item.question and answer == item.answer:
        return item
    return replace(item, question=question, answer=answer)
