"""Gemini through Google Takeout: "My Activity" for Gemini Apps as JSON or HTML (or the ZIP).

Takeout keeps no conversations for Gemini, only activity entries, newest first: each prompt is one
entry whose title is a localised verb and the prompt ("Prompted …", German "Eingegebener Prompt:
…"), with the answer as HTML (``safeHtmlItem`` in JSON; after the entry's date in the HTML page).
Entries without an answer that are not prompts (Gems created, feedback given, drafts selected)
are counted as skipped. Here the entries are put oldest first and grouped by day, one section per
day; an entry with an answer whose verb is not in :data:`PROMPT_VERBS` keeps its whole title as
the question, and a warning says so.

Answers are HTML: they are turned into model blocks directly (paragraphs, headings as bold
paragraphs, lists, code, tables, quotes, bold, italics, links, line breaks) with the standard
library's HTML parser: no network, no external entities. ``MyActivity.html`` is parsed as a
stream, one activity card at a time.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator, Union

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
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Strong,
    Table,
    Text,
)
from qabook.readers import _chat
from qabook.readers._chat import Conversation, Exchange, skipped
from qabook.readers._html import TolerantHTMLParser
from qabook.readers.base import InputError, Reading
from qabook.source import Source

NAME = "gemini"

PROMPT_VERBS: tuple[str, ...] = (
    "Prompted",              # English
    "Asked",                 # English (Bard)
    "Eingegebener Prompt:",  # German
    "Gav instruktionen",     # Swedish
)
"""How Takeout starts a prompt entry's title, per language."""
_VERB_RE = re.compile(r"^\s*(?:" + "|".join(re.escape(v) for v in PROMPT_VERBS) + r")[\s\u00a0]*", re.IGNORECASE)
_PRODUCT_RE = re.compile(r"gemini|bard", re.IGNORECASE)


# --------------------------------------------------------------------------- sniffing


def _json_score(head: str) -> int:
    h = head.lstrip("\ufeff \t\r\n")
    if h.startswith("[") and '"header"' in h and '"title"' in h and (
            '"safeHtmlItem"' in h or _PRODUCT_RE.search(h)):
        return 90
    return 0


def _html_score(head: str) -> int:
    return 90 if "outer-cell" in head and "content-cell" in head and _PRODUCT_RE.search(head) else 0


def _zip_member(names: list[str]) -> str | None:
    found = []
    for n in names:
        norm = n.replace("\\", "/")
        folder, _, base = norm.rpartition("/")
        low = base.lower()
        if low.endswith((".json", ".html")) and _PRODUCT_RE.search(folder) and "gem" not in low.replace("gemini", ""):
            if "gemini" in low or "bard" in low:  # e.g. Takeout/Gemini/gemini_gems_data.html
                continue
            found.append((0 if low.endswith(".json") else 1, norm.count("/"), n))
    return min(found)[2] if found else None


def sniff(source: Source) -> int:
    """How sure we are that the input is Gemini's Takeout activity."""
    if _chat.is_zip(source):
        return 85 if _zip_member(_chat.zip_names(source) or []) else 0
    head = source.head_text()
    return max(_json_score(head), _html_score(head))


# --------------------------------------------------------------------------- reading


@dataclass
class _Entry:
    header: str
    title: str
    when: dt.datetime | None
    day: dt.date | None
    answer: tuple[Block, ...]
    attachments: int = 0


@dataclass
class _State:
    unknown_verb: int = 0
    other: list[str] = field(default_factory=list)


def read(source: Source, title: str | None) -> Reading:
    """Read the activity (streamed) into a document with one section per day, oldest first."""
    if _chat.is_zip(source):
        container = "zip"
        entries = list(_zip_entries(source))
    else:
        head = source.head_text()
        if _json_score(head) or head.lstrip("\ufeff \t\r\n").startswith("["):
            container = "json"
            with source.open() as fh:
                entries = list(_json_entries(fh))
        else:
            container = "html"
            with source.open() as fh:
                entries = list(_html_entries(fh))
    state = _State()
    convs = _days(entries, state)
    if not convs:
        raise InputError("holds no Gemini prompts (no 'Gemini Apps' entries with a prompt)")
    reading = _chat.reading_from(iter(convs), source.name, title, NAME, "Gemini conversations",
                                 (("container", container),))
    import dataclasses

    warnings = list(reading.warnings)
    if state.unknown_verb:
        warnings.append(f"{state.unknown_verb} entr{'y' if state.unknown_verb == 1 else 'ies'} with an answer "
                        "did not start with a known prompt verb; the whole title was kept as the question")
    doc = reading.document
    if title is None:
        doc = dataclasses.replace(doc, title="Gemini conversations")
    return dataclasses.replace(reading, document=doc, warnings=tuple(warnings))


