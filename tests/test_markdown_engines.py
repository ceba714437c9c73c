"""The fast parser (pulldown-cmark) and markdown-it-py build the same model from the same text."""

from __future__ import annotations

import pytest

from qabook.model import Code, Math, MathBlock, Paragraph, Strong, Table, Text
from qabook.readers import commonmark, pulldown, transcript

SAMPLES = [
    "Plain *em* **strong** `code` [link](http://e.org) ![img](a.png)\nsoft break",
    "- a\n- b\n  - nested\n\n1. one\n2. two\n\n3) three",
    "```python\nx = 1\n\n  y\n```\n\n    indented code",
    "$$y = x^2$$\n\nInline $a_1 + b$ and $$z$$ mid-line, costs $5 and $10.",
    "| a | b |\n|---|---|\n| 1 | *2* |",
    "> quote\n> more\n\n---\n\n<div>html</div>\n\n<!-- comment -->\n\nline  \nbreak \\\nagain",
    "### heading inside\n\ntext ~~struck~~ &amp; \\*escaped\\*",
    "an empty link [](http://e.org), one in brackets [[](u)](u)",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_engines_agree_on_samples(text: str) -> None:
    assert pulldown.parse_blocks(text) == commonmark.parse_blocks_markdown_it(text)


def test_engines_agree_on_every_reference_answer(reference_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies: list[str] = []

    def spy(text: str, tex_delimiters: bool = False):  # type: ignore[no-untyped-def]
        bodies.append(pulldown.tex_delimiters_to_dollars(text) if tex_delimiters else text)
        return pulldown.parse_blocks(text, tex_delimiters)

    monkeypatch.setattr(transcript, "parse_blocks", spy)
    transcript.read(reference_bytes.decode(), "ref.txt")
    assert len(bodies) == 740
    for body in bodies:
        assert pulldown.parse_blocks(body) == commonmark.parse_blocks_markdown_it(body)


@pytest.mark.parametrize("line,want", [
    ("What is `x`?", (Text("What is "), Code("x"), Text("?"))),
    ("# of params?", (Text("# of params?"),)),
    ("- dash start", (Text("- dash start"),)),
    ("2023. A year?", (Text("2023. A year?"),)),
    ("> arrow", (Text("> arrow"),)),
    ("**Bold** $x$", (Strong((Text("Bold"),)), Text(" "), Math("x"))),
])
def test_inlines_of_one_line(line: str, want: tuple) -> None:  # type: ignore[type-arg]
    assert pulldown.parse_inlines(line) == want


def test_display_math_alone_is_a_block() -> None:
    assert pulldown.parse_blocks("$$a$$\n$$b$$") == (MathBlock("a"), MathBlock("b"))
    assert isinstance(pulldown.parse_blocks("x $$a$$")[0], Paragraph)
    assert isinstance(pulldown.parse_blocks("|a|\n|-|\n|b|")[0], Table)


def test_chat_tex_delimiters_become_formulas_outside_code() -> None:
    text = "Energy \\(E = mc^2\\) here `\\(code\\)`\n\n\\[\n\\sum_i x_i\n\\]\n\n```\n\\(kept\\)\n```"
    blocks = pulldown.parse_blocks(text, tex_delimiters=True)
    assert blocks[0] == Paragraph((Text("Energy "), Math("E = mc^2"), Text(" here "), Code("\\(code\\)")))
    assert blocks[1] == MathBlock("\\sum_i x_i")
    assert blocks[2].text == "\\(kept\\)"  # type: ignore[union-attr]
    # in hand-written Markdown \[ is an escaped bracket
    assert pulldown.parse_blocks("\\[MASK\\]") == (Paragraph((Text("[MASK]"),)),)
