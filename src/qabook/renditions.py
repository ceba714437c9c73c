"""Renditions: the same numbered set appearing more than once, made into one collection.

A reader marks every item with the rendition it came from (1 = the first time the numbered set
appears in the source). Here the items that share a collection (a conversation, in an export), a
number *and* the same question words are grouped, one item per rendition (a question asked twice
in one rendition is two items); other repeats of a number are different questions and are all
kept. A source of one rendition is returned as it is.

``auto`` takes, per item, the best-structured rendition whose words equal the earliest
rendition's (see :mod:`qabook.words`); where a later rendition's words differ, the earliest is kept
and the item is listed, since the earliest is the closest to what the author wrote. ``first``,
``last`` or a rendition number choose by hand (an item missing from that rendition falls back to
its earliest). Sections follow the first rendition that has a real heading for each item.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from qabook.model import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    Emphasis,
    Inline,
    Item,
    Link,
    OrderedList,
    Paragraph,
    Quote,
    Section,
    Strong,
    Table,
)
from qabook.words import answer_words, question_words


@dataclass(frozen=True, slots=True)
class Difference:
    """An item whose later rendition does not have the earliest rendition's words."""

    number: int
    renditions: tuple[int, ...]
    """The renditions that differ from the earliest."""
    kept: int
    """The rendition kept."""


@dataclass(frozen=True, slots=True)
class RenditionReport:
    """What choosing among renditions did."""

    count: int
    """How many renditions the source holds."""
    mode: str
    items_per_rendition: tuple[int, ...]
    chosen_per_rendition: tuple[int, ...]
    differences: tuple[Difference, ...]
    warnings: tuple[str, ...]


class RenditionError(ValueError):
    """The requested rendition does not exist."""


def structure_score(item: Item) -> int:
    """How much structure an answer has.

    A list entry counts 1 (2 when numbered), bold text 1, a code block with a language 5, a table
    3. Nesting depth does not count: it is the part of structure a copy most often loses or that
    a repair had to infer.
    """

    def inl(nodes: tuple[Inline, ...]) -> int:
        score = 0
        for n in nodes:
            if isinstance(n, Strong):
                score += 1 + inl(n.children)
            elif isinstance(n, (Emphasis, Link)):
                score += inl(n.children)
        return score

    def blk(blocks: tuple[Block, ...]) -> int:
        score = 0
        for b in blocks:
            if isinstance(b, BulletList):
                score += sum(1 + blk(li.blocks) for li in b.items)
            elif isinstance(b, OrderedList):
                score += sum(2 + blk(li.blocks) for li in b.items)
            elif isinstance(b, Paragraph):
                score += inl(b.inlines)
            elif isinstance(b, CodeBlock):
                score += 5 if b.language else 0
            elif isinstance(b, Quote):
                score += blk(b.blocks)
            elif isinstance(b, Table):
                score += 3
        return score

    return blk(item.answer)


def _parse_mode(mode: str, count: int, strict: bool = True) -> int | None:
    """The rendition number a mode asks for (None for auto)."""
    if mode == "auto":
        return None
    if mode == "first":
        return 1
    if mode == "last":
        return count
    if mode.isdigit() and 1 <= int(mode) and (int(mode) <= count or not strict):
        return int(mode)
    raise RenditionError(
        f"no rendition {mode!r}: the source has {count} (use auto, first, last or 1–{count})"
    )


def _choose(occurrences: list[tuple[Item, Section]], wanted: int | None
            ) -> tuple[tuple[Item, Section], tuple[int, ...]]:
    """The occurrence to keep, and the renditions whose words differ from the earliest."""
    if len(occurrences) == 1:
        return occurrences[0], ()
    words = answer_words(occurrences[0][0])
    equal = [answer_words(it) == words for it, _ in occurrences]
    differ = tuple(p[0].origin.rendition for p, eq in zip(occurrences, equal) if not eq)
    if wanted is None:
        same = [p for p, eq in zip(occurrences, equal) if eq]
        return max(same, key=lambda p: structure_score(p[0])), differ  # max keeps the first of equals
    match = [p for p in occurrences if p[0].origin.rendition == wanted]
    return (match[0] if match else occurrences[0]), differ


