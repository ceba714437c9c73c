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
    """Apply ``fn`` to every block sequence, innermost first: list items and quotes, then ``blocks``.

    Unchanged nodes are kept as the same objects (and an unchanged sequence is returned as is),
    so a pass that finds nothing to do costs a walk, not a copy.
    """
    inner: list[Block] = []
    changed = False
    for b in blocks:
        nb: Block = b
        if isinstance(b, (BulletList, OrderedList)):
            items = []
            for li in b.items:
                inner_blocks = map_sequences(li.blocks, fn)
                items.append(li if inner_blocks is li.blocks else ListItem(inner_blocks))
            if any(a is not c for a, c in zip(items, b.items)):
                nb = replace(b, items=tuple(items))
        elif isinstance(b, Quote):
            inner_blocks = map_sequences(b.blocks, fn)
            if inner_blocks is not b.blocks:
                nb = Quote(inner_blocks)
        changed = changed or nb is not b
        inner.append(nb)
    seq = tuple(inner) if changed else blocks
    out = fn(seq)
    if len(out) == len(seq) and all(a is c for a, c in zip(out, seq)):
        return seq
    return out


def on_answer(item: Item, fn: BlockSeqFn) -> Item:
    """The item with ``fn`` applied to every block sequence of its answer."""
    answer = map_sequences(item.answer, fn)
    return item if answer is item.answer else replace(item, answer=answer)


TextFn = Callable[[str], str]


def map_text(item: Item, fn: TextFn) -> Item:
    """The item with ``fn`` applied to every plain text run (not code, not formulas)."""

    def inl(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
        out: list[Inline] = []
        changed = False
        for n in nodes:
            m: Inline = n
            if isinstance(n, Text):
                text = fn(n.text)
                if text != n.text:
                    m = Text(text)
            elif isinstance(n, (Strong, Emphasis, Link)):
                kids = inl(n.children)
                if kids is not n.children:
                    m = replace(n, children=kids)
            changed = changed or m is not n
            out.append(m)
        return tuple(out) if changed else nodes

    def blk(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out: list[Block] = []
        changed = False
        for b in blocks:
            nb: Block = b
            if isinstance(b, Paragraph):
                inlines = inl(b.inlines)
                if inlines is not b.inlines:
                    nb = Paragraph(inlines)
            elif isinstance(b, (BulletList, OrderedList)):
                items = []
                for li in b.items:
                    inner = blk(li.blocks)
                    items.append(li if inner is li.blocks else ListItem(inner))
                if any(a is not c for a, c in zip(items, b.items)):
                    nb = replace(b, items=tuple(items))
            elif isinstance(b, Quote):
                inner = blk(b.blocks)
                if inner is not b.blocks:
                    nb = Quote(inner)
            elif isinstance(b, Table):
                header = tuple(inl(c) for c in b.header)
                rows = tuple(tuple(inl(c) for c in row) for row in b.rows)
                if header != b.header or rows != b.rows:
                    nb = Table(header, rows)
            changed = changed or nb is not b
            out.append(nb)
        return tuple(out) if changed else blocks

    question = inl(item.question)
    answer = blk(item.answer)
    if question is item.question and answer is item.answer:
        return item
    return replace(item, question=question, answer=answer)
