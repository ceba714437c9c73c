""""Label: text" lines become list items with a bold label.

A rendered answer's bullet list ("• **Core idea:** …") loses its bullets and bold in a plain-text
copy, leaving one paragraph per line::

    Core idea: Instead of …            - **Core idea:** Instead of …
    Structure:                         - **Structure:**
    Both are stacks of:        ->      - **Both are stacks of:**
    Multi-Head Attention                 - Multi-Head Attention
    Feedforward networks                 - Feedforward networks
    Formula:                           - **Formula:**
    $$y = x + f(x)$$                     $$y = x + f(x)$$

A *label paragraph* starts with a short label (at most four words outside parentheses, starting
with a capital or digit) and a colon. Consecutive label paragraphs form one list. A label with no
text after the colon takes the blocks that follow it, up to the next label, as its content:
several short lines become a nested list, code and formulas stay blocks under it. Only structure
changes; every word stays where it was.
"""

from __future__ import annotations

import re
from dataclasses import replace

from qabook.model import (
    Block,
    BulletList,
    CodeBlock,
    Inline,
    Item,
    ListItem,
    MathBlock,
    OrderedList,
    Paragraph,
    Strong,
    Text,
)
from qabook.repair.base import PassContext

NAME = "labels"

_LABEL_RE = re.compile(r"^(?P<label>[A-Z0-9][^:\n$`*]{0,58}?):(?P<rest>(?:\s.*)?)$", re.DOTALL)
_PARENS_RE = re.compile(r"\([^)]*\)")


def _label(b: Block) -> tuple[str, tuple[Inline, ...]] | None:
    """(label, inlines after the colon) for a label paragraph, else None."""
    if not isinstance(b, Paragraph) or not b.inlines or not isinstance(b.inlines[0], Text):
        return None
    first = b.inlines[0].text
    m = _LABEL_RE.match(first)
    if not m:
        return None
    label = m.group("label")
    if "http" in label.lower() or len(_PARENS_RE.sub("", label).split()) > 4:
        return None
    rest_text = m.group("rest").lstrip()
    more = b.inlines[1:]
    # the space after the colon stays, also when code or a formula comes next
    lead: tuple[Inline, ...] = (Text(" " + rest_text),) if rest_text or more else ()
    rest: tuple[Inline, ...] = lead + more
    return label, rest


def _is_short_line(b: Block) -> bool:
    if not isinstance(b, Paragraph):
        return False
    text = "".join(n.text for n in b.inlines if isinstance(n, Text))
    return len(text) <= 160


def _content(children: list[Block]) -> list[Block]:
    """A label's following blocks: runs of two or more short lines become a nested list."""
    out: list[Block] = []
    run: list[Block] = []

    def flush() -> None:
        if len(run) >= 2:
            out.append(BulletList(tuple(ListItem((p,)) for p in run)))
        else:
            out.extend(run)
        run.clear()

    for b in children:
        if _is_short_line(b):
            run.append(b)
        else:
            flush()
            out.append(b)
    flush()
    return out


def _absorbable(b: Block) -> bool:
    return isinstance(b, (Paragraph, CodeBlock, MathBlock, BulletList, OrderedList))


def run(item: Item, ctx: PassContext) -> Item:
    blocks = item.answer
    out: list[Block] = []
    entries: list[ListItem] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        lab = _label(b)
        if lab is None:
            if entries:
                out.append(BulletList(tuple(entries)))
                entries = []
            out.append(b)
            i += 1
            continue
        label, rest = lab
        head = Paragraph((Strong((Text(label + ":"),)),) + rest)
        i += 1
        children: list[Block] = []
        if not rest:
            while i < len(blocks) and _label(blocks[i]) is None and _absorbable(blocks[i]):
                children.append(blocks[i])
                i += 1
        entries.append(ListItem((head, *_content(children))))
        ctx.count += 1
    if entries:
        out.append(BulletList(tuple(entries)))
    return item if tuple(out) == item.answer else replace(item, answer=tuple(out))
