"""Markdown text to model blocks with pulldown-cmark (through pyromark): the fast path.

pulldown-cmark is a CommonMark-compliant pull parser written in Rust (the one rustdoc uses);
pyromark exposes its event stream to Python. It parses about ten times faster than markdown-it-py,
which decides whether a 200 MB chat export converts in seconds or in minutes. Its events arrive as
plain dicts and strings; this module is the only place that sees them: it folds the stream into
the typed model right away, so nothing untyped travels further.

Extensions enabled: GFM tables, strikethrough (kept as plain text), ``$…$`` / ``$$…$$`` math.
A paragraph that holds only ``$$…$$`` formulas becomes display blocks; a ``$$…$$`` inside prose
stays an inline formula. Headings inside an answer become bold paragraphs (an answer has no
outline of its own in the model; the words are kept). HTML comments are dropped, other raw HTML is
kept as text. The result equals what :mod:`qabook.readers.commonmark` builds with markdown-it-py
on the same text (tests compare them on the reference case).

Lists and quotes nested deeper than :data:`~qabook.model.MAX_NESTING` levels, and bold, italic and
links nested deeper than that, are read flat at that level: every word is kept, the deeper
structure is not (pulldown-cmark nests as deep as the text does; the model does not).
"""

from __future__ import annotations

import re
from typing import Any

import pyromark

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
)

OPTIONS = pyromark.Options.ENABLE_MATH | pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH

Event = Any  # pyromark yields dicts ({"Start": tag}, {"Text": str}, …) and strings ("SoftBreak", "Rule")


class _Display(Math):
    """A ``$$…$$`` formula while the paragraph around it is being built (never leaves this module)."""

    __slots__ = ()


def _merge(nodes: list[Inline]) -> tuple[Inline, ...]:
    """Join neighbouring text runs and drop empty ones (each run joined once: linear time)."""
    out: list[Inline] = []
    run: list[str] = []
    for n in nodes:
        if isinstance(n, Text):
            if n.text:
                run.append(n.text)
            continue
        if run:
            out.append(Text("".join(run)))
            run = []
        out.append(n)
    if run:
        out.append(Text("".join(run)))
    return tuple(out)


def _paragraph(nodes: tuple[Inline, ...]) -> list[Block]:
    """A paragraph, or display blocks when it holds nothing but ``$$…$$`` formulas."""
    if nodes and all(isinstance(n, _Display) or (isinstance(n, Text) and not n.text.strip()) for n in nodes):
        return [MathBlock(n.tex) for n in nodes if isinstance(n, _Display)]
    return [Paragraph(tuple(Math(n.tex) if isinstance(n, _Display) else n for n in nodes))]


def _tag(event: Event, key: str) -> tuple[str, Any] | None:
    """(name, payload) of a ``{"Start": …}`` / ``{"End": …}`` event, else None."""
    if isinstance(event, dict) and key in event:
        tag = event[key]
        if isinstance(tag, str):
            return tag, None
        name = next(iter(tag))
        return name, tag[name]
    return None


def _is_end(event: Event) -> bool:
    return isinstance(event, dict) and "End" in event


