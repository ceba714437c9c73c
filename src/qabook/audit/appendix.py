"""The review as a last chapter of the document (``qabook convert --audit-appendix``).

The chapter is built from model nodes, so any writer can show it: a section "Review" whose
entries are the review's topics (numbering, repeated questions, differences between renditions,
unanswered items, skipped chat). Every mention of an item is a link to it: a :class:`Link` whose
target is ``#item-K`` points to the K-th item of the document (1-based, in document order); the
DOCX writer turns it into a jump to that question's heading.
"""

from __future__ import annotations

from qabook.audit.check import Review
from qabook.model import (
    Block,
    BulletList,
    Code,
    Document,
    Inline,
    Item,
    Link,
    ListItem,
    Paragraph,
    Section,
    Strong,
    Text,
)

TITLE = "Review"


def item_link(index: int, label: str) -> Link:
    """A link to the ``index``-th item (1-based) of the document."""
    return Link(f"#item-{index}", (Text(label),))


def _entry(question: str, blocks: list[Block]) -> Item:
    return Item(None, (Text(question),), tuple(blocks) or (Paragraph((Text("Nothing to report."),)),))


def appendix(doc: Document, review: Review) -> Section:
    """The review of ``doc`` as a section of entries with links to the items they name."""
    index: dict[int, int] = {}
    for k, it in enumerate(doc.items(), start=1):
        if it.number is not None:
            index.setdefault(it.number, k)

    def ref(number: int | None) -> Inline:
        if number is not None and number in index:
            return item_link(index[number], f"Q{number}")
        return Text("Q?" if number is None else f"Q{number}")

    def refs(numbers: tuple[int | None, ...]) -> list[Inline]:
        out: list[Inline] = []
        for n in numbers:
            if out:
                out.append(Text(", "))
            out.append(ref(n))
        return out

    entries: list[Item] = []

    numbering: list[Block] = []
    for c in review.coverage:
        span = "no numbers" if c.first is None else f"{c.first}–{c.last}"
        state = "complete" if c.complete else "incomplete"
        line: list[Inline] = [Text(f"Rendition {c.rendition}: {c.items} items, {span}, {state}.")]
        for label, numbers in (("missing", c.gaps), ("repeated", c.repeats), ("out of order", c.out_of_order)):
            if numbers:
                line += [Text(f" {label.capitalize()}: "), Text(", ".join(f"Q{n}" for n in numbers)), Text(".")]
        numbering.append(Paragraph(tuple(line)))
    for m in review.missing_headings:
        numbering.append(Paragraph((Text(f"No batch heading before items {m.first}–{m.last} "
                                         f"(rendition {m.rendition}, line {m.line})."),)))
    entries.append(_entry("Numbering", numbering))

    groups = [ListItem((Paragraph(tuple(refs(g.numbers)) + (
        Text(f": {g.questions[0]} ({g.kind}; answers {g.answer_similarity}% alike)"),)),))
        for g in review.duplicates]
    entries.append(_entry(f"Questions asked more than once ({len(review.duplicates)} groups)",
                          [BulletList(tuple(groups))] if groups else []))

    diffs: list[ListItem] = []
    for d in review.differences:
        hunks = [ListItem((Paragraph((
            Text(f"… {h.before} "), Strong((Text("earliest: "),)), Code(h.earliest or "∅"),
            Text(" / "), Strong((Text(f"rendition {d.rendition}: "),)), Code(h.other or "∅"),
            Text(f" {h.after} …"))),)) for h in d.hunks]
        head = Paragraph((ref(d.number), Text(f" {d.question}")))
        diffs.append(ListItem((head, BulletList(tuple(hunks))) if hunks else (head,)))
    entries.append(_entry(f"Where the renditions differ in words ({len(review.differences)} items)",
                          [Paragraph((Text("The document keeps the earliest rendition of these items."),)),
                           BulletList(tuple(diffs))] if diffs else []))

    if review.unanswered:
        entries.append(_entry(f"Unanswered ({len(review.unanswered)})", [BulletList(tuple(
            ListItem((Paragraph((ref(n), Text(f" {q}"))),)) for n, q in review.unanswered))]))
    if review.skipped:
        entries.append(_entry("Skipped as chat", [BulletList(tuple(
            ListItem((Paragraph((Text(f"{n} × {kind}"),)),)) for kind, n in review.skipped))]))
    return Section(TITLE, tuple(entries), synthesized=True)


def with_appendix(doc: Document, review: Review) -> Document:
    """``doc`` with the review as its last section."""
    return Document(doc.title, doc.source, doc.sections + (appendix(doc, review),), doc.meta)
