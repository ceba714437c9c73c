"""clean_document: control characters that readers make of escapes are removed wherever they are."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from qabook.model import (
    BulletList,
    Code,
    CodeBlock,
    Document,
    Emphasis,
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
from qabook.source import clean_document


def _doc(question: tuple[Any, ...] = (Text("q"),), answer: tuple[Any, ...] = (Paragraph((Text("a"),)),),
         title: str = "s") -> Document:
    clean = Section("clean", (Item(1, (Text("q"),), (Paragraph((Text("a"),)), Rule())),))
    return Document("t", "src", (clean, Section(title, (Item(2, question, answer),)), clean))


def _p(*inlines: Any) -> tuple[Any, ...]:
    return (Paragraph(tuple(inlines)),)


PLACES: list[tuple[str, Callable[[str], Document]]] = [
    ("question", lambda s: _doc(question=(Text(s),))),
    ("section title", lambda s: _doc(title=s)),
    ("text", lambda s: _doc(answer=_p(Text(s)))),
    ("code", lambda s: _doc(answer=_p(Code(s)))),
    ("math", lambda s: _doc(answer=_p(Math(s)))),
    ("bold", lambda s: _doc(answer=_p(Strong((LineBreak(), Text(s)))))),
    ("italic", lambda s: _doc(answer=_p(Emphasis((Text(s),))))),
    ("link target", lambda s: _doc(answer=_p(Link(s, (Text("x"),))))),
    ("link text", lambda s: _doc(answer=_p(Link("u", (Text(s),))))),
    ("code block", lambda s: _doc(answer=(CodeBlock(s, "py"),))),
    ("code language", lambda s: _doc(answer=(CodeBlock("x", s),))),
    ("display math", lambda s: _doc(answer=(MathBlock(s),))),
    ("quote", lambda s: _doc(answer=(Quote(_p(Text(s))),))),
    ("bullet list", lambda s: _doc(answer=(BulletList((ListItem(_p(Text("a"))), ListItem(_p(Text(s))))),))),
    ("ordered list", lambda s: _doc(answer=(OrderedList((ListItem((Quote(_p(Text(s))),)),), 3),))),
    ("table header", lambda s: _doc(answer=(Table(((Text(s),),), ()),))),
    ("table cell", lambda s: _doc(answer=(Table(((Text("h"),),), (((Text("a"),),), ((Strong((Text(s),)),),))),))),
]


@pytest.mark.parametrize("make", [m for _, m in PLACES], ids=[name for name, _ in PLACES])
def test_a_control_character_is_removed_wherever_it_is(make: Callable[[str], Document]) -> None:
    cleaned, removed = clean_document(make("a\x01b\ufffe"))
    assert removed == 2
    assert cleaned == make("ab")
    assert clean_document(make("ab")) == (make("ab"), 0)


def test_clean_sections_stay_the_same_objects() -> None:
    doc = _doc(answer=_p(Text("x\x00")))
    cleaned, removed = clean_document(doc)
    assert removed == 1
    assert cleaned.sections[0] is doc.sections[0] and cleaned.sections[2] is doc.sections[2]
    assert cleaned.sections[1] is not doc.sections[1]


class _Marked(Text):
    """A node type the fast check does not know (a subclass): the full walk still looks at it."""

    __slots__ = ()


def test_an_unknown_node_type_is_still_cleaned() -> None:
    cleaned, removed = clean_document(_doc(answer=_p(_Marked("a\x07b"))))
    assert removed == 1
    assert cleaned == _doc(answer=_p(Text("ab")))