class _Folder:
    """Folds one event stream into blocks (a cursor over the list of events)."""

    def __init__(self, events: list[Event]) -> None:
        self.ev = events
        self.i = 0
        self.depth = 0
        """Lists items and quotes open around the cursor."""
        self.inline_depth = 0
        """Bold, italic and link runs open around the cursor."""

    def blocks(self, nested: bool) -> list[Block]:
        """Blocks up to the matching End (or the end of the stream when not ``nested``)."""
        out: list[Block] = []
        loose: list[Inline] = []  # a tight list item's text comes without a paragraph
        flat = 0  # containers read flat here, being nested deeper than MAX_NESTING
        ev = self.ev
        while self.i < len(ev):
            e = ev[self.i]
            if _is_end(e):
                self.i += 1
                if flat:
                    flat -= 1
                    if loose:
                        out.extend(_paragraph(_merge(loose)))
                        loose = []
                    continue
                if nested:
                    break
                continue
            if e == "Rule":
                out.append(Rule())
                self.i += 1
                continue
            start = _tag(e, "Start")
            if start is not None and (start[0] in _BLOCK_STARTS or start[0] == "Item"):
                if loose:
                    out.extend(_paragraph(_merge(loose)))
                    loose = []
                self.i += 1
                if start[0] in _CONTAINERS and (flat or self.depth >= MAX_NESTING or start[0] == "Item"):
                    flat += 1
                    continue
                out.extend(_BLOCK_STARTS[start[0]](self, start[1]))
                continue
            inl = self.inline()
            if inl is not None:
                loose.extend(inl)
            else:
                self.i += 1
        if loose:
            out.extend(_paragraph(_merge(loose)))
        return out

    def paragraph(self, _: Any) -> list[Block]:
        return _paragraph(_merge(self.inlines()))

    def heading(self, _: Any) -> list[Block]:
        kids = _merge(self.inlines())
        return [Paragraph((Strong(kids),) if kids else ())]

    def list_block(self, start: int | None) -> list[Block]:
        items: list[ListItem] = []
        self.depth += 1
        while not _is_end(self.ev[self.i]):
            self.i += 1  # Start Item
            items.append(ListItem(tuple(self.blocks(nested=True))))
        self.depth -= 1
        self.i += 1
        return [BulletList(tuple(items)) if start is None else OrderedList(tuple(items), int(start))]

    def code(self, kind: Any) -> list[Block]:
        info = kind.get("Fenced", "") if isinstance(kind, dict) else ""
        text = "".join(self._raw("Text"))
        lang = info.strip().split(" ")[0].lower() if info else ""
        return [CodeBlock(text.removesuffix("\n"), lang)]

    def quote(self, _: Any) -> list[Block]:
        self.depth += 1
        blocks = self.blocks(nested=True)
        self.depth -= 1
        return [Quote(tuple(blocks))]

    def html(self, _: Any) -> list[Block]:
        content = "".join(self._raw("Html")).strip()
        if not content or (content.startswith("<!--") and content.endswith("-->")):
            return []
        return [Paragraph((Text(content),))]

    def table(self, _: Any) -> list[Block]:
        header: tuple[tuple[Inline, ...], ...] = ()
        rows: list[tuple[tuple[Inline, ...], ...]] = []
        row: list[tuple[Inline, ...]] = []
        while True:
            e = self.ev[self.i]
            self.i += 1
            end = _tag(e, "End")
            if _tag(e, "Start") == ("TableCell", None):
                row.append(_merge(self.inlines()))
            elif end is not None and end[0] == "TableHead":
                header, row = tuple(row), []
            elif end is not None and end[0] == "TableRow":
                rows.append(tuple(row))
                row = []
            elif end is not None and end[0] == "Table":
                return [Table(header, tuple(rows))]

    def _raw(self, key: str) -> list[str]:
        parts: list[str] = []
        while not _is_end(self.ev[self.i]):
            e = self.ev[self.i]
            if isinstance(e, dict):
                parts.append(e.get(key, ""))
            self.i += 1
        self.i += 1
        return parts

    def inlines(self) -> list[Inline]:
        """Inlines up to the matching End."""
        out: list[Inline] = []
        while not _is_end(self.ev[self.i]):
            inl = self.inline()
            if inl is None:
                self.i += 1
            else:
                out.extend(inl)
        self.i += 1
        return out

    def inline(self) -> list[Inline] | None:
        """The inline at the cursor (advancing past it), or None when it is not an inline."""
        e = self.ev[self.i]
        if e == "SoftBreak":  # CommonMark: a soft line break is a space
            self.i += 1
            return [Text(" ")]
        if e == "HardBreak":
            self.i += 1
            return [LineBreak()]
        if not isinstance(e, dict):
            return None
        for key, make in _LEAVES:
            if key in e:
                self.i += 1
                return [make(e[key])]
        start = _tag(e, "Start")
        if start is None:
            return None
        name, payload = start
        if name not in ("Strong", "Emphasis", "Strikethrough", "Link", "Image"):
            return None
        self.i += 1
        if self.inline_depth >= MAX_NESTING:
            kids = _merge(self._flat_inlines())
            if name in ("Link", "Image"):
                target = str(payload.get("dest_url", ""))
                return [Link(target, kids or (Text(target),))]
            return list(kids)
        self.inline_depth += 1
        kids = _merge(self.inlines())
        self.inline_depth -= 1
        if name == "Strong":
            return [Strong(kids)]
        if name == "Emphasis":
            return [Emphasis(kids)]
        if name == "Strikethrough":
            return list(kids)
        target = str(payload.get("dest_url", ""))
        return [Link(target, kids or (Text(target),))]


    def _flat_inlines(self) -> list[Inline]:
        """The leaves up to the matching End, bold, italic and links inside them read flat."""
        out: list[Inline] = []
        open_runs = 0
        while True:
            e = self.ev[self.i]
            if _is_end(e):
                self.i += 1
                if not open_runs:
                    return out
                open_runs -= 1
            elif _tag(e, "Start") is not None:
                self.i += 1
                open_runs += 1
            else:
                inl = self.inline()
                if inl is None:
                    self.i += 1
                else:
                    out.extend(inl)