def check_mode(mode: str, count: int) -> None:
    """Raise :class:`RenditionError` when ``mode`` names no rendition of a source of ``count``."""
    _parse_mode(mode, count)


class RenditionTally:
    """One report for a source resolved part by part (each part's report added as it comes)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.count = 1
        self.per: list[int] = [0]
        self.chosen: list[int] = [0]
        self.differences: list[Difference] = []
        self.warnings: list[str] = []

    def add(self, report: RenditionReport) -> None:
        """Count a part's report in."""
        if report.count > self.count:
            grow = report.count - self.count
            self.per += [0] * grow
            self.chosen += [0] * grow
            self.count = report.count
        for i, n in enumerate(report.items_per_rendition):
            self.per[i] += n
        for i, n in enumerate(report.chosen_per_rendition):
            self.chosen[i] += n
        self.differences.extend(report.differences)
        self.warnings.extend(report.warnings)

    def report(self) -> RenditionReport:
        """The report for everything added."""
        return RenditionReport(self.count, self.mode, tuple(self.per), tuple(self.chosen),
                               tuple(self.differences), tuple(self.warnings))


def resolve(doc: Document, mode: str = "auto", *, strict: bool = True) -> tuple[Document, RenditionReport]:
    """One collection from all renditions in ``doc``.

    ``strict=False`` is for a part of a source (a chunk of a stream): a rendition number beyond
    the part's own renditions is not an error there (its items fall back to their earliest); the
    caller checks the number against the whole source with :func:`check_mode`.
    """
    entries: list[tuple[Item, Section]] = [(it, s) for s in doc.sections for it in s.items]
    count = max((it.origin.rendition for it, _ in entries), default=1)
    wanted = _parse_mode(mode, count, strict)
    per_rendition = [0] * count
    for it, _ in entries:
        per_rendition[it.origin.rendition - 1] += 1

    if count == 1:  # one rendition: nothing to choose, every item stays where it is
        report = RenditionReport(1, mode, tuple(per_rendition), tuple(per_rendition), (), ())
        return doc, report

    # group occurrences: same number and same question words, one occurrence per rendition (a
    # question repeated inside one rendition is two items); unnumbered items stand alone
    groups: dict[tuple[int, int, tuple[str, ...]], list[list[tuple[Item, Section]]]] = {}
    ordered: list[list[tuple[Item, Section]]] = []
    for it, sec in entries:
        if it.number is None:
            ordered.append([(it, sec)])
            continue
        key = (it.origin.collection, it.number, question_words(it))
        rendition = it.origin.rendition
        candidates = groups.setdefault(key, [])
        group = next((g for g in candidates if all(o.origin.rendition != rendition for o, _ in g)), None)
        if group is None:
            group = []
            candidates.append(group)
            ordered.append(group)
        group.append((it, sec))

    chosen_per = [0] * count
    differences: list[Difference] = []
    warnings: list[str] = []
    picked: list[tuple[Item, str, bool]] = []
    for occurrences in ordered:
        choice, differ = _choose(occurrences, wanted)
        earliest = occurrences[0][0]
        if differ:
            differences.append(Difference(earliest.number or 0, differ, choice[0].origin.rendition))
        # the section heading: the first occurrence that sits under a real heading
        titled = next(((s.title, False) for _, s in occurrences if not s.synthesized),
                      (occurrences[0][1].title, True))
        picked.append((choice[0], titled[0], titled[1]))
        chosen_per[choice[0].origin.rendition - 1] += 1

    if count > 1:  # numbers that restart per section are normal; across renditions they are news
        seen_numbers = Counter(it.number for it, _, _ in picked if it.number is not None)
        for n in sorted(n for n, c in seen_numbers.items() if c > 1):
            warnings.append(f"Q{n} appears with different questions; each is kept as its own item")

    sections: list[Section] = []
    for it, title, synthesized in picked:
        if sections and sections[-1].title == title:
            last = sections[-1]
            sections[-1] = replace(last, items=last.items + (it,))
        else:
            sections.append(Section(title, (it,), synthesized=synthesized))

    report = RenditionReport(
        count=count,
        mode=mode,
        items_per_rendition=tuple(per_rendition),
        chosen_per_rendition=tuple(chosen_per),
        differences=tuple(differences),
        warnings=tuple(warnings),
    )
    return replace(doc, sections=tuple(sections)), report
