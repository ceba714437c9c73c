"""The fast Markdown parser's folding of pulldown-cmark events into the model (qabook.readers.pulldown)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from qabook.model import (
    BulletList,
    Emphasis,
    Link,
    ListItem,
    Math,
    MathBlock,
    Paragraph,
    Rule,
    Strong,
    Table,
    Text,
)
from qabook.readers import commonmark, pulldown


@pytest.mark.parametrize("text", [
    "**a $$x$$ b**",
    "*a $$x$$ b*",
    "[a $$x$$ b](http://e.org)",
    "### $$x$$ heading",
    "| h |\n|---|\n| $$x$$ y |",
    "x **$$y$$**",
])
def test_a_display_formula_inside_bold_italic_links_headings_and_cells_is_inline_math(text: str) -> None:
    blocks = pulldown.parse_blocks(text)
    assert blocks == commonmark.parse_blocks_markdown_it(text)
    assert "Math(tex='x')" in repr(blocks) or "Math(tex='y')" in repr(blocks)


def test_bold_formula_nodes_are_the_model_math_type() -> None:
    assert pulldown.parse_blocks("**a $$x$$ b**") == (
        Paragraph((Strong((Text("a "), Math("x"), Text(" b"))),)),)
    assert pulldown.parse_blocks("*$$x$$*") == (Paragraph((Emphasis((Math("x"),)),)),)
    assert pulldown.parse_blocks("[$$x$$](u)") == (Paragraph((Link("u", (Math("x"),)),)),)


def test_a_rule_in_a_tight_list_item_comes_after_its_text() -> None:
    text = "- a\n  ***\n- b"
    assert pulldown.parse_blocks(text) == (BulletList((
        ListItem((Paragraph((Text("a"),)), Rule())),
        ListItem((Paragraph((Text("b"),)),)),
    )),)
    assert pulldown.parse_blocks(text) == commonmark.parse_blocks_markdown_it(text)


def test_display_formulas_alone_in_a_tight_list_item_are_blocks() -> None:
    assert pulldown.parse_blocks("- $$x$$\n- $$y$$ z") == (BulletList((
        ListItem((MathBlock("x"),)),
        ListItem((Paragraph((Math("y"), Text(" z"))),)),
    )),)


def test_a_paragraph_of_white_space_only_is_dropped() -> None:
    assert pulldown.parse_blocks("&#32;") == ()
    assert pulldown.parse_blocks("&#32;\n\nx") == (Paragraph((Text("x"),)),)


_FRAGMENTS = ["*", "**", "_", "`", "$", "$$", "[", "](u)", "![", "\n", "\n\n", "- ", "1. ", "> ", "    ", "# ",
              "---", "***", "|", "| a | b |\n|---|---|\n", "~~", "<b>", "<!-- x -->", "\\", "&amp;", "&#32;",
              "word", " ", "```\n", "\t", "$x$", "$$y$$", "  \n", "é", "  - ", "   1) "]


def _walk(node: Any) -> Any:
    """Every model node in ``node`` (a node or nested tuples of nodes)."""
    if isinstance(node, tuple):
        for v in node:
            yield from _walk(v)
        return
    yield node
    for name in getattr(node, "__slots__", ()):
        value = getattr(node, name, None)
        if isinstance(value, tuple):
            yield from _walk(value)


def test_only_model_types_leave_the_parser() -> None:
    rng = random.Random(20261129)
    for _ in range(3000):
        text = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 25)))
        for node in _walk((pulldown.parse_blocks(text), pulldown.parse_inlines(text))):
            assert type(node).__module__ == "qabook.model", (text, node)


_PLAIN = list("aZ09 .,;:?'\"(){}/@%^=+-") + ["1. ", "2) ", "+ ", "===", "é", "日本", "\u00a0", "\u2028", "\u200b",
                                             "http://e.org/a?b=c", "www.e.org", "1.", "(1)"]


def test_a_plain_line_is_read_as_the_parser_reads_it() -> None:
    # parse_inlines skips the parser for a line without Markdown syntax; the parser agrees
    rng = random.Random(7)
    for _ in range(5000):
        line = "".join(rng.choice(_PLAIN) for _ in range(rng.randint(1, 10)))
        stripped = line.strip()
        if not stripped or stripped.startswith("-"):
            continue
        parsed = pulldown.parse_blocks(pulldown._protect(line))
        assert parsed == (Paragraph(pulldown.parse_inlines(line)),), repr(line)


def test_a_line_that_would_be_a_rule_stays_text() -> None:
    assert pulldown.parse_inlines("\t---") == (Text("\t---"),)
    assert pulldown.parse_inlines("- item") == (Text("- item"),)
    assert pulldown.parse_inlines("  plain words  ") == (Text("plain words"),)


def test_table_cells_keep_their_inlines() -> None:
    assert pulldown.parse_blocks("| a | *b* |\n|---|---|\n| `c` | d |") == (Table(
        ((Text("a"),), (Emphasis((Text("b"),)),)),
        (((pulldown.Code("c"),), (Text("d"),)),),
    ),)