_LEAVES: tuple[tuple[str, Any], ...] = (
    ("Text", Text),
    ("Code", Code),
    ("InlineMath", lambda tex: Math(tex.strip())),
    ("DisplayMath", lambda tex: _Display(tex.strip())),
    ("InlineHtml", Text),
    ("Html", Text),
)

_BLOCK_STARTS: dict[str, Any] = {
    "Paragraph": _Folder.paragraph,
    "Heading": _Folder.heading,
    "List": _Folder.list_block,
    "CodeBlock": _Folder.code,
    "BlockQuote": _Folder.quote,
    "HtmlBlock": _Folder.html,
    "Table": _Folder.table,
}


_CONTAINERS = frozenset({"List", "Item", "BlockQuote"})

_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")


def tex_delimiters_to_dollars(text: str) -> str:
    r"""``\(…\)`` → ``$…$`` and ``\[…\]`` → ``$$…$$`` outside code.

    Chat assistants write formulas with these LaTeX delimiters in the Markdown they produce, where
    CommonMark would read ``\(`` as an escaped parenthesis and lose the formula. Only for chat
    sources: in hand-written Markdown ``\[`` is an escaped bracket.
    """
    if "\\(" not in text and "\\[" not in text:
        return text
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None

    def flush() -> None:
        chunk = "".join(prose)
        prose.clear()
        pieces: list[str] = []
        last = 0
        for m in _CODE_SPAN.finditer(chunk):
            pieces.append(_convert(chunk[last:m.start()]))
            pieces.append(m.group(0))
            last = m.end()
        pieces.append(_convert(chunk[last:]))
        out.append("".join(pieces))

    for line in text.splitlines(keepends=True):
        m = _FENCE_LINE.match(line)
        if fence is None and m:
            flush()
            fence = m.group(1)
            out.append(line)
        elif fence is not None:
            out.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
        else:
            prose.append(line)
    flush()
    return "".join(out)


def _convert(chunk: str) -> str:
    chunk = _delimited(chunk, "\\[", "\\]", "$$")
    return _delimited(chunk, "\\(", "\\)", "$")


def _delimited(chunk: str, opener: str, closer: str, dollars: str) -> str:
    """Each ``opener…closer`` with at least one character between as ``dollars…dollars``:
    leftmost opener first, nearest closer (as a lazy regular expression would), in linear time,
    since once an opener has no closer after it, no later opener has one either."""
    if opener not in chunk:
        return chunk
    out: list[str] = []
    pos = 0
    while (start := chunk.find(opener, pos)) >= 0:
        end = chunk.find(closer, start + len(opener) + 1)
        if end < 0:
            break
        out.append(chunk[pos:start])
        out.append(dollars + chunk[start + len(opener):end].strip() + dollars)
        pos = end + len(closer)
    out.append(chunk[pos:])
    return "".join(out)


def parse_blocks(text: str, tex_delimiters: bool = False) -> tuple[Block, ...]:
    """Parse Markdown text into model blocks (``tex_delimiters``: see :func:`tex_delimiters_to_dollars`)."""
    if tex_delimiters:
        text = tex_delimiters_to_dollars(text)
    return tuple(_Folder(list(pyromark.events(text, options=OPTIONS))).blocks(nested=False))


_BLOCK_OPENER = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|>|[*+-](?=\s|$)|`{3,}|~{3,})")
_NUMBER_OPENER = re.compile(r"^(\s*\d{1,9})([.)])")


def _protect(line: str) -> str:
    """Escape what would open a block at the start of a line, so it stays text."""
    line = line.strip()
    line = _BLOCK_OPENER.sub(lambda m: m.group(1) + "\\" + m.group(2), line, count=1)
    return _NUMBER_OPENER.sub(lambda m: m.group(1) + "\\" + m.group(2), line, count=1)


def parse_inlines(text: str, tex_delimiters: bool = False) -> tuple[Inline, ...]:
    """Parse one line of Markdown into inlines (a line that would open a block is read as text)."""
    blocks = parse_blocks(_protect(text), tex_delimiters)
    if len(blocks) == 1 and isinstance(blocks[0], Paragraph):
        return blocks[0].inlines
    out: list[Inline] = []
    for b in blocks:
        if isinstance(b, Paragraph):
            out.extend(b.inlines)
        elif isinstance(b, MathBlock):
            out.append(Math(b.tex))
    return _merge(out) if out else ((Text(text),) if text else ())
