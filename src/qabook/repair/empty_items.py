"""Orphan list markers (a line holding only "-") removed.

Re-rendered Markdown often ends a list with a bare marker line, which parses as an empty item::

    - **Idea:** cache results          - **Idea:** cache results
    -                           ->

An item with no content carries no word, so removing it loses nothing; a list left empty goes too.
"""

from __future__ import annotations

from dataclasses import replace

from qabook.model import Block, BulletList, Item, OrderedList
from qabook.repair.base import PassContext, on_answer

NAME = "empty-items"


def run(item: Item, ctx: PassContext) -> Item:
    def fix(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out: list[Block] = []
        for b in blocks:
            if isinstance(b, (BulletList, OrderedList)):
                kept = tuple(li for li in b.items if li.blocks)
                ctx.count += len(b.items) - len(kept)
                if not kept:
                    continue
                if len(kept) != len(b.items):
                    b = replace(b, items=kept)
            out.append(b)
        return tuple(out)

    return on_answer(item, fix)
