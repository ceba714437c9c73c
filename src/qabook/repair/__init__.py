"""Repair passes for copy and export damage.

Each pass is a small, named function over one item, registered in :data:`PASSES` in the order
they run. A pass counts what it fixed and may leave notes (for instance where it saw damage but
could not fix it without losing a word: then it leaves the text alone and says so). Passes are
pure: they take the model and return a new one; the source text is never consulted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import ModuleType
from typing import Callable

from qabook.model import Document, Item, Section
from qabook.repair import code_labels, empty_items, labels, math_copies, split_code, tex_symbols
from qabook.repair.base import PassContext


@dataclass(frozen=True, slots=True)
class RepairPass:
    """A registered pass: its name, what it does, and the function over one item."""

    name: str
    description: str
    run: Callable[[Item, PassContext], Item]


@dataclass(frozen=True, slots=True)
class RepairResult:
    """What a pass did to a whole document."""

    name: str
    description: str
    count: int
    notes: tuple[str, ...]


def _pass(module: ModuleType) -> RepairPass:
    doc = (module.__doc__ or "").strip().split("\n")[0].replace("``", "")
    return RepairPass(module.NAME, doc, module.run)


PASSES: tuple[RepairPass, ...] = tuple(
    _pass(m) for m in (math_copies, tex_symbols, split_code, code_labels, empty_items, labels)
)
"""Every pass, in the order they run."""


def repair(doc: Document, skip: frozenset[str] = frozenset()) -> tuple[Document, tuple[RepairResult, ...]]:
    """Run every pass (except those named in ``skip``) over every item."""
    results: list[RepairResult] = []
    for p in PASSES:
        if p.name in skip:
            continue
        ctx = PassContext()
        sections: list[Section] = []
        for section in doc.sections:
            items: list[Item] = []
            for item in section.items:
                ctx.item = item
                items.append(p.run(item, ctx))
            sections.append(replace(section, items=tuple(items)))
        doc = replace(doc, sections=tuple(sections))
        results.append(RepairResult(p.name, p.description, ctx.count, tuple(ctx.notes)))
    return doc, tuple(results)
