"""Choosing among renditions (qabook.renditions.resolve), on small models built by hand."""

from __future__ import annotations

from qabook.model import Document, Item, Origin, Paragraph, Section, Text
from qabook.renditions import resolve


def _item(number: int | None, question: str, answer: str, rendition: int = 1, collection: int = 0) -> Item:
    return Item(number, (Text(question),), (Paragraph((Text(answer),)),),
                origin=Origin(rendition, 0, 0, collection))


def _answers(doc: Document) -> list[str]:
    return [b.inlines[0].text for it in doc.items() for b in it.answer if isinstance(b, Paragraph)
            and isinstance(b.inlines[0], Text)]


def test_one_rendition_is_returned_unchanged() -> None:
    # adjacent sections of the same title and a question asked twice stay as they are
    doc = Document("t", "s", (
        Section("Basics", (_item(1, "What is X?", "first"),)),
        Section("Basics", (_item(1, "What is X?", "second"),)),
    ))
    out, report = resolve(doc)
    assert out is doc
    assert report.count == 1 and report.items_per_rendition == (2,) and report.chosen_per_rendition == (2,)


def test_a_question_repeated_inside_one_rendition_is_two_items() -> None:
    # rendition 1 asks Q1 twice (two sections restart their numbers); rendition 2 repeats both:
    # each occurrence pairs with its own counterpart, and no answer is lost
    doc = Document("t", "s", (
        Section("A", (_item(1, "What is X?", "a1"), _item(1, "What is X?", "b1"))),
        Section("B", (_item(1, "What is X?", "a2", 2), _item(1, "What is X?", "b2", 2))),
    ))
    out, report = resolve(doc)
    assert report.count == 2
    assert _answers(out) == ["a1", "b1"]
    assert report.chosen_per_rendition == (2, 0)
    assert [d.number for d in report.differences] == [1, 1]  # each pair differs in words


def test_equal_renditions_pick_one_item_each() -> None:
    doc = Document("t", "s", (
        Section("A", (_item(1, "Q one?", "same"), _item(2, "Q two?", "also"))),
        Section("A again", (_item(1, "Q one?", "same", 2), _item(2, "Q two?", "also", 2))),
    ))
    out, report = resolve(doc, "last")
    assert _answers(out) == ["same", "also"]
    assert report.chosen_per_rendition == (0, 2)
    assert [s.title for s in out.sections] == ["A"]


def test_collections_never_pair() -> None:
    doc = Document("t", "s", (
        Section("c1", (_item(1, "Q?", "one", 1, 1), _item(1, "Q?", "one", 2, 1))),
        Section("c2", (_item(1, "Q?", "two", 1, 2),)),
    ))
    out, _ = resolve(doc)
    assert _answers(out) == ["one", "two"]
