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
from typing import TYPE_CHECKING, Any, Sequence

from qabook.readers import pulldown
from qabook.model import (
    MAX_NESTING,
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
    joined_text,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# markdown-it (~40 ms to import) is loaded by :func:`parser`, on first use: the answers of most
# inputs go through the fast parser only.

_COMMENT_RE = re.compile(r"^<!--.*?-->$", re.DOTALL)


PARSER_NESTING = 256
"""markdown-it's nesting limit (its ``maxNesting``; a list level is two token levels, a quote one).
markdown-it drops everything after a block nested this deep, to the end of the file, so
:func:`parse` makes sure no text reaches it."""
PREFIX_COLUMNS = 100
"""How wide the container prefix of a line (indentation, ``>``, list markers) may be when a text
nests deeper than :data:`PARSER_NESTING`."""


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """The shared markdown-it parser: CommonMark, GFM tables and strikethrough, dollar math.

    Parse with :func:`parse`, which keeps deeply nested text instead of dropping it.
    """
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": True, "maxNesting": PARSER_NESTING})
    md.enable(["table", "strikethrough"])
    # allow_digits=False keeps "costs $5 and $10" as text; double_inline catches "$$x$$" mid-line.
    md.use(dollarmath_plugin, allow_digits=False, allow_space=True, double_inline=True,
           allow_labels=False, allow_blank_lines=False)
    return md


_PREFIX_RE = re.compile(r"^(?:[ \t]|>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))+", re.MULTILINE)
_PREFIX_PART_RE = re.compile(r"[ \t]|>|[-+*]|\d{1,9}[.)]")


def parse(text: str) -> list[Token]:
    """markdown-it's tokens of ``text``, with nothing dropped for being nested too deep.

    When the text nests lists or quotes so deep that markdown-it would stop reading (it skips the
    rest of the file), each line's container prefix (indentation, ``>`` and list markers) is cut
    to :data:`PREFIX_COLUMNS` columns and the text parsed again: what was nested deeper is read at
    that depth, and every word is kept.
    """
    md = parser()
    tokens = md.parse(text)
    if not tokens or max(t.level for t in tokens) < PARSER_NESTING - 2:
        return tokens
    return md.parse(_PREFIX_RE.sub(_cut_prefix, text))


def _cut_prefix(m: re.Match[str]) -> str:
    """A line's container prefix cut to :data:`PREFIX_COLUMNS` columns (whole markers only)."""
    prefix = m.group(0)
    if len(prefix) <= PREFIX_COLUMNS // 4:
        return prefix
    prefix = prefix.expandtabs(4)
    if len(prefix) <= PREFIX_COLUMNS:
        return prefix
    parts = [p for p in _PREFIX_PART_RE.finditer(prefix)]
    markers = [p for p in parts if not p.group(0).isspace() and p.group(0) != ">"]
    tail = prefix[markers[-1].start():] if markers else ""  # the line's own list marker stays
    tail = tail[:len(tail.rstrip()) + 4]
    end = 0
    for part in parts:
        if part.end() > PREFIX_COLUMNS - len(tail):
            break
        end = part.end()
    return prefix[:end] + tail


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
    tokens = parse(text)
    blocks, _ = blocks_from_tokens(tokens, 0, None)
    return tuple(blocks)


_CONTAINER_TOKENS = frozenset({"bullet_list_open", "ordered_list_open", "list_item_open", "blockquote_open"})
_CONTAINER_CLOSES = frozenset({"bullet_list_close", "ordered_list_close", "list_item_close", "blockquote_close"})


def blocks_from_tokens(tokens: Sequence[Token], i: int, close: str | None,
                       depth: int = 0) -> tuple[list[Block], int]:
    """Blocks from ``tokens[i]`` up to the ``close`` token; lists and quotes nested deeper than
    :data:`~qabook.model.MAX_NESTING` are read flat (their blocks in order, every word kept)."""
    out: list[Block] = []
    n = len(tokens)
    flat = 0
    while i < n:
        tok = tokens[i]
        t = tok.type
        if flat and t in _CONTAINER_CLOSES:
            flat -= 1
            i += 1
            continue
        if close is not None and t == close:
            return out, i + 1
        if t in _CONTAINER_TOKENS and (flat or depth >= MAX_NESTING or t == "list_item_open"):
            flat += 1
            i += 1
            continue
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
                inner, i = blocks_from_tokens(tokens, i + 1, "list_item_close", depth + 1)
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
            inner, i = blocks_from_tokens(tokens, i + 1, "blockquote_close", depth + 1)
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
    return joined_text(out)


_RUN_OPENS = frozenset({"strong_open", "em_open", "s_open", "link_open"})
_RUN_CLOSES = frozenset({"strong_close", "em_close", "s_close", "link_close"})


def _inline_run(tokens: Sequence[Token], i: int, close: str | None, depth: int = 0) -> tuple[list[Inline], int]:
    """Inlines up to the ``close`` token; bold, italic and links nested deeper than
    :data:`~qabook.model.MAX_NESTING` are read flat (their text kept)."""
    out: list[Any] = []  # inlines, with text still as str pieces (joined once, by joined_text)
    n = len(tokens)
    flat = 0
    while i < n:
        tok = tokens[i]
        t = tok.type
        if t == "text":  # the most common token first
            out.append(tok.content)
            i += 1
            continue
        if flat and t in _RUN_CLOSES:
            flat -= 1
            i += 1
            continue
        if close is not None and t == close:
            return joined_text(out), i + 1
        if t in _RUN_OPENS and (flat or depth >= MAX_NESTING):
            flat += 1
            i += 1
            continue
        if t == "softbreak":  # CommonMark: a soft line break is a space
            out.append(" ")
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
            kids, i = _inline_run(tokens, i + 1, "strong_close", depth + 1)
            out.append(Strong(tuple(kids)))
        elif t == "em_open":
            kids, i = _inline_run(tokens, i + 1, "em_close", depth + 1)
            out.append(Emphasis(tuple(kids)))
        elif t == "s_open":
            kids, i = _inline_run(tokens, i + 1, "s_close", depth + 1)
            out.extend(k.text if k.__class__ is Text else k for k in kids)
        elif t == "link_open":
            href = str(tok.attrGet("href") or "")
            kids, i = _inline_run(tokens, i + 1, "link_close", depth + 1)
            out.append(Link(href, tuple(kids) or (Text(href),)))  # '[](u)' shows its target, as in pulldown
        elif t == "image":
            alt = tok.content or ""
            src = str(tok.attrGet("src") or "")
            out.append(Link(src, (Text(alt or src),)))
            i += 1
        else:  # html_inline and anything else with content: its text
            out.append(tok.content)
            i += 1
    return joined_text(out), i


