"""The little HTML that Markdown Q&A carries: ``<details>``/``<summary>`` blocks and inline tags.

Markdown keeps raw HTML as opaque text (an ``html_block`` or ``html_inline`` token). Collapsible
answers (``<details><summary><b>Question?</b></summary> answer </details>``) therefore reach the
Markdown reader as HTML blocks that hold the tags, sometimes with the first lines of the answer in
the same block (CommonMark ends an HTML block only at a blank line). :func:`details_parts` splits
such a block into its tags and the Markdown between them; :func:`inlines_from_html` turns a
summary's inline HTML into model inlines with the standard library's tokenizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Iterator, Literal

from qabook.model import MAX_NESTING, Code, Emphasis, Inline, LineBreak, Link, Strong, Text, joined_text

_TAG_START_RE = re.compile(r"<(/?)(details|summary)\b", re.IGNORECASE)
_CLOSE_END_RE = re.compile(r"\s*>")
_SUMMARY_CLOSE_RE = re.compile(r"</summary\s*>", re.IGNORECASE)
_SEPARATOR_PIECE_RE = re.compile(r"\s+|<br\s*/?>|</?p>|&nbsp;|&#160;", re.IGNORECASE)

PartKind = Literal["open", "summary", "close", "text"]


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of an HTML block: a ``<details>`` tag, a summary (its inner HTML), or Markdown."""

    kind: PartKind
    text: str = ""
    line: int = 0
    """0-based line offset of the piece inside the block."""


def _tags(html: str) -> Iterator[tuple[PartKind, int, int, str]]:
    """(kind, start, end, summary) of each ``<details …>``, ``</details>`` and ``<summary …>…</summary>``
    in order; a summary that is never closed is not a tag (its text stays text).

    A scan with ``str.find`` rather than one regular expression: ``<summary>(.*?)</summary>`` and
    ``<details[^>]*>`` retry to the end of the text from every unclosed tag, which is quadratic.
    """
    pos = 0
    no_closer_from = len(html) + 1  # where a search for "</summary>" last failed
    while (m := _TAG_START_RE.search(html, pos)) is not None:
        closing, name = m.group(1), m.group(2).lower()
        if closing:
            end = _CLOSE_END_RE.match(html, m.end()) if name == "details" else None
            if end is not None:
                yield "close", m.start(), end.end(), ""
                pos = end.end()
            else:
                pos = m.end()
            continue
        gt = html.find(">", m.end())
        if gt < 0:
            return  # no tag after this one can end either
        if name == "details":
            yield "open", m.start(), gt + 1, ""
            pos = gt + 1
            continue
        close = _SUMMARY_CLOSE_RE.search(html, gt + 1) if gt + 1 < no_closer_from else None
        if close is None:
            no_closer_from = min(no_closer_from, gt + 1)
            pos = m.end()
            continue
        yield "summary", m.start(), close.end(), html[gt + 1:close.start()]
        pos = close.end()


def has_details(html: str) -> bool:
    """Whether an HTML block holds any ``<details>``, ``</details>`` or ``<summary>`` tag."""
    return next(_tags(html), None) is not None


def details_parts(html: str) -> list[Part]:
    """The block's tags and the text between them, in order (blank text is left out)."""
    parts: list[Part] = []
    pos = 0
    for kind, start, end, summary in _tags(html):
        _text_part(parts, html, pos, start)
        parts.append(Part(kind, summary, html.count("\n", 0, start)))
        pos = end
    _text_part(parts, html, pos, len(html))
    return parts


def _text_part(parts: list[Part], html: str, start: int, end: int) -> None:
    chunk = html[start:end]
    if chunk.strip():
        parts.append(Part("text", chunk.strip("\n"), html.count("\n", 0, start)))


def is_separator(html: str) -> bool:
    """HTML that only spaces things out (``<br/>``, ``&nbsp;``, comments, empty ``<p>``).

    A scan, not one regular expression: ``(?:\\s|<!--.*?-->)*$`` backtracks exponentially on a run
    of comments followed by anything else.
    """
    pos, n = 0, len(html)
    while pos < n:
        if html.startswith("<!--", pos):
            end = html.find("-->", pos + 4)
            if end < 0:
                return False
            pos = end + 3
            continue
        m = _SEPARATOR_PIECE_RE.match(html, pos)
        if m is None:
            return False
        pos = m.end()
    return True


