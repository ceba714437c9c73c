"""The Markdown writer: layout, escaping, and reading its output back into the same items."""

from __future__ import annotations

import pytest

from qabook.model import (
    BulletList, Code, Document, Item, Link, ListItem, Math, OrderedList, Paragraph, Quote, Rule, Section, Table,
    Text,
)
from qabook.pipeline import load
from qabook.readers import markdown as markdown_reader
from qabook.writers.markdown import SIGNATURE, render

from tests.test_model import EVERY_NODE


def _items(doc: Document) -> list[tuple]:  # type: ignore[type-arg]
    return [(it.number, it.question, it.answer, it.status) for it in doc.items()]


def test_layout_title_sections_question_headings() -> None:
    md = render(EVERY_NODE)
    lines = md.splitlines()
    assert lines[0] == SIGNATURE and lines[2] == "# T"
    assert "## S" in lines
    assert "### 3. What `x`?" in lines
    assert "### open" in lines
    assert "```python\n  x\n\n  y\n```" in md
    assert "$$\\frac{a}{b}$$" in md
    assert md.endswith("\n")


@pytest.mark.parametrize("text", [
    "*not bold* and _not em_ and `not code` and $5 or $x$",
    "# not a heading", "- not a list", "1. not a list", "> not a quote", "[not](a link)",
    "<b>not html</b>", "a | pipe", "back\\slash", "&amp; entity", "snake_case_name", "+ plus", "10) ten",
    "~~~ tilde",
])
def test_text_is_escaped_so_it_reads_back_the_same(text: str) -> None:
    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), (Paragraph((Text(text),)),)),)),))
    back = markdown_reader.read(render(doc), "x.md").document
    assert _items(back) == _items(doc)


def test_every_node_type_round_trips() -> None:
    back = markdown_reader.read(render(EVERY_NODE), "x.md").document
    assert back.title == "T"
    assert [s.title for s in back.sections] == ["S"]
    want = _items(EVERY_NODE)
    got = _items(back)
    assert got[1] == (None, (Text("open"),), (), "unanswered")
    # an empty list item has no Markdown of its own; everything else comes back exactly
    assert got[0][:2] == want[0][:2]
    assert got[0][2][2:] == want[0][2][2:]


def test_neighbouring_lists_stay_apart() -> None:
    a = BulletList((ListItem((Paragraph((Text("a"),)),)),))
    b = BulletList((ListItem((Paragraph((Text("b"),)),)),))
    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), (a, b)),)),))
    back = markdown_reader.read(render(doc), "x.md").document
    assert _items(back) == _items(doc)


@pytest.mark.parametrize("lst", [BulletList, OrderedList])
def test_a_list_item_that_starts_with_a_rule_stays_an_item(lst: type) -> None:
    """``- ---`` is one rule, not a list item holding a rule."""
    items = (ListItem((Rule(), Paragraph((Text("after"),)))), ListItem((Paragraph((Text("b"),)),)))
    answer = lst(items) if lst is BulletList else lst(items, 1)
    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), (answer,)),)),))
    back = markdown_reader.read(render(doc), "x.md").document
    assert _items(back) == _items(doc)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_bullet_items_holding_empty_items_are_not_a_rule(depth: int) -> None:
    """``- - -`` (an item holding an item holding an empty item) is a thematic break."""
    lst = BulletList((ListItem(()),))
    for _ in range(depth - 1):
        lst = BulletList((ListItem((lst,)),))
    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), (lst, Paragraph((Text("after"),)))),)),))
    back = markdown_reader.read(render(doc), "x.md").document
    assert _items(back) == _items(doc)


@pytest.mark.parametrize("target", ["https://e.org/a<br>b", "https://e.org/a>b", "https://e.org/a\\b<",
                                    "https://e.org/a|b (c) [d]"])
def test_a_link_target_with_angle_brackets_stays_a_link(target: str) -> None:
    """Inside ``<…>`` a ``<`` or ``>`` must be escaped, else the link is text and its target words."""
    link = Link(target, (Text("the docs"),))
    cell = Table(((Text("h"),),), (((link,),),))
    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), (Paragraph((Text("see "), link)), cell)),)),))
    back = markdown_reader.read(render(doc), "x.md").document
    assert _items(back) == _items(doc)


LINES = "\n1. n\n   - m\n# h\n> q\n\n| t |"


@pytest.mark.parametrize("node", [Code("a" + LINES), Math("a" + LINES)], ids=["code", "formula"])
def test_code_and_formulas_whose_lines_look_like_blocks_stay_inline(node: Code | Math) -> None:
    """A line of inline code or of a formula that would start a list, heading, quote or table (or a
    blank line) is written as a space, so the item keeps every word and no block appears."""
    from qabook.audit.verify import items_of

    para = Paragraph((Text("see "), node, Text(" end")))
    answer = (para, BulletList((ListItem((para,)),)), Quote((para,)))
    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), answer), Item(2, (Text("r"),), (para,)))),))
    back = markdown_reader.read(render(doc), "x.md").document
    assert items_of(back) == items_of(doc)
    assert [type(b) for b in next(back.items()).answer] == [Paragraph, BulletList, Quote]
    assert next(back.items()).answer[0].inlines[1] == type(node)(("a" + LINES).replace("\n", " "))


def test_a_formula_on_two_plain_lines_keeps_its_line_end() -> None:
    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), (Paragraph((Math("x +\n\\frac{1}{2}"),)),)),)),))
    back = markdown_reader.read(render(doc), "x.md").document
    assert _items(back) == _items(doc)


def test_reference_case_round_trips_through_markdown(reference) -> None:  # type: ignore[no-untyped-def]
    md = render(reference.document)
    back = load(md.encode(), "ref.md")
    assert back.report.reader == "markdown"
    assert _items(back.document) == _items(reference.document)
    assert [s.title for s in back.document.sections] == [s.title for s in reference.document.sections]


def test_own_layout_fast_path_equals_the_general_reader(reference) -> None:  # type: ignore[no-untyped-def]
    from qabook.writers.markdown import SIGNATURE

    md = render(reference.document)
    fast = markdown_reader.read(md, "ref.md").document
    # the same text without the signature (a comment in its place keeps the line numbers)
    general = markdown_reader.read(md.replace(SIGNATURE, "<!-- x -->", 1), "ref.md").document
    assert _items(fast) == _items(general) == _items(reference.document)
    assert (fast.title, [s.title for s in fast.sections]) == (general.title, [s.title for s in general.sections])
    assert [it.origin.first_line for it in fast.items()] == [it.origin.first_line for it in general.items()]
