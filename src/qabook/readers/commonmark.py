"""CommonMark (+ GFM tables, strikethrough, ``$``/``$$`` math) text to model blocks.

Readers split their input into questions and answers by their own rules, then hand each answer's
text to :func:`parse_blocks`, which uses the fast pulldown-cmark parser
(:mod:`qabook.readers.pulldown`). Readers that need a whole document's structure walk
markdown-it-py's typed tokens (with the dollarmath plugin from mdit-py-plugins) through
:func:`parser` and :func:`blocks_from_tokens`; both paths build the same model from the same text,
so every Markdown subtlety (lazy continuation, list tightness, fences, escapes) is a parser's, not
ours.

Markdown headings inside an answer become bold paragraphs: an answer has no outline of its own in
the model, and the words are kept.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from qabook.readers import pulldown
from qabook.model import (
    Block,
    BulletList,
    Code,
    CodeBlock,
    Emphasis,
    Inline,
    LineBreak,
    Link,
    ListItem,
    Math,
    MathBlock,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Strong,
    Table,
    Text,
)


_COMMENT_RE = re.compile(r"^<!--.*?-->$", re.DOTALL)


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """The shared markdown-it parser: CommonMark, GFM tables and strikethrough, dollar math."""
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    # allow_digits=False keeps "costs $5 and $10" as text; double_inline catches "$$x$$" mid-line.
    md.use(dollarmath_plugin, allow_digits=False, allow_space=True, double_inline=True,
           allow_labels=False, allow_blank_lines=False)
    return md


def parse_blocks(text: str, tex_delimiters: bool = False) -> tuple[Block, ...]:
    """Parse Markdown text into model blocks (with the fast parser, :mod:`qabook.readers.pulldown`).

    ``tex_delimiters`` also reads ``\\(…\\)`` and ``\\[…\\]`` as formulas, as chat assistants write them.
    """
    return pulldown.parse_blocks(text, tex_delimiters)


def parse_inlines(text: str, tex_delimiters: bool = False) -> tuple[Inline, ...]:
    """Parse one line of Markdown into inlines (block syntax is not interpreted)."""
    return pulldown.parse_inlines(text, tex_delimiters)


def parse_blocks_markdown_it(text: str) -> tuple[Block, ...]:
    """Parse Markdown text into model blocks with markdown-it-py (for readers that walk its tokens)."""
    tokens = parser().parse(text)
    blocks, _ = blocks_from_tokens(tokens, 0, None)
    return tuple(blocks)


def blocks_from_tokens(tokens: Sequence[Token], i: int, close: str | None) -> tuple[list[Block], int]:
    out: list[Block] = []
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        t = tok.type
        if close is not None and t == close:
            return out, i + 1
        if t == "paragraph_open":
            inline = tokens[i + 1]
            out.append(Paragraph(tuple(inlines_from_tokens(inline.children or []))))
            i += 3
        elif t == "heading_open":
            inline = tokens[i + 1]
            kids = tuple(inlines_from_tokens(inline.children or []))
            out.append(Paragraph((Strong(kids),) if kids else ()))
            i += 3
        elif t in ("bullet_list_open", "ordered_list_open"):
            closing = t.replace("_open", "_close")
            items: list[ListItem] = []
            i += 1
            while tokens[i].type != closing:
                assert tokens[i].type == "list_item_open"
                inner, i = blocks_from_tokens(tokens, i + 1, "list_item_close")
                items.append(ListItem(tuple(inner)))
            i += 1
            if t == "bullet_list_open":
                out.append(BulletList(tuple(items)))
            else:
                start = tok.attrGet("start")
                out.append(OrderedList(tuple(items), int(start) if start is not None else 1))
        elif t in ("fence", "code_block"):
            lang = (tok.info or "").strip().split(" ")[0] if t == "fence" else ""
            out.append(CodeBlock(tok.content.removesuffix("\n"), lang.lower()))
            i += 1
        elif t in ("math_block", "math_block_label"):
            out.append(MathBlock(tok.content.strip()))
            i += 1
        elif t == "blockquote_open":
            inner, i = blocks_from_tokens(tokens, i + 1, "blockquote_close")
            out.append(Quote(tuple(inner)))
        elif t == "hr":
            out.append(Rule())
            i += 1
        elif t == "table_open":
            table, i = _table(tokens, i + 1)
            out.append(table)
        elif t == "html_block":
            content = tok.content.strip()
            if content and not _COMMENT_RE.match(content):
                out.append(Paragraph((Text(content),)))
            i += 1
        else:  # a token type this walker does not build (e.g. a plugin's): skip it
            i += 1
    return out, i


def _table(tokens: Sequence[Token], i: int) -> tuple[Table, int]:
    header: list[tuple[Inline, ...]] = []
    rows: list[tuple[tuple[Inline, ...], ...]] = []
    row: list[tuple[Inline, ...]] = []
    in_head = False
    while tokens[i].type != "table_close":
        t = tokens[i].type
        if t == "thead_open":
            in_head = True
        elif t == "thead_close":
            in_head = False
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            if in_head:
                header = row
            else:
                rows.append(tuple(row))
        elif t == "inline":
            row.append(tuple(inlines_from_tokens(tokens[i].children or [])))
        i += 1
    return Table(tuple(header), tuple(rows)), i + 1


def inlines_from_tokens(tokens: Sequence[Token]) -> list[Inline]:
    out, _ = _inline_run(tokens, 0, None)
    return _merge_text(out)


def _inline_run(tokens: Sequence[Token], i: int, close: str | None) -> tuple[list[Inline], int]:
    out: list[Inline] = []
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        t = tok.type
        if close is not None and t == close:
            return _merge_text(out), i + 1
        if t == "text":
            out.append(Text(tok.content))
            i += 1
        elif t == "softbreak":  # CommonMark: a soft line break is a space
            out.append(Text(" "))
            i += 1
        elif t == "hardbreak":
            out.append(LineBreak())
            i += 1
        elif t == "code_inline":
            out.append(Code(tok.content))
            i += 1
        elif t in ("math_inline", "math_inline_double"):
            out.append(Math(tok.content.strip()))
            i += 1
        elif t == "strong_open":
            kids, i = _inline_run(tokens, i + 1, "strong_close")
            out.append(Strong(tuple(kids)))
        elif t == "em_open":
            kids, i = _inline_run(tokens, i + 1, "em_close")
            out.append(Emphasis(tuple(kids)))
        elif t == "s_open":
            kids, i = _inline_run(tokens, i + 1, "s_close")
            out.extend(kids)
        elif t == "link_open":
            href = str(tok.attrGet("href") or "")
            kids, i = _inline_run(tokens, i + 1, "link_close")
            out.append(Link(href, tuple(kids)))
        elif t == "image":
            alt = tok.content or ""
            src = str(tok.attrGet("src") or "")
            out.append(Link(src, (Text(alt or src),)))
            i += 1
        elif t == "html_inline":
            out.append(Text(tok.content))
            i += 1
        else:
            if tok.content:
                out.append(Text(tok.content))
            i += 1
    return _merge_text(out), i


def _merge_text(nodes: list[Inline]) -> list[Inline]:
    """Join neighbouring Text nodes (markdown-it splits text at every delimiter it considers)."""
    merged: list[Inline] = []
    for node in nodes:
        if isinstance(node, Text) and not node.text:
            continue
        if isinstance(node, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + node.text)
        else:
            merged.append(node)
    return merged