_STRONG = {"b", "strong"}
_EMPHASIS = {"i", "em"}
_CODE = {"code", "tt", "kbd", "samp"}


class TolerantHTMLParser(HTMLParser):
    """The standard library's tokenizer, reading ``<![`` as HTML5 does.

    Before Python 3.13, ``<![`` followed by anything but a known keyword (``<![x]>``, ``<![[``)
    raises ``AssertionError`` from deep inside the parser; HTML5 reads it as a bogus comment that
    ends at the next ``>``, and so does this parser (``<![CDATA[…]]>`` and Word's ``<![if …]>`` as
    before)."""

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            return self.parse_bogus_comment(i, report)


class _InlineBuilder(TolerantHTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str, list[Inline]]] = [("", "", [])]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.stack[-1][2].append(LineBreak())
        elif (tag in _STRONG or tag in _EMPHASIS or tag in _CODE or tag == "a") and len(self.stack) <= MAX_NESTING:
            href = next((v or "" for k, v in attrs if k == "href"), "")
            self.stack.append((tag, href, []))  # nested deeper than MAX_NESTING: the text is kept, flat

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.stack[-1][2].append(LineBreak())

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _, _ in self.stack[1:]):
            return  # a stray closing tag
        while len(self.stack) > 1:
            open_tag, href, kids = self.stack.pop()
            self.stack[-1][2].append(_node(open_tag, href, kids))
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.stack[-1][2].append(Text(data))

    def result(self) -> list[Inline]:
        self.close()
        while len(self.stack) > 1:
            open_tag, href, kids = self.stack.pop()
            self.stack[-1][2].append(_node(open_tag, href, kids))
        return self.stack[0][2]


def _node(tag: str, href: str, kids: list[Inline]) -> Inline:
    kids = joined_text(kids)
    if tag in _STRONG:
        return Strong(tuple(kids))
    if tag in _EMPHASIS:
        return Emphasis(tuple(kids))
    if tag in _CODE:
        return Code("".join(_flat(kids)))
    return Link(href, tuple(kids))


def _flat(nodes: list[Inline]) -> list[str]:
    out: list[str] = []
    for n in nodes:
        if isinstance(n, (Text, Code)):
            out.append(n.text)
        elif isinstance(n, (Strong, Emphasis, Link)):
            out.extend(_flat(list(n.children)))
        elif isinstance(n, LineBreak):
            out.append("\n")
    return out


def inlines_from_html(fragment: str) -> tuple[Inline, ...]:
    """Inline HTML as model inlines: b/strong, i/em, code, a and br are kept, other tags dropped,
    entities decoded, runs of white space (HTML's own rule) made one space, outer space trimmed."""
    builder = _InlineBuilder()
    builder.feed(fragment)
    nodes = _collapse(builder.result())
    return tuple(_trim(nodes))


def _collapse(nodes: list[Inline]) -> list[Inline]:
    out: list[Inline] = []
    for n in nodes:
        if isinstance(n, Text):
            out.append(Text(re.sub(r"[ \t\n\r\f]+", " ", n.text)))
        elif isinstance(n, Strong):
            out.append(Strong(tuple(_collapse(list(n.children)))))
        elif isinstance(n, Emphasis):
            out.append(Emphasis(tuple(_collapse(list(n.children)))))
        elif isinstance(n, Link):
            out.append(Link(n.target, tuple(_collapse(list(n.children)))))
        else:
            out.append(n)
    return joined_text(out)


def _trim(nodes: list[Inline]) -> list[Inline]:
    """Leading and trailing spaces removed, also inside a bold or italic run at either end."""
    nodes = list(nodes)
    while nodes and isinstance(nodes[0], LineBreak):
        nodes.pop(0)
    while nodes and isinstance(nodes[-1], LineBreak):
        nodes.pop()
    if nodes:
        nodes[0] = _strip_edge(nodes[0], left=True)
        nodes[-1] = _strip_edge(nodes[-1], left=False)
    return [n for n in nodes if not (isinstance(n, Text) and not n.text)]


def _strip_edge(node: Inline, *, left: bool) -> Inline:
    if isinstance(node, Text):
        return Text(node.text.lstrip() if left else node.text.rstrip())
    if isinstance(node, (Strong, Emphasis)) and node.children:
        kids = list(node.children)
        i = 0 if left else -1
        kids[i] = _strip_edge(kids[i], left=left)
        kids = [k for k in kids if not (isinstance(k, Text) and not k.text)]
        return type(node)(tuple(kids))
    return node