def _zip_entries(source: Source) -> Iterator[_Entry]:
    zf = _chat.open_zip(source)
    with zf, _chat.ZipErrors():
        member = _zip_member(zf.namelist())
        if member is None:
            raise InputError("is a ZIP archive without Gemini Apps activity (My Activity)")
        with _chat.open_member(zf, member) as fh:
            if member.lower().endswith(".json"):
                yield from _json_entries(fh)
            else:
                yield from _html_entries(fh)


def _days(entries: list[_Entry], state: _State) -> list[Conversation]:
    """Entries oldest first, one conversation per day."""
    entries = entries[::-1]  # the file is newest first
    if all(e.when is not None for e in entries):
        entries.sort(key=lambda e: e.when)  # type: ignore[arg-type, return-value]
    convs: list[Conversation] = []
    current: Conversation | None = None
    current_day: object = object()
    for e in entries:
        prompt = _prompt(e, state)
        if prompt is None:
            if current is None:
                state.other.append(e.title)
            else:
                current.skipped.append(skipped("activity item", "activity"))
            continue
        if current is None or e.day != current_day:
            created = dt.datetime.combine(e.day, dt.time(), dt.timezone.utc) if e.day else None
            current = Conversation(_chat.section_title(e.header or "Gemini", created), created, independent=True)
            current.skipped.extend(skipped("activity item", "activity") for _ in state.other)
            state.other.clear()
            current_day = e.day
            convs.append(current)
        current.exchanges.append(Exchange(prompt, reply_blocks=e.answer))
        if e.attachments:
            current.skipped.extend([skipped("attachment", "attachment")] * e.attachments)
    if state.other and convs:
        convs[-1].skipped.extend(skipped("activity item", "activity") for _ in state.other)
    return convs


def _prompt(e: _Entry, state: _State) -> str | None:
    m = _VERB_RE.match(e.title)
    if m:
        text = e.title[m.end():].strip()
        return text or None
    if e.answer:
        state.unknown_verb += 1
        return e.title.strip() or None
    return None


# --------------------------------------------------------------------------- JSON


def _json_entries(fh: BinaryIO) -> Iterator[_Entry]:
    first = True
    for rec in _chat.iter_records(fh):
        if not isinstance(rec, dict) or "title" not in rec:
            if first:
                raise InputError("is JSON but not Google Takeout activity (an entry has no 'title')")
            continue
        first = False
        header = str(rec.get("header") or "")
        raw_products = rec.get("products")
        products: list[Any] = raw_products if isinstance(raw_products, list) else []
        if not (_PRODUCT_RE.search(header) or any(_PRODUCT_RE.search(str(p)) for p in products)):
            continue
        when = _chat.utc_from_iso(rec.get("time"))
        answer: list[Block] = []
        raw = rec.get("safeHtmlItem")
        items: list[Any] = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
        for part in items:
            if isinstance(part, dict):
                html = part.get("html", part.get("htmlValue"))
                if isinstance(html, str):
                    answer.extend(html_blocks(html))
        attached = rec.get("attachedFiles")
        yield _Entry(header, str(rec.get("title") or ""), when, when.date() if when else None, tuple(answer),
                     len(attached) if isinstance(attached, list) else 0)


# --------------------------------------------------------------------------- HTML tree


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[Union[_Node, str]] = field(default_factory=list)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                   "track", "wbr"})
_BLOCK = frozenset({"p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
                    "table", "hr", "section", "article", "header", "footer", "figure", "dl", "dt", "dd",
                    "details", "summary", "main", "aside", "nav", "thead", "tbody", "tr", "td", "th"})
