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
    joined_text,
)

OPTIONS = pyromark.Options.ENABLE_MATH | pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH

Event = Any  # pyromark yields dicts ({"Start": tag}, {"Text": str}, …) and strings ("SoftBreak", "Rule")


class _Display(Math):
    """A ``$$…$$`` formula while the paragraph around it is being built (never leaves this module:
    at a paragraph's top level it becomes a display block or a :class:`Math`, inside bold, italic,
    links, headings and table cells a :class:`Math`)."""

    __slots__ = ()


def _finish(nodes: list[Any]) -> tuple[Inline, ...]:
    """Inlines from collected nodes, text still in ``str`` pieces (see :func:`joined_text`)."""
    return tuple(joined_text(nodes))


def _no_display(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """``nodes`` with every display formula as an inline :class:`Math`."""
    return tuple(Math(n.tex) if n.__class__ is _Display else n for n in nodes)


def _paragraph(nodes: tuple[Inline, ...], display: bool) -> list[Block]:
    """A paragraph, or display blocks when it holds nothing but ``$$…$$`` formulas (``display``:
    whether it holds any); nothing when it holds only white space."""
    if not display:
        if len(nodes) == 1 and nodes[0].__class__ is Text and not nodes[0].text.strip():
            return []
        return [Paragraph(nodes)]
    if all(n.__class__ is _Display or (n.__class__ is Text and not n.text.strip())
           for n in nodes):
        return [MathBlock(n.tex) for n in nodes if n.__class__ is _Display]
    return [Paragraph(_no_display(nodes))]


def _start(tag: Any) -> tuple[str, Any]:
    """(name, payload) of a ``Start`` event's tag (``"Paragraph"`` or ``{"List": 1}``)."""
    if tag.__class__ is str:
        return tag, None
    for name in tag:
        return name, tag[name]
    raise ValueError("empty tag")  # pragma: no cover - pulldown-cmark never sends one


_RUNS = frozenset({"Strong", "Emphasis", "Strikethrough", "Link", "Image"})
"""Inline tags whose content is inlines (strikethrough is kept as its plain content)."""


class _Folder:
    """Folds one event stream into blocks (a cursor over the list of events).

    Events are ``{"Start": tag}``, ``{"End": tag}``, leaves such as ``{"Text": str}``, and the
    strings ``"SoftBreak"``, ``"HardBreak"`` and ``"Rule"``. Inline content is collected as a list
    of nodes in which text is still plain ``str`` pieces, joined once per run by :func:`_finish`.
    """

    __slots__ = ("ev", "i", "depth", "inline_depth")

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
        loose: list[Any] = []  # a tight list item's text comes without a paragraph
        display = False
        flat = 0  # containers read flat here, being nested deeper than MAX_NESTING
        ev = self.ev
        n = len(ev)
        while self.i < n:
            e = ev[self.i]
            if e.__class__ is dict:
                tag = e.get("Start")
                if tag is not None:
                    name, payload = (tag, None) if tag.__class__ is str else _start(tag)
                    handler = _BLOCK_STARTS.get(name)
                    if handler is not None or name == "Item":
                        if loose:
                            out.extend(_paragraph(_finish(loose), display))
                            loose, display = [], False
                        self.i += 1
                        if name == "Paragraph":  # as :meth:`paragraph` does, one call less
                            nodes: list[Any] = []
                            if self.collect(nodes, False):
                                out.extend(_paragraph(_finish(nodes), True))
                            elif len(nodes) == 1 and nodes[0].__class__ is str and nodes[0].strip():
                                out.append(Paragraph((Text(nodes[0]),)))
                            else:
                                out.extend(_paragraph(_finish(nodes), False))
                            continue
                        if name in _CONTAINERS and (flat or self.depth >= MAX_NESTING or name == "Item"):
                            flat += 1
                            continue
                        out.extend(handler(self, payload))  # type: ignore[misc]
                        continue
                elif "End" in e:
                    self.i += 1
                    if flat:
                        flat -= 1
                        if loose:
                            out.extend(_paragraph(_finish(loose), display))
                            loose, display = [], False
                        continue
                    if nested:
                        break
                    continue
            elif e == "Rule":
                if loose:
                    out.extend(_paragraph(_finish(loose), display))
                    loose, display = [], False
                out.append(Rule())
                self.i += 1
                continue
            display = self.collect(loose, True) or display
        if loose:
            if display:
                out.extend(_paragraph(_finish(loose), True))
            else:  # as _paragraph does, one call less (the text of every tight list item)
                inlines = _finish(loose)
                if len(inlines) != 1 or inlines[0].__class__ is not Text or inlines[0].text.strip():
                    out.append(Paragraph(inlines))
        return out

    def collect(self, nodes: list[Any], loose: bool) -> bool:
        """Append the inlines at the cursor to ``nodes`` (text as ``str``) and say whether a
        ``$$…$$`` formula is among them (at this level).

        ``loose``: stop before the first event that is no inline (a block, an End, a rule), as
        the text of a tight list item does; else read up to the matching End and past it.
        """
        ev = self.ev
        i = self.i
        n = len(ev)
        display = False
        append = nodes.append
        payload: Any
        while i < n:
            e = ev[i]
            if e.__class__ is dict:
                if "End" in e:
                    if not loose:
                        i += 1
                    break
                text = e.get("Text")
                if text is not None:
                    append(text)
                    i += 1
                    continue
                tag = e.get("Start")
                if tag is not None:
                    name, payload = (tag, None) if tag.__class__ is str else _start(tag)
                    if name not in _RUNS:
                        if loose and (name in _BLOCK_STARTS or name == "Item"):
                            break
                        i += 1  # not an inline: skipped
                        continue
                    self.i = i + 1
                    if name == "Strikethrough" or self.inline_depth >= MAX_NESTING:
                        display = self.run(name, payload, nodes) or display
                        i = self.i
                        continue
                    # bold, italic, a link: as :meth:`run` does, one call less (the common case)
                    self.inline_depth += 1
                    kids: list[Any] = []
                    content = _no_display(_finish(kids)) if self.collect(kids, False) else _finish(kids)
                    self.inline_depth -= 1
                    i = self.i
                    if name == "Strong":
                        append(Strong(content))
                    elif name == "Emphasis":
                        append(Emphasis(content))
                    else:
                        target = str(payload.get("dest_url", ""))
                        append(Link(target, content or (Text(target),)))
                    continue
                for key, make in _LEAVES:
                    value = e.get(key)
                    if value is not None:
                        node = make(value)
                        if node.__class__ is _Display:
                            display = True
                        append(node)
                        break
                i += 1
            elif e == "SoftBreak":  # CommonMark: a soft line break is a space
                append(" ")
                i += 1
            elif e == "HardBreak":
                append(LineBreak())
                i += 1
            elif loose and e == "Rule":
                break
            else:
                i += 1
        self.i = i
        return display

    def inlines(self) -> tuple[Inline, ...]:
        """Inlines up to the matching End (and past it); formulas all inline."""
        nodes: list[Any] = []
        if self.collect(nodes, False):
            return _no_display(_finish(nodes))
        return _finish(nodes)

    def run(self, name: str, payload: Any, nodes: list[Any]) -> bool:
        """The bold, italic, struck or link run whose Start is just behind the cursor, appended to
        ``nodes``; whether a ``$$…$$`` formula reached this level (struck text is kept as its
        content, so its formulas do)."""
        if self.inline_depth >= MAX_NESTING:
            kids: list[Any] = []
            display = self.flat_inlines(kids)
            if name in ("Link", "Image"):
                target = str(payload.get("dest_url", ""))
                nodes.append(Link(target, _no_display(_finish(kids)) or (Text(target),)))
                return False
            nodes.extend(kids)
            return display
        self.inline_depth += 1
        if name == "Strikethrough":
            display = self.collect(nodes, False)
            self.inline_depth -= 1
            return display
        content = self.inlines()
        self.inline_depth -= 1
        if name == "Strong":
            nodes.append(Strong(content))
        elif name == "Emphasis":
            nodes.append(Emphasis(content))
        else:
            target = str(payload.get("dest_url", ""))
            nodes.append(Link(target, content or (Text(target),)))
        return False

    def flat_inlines(self, nodes: list[Any]) -> bool:
        """The leaves up to the matching End appended to ``nodes``, bold, italic and links inside
        them read flat; whether a ``$$…$$`` formula is among them."""
        ev = self.ev
        open_runs = 0
        display = False
        while True:
            e = ev[self.i]
            self.i += 1
            if e.__class__ is dict:
                if "End" in e:
                    if not open_runs:
                        return display
                    open_runs -= 1
                elif "Start" in e:
                    open_runs += 1
                elif "Text" in e:
                    nodes.append(e["Text"])
                else:
                    for key, make in _LEAVES:
                        value = e.get(key)
                        if value is not None:
                            node = make(value)
                            if node.__class__ is _Display:
                                display = True
                            nodes.append(node)
                            break
            elif e == "SoftBreak":
                nodes.append(" ")
            elif e == "HardBreak":
                nodes.append(LineBreak())

    def paragraph(self, _: Any) -> list[Block]:
        nodes: list[Any] = []
        display = self.collect(nodes, False)
        if not display and len(nodes) == 1 and nodes[0].__class__ is str and nodes[0].strip():
            return [Paragraph((Text(nodes[0]),))]  # the most common paragraph: one piece of text
        return _paragraph(_finish(nodes), display)

    def heading(self, _: Any) -> list[Block]:
        kids = self.inlines()
        return [Paragraph((Strong(kids),) if kids else ())]

    def list_block(self, start: int | None) -> list[Block]:
        items: list[ListItem] = []
        self.depth += 1
        ev = self.ev
        while not (ev[self.i].__class__ is dict and "End" in ev[self.i]):
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
            if not isinstance(e, dict):
                continue
            if e.get("Start") == "TableCell":
                row.append(self.inlines())
                continue
            end = e.get("End")
            if end is None:
                continue
            name = _start(end)[0]
            if name == "TableHead":
                header, row = tuple(row), []
            elif name == "TableRow":
                rows.append(tuple(row))
                row = []
            elif name == "Table":
                return [Table(header, tuple(rows))]

    def _raw(self, key: str) -> list[str]:
        parts: list[str] = []
        ev = self.ev
        while True:
            e = ev[self.i]
            self.i += 1
            if isinstance(e, dict):
                if "End" in e:
                    return parts
                parts.append(e.get(key, ""))


_LEAVES: tuple[tuple[str, Any], ...] = (
    ("Code", Code),
    ("InlineMath", lambda tex: Math(tex.strip())),
    ("DisplayMath", lambda tex: _Display(tex.strip())),
    ("InlineHtml", str),
    ("Html", str),
)
"""Leaf events besides text, and the node each becomes (HTML inside a paragraph is text)."""

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


_MARKUP = re.compile(r"[\x00-\x1f\x7f\\`*_~$\[\]<>!&|#]")
"""A character that may be Markdown syntax in a line (or a control character): a line with none
is plain text to the parser, apart from the block markers :func:`_protect` escapes."""


def parse_inlines(text: str, tex_delimiters: bool = False) -> tuple[Inline, ...]:
    """Parse one line of Markdown into inlines (a line that would open a block is read as text)."""
    line = text.strip()
    if line and line[0] != "-" and _MARKUP.search(line) is None:  # "---" would be a rule
        return (Text(line),)  # plain text: what the parser would make of it, without parsing
    blocks = parse_blocks(_protect(text), tex_delimiters)
    if len(blocks) == 1 and isinstance(blocks[0], Paragraph):
        return blocks[0].inlines
    out: list[Inline] = []
    for b in blocks:
        if isinstance(b, Paragraph):
            out.extend(b.inlines)
        elif isinstance(b, MathBlock):
            out.append(Math(b.tex))
    return _finish([n.text if n.__class__ is Text else n for n in out]) if out else ((Text(text),) if text else ())