_CLOSES_P = _BLOCK - {"li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "summary"}
_DROP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg", "math", "button"})
MAX_TREE_DEPTH = 128
"""Deepest element nesting kept from the HTML: deeper start tags are ignored and their text goes to
the element around them (the tree is walked recursively; real pages nest about 20 deep)."""


class _TreeParser(TolerantHTMLParser):
    """HTML into a small tree; ``on_close(node)`` may take a closed element out (returns True)."""

    def __init__(self, on_close: Callable[[_Node], bool] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack: list[_Node] = [self.root]
        self.on_close = on_close

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _CLOSES_P:
            self._close_open("p")
        if tag == "li":
            self._close_open("li", stop=("ul", "ol"))
        if len(self.stack) > MAX_TREE_DEPTH and tag not in _VOID:
            return
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                while len(self.stack) > i:
                    self._pop()
                return

    def _close_open(self, tag: str, stop: tuple[str, ...] = ("div", "td", "th", "li", "blockquote")) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            t = self.stack[i].tag
            if t == tag:
                while len(self.stack) > i:
                    self._pop()
                return
            if t in stop:
                return

    def _pop(self) -> None:
        node = self.stack.pop()
        if self.on_close is not None and self.on_close(node):
            parent = self.stack[-1]
            if parent.children and parent.children[-1] is node:
                parent.children.pop()

    def handle_data(self, data: str) -> None:
        kids = self.stack[-1].children
        if kids and isinstance(kids[-1], str):
            kids[-1] += data
        else:
            kids.append(data)


def parse_html(html: str) -> _Node:
    p = _TreeParser()
    p.feed(html)
    p.close()
    while len(p.stack) > 1:
        p._pop()
    return p.root


def html_blocks(html: str) -> tuple[Block, ...]:
    """HTML (an answer) as model blocks."""
    return tuple(_blocks(parse_html(html).children))


_WS_RE = re.compile(r"[ \t\n\r\f]+")


def _text_content(node: _Node | str) -> str:
    if isinstance(node, str):
        return node
    if node.tag == "br":
        return "\n"
    if node.tag in _DROP:
        return ""
    return "".join(_text_content(c) for c in node.children)


def _inlines(nodes: list[_Node | str], depth: int = 0) -> list[Inline]:
    """Inline content; bold, italic and links nested deeper than MAX_NESTING are read flat."""
    out: list[Inline] = []
    deeper = depth + 1
    flat = depth >= MAX_NESTING
    for n in nodes:
        if isinstance(n, str):
            t = _WS_RE.sub(" ", n)
            if t:
                out.append(Text(t))
            continue
        tag = n.tag
        if tag in _DROP:
            continue
        if tag == "br":
            out.append(LineBreak())
        elif tag in ("strong", "b"):
            inner = _tidy(_inlines(n.children, deeper))
            if inner:
                out.extend(inner if flat else [Strong(tuple(inner))])
        elif tag in ("em", "i", "cite", "dfn"):
            inner = _tidy(_inlines(n.children, deeper))
            if inner:
                out.extend(inner if flat else [Emphasis(tuple(inner))])
        elif tag in ("code", "kbd", "samp", "tt"):
            t = _text_content(n)
            if t:
                out.append(Code(t))
        elif tag == "a":
            inner = _tidy(_inlines(n.children, deeper))
            href = n.attrs.get("href", "").strip()
            if href and inner and not flat and not href.lower().startswith(("javascript:", "data:")):
                out.append(Link(href, tuple(inner)))
            else:
                out.extend(inner)
        elif tag == "img":
            alt = n.attrs.get("alt", "").strip()
            if alt:
                out.append(Text(alt))
        elif tag in _BLOCK:  # a block inside inline content: keep its words on a line of their own
            inner = _tidy(_inlines(n.children, depth))
            if inner:
                if out:
                    out.append(LineBreak())
                out.extend(inner)
        else:
            out.extend(_inlines(n.children, depth))
    return out


def _tidy(inl: list[Inline]) -> list[Inline]:
    """Merge neighbouring text, trim spaces at the ends and around line breaks."""
    merged: list[Inline] = []
    run: list[str] = []  # joined once per run: repeated concatenation would be quadratic
    for x in inl:
        if isinstance(x, Text):
            run.append(x.text)
            continue
        if run:
            merged.append(Text("".join(run)))
            run = []
        merged.append(x)
    if run:
        merged.append(Text("".join(run)))
    for i, x in enumerate(merged):
        if isinstance(x, Text):
            t = x.text
            if i == 0 or isinstance(merged[i - 1], LineBreak):
                t = t.lstrip(" ")
            if i == len(merged) - 1 or isinstance(merged[i + 1], LineBreak):
                t = t.rstrip(" ")
            merged[i] = Text(t)
    out = [x for x in merged if not (isinstance(x, Text) and not x.text)]
    while out and isinstance(out[0], LineBreak):
        out.pop(0)
    while out and isinstance(out[-1], LineBreak):
        out.pop()
    return out


def _blocks(nodes: list[_Node | str], depth: int = 0) -> list[Block]:
    """Blocks of a run of nodes; lists and quotes nested deeper than MAX_NESTING are read flat."""
    out: list[Block] = []
    run: list[_Node | str] = []

    def flush() -> None:
        inl = _tidy(_inlines(run))
        if inl:
            out.append(Paragraph(tuple(inl)))
        run.clear()

    for n in nodes:
        if isinstance(n, str) or n.tag not in _BLOCK:
            if not (isinstance(n, _Node) and n.tag in _DROP):
                run.append(n)
            continue
        flush()
        out.extend(_block(n, depth))
    flush()
    return out


def _block(n: _Node, depth: int = 0) -> list[Block]:
    tag = n.tag
    flat = depth >= MAX_NESTING
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        inl = _tidy(_inlines(n.children))
        return [Paragraph((Strong(tuple(inl)),))] if inl else []
    if tag in ("ul", "ol"):
        items: list[ListItem] = []
        for c in n.children:
            if isinstance(c, _Node) and c.tag == "li":
                items.append(ListItem(tuple(_blocks(c.children, depth + 1))))
            elif isinstance(c, _Node) and c.tag in ("ul", "ol") and items:  # a list nested without its <li>
                last = items[-1]
                items[-1] = ListItem(last.blocks + tuple(_block(c, depth + 1)))
        if not items:
            return []
        if flat:
            return [b for it in items for b in it.blocks]
        if tag == "ol":
            try:
                start = int(n.attrs.get("start", "1"))
            except ValueError:
                start = 1
            return [OrderedList(tuple(items), start)]
        return [BulletList(tuple(items))]
    if tag == "pre":
        lang = ""
        for c in n.children:
            if isinstance(c, _Node) and c.tag == "code":
                for cls in c.classes():
                    if cls.startswith(("language-", "lang-")):
                        lang = cls.split("-", 1)[1]
        text = _text_content(n)
        if text.startswith("\n"):
            text = text[1:]
        return [CodeBlock(text.rstrip("\n").rstrip(), lang)]
    if tag == "blockquote":
        inner = _blocks(n.children, depth + 1)
        if flat or not inner:
            return inner
        return [Quote(tuple(inner))]
    if tag == "hr":
        return [Rule()]
    if tag == "table":
        return _table(n)
    if tag == "li":
        return _blocks(n.children, depth)
    return _blocks(n.children, depth)


def _table(n: _Node) -> list[Block]:
    rows: list[tuple[bool, list[tuple[Inline, ...]]]] = []

    def walk(node: _Node, in_head: bool) -> None:
        for c in node.children:
            if not isinstance(c, _Node):
                continue
            if c.tag == "tr":
                cells = []
                head = in_head
                for cell in c.children:
                    if isinstance(cell, _Node) and cell.tag in ("td", "th"):
                        head = head or cell.tag == "th"
                        cells.append(tuple(_tidy(_cell_inlines(cell))))
                rows.append((head, cells))
            elif c.tag in ("thead", "tbody", "tfoot"):
                walk(c, c.tag == "thead")

    walk(n, False)
    if not rows:
        return []
    header = rows[0][1]
    body = [tuple(r) for _, r in rows[1:]]
    return [Table(tuple(header), tuple(body))]


def _cell_inlines(cell: _Node) -> list[Inline]:
    out: list[Inline] = []
    for b in _blocks(cell.children):
        if out:
            out.append(LineBreak())
        if isinstance(b, Paragraph):
            out.extend(b.inlines)
        else:
            out.append(Text(" ".join(_WS_RE.sub(" ", _flat_text(b)).split())))
    return out


def _flat_text(b: Block) -> str:
    from qabook.writers import markdown

    return markdown.block(b)


# --------------------------------------------------------------------------- Takeout HTML page

_DATETIME_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_ATTACHED_RE = re.compile(r"^(?:Attached \d+ files?\.?|\d+ Datei(?:en)? angeh[äa]ngt\.?|Bifogade \d+ fil(?:er)?\.?)$",
                          re.IGNORECASE)


def _html_entries(fh: BinaryIO) -> Iterator[_Entry]:
    cards: list[_Node] = []

    def on_close(node: _Node) -> bool:
        if node.tag == "div" and "outer-cell" in node.classes():
            cards.append(node)
            return True
        return False

    parser = _TreeParser(on_close)
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    seen_card = False
    while True:
        chunk = fh.read(1 << 20)
        text = decoder.decode(chunk, final=not chunk)
        if text:
            parser.feed(text)
        for card in cards:
            seen_card = True
            entry = _card_entry(card)
            if entry is not None:
                yield entry
        cards.clear()
        if not chunk:
            break
    parser.close()
    if not seen_card:
        raise InputError("is an HTML page without Takeout activity entries (no 'outer-cell' cards)")


def _card_entry(card: _Node) -> _Entry | None:
    header = ""
    main: _Node | None = None
    for node in _descendants(card):
        cls = node.classes()
        if "header-cell" in cls and not header:
            header = " ".join(_text_content(node).split())
        elif "content-cell" in cls and main is None and "mdl-typography--text-right" not in cls \
                and "mdl-typography--caption" not in cls:
            main = node
    if main is None or not _PRODUCT_RE.search(header):
        return None
    segments: list[list[_Node | str]] = [[]]
    rest: list[_Node | str] = []
    for i, c in enumerate(main.children):
        if isinstance(c, _Node) and c.tag == "br":
            segments.append([])
        elif isinstance(c, _Node) and c.tag in _BLOCK:
            rest = main.children[i:]
            break
        else:
            segments[-1].append(c)
    texts = [" ".join(_text_content(_Node("span", {}, s)).replace("\u00a0", " ").split()) for s in segments]
    date_at = -1
    for i, t in enumerate(texts):
        if i > 0 and len(t) < 80 and _DATETIME_RE.search(t) and _YEAR_RE.search(t):
            date_at = i
    if date_at < 0:
        return None
    prompt_lines: list[str] = []
    attachments = 0
    for seg, t in zip(segments[:date_at], texts[:date_at]):
        if _ATTACHED_RE.match(t):
            continue
        if any(isinstance(x, _Node) and x.tag == "a" for x in seg) and t.lstrip("-• ").strip() == \
                " ".join(_text_content(_Node("span", {}, [x for x in seg if isinstance(x, _Node)])).split()):
            attachments += 1
            continue
        # keep the prompt's own line layout (the verb is followed by a no-break space)
        prompt_lines.append(_text_content(_Node("span", {}, seg)).strip("\n"))
    title = "\n".join(prompt_lines).strip()
    answer_nodes: list[_Node | str] = []
    for seg in segments[date_at + 1:]:
        if answer_nodes:
            answer_nodes.append(_Node("br", {}))
        answer_nodes.extend(seg)
    answer_nodes.extend(rest)
    day = _html_date(texts[date_at])
    return _Entry(header, title, None, day, tuple(_blocks(answer_nodes)), attachments)


def _descendants(node: _Node) -> Iterator[_Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(c for c in reversed(n.children) if isinstance(c, _Node))


_MONTHS = {
    "jan": 1, "ene": 1, "gen": 1, "янв": 1,
    "feb": 2, "fev": 2, "fév": 2, "фев": 2,
    "mar": 3, "mär": 3, "mrt": 3, "мар": 3,
    "apr": 4, "avr": 4, "abr": 4, "апр": 4,
    "may": 5, "mai": 5, "maj": 5, "mag": 5, "mei": 5, "мая": 5, "май": 5,
    "jun": 6, "jui": 6, "giu": 6, "июн": 6,
    "jul": 7, "lug": 7, "июл": 7,
    "aug": 8, "ago": 8, "aoû": 8, "авг": 8,
    "sep": 9, "set": 9, "сен": 9,
    "oct": 10, "okt": 10, "out": 10, "ott": 10, "окт": 10,
    "nov": 11, "ноя": 11,
    "dec": 12, "dez": 12, "dic": 12, "déc": 12, "дек": 12,
}


def _html_date(text: str) -> dt.date | None:
    """The calendar date in Takeout's localised date line ("May 1, 2024, 12:34:56 PM CEST")."""
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    before = _DATETIME_RE.split(text, maxsplit=1)[0]
    patterns: list[tuple[str, tuple[int, int, int]]] = [
        (r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})", (1, 2, 3)),
        (r"(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})", (1, 2, 3)),
        (r"(\d{4})[-./]\s?(\d{1,2})[-./]\s?(\d{1,2})", (1, 2, 3)),
        (r"(\d{1,2})[./](\d{1,2})[./](\d{4})", (3, 2, 1)),
    ]
    for pat, (yi, mi, di) in patterns:
        m = re.search(pat, before)
        if m:
            y, mo, d = int(m.group(yi)), int(m.group(mi)), int(m.group(di))
            if mo > 12 >= d and (yi, mi, di) == (3, 2, 1):
                mo, d = d, mo
            try:
                return dt.date(y, mo, d)
            except ValueError:
                return None
    words = re.findall(r"[^\W\d_]+|\d+", before)
    month = next((7 if w.lower().startswith("juil") else _MONTHS[w.lower()[:3]]
                  for w in words if not w.isdigit() and w.lower()[:3] in _MONTHS), None)
    year = next((int(w) for w in words if w.isdigit() and len(w) == 4), None)
    day = next((int(w) for w in words if w.isdigit() and len(w) <= 2 and 1 <= int(w) <= 31), None)
    if month and year and day:
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    return None
