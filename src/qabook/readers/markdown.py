"""Markdown Q&A, as qabook writes it and as people write it.

The file is parsed once by markdown-it-py (through :mod:`qabook.readers.commonmark`) and cut into
its top-level blocks (*units*: a heading, a paragraph, a list, a table, an HTML block, …). Which
units are questions depends on the file's *layout*; each layout is one function below that walks
the units and tells a :class:`Builder` where questions, answers and section headings are:

``headings``
    Questions are headings: numbered (``### 12. What is …?``, ``#### 1) …``, ``# Q1. …`` with an
    ``Ans:`` paragraph), or unnumbered at the level most question-like headings use (topic headings
    above them). This is what qabook's Markdown writer produces, so its output reads back into the
    same items. Headings below the questions' level belong to the answer they sit in.
``details``
    ``<details><summary>Question?</summary> answer </details>`` blocks; everything inside a block,
    headings too, is the answer.
``answer-lists``
    A numbered list item (``1. **Q**``, ``1. Q``) or a paragraph ``**1.** Q`` holding the question,
    then a bullet ``- Answer:`` whose nested blocks are the answer.
``qa-labels``
    ``**Q:** question`` then ``**A:** answer`` (in the same paragraph or the next).
``table``
    A table with question and answer columns; a row is an item.
``bold``
    A paragraph that is all bold and reads as a question (ends with "?" or with a difficulty emoji
    such as 👶 ⭐️ 🚀), the answer up to the next one.

Every layout counts its questions cheaply first; the one that finds the most (the more specific on
ties) reads the file. In every layout, headings outside answers open sections and the first
level-1 heading before the questions is the title. What is not part of an item is skipped and
reported (a table of contents that repeats the questions is named as one). A question whose answer
is missing or a placeholder ("Answer here", "!", "TBD") stays in the model as ``unanswered`` and is
reported, never counted as answered.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from qabook.model import (
    Block,
    BulletList,
    Code,
    Document,
    Inline,
    Item,
    LineBreak,
    Link,
    Math,
    OrderedList,
    Origin,
    Paragraph,
    Rule,
    Section,
    Strong,
    Table,
    Text,
    plain_text,
)
from qabook.readers import _html
from qabook.readers.base import Cut, InputError, Reading, Skipped, Streamed, unanswered_warning
from qabook.readers.commonmark import blocks_from_tokens, inlines_from_tokens, parse, parse_blocks, parse_inlines
from qabook.source import CHUNK, Source, clean_utf8
from qabook.writers.markdown import SIGNATURE

if TYPE_CHECKING:
    from markdown_it.token import Token

NAME = "markdown"

_NUMBERED_RE = re.compile(
    r"^(?:(?P<num>\d{1,6})[.)]|Q(?:uestion)?\s*(?P<qnum>\d{1,6})\s*[.):])\s+(?P<rest>\S.*)$",
    re.DOTALL | re.IGNORECASE,
)
_NUMBER_ONLY_RE = re.compile(
    r"^(?:(?P<num>\d{1,6})[.)]|Q(?:uestion)?\s*(?P<qnum>\d{1,6})\s*[.):])\s+$", re.IGNORECASE)
_Q_LABEL_RE = re.compile(r"^Q\s*[:.]\s+")
_ANSWER_LABEL_RE = re.compile(r"^\s*(?:Ans(?:wer)?|A)\s*[:：]\s*", re.IGNORECASE)
_LONG_ANSWER_LABEL_RE = re.compile(r"^\s*Ans(?:wer)?\s*[:：]\s*", re.IGNORECASE)
_LABEL_ONLY_RE = re.compile(r"^\s*(?:Ans(?:wer)?|A)\s*[:：.]?\s*$", re.IGNORECASE)
_Q_STRONG_RE = re.compile(r"^\s*Q(?:uestion)?\s*(?P<num>\d{1,6})?\s*[:.]?\s*$", re.IGNORECASE)
_Q_TEXT_RE = re.compile(r"^\s*Q(?:uestion)?\s*(?P<num>\d{1,6})?\s*:\s+", re.IGNORECASE)
_A_STRONG_RE = re.compile(r"^\s*A(?:nswer)?\s*\d{0,6}\s*[:.]?\s*$", re.IGNORECASE)
_A_TEXT_RE = re.compile(r"(?<=[?？.!)])\s+A(?:nswer)?\s*:\s*")  # "… why? A: because", not "plan A: …"
_BOLD_NUMBER_RE = re.compile(r"^\s*(?P<num>\d{1,6})\s*[.)]\s*$")
_ANSWER_WORD_RE = re.compile(r"^\s*Answers?\s*(?:[:：.-]|$)\s*", re.IGNORECASE)
_PLACEHOLDER_RE = re.compile(
    r"^[\W_]*(?:(?:the\s+)?answer(?:\s+(?:goes\s+)?here)?|tbd|tba|todo|to\s+do|coming\s+soon|wip|n/?a|"
    r"work\s+in\s+progress)?[\W_]*$",
    re.IGNORECASE,
)
_QUESTION_HEADER = {"q", "question", "questions", "query", "prompt", "frage", "pregunta", "question text"}
_ANSWER_HEADER = {"a", "answer", "answers", "response", "reply", "antwort", "respuesta", "solution"}
_NUMBER_HEADER = {"#", "no", "no.", "n", "nr", "num", "number", "id", "s.no", "sl", "sl.no", "sr", "sr.no"}
_INVISIBLE = {"\u200d", "\u200c", "\ufe0f", "\ufe0e", "\u200b", "\u2060"}


# --------------------------------------------------------------------------- units


@dataclass(frozen=True, slots=True)
class _Unit:
    """One top-level block of the file and its tokens (open to close)."""

    kind: str
    """The token type without ``_open``: heading, paragraph, bullet_list, table, html_block, hr, …"""
    tokens: Sequence[Token]
    line: int
    """1-based first line."""
    end: int
    """1-based last line."""

    @property
    def level(self) -> int:
        """A heading's level (1–6); 0 for anything else."""
        return int(self.tokens[0].tag[1]) if self.kind == "heading" else 0

    @property
    def raw(self) -> str:
        """The Markdown text of a heading or paragraph; an HTML block's HTML."""
        if self.kind in ("heading", "paragraph"):
            return self.tokens[1].content
        return self.tokens[0].content

    def inlines(self) -> tuple[Inline, ...]:
        """A heading's or paragraph's inlines."""
        return tuple(inlines_from_tokens(self.tokens[1].children or []))

    def blocks(self) -> list[Block]:
        """The unit as model blocks (a heading becomes a bold paragraph)."""
        return blocks_from_tokens(self.tokens, 0, None)[0]

    def first_text(self) -> str:
        """The first line of text in the unit, for reports."""
        for tok in self.tokens:
            if tok.type in ("inline", "html_block", "fence", "code_block") and tok.content.strip():
                return tok.content.strip().split("\n")[0][:120]
        return self.kind.replace("_", " ")


def _units(tokens: Sequence[Token]) -> list[_Unit]:
    units: list[_Unit] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        end = i + 1
        if tok.nesting == 1:
            while end < n and not (tokens[end].level == tok.level and tokens[end].nesting == -1):
                end += 1
            end += 1
        line = tok.map[0] + 1 if tok.map else 0
        last = tok.map[1] if tok.map else line
        units.append(_Unit(tok.type.removesuffix("_open"), tokens[i:end], line, max(last, line)))
        i = end
    return units


# --------------------------------------------------------------------------- small helpers


def _visible_tail(text: str, count: int = 3) -> str:
    chars = [c for c in text.rstrip() if c not in _INVISIBLE and not c.isspace()]
    return "".join(chars[-count:])


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) == "So" and ord(ch) >= 0x2190


def looks_like_question(text: str) -> bool:
    """Ends with "?" or with a difficulty emoji (👶 ⭐️ 🚀, zero-width joiners ignored)."""
    tail = _visible_tail(text)
    return "?" in tail or "？" in tail or any(_is_emoji(c) for c in tail)


def _trim(inlines: Sequence[Inline]) -> tuple[Inline, ...]:
    """Outer white space and line breaks removed."""
    if inlines:  # most often nothing to remove: text without outer space at both ends
        first, last = inlines[0], inlines[-1]
        if (first.__class__ is Text and last.__class__ is Text and first.text[:1].strip()
                and last.text[-1:].strip()):
            return tuple(inlines)
    nodes = list(inlines)
    while nodes and (isinstance(nodes[0], LineBreak) or (isinstance(nodes[0], Text) and not nodes[0].text.strip())):
        nodes.pop(0)
    while nodes and (isinstance(nodes[-1], LineBreak) or (isinstance(nodes[-1], Text) and not nodes[-1].text.strip())):
        nodes.pop()
    if nodes and isinstance(nodes[0], Text):
        nodes[0] = Text(nodes[0].text.lstrip())
    if nodes and isinstance(nodes[-1], Text):
        nodes[-1] = Text(nodes[-1].text.rstrip())
    return tuple(nodes)


def _unwrap_strong(inlines: Sequence[Inline]) -> tuple[Inline, ...] | None:
    """The children of a run that is all bold (``**…**``), else None."""
    nodes = _trim(inlines)
    if len(nodes) == 1 and isinstance(nodes[0], Strong):
        return _trim(nodes[0].children)
    return None


def split_number(question: Sequence[Inline]) -> tuple[int | None, tuple[Inline, ...]]:
    """``12. What…`` / ``Q12: What…`` as (12, "What…"); other questions keep no number."""
    first = question[0] if question else None
    if isinstance(first, Text):
        m = _NUMBERED_RE.match(first.text)
        bare = _NUMBER_ONLY_RE.match(first.text) if m is None and len(question) > 1 else None
        if bare is not None:  # "12. " then a formatted question ("12. `x` is …")
            return int(bare.group("num") or bare.group("qnum")), _trim(question[1:])
        if m:
            number = int(m.group("num") or m.group("qnum"))
            rest = _Q_LABEL_RE.sub("", m.group("rest"))
            return number, (Text(rest),) + tuple(question[1:])
    return None, tuple(question)


def _drop_edge_stars(question: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Asterisks left over from broken bold markup (``****Question``) are not words."""
    nodes = list(question)
    if nodes and isinstance(nodes[0], Text) and nodes[0].text.startswith("**"):
        nodes[0] = Text(nodes[0].text.lstrip("*").lstrip())
    if nodes and isinstance(nodes[-1], Text) and nodes[-1].text.endswith("**"):
        nodes[-1] = Text(nodes[-1].text.rstrip("*").rstrip())
    return tuple(n for n in nodes if not (isinstance(n, Text) and not n.text))


def _strip_answer_label(blocks: list[Block], short: bool) -> list[Block]:
    """An answer's leading label ("Ans:", "Answer:", "**A:**" with ``short``) removed."""
    if not blocks or not isinstance(blocks[0], Paragraph):
        return blocks
    nodes = list(blocks[0].inlines)
    first = nodes[0] if nodes else None
    if isinstance(first, Strong) and _LABEL_ONLY_RE.match(plain_text(first.children)) and (
            short or not re.match(r"^\s*A\s*[:：.]?\s*$", plain_text(first.children))):
        nodes.pop(0)
        if nodes and isinstance(nodes[0], Text):
            nodes[0] = Text(re.sub(r"^\s*[:：]?\s*", "", nodes[0].text))
    elif isinstance(first, Text):
        label = (_ANSWER_LABEL_RE if short else _LONG_ANSWER_LABEL_RE).match(first.text)
        if label is None:
            return blocks
        nodes[0] = Text(first.text[label.end():])
    else:
        return blocks
    rest = _trim(nodes)
    return ([Paragraph(rest)] if rest else []) + blocks[1:]


def _is_placeholder(blocks: Sequence[Block]) -> bool:
    """No answer at all, or only a stand-in such as "Answer here", "!" or "TBD"."""
    words: list[str] = []
    for b in blocks:
        if not isinstance(b, Paragraph):
            return False
        if any(isinstance(n, (Link, Math, Code)) for n in b.inlines):
            return False
        words.append(plain_text(b.inlines))
    return _PLACEHOLDER_RE.match(" ".join(words).strip()) is not None


def _is_blank(block: Block) -> bool:
    if block.__class__ is not Paragraph:
        return False
    for n in block.inlines:
        if n.__class__ is not Text or n.text.strip():
            return False
    return True


def _unit_blocks(unit: _Unit) -> list[Block]:
    """A unit as answer blocks; spacers (``<br/>``, ``&nbsp;``) and empty paragraphs go."""
    if unit.kind == "html_block" and _html.is_separator(unit.raw):
        return []
    return [b for b in unit.blocks() if not _is_blank(b)]


def _is_toc_list(unit: _Unit) -> bool:
    """A list whose entries are all links to places in the same file."""
    if unit.kind not in ("bullet_list", "ordered_list"):
        return False
    blocks = unit.blocks()
    if len(blocks) != 1 or not isinstance(blocks[0], (BulletList, OrderedList)):
        return False
    return _all_anchor_links(blocks[0])


def _all_anchor_links(lst: BulletList | OrderedList) -> bool:
    for li in lst.items:
        for b in li.blocks:
            if isinstance(b, Paragraph):
                links = [n for n in _trim(b.inlines) if not (isinstance(n, Text) and not n.text.strip())]
                if len(links) != 1 or not isinstance(links[0], Link) or not links[0].target.startswith("#"):
                    return False
            elif isinstance(b, (BulletList, OrderedList)):
                if not _all_anchor_links(b):
                    return False
            else:
                return False
    return True


# --------------------------------------------------------------------------- the builder


@dataclass
class _OpenSection:
    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class _OpenItem:
    number: int | None
    question: tuple[Inline, ...]
    line: int
    blocks: list[Block] = field(default_factory=list)
    last: int = 0


@dataclass(frozen=True, slots=True)
class _Loose:
    line: int
    text: str
    before: bool
    toc: bool
    entries: tuple[str, ...]


class Builder:
    """Collects sections and items while a layout walks a file (the Word reader uses it too).

    A layout says where headings, questions and answers are; the builder decides what a heading
    is (the title or a section), strips an answer's leading label, tells placeholders from
    answers, and names what was skipped.
    """

    def __init__(self, title: str | None, fmt: str = NAME, *, short_labels: bool = False,
                 drop_rules: bool = True, h1_title: bool = True) -> None:
        self.title = title
        self.h1_title = h1_title
        """The first level-1 heading before the Q&A is the title (Markdown's habit, not Word's)."""
        self.fmt = fmt
        self.sections: list[_OpenSection] = []
        self.item: _OpenItem | None = None
        self.questions = 0
        self.short_labels = short_labels
        """Also strip a bare "A:" label (not only "Ans:" / "Answer:") from an answer's start."""
        self.drop_rules = drop_rules
        """Drop rules that end an answer (separators between items)."""
        self.labels = True
        """Strip an answer's leading label ("Ans:"); qabook's own Markdown has none to strip."""
        self.stand_ins = True
        """Read a stand-in answer ("TBD", "!") as no answer; in qabook's own Markdown it is an answer."""
        self.loose: list[_Loose] = []
        self.placeholders: list[Skipped] = []
        self.unanswered: list[int] = []

    def heading(self, text: str, level: int) -> None:
        """A heading outside any answer: the title (first level 1 before the Q&A) or a section."""
        self.close()
        text = " ".join(text.split())
        if level == 1 and self.h1_title and self.title is None and not self.sections and not self.questions:
            self.title = text
        else:
            self.sections.append(_OpenSection(text))

    def question(self, number: int | None, question: Sequence[Inline], line: int) -> None:
        """Start an item."""
        self.close()
        self.item = _OpenItem(number, _trim(question), line, [], line)
        self.questions += 1

    def answer(self, blocks: Sequence[Block], last: int) -> None:
        """Blocks of the open item's answer."""
        assert self.item is not None
        self.item.blocks.extend(b for b in blocks if not _is_blank(b))
        self.item.last = max(self.item.last, last)

    def skip(self, line: int, text: str, *, toc: bool = False, entries: Sequence[str] = ()) -> None:
        """Something that is not part of any item (``entries``: a list's entries, to tell a
        table of contents that repeats the questions)."""
        self.loose.append(_Loose(line, text, self.questions == 0, toc, tuple(entries)))

    def close(self) -> None:
        """Finish the open item."""
        item, self.item = self.item, None
        if item is None:
            return
        blocks = _strip_answer_label(item.blocks, self.short_labels) if self.labels else item.blocks
        if self.drop_rules:
            while blocks and isinstance(blocks[-1], Rule):
                blocks = blocks[:-1]
        answered = not _is_placeholder(blocks) if self.stand_ins else bool(blocks)
        if not answered:
            text = " ".join(plain_text(b.inlines) for b in blocks if isinstance(b, Paragraph)).strip()
            if text:
                self.placeholders.append(Skipped("placeholder answer", item.last or item.line, text[:80]))
            self.unanswered.append(item.line)
            blocks = []
        if not self.sections:
            self.sections.append(_OpenSection(""))
        self.sections[-1].items.append(Item(
            number=item.number,
            question=item.question,
            answer=tuple(blocks),
            status="answered" if answered else "unanswered",
            origin=Origin(1, item.line, max(item.last, item.line)),
        ))

    def finished(self, last: bool = False) -> tuple[Section, ...]:
        """Take the sections that are complete (all but the open one, or all when ``last``) out of
        the builder, for a reader that streams; :meth:`reading` then holds only the rest."""
        done = self.sections if last else self.sections[:-1]
        out = tuple(Section(s.title or "Questions", tuple(s.items), synthesized=not s.title)
                    for s in done if s.items)
        assert not self.loose, "a layout with text outside the Q&A needs every question to tell a table of contents"
        self.sections = [] if last else self.sections[-1:]
        return out

    def head(self, name: str, layout: str = "headings") -> Document:
        """The document as known so far, without sections (title, source, meta)."""
        return Document(self.title or "Questions and answers", name, (),
                        (("format", self.fmt), ("layout", layout), ("renditions", "1")))

    def reading(self, name: str, layout: str, *, allow_empty: bool = False) -> Reading:
        """The document and its report (``allow_empty``: sections were taken out by a stream)."""
        self.close()
        out = tuple(Section(s.title or "Questions", tuple(s.items), synthesized=not s.title)
                    for s in self.sections if s.items)
        if not out and not allow_empty:
            raise InputError("found no questions")
        questions = {_key(plain_text(it.question)) for s in out for it in s.items}
        skipped: list[Skipped] = []
        for loose in self.loose:
            kind = "before the Q&A" if loose.before else "outside the Q&A"
            repeats = sum(1 for e in loose.entries if _key(e) in questions)
            if loose.toc or (len(loose.entries) >= 2 and repeats * 2 > len(loose.entries)):
                kind = "table of contents"
            skipped.append(Skipped(kind, loose.line, loose.text))
        skipped.extend(self.placeholders)
        warnings: list[str] = []
        if self.unanswered:
            warnings.append(unanswered_warning(self.unanswered, "lines" if self.fmt == NAME else "paragraphs"))
        doc = replace(self.head(name, layout), sections=out)
        return Reading(doc, tuple(sorted(skipped, key=lambda s: s.line)), tuple(warnings))


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _md_heading(b: Builder, unit: _Unit) -> None:
    b.heading(plain_text(unit.inlines()), unit.level)


def _md_skip(b: Builder, unit: _Unit) -> None:
    if unit.kind == "hr" or not _unit_blocks(unit):
        return
    entries: list[str] = []
    if unit.kind in ("bullet_list", "ordered_list"):
        entries = [plain_text(inlines_from_tokens(tok.children or [])) for tok in unit.tokens if tok.type == "inline"]
    b.skip(unit.line, unit.first_text(), toc=_is_toc_list(unit), entries=entries)


def _md_unit(b: Builder, unit: _Unit) -> None:
    """A unit that is answer if an item is open, else skipped."""
    if b.item is None:
        _md_skip(b, unit)
    else:
        b.answer(_unit_blocks(unit), unit.end)


# --------------------------------------------------------------------------- layout: headings


def _numbered_heading(unit: _Unit) -> tuple[int, tuple[Inline, ...]] | None:
    """A heading ``12. Question`` / ``Q12. Question`` as (number, question)."""
    if unit.kind != "heading":
        return None
    # decide on the raw heading too, so an escaped "1\." is not read as a number
    if _NUMBERED_RE.match(unit.raw.strip()) is None:
        return None
    number, rest = split_number(unit.inlines())
    return (number, rest) if number is not None else None


def _question_level(units: Sequence[_Unit]) -> tuple[int, int, bool]:
    """(level, questions found at it, numbered): where the question headings are."""
    numbered: dict[int, int] = {}
    asking: dict[int, int] = {}
    for u in units:
        if u.kind != "heading":
            continue
        if _numbered_heading(u) is not None:
            numbered[u.level] = numbered.get(u.level, 0) + 1
        elif looks_like_question(plain_text(u.inlines())):
            asking[u.level] = asking.get(u.level, 0) + 1
    if numbered:
        level = max(sorted(numbered), key=lambda k: numbered[k])
        return level, numbered[level] + asking.get(level, 0), True
    if asking:
        level = max(sorted(asking), key=lambda k: asking[k])
        return level, asking[level], False
    return 7, 0, False


def _count_headings(units: Sequence[_Unit]) -> tuple[int, int]:
    _, count, numbered = _question_level(units)
    if numbered:
        return count, 70 if count >= 2 else 30
    return count, 45 if count >= 2 else 0


def _read_headings(units: Sequence[_Unit], b: Builder) -> None:
    """Question headings at one level; deeper headings are part of the answer."""
    level, _, _ = _question_level(units)
    b.drop_rules = False  # qabook's own answers may end with a rule
    for u in units:
        if u.kind == "heading" and u.level > level and b.item is not None:
            b.answer(u.blocks(), u.end)
        elif u.kind == "heading" and u.level == level:
            found = _numbered_heading(u)
            number, question = found if found is not None else (None, u.inlines())
            b.question(number, question, u.line)
        elif u.kind == "heading":
            _md_heading(b, u)
        else:
            _md_unit(b, u)


# --------------------------------------------------------------------------- layout: details


def _count_details(units: Sequence[_Unit]) -> tuple[int, int]:
    count = sum(1 for u in units if u.kind == "html_block" and _html.has_details(u.raw)
                for p in _html.details_parts(u.raw) if p.kind == "summary")
    return count, 65 if count >= 2 else (30 if count else 0)


def _read_details(units: Sequence[_Unit], b: Builder) -> None:
    """``<details><summary>Q</summary> A </details>``: all inside a block is answer."""
    depth = 0
    for u in units:
        if u.kind == "html_block" and _html.has_details(u.raw):
            for part in _html.details_parts(u.raw):
                line = u.line + part.line
                if part.kind == "open":
                    depth += 1
                elif part.kind == "close":
                    depth = max(depth - 1, 0)
                    if depth == 0:
                        b.close()
                elif part.kind == "summary" and depth <= 1:
                    question = _html.inlines_from_html(part.text)
                    b.question(None, _unwrap_strong(question) or question, line)
                elif part.kind == "summary" and b.item is not None:  # a nested block's summary
                    b.answer([Paragraph((Strong(_html.inlines_from_html(part.text)),))], line)
                elif part.kind == "text" and b.item is not None:
                    b.answer(parse_blocks(part.text), line + part.text.count("\n"))
        elif depth > 0 and b.item is not None:
            b.answer(_unit_blocks(u), u.end)
        elif u.kind == "heading":
            _md_heading(b, u)
        else:
            _md_skip(b, u)


# --------------------------------------------------------------------------- layout: answer lists


def _answer_list(unit: _Unit) -> list[Block] | None:
    """A bullet list whose first entry starts with "Answer:": the blocks of the answer."""
    if unit.kind != "bullet_list":
        return None
    blocks = unit.blocks()
    return _answer_from_list(blocks[0]) if len(blocks) == 1 and isinstance(blocks[0], BulletList) else None


def _answer_from_list(lst: BulletList) -> list[Block] | None:
    first = lst.items[0] if lst.items else None
    if first is None or not first.blocks or not isinstance(first.blocks[0], Paragraph):
        return None
    label = first.blocks[0].inlines
    strong = _unwrap_strong(label)
    text = plain_text(strong if strong is not None else label)
    m = _ANSWER_WORD_RE.match(text)
    if m is None:
        return None
    out: list[Block] = []
    if strong is None:
        head = _ANSWER_WORD_RE.match(label[0].text) if isinstance(label[0], Text) else None
        if head is None:
            return None
        assert isinstance(label[0], Text)
        rest = _trim((Text(label[0].text[head.end():]),) + tuple(label[1:]))
        if rest:
            out.append(Paragraph(rest))
    out.extend(first.blocks[1:])
    if len(lst.items) > 1:
        out.append(BulletList(lst.items[1:]))
    if len(out) == 1 and isinstance(out[0], BulletList) and len(out[0].items) == 1:
        out = list(out[0].items[0].blocks)  # the answer indented under the label: not a list of its own
    return out


def _list_question(unit: _Unit) -> tuple[int, tuple[Inline, ...], list[Block] | None] | None:
    """A question held by a one-entry numbered list (``1. **Q**``) or a ``**1.** Q`` paragraph,
    with the answer when it is nested in the same entry."""
    if unit.kind == "ordered_list":
        blocks = unit.blocks()
        if len(blocks) != 1 or not isinstance(blocks[0], OrderedList) or len(blocks[0].items) != 1:
            return None
        lst = blocks[0]
        inner = lst.items[0].blocks
        if not inner or not isinstance(inner[0], Paragraph):
            return None
        nested = None
        if len(inner) == 2 and isinstance(inner[1], BulletList):
            nested = _answer_from_list(inner[1])
        question = inner[0].inlines
        return lst.start, _drop_edge_stars(_unwrap_strong(question) or question), nested
    if unit.kind == "paragraph":
        nodes = _trim(unit.inlines())
        if not nodes or not isinstance(nodes[0], Strong):
            return None
        m = _BOLD_NUMBER_RE.match(plain_text(nodes[0].children))
        if m is not None and len(nodes) > 1:  # **1.** Question
            return int(m.group("num")), _trim(nodes[1:]), None
        whole = _unwrap_strong(nodes)
        if whole is not None:  # **1. Question**
            number, rest = split_number(whole)
            if number is not None:
                return number, rest, None
    return None


def _count_answer_lists(units: Sequence[_Unit]) -> tuple[int, int]:
    count = 0
    for k, u in enumerate(units):
        q = _list_question(u)
        if q is not None and (q[2] is not None or (k + 1 < len(units) and _answer_list(units[k + 1]) is not None)):
            count += 1
    return count, 65 if count >= 2 else (30 if count else 0)


def _read_answer_lists(units: Sequence[_Unit], b: Builder) -> None:
    """``1. **Question**`` then ``- Answer:`` and the answer nested under it."""
    for k, u in enumerate(units):
        q = _list_question(u)
        following = _answer_list(units[k + 1]) if k + 1 < len(units) else None
        if q is not None and (q[2] is not None or following is not None or u.kind == "paragraph"):
            number, question, nested = q
            b.question(number, question, u.line)
            if nested is not None:
                b.answer(nested, u.end)
            continue
        answer = _answer_list(u)
        if answer is not None and b.item is not None and not b.item.blocks:
            b.answer(answer, u.end)
        elif u.kind == "heading":
            _md_heading(b, u)
        elif u.kind != "hr":
            _md_unit(b, u)


# --------------------------------------------------------------------------- layout: Q:/A: labels


_Labelled = tuple[int | None, tuple[Inline, ...], tuple[Inline, ...] | None]


def labelled_question(inlines: Sequence[Inline]) -> _Labelled | None:
    """A paragraph ``**Q:** question`` (``**A:** answer`` may follow in the same paragraph) as
    (number, question, answer inlines or None)."""
    nodes = list(_trim(inlines))
    if not nodes:
        return None
    number: int | None = None
    first = nodes[0]
    if isinstance(first, Strong) and (m := _Q_STRONG_RE.match(plain_text(first.children))):
        nodes.pop(0)
        if nodes and isinstance(nodes[0], Text):
            nodes[0] = Text(re.sub(r"^\s*[:.]?\s*", "", nodes[0].text))
    elif isinstance(first, Text) and (m := _Q_TEXT_RE.match(first.text)):
        nodes[0] = Text(first.text[m.end():])
    else:
        return None
    if m.group("num"):
        number = int(m.group("num"))
    for i, node in enumerate(nodes):
        if isinstance(node, Strong) and _A_STRONG_RE.match(plain_text(node.children)):
            after = list(nodes[i + 1:])
            if after and isinstance(after[0], Text):
                after[0] = Text(re.sub(r"^\s*[:.]?\s*", "", after[0].text))
            return number, _trim(nodes[:i]), _trim(after)
        if isinstance(node, Text) and (a := _A_TEXT_RE.search(node.text)) and (i or a.start()):
            before = nodes[:i] + [Text(node.text[:a.start()])]
            after = [Text(node.text[a.end():])] + nodes[i + 1:]
            return number, _trim(before), _trim(after)
    return number, _trim(nodes), None


def _count_labels(units: Sequence[_Unit]) -> tuple[int, int]:
    count = sum(1 for u in units if u.kind == "paragraph" and labelled_question(u.inlines()) is not None)
    return count, 55 if count >= 2 else (25 if count else 0)


def _read_labels(units: Sequence[_Unit], b: Builder) -> None:
    """``**Q:** …`` paragraphs; the answer is ``**A:** …`` and what follows up to the next one."""
    b.short_labels = True
    for u in units:
        q = labelled_question(u.inlines()) if u.kind == "paragraph" else None
        if q is not None:
            number, question, answer = q
            b.question(number, question, u.line)
            if answer:
                b.answer([Paragraph(answer)], u.end)
        elif u.kind == "heading":
            _md_heading(b, u)
        else:
            _md_unit(b, u)


# --------------------------------------------------------------------------- layout: tables


def _cell_key(cell: Sequence[Inline]) -> str:
    return " ".join(plain_text(cell).split()).strip(" :*").casefold()


def _qa_columns(unit: _Unit) -> tuple[Table, int, int, int | None] | None:
    """A table with a question and an answer column: (table, question, answer, number column)."""
    if unit.kind != "table":
        return None
    blocks = unit.blocks()
    if len(blocks) != 1 or not isinstance(blocks[0], Table):
        return None
    table = blocks[0]
    columns = qa_columns(table.header)
    return None if columns is None else (table, *columns)


def qa_columns(header: Sequence[Sequence[Inline]]) -> tuple[int, int, int | None] | None:
    """The question, answer and number columns of a table header ("Question | Answer"), if any."""
    keys = [_cell_key(c) for c in header]
    q = next((i for i, k in enumerate(keys) if k in _QUESTION_HEADER), None)
    a = next((i for i, k in enumerate(keys) if k in _ANSWER_HEADER), None)
    if q is None or a is None or q == a:
        return None
    n = next((i for i, k in enumerate(keys) if k in _NUMBER_HEADER), None)
    return q, a, n


def table_items(table: Table, qcol: int, acol: int, ncol: int | None
                ) -> list[tuple[int, int | None, tuple[Inline, ...], list[Block]]]:
    """A question/answer table's rows as (row index, number, question, answer blocks)."""
    out: list[tuple[int, int | None, tuple[Inline, ...], list[Block]]] = []
    for r, row in enumerate(table.rows):
        question = _trim(row[qcol]) if qcol < len(row) else ()
        if not question:
            continue
        number: int | None = None
        cell = plain_text(row[ncol]).strip().rstrip(".") if ncol is not None and ncol < len(row) else ""
        if cell.isdigit():
            number = int(cell)
        else:
            number, question = split_number(question)
        out.append((r, number, question, _cell_blocks(row[acol]) if acol < len(row) else []))
    return out


def _count_tables(units: Sequence[_Unit]) -> tuple[int, int]:
    count = 0
    for u in units:
        found = _qa_columns(u)
        if found is not None:
            count += sum(1 for row in found[0].rows if len(row) > found[1] and _trim(row[found[1]]))
    return count, 55 if count >= 2 else (25 if count else 0)


def _cell_blocks(cell: tuple[Inline, ...]) -> list[Block]:
    """A cell's inlines as answer paragraphs: ``<br>`` tags become line breaks."""
    nodes: list[Inline] = []
    for n in cell:
        if isinstance(n, Text) and re.search(r"<br\s*/?>", n.text, re.IGNORECASE):
            pieces = re.split(r"<br\s*/?>", n.text, flags=re.IGNORECASE)
            for j, piece in enumerate(pieces):
                if j:
                    nodes.append(LineBreak())
                if piece:
                    nodes.append(Text(piece))
        else:
            nodes.append(n)
    trimmed = _trim(nodes)
    return [Paragraph(trimmed)] if trimmed else []


def _read_tables(units: Sequence[_Unit], b: Builder) -> None:
    """Tables with question and answer columns; each row is an item."""
    for u in units:
        found = _qa_columns(u)
        if found is None:
            if u.kind == "heading":
                _md_heading(b, u)
            else:
                b.close()
                _md_skip(b, u)
            continue
        for r, number, question, answer in table_items(*found):
            line = u.line + 2 + r
            b.question(number, question, line)
            b.answer(answer, line)
        b.close()


# --------------------------------------------------------------------------- layout: bold questions


def _bold_question(unit: _Unit) -> tuple[int | None, tuple[Inline, ...]] | None:
    """A paragraph that is all bold and reads as a question, as (number, question)."""
    if unit.kind != "paragraph":
        return None
    inner = _unwrap_strong(unit.inlines())
    if not inner or not looks_like_question(plain_text(inner)):
        return None
    return split_number(inner)


def _count_bold(units: Sequence[_Unit]) -> tuple[int, int]:
    count = sum(1 for u in units if _bold_question(u) is not None)
    return count, 50 if count >= 2 else (20 if count else 0)


def _read_bold(units: Sequence[_Unit], b: Builder) -> None:
    """Whole-paragraph bold questions; the answer runs to the next one or the next heading."""
    for u in units:
        q = _bold_question(u)
        if q is not None:
            b.question(q[0], q[1], u.line)
        elif u.kind == "heading":
            _md_heading(b, u)
        else:
            _md_unit(b, u)


# --------------------------------------------------------------------------- choosing a layout


@dataclass(frozen=True, slots=True)
class _Layout:
    name: str
    count: Callable[[Sequence[_Unit]], tuple[int, int]]
    """(questions found, sniff score)"""
    read: Callable[[Sequence[_Unit], Builder], None]


LAYOUTS: tuple[_Layout, ...] = (
    _Layout("headings", _count_headings, _read_headings),
    _Layout("details", _count_details, _read_details),
    _Layout("answer-lists", _count_answer_lists, _read_answer_lists),
    _Layout("qa-labels", _count_labels, _read_labels),
    _Layout("table", _count_tables, _read_tables),
    _Layout("bold", _count_bold, _read_bold),
)
"""Most specific first: on equal counts the earlier layout reads the file."""


def _choose(units: Sequence[_Unit]) -> tuple[_Layout, int, int]:
    best: tuple[_Layout, int, int] | None = None
    for layout in LAYOUTS:
        count, score = layout.count(units)
        if count and (best is None or (count, score) > (best[1], best[2])):
            best = (layout, count, score)
    if best is None:
        return LAYOUTS[0], 0, 0
    return best


def _speaker_lines(text: str) -> int:
    """Speaker lines of a chat transcript ("You said:", "## ChatGPT", …) in the text."""
    from qabook.readers import transcript

    return sum(1 for ln in transcript.classify(text.splitlines()) if ln.kind in ("speaker", "speaker_inline"))


SNIFF_CHARS = 16_384
"""How much of the text the sniff parses (the first questions of every layout come early)."""


def sniff(text: str) -> int:
    """Confidence that this is Markdown Q&A: the score of the layout that finds most questions.

    A chat transcript with Markdown inside is the transcript reader's: apart from numbered
    question headings, layouts score below it when the text has speaker lines.
    """
    if text.startswith(SIGNATURE):
        return 90
    head = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in head:
        head = head[:head.rindex("\n")]  # whole lines only
    if not head.strip():
        return 0
    speakers: int | None = None
    if not _HEADING_LIKE.search(head):
        # Only question headings score 70 or more; below that, text with speaker lines is a
        # transcript's (which scores 40 and more on them): no need to parse it as Markdown.
        speakers = _speaker_lines(head)
        if speakers >= 2:
            return 35
    _, _, score = _choose(_units(parse(head)))
    if 35 < score < 70 and (speakers if speakers is not None else _speaker_lines(head)) >= 2:
        return 35
    return score


_HEADING_LIKE = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)", re.MULTILINE)
"""A line that may make a heading: ATX (``## …``) or a setext underline (``===``, ``---``)."""


_QABOOK_HEADING = re.compile(r"^(#{1,3})(?:[ \t]+(.*))?$")
"""A heading line of qabook's Markdown; the text keeps trailing space (see :func:`_heading_text`)."""
_QABOOK_NUMBER = re.compile(r"^(\d{1,9})\.(?:[ \t]+(.*))?$", re.DOTALL)
_FENCE = re.compile(r"^(`{3,}|~{3,})")
"""A fence of a top-level code block: the writer puts those at the start of the line, and fences in
lists and quotes after an indent or a marker, where no line of their code can look like a heading."""


def _heading_text(text: str) -> str:
    """A heading's text without trailing space and without a closing ``#`` run after a space
    (string methods, not a regular expression: ``[ \t]+#+$`` is quadratic on long runs of spaces)."""
    text = text.rstrip(" \t")
    bare = text.rstrip("#")
    if bare != text and bare and bare[-1] in " \t":
        return bare.rstrip(" \t")
    return text


_MARKS = ("#", "`", "~")
"""First characters of the lines the fast path looks at (headings and fences); an empty line's
first character is "" and is not among them."""


def _fence_after(fence: str | None, line: str) -> tuple[str | None, bool]:
    """The top-level fence open after ``line`` (``fence``: the one open before it), and whether
    the line is code or a fence line, so no heading."""
    m = _FENCE.match(line)
    if fence is not None:
        if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
            return None, True
        return fence, True
    if m:
        return m.group(1), True
    return None, False


def _own_layout_builder(title: str | None) -> Builder:
    b = Builder(title)
    b.drop_rules = False  # what qabook wrote is read as it is: rules, labels and stand-ins are answers
    b.labels = False
    b.stand_ins = False
    return b


def _own_layout_sections(lines: Iterator[str], b: Builder, first_line: int = 1) -> Iterator[tuple[Section, ...]]:
    """The fast path for a file qabook's Markdown writer wrote (it starts with the signature).

    That writer puts only ``#``, ``##`` and ``###`` headings at the start of lines, blank lines
    between blocks, and no HTML that could hide a heading; so the file's structure is its heading
    lines outside fenced code, and only the answers between them need a Markdown parse (with the
    fast parser). The result equals the general ``headings`` layout's (tests compare them).

    Sections are yielded as soon as the next one starts, so a big file streams: such a file has
    one rendition (renditions were resolved when it was written), so no chunk needs another.
    """
    chunk: list[str] = []
    chunk_end = 0  # the last line with more than white space (in this chunk if after ``opened``)
    opened = 0  # the line of the heading the chunk follows
    fence: str | None = None

    def flush() -> None:
        if b.item is not None and chunk_end > opened:
            b.answer(list(parse_blocks("\n".join(chunk))), chunk_end)
        chunk.clear()

    for no, line in enumerate(lines, start=first_line):
        if line[:1] not in _MARKS:  # most lines: neither a fence nor a heading
            if b.item is not None:
                chunk.append(line)
                if line and not line.isspace():
                    chunk_end = no
            continue
        fence, code = _fence_after(fence, line)
        if not code:
            h = _QABOOK_HEADING.match(line)
            if h:
                flush()
                opened = no
                level, content = len(h.group(1)), _heading_text(h.group(2) or "")
                if level < 3:
                    b.heading(plain_text(parse_inlines(content)), level)
                    done = b.finished()
                    if done:
                        yield done
                else:
                    num = _QABOOK_NUMBER.match(content)
                    if num:
                        b.question(int(num.group(1)), parse_inlines(num.group(2) or ""), no)
                    else:
                        b.question(None, parse_inlines(content), no)
                continue
        if b.item is not None:
            chunk.append(line)
            if line.strip():
                chunk_end = no
    flush()
    b.close()
    done = b.finished(last=True)
    if done:
        yield done


def stream(source: Source, title: str | None) -> Streamed:
    """qabook's own Markdown read line by line as a stream of sections (:meth:`Source.lines`);
    other Markdown is read whole (its layout is chosen by looking at all of it)."""
    if not source.head_text().startswith(SIGNATURE):
        return Streamed.whole(read(source.text().text, source.name, title), _escapes(source.text().text))
    b = _own_layout_builder(title)
    sections = _own_layout_sections(source.lines(watch="&#"), b)
    first = next(sections, None)  # the title comes before the first section
    return _own_layout_stream(source, b, sections, first)


def _own_layout_stream(source: Source, b: Builder, sections: Iterator[tuple[Section, ...]],
                       first: tuple[Section, ...] | None) -> Streamed:
    streamed = Streamed(b.head(source.name), iter(()), escapes=source.watched)

    def chunks() -> Iterator[tuple[Section, ...]]:
        # a chunk goes out when the next section's heading has been read, so the text it came
        # from has been searched for escapes (&#1;) that make control characters
        if first is not None:
            streamed.escapes = source.watched
            yield first
        for chunk in sections:
            streamed.escapes = source.watched
            yield chunk
        # the questions without an answer go as line numbers, which two parts of a file add up
        streamed.unanswered.extend(b.unanswered)
        b.unanswered.clear()
        reading = b.reading(source.name, "headings", allow_empty=True)
        streamed.skipped.extend(reading.skipped)
        streamed.warnings.extend(reading.warnings)

    streamed.chunks = chunks()
    return streamed


CUT_AT = 0.48
"""Where (as a share of its bytes) :func:`cut` starts looking for a section heading. A little
before the middle: the process that converts the first part also deflates its body as it goes,
where the second part's records are deflated when they are joined (measured on 10,000 items,
the two parts then end within a few milliseconds of each other)."""


def cut(source: Source, at: float | None = None) -> Cut | None:
    """Where a file qabook's Markdown writer wrote can be read in two parts: the first level-1 or
    level-2 heading outside fenced code from ``at`` of its bytes on (:data:`CUT_AT` by default),
    as the fast path reads it.

    Only for UTF-8 text that decoding leaves as it is (no invalid bytes, no control characters,
    ``\\n`` newlines): then each part decodes to the lines the whole would give, and the parts'
    reports add up to the whole's. ``None`` when the file is not such or has no heading there.
    The file is read twice in chunks, never whole: once to check the text, once up to the cut
    for the lines that open a fence, and past the middle a heading (a few milliseconds per
    megabyte, all in C but for those lines).
    """
    head = source.head()
    if not source.head_text().startswith(SIGNATURE) or head.startswith(
            (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    size = _clean_utf8_size(source)
    if size is None:
        return None
    middle = int(size * (CUT_AT if at is None else at))
    fence: str | None = None
    headings = 0  # heading lines outside fences so far
    base = 0  # the offset of buf in the file; buf starts with the newline before a line
    line_no = 1  # the number of the line after buf's first newline
    buf = b""
    with source.open() as fh:
        while chunk := fh.read(CHUNK):
            buf += chunk
            done = pos = 0
            while True:
                # once the title is behind, only fences matter before the middle: look for those
                before = middle - base - 1  # lines starting past a newline before this one
                if headings and pos < before:
                    m = _FENCE_START.search(buf, pos, before + 1)
                    if m is None:
                        if before > len(buf):
                            break  # the middle is further on
                        pos = before
                        continue
                else:
                    m = _MARK_LINE.search(buf, pos)
                    if m is None:
                        break
                start = m.start() + 1
                end = buf.find(b"\n", start)
                if end < 0:
                    break  # the line goes on in the next chunk
                pos = start
                line_no += buf.count(b"\n", done, start)
                done = start
                line = buf[start:end].decode("utf-8")
                fence, code = _fence_after(fence, line)
                h = None if code else _QABOOK_HEADING.match(line)
                if h is None:
                    continue
                # a level-1 heading before any other is the title, not a section
                if base + start >= middle and (len(h.group(1)) == 2 or (len(h.group(1)) == 1 and headings)):
                    return Cut(base + start, line_no)
                headings += 1
            keep = buf.rfind(b"\n", done)  # the last line may go on in the next chunk
            keep = done if keep < 0 else keep
            line_no += buf.count(b"\n", done, keep)
            base += keep
            buf = buf[keep:]
    return None


_MARK_LINE = re.compile(rb"\n[#`~]")
"""A line that may open a heading or a fence (after the newline that ends the line before)."""
_FENCE_START = re.compile(rb"\n[`~]")
"""A line that may open or close a fence."""


def _clean_utf8_size(source: Source) -> int | None:
    """The size of ``source`` if it is UTF-8 (a BOM allowed) that decoding leaves as it is, else
    ``None``. (Surrogates are invalid UTF-8; U+FFFE and U+FFFF are looked for as bytes, two kept
    from each chunk so that one cut by a chunk boundary is found.)"""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    size = 0
    tail = b""
    with source.open() as fh:
        try:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                decoder.decode(chunk)
                # with the chunk before's last two bytes, for a U+FFFE cut by the boundary
                if b"\r" in chunk or not clean_utf8(tail + chunk):
                    return None
                tail = chunk[-2:]
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return size


def stream_from(source: Source, at: Cut) -> Streamed:
    """The second part of a file :func:`cut` cut, read as :func:`stream` reads the whole:
    ``source`` holds the bytes from the cut on, which start at a section heading on line
    ``at.line``. Its head has no title of its own (the first part's is the document's)."""
    b = _own_layout_builder(None)
    b.h1_title = False  # a level-1 heading here is a section, as it is after the first question
    return _own_layout_stream(source, b, _own_layout_sections(source.lines(watch="&#"), b, at.line), None)


def _escapes(text: str) -> bool:
    """Whether Markdown text may spell characters no document may hold (``&#1;``)."""
    return "&#" in text


def read(text: str, name: str = "-", title: str | None = None) -> Reading:
    """Read Markdown Q&A into a document (the layout is stored as the ``layout`` meta value)."""
    if text.startswith(SIGNATURE):
        b = _own_layout_builder(title)
        sections = tuple(s for chunk in _own_layout_sections(iter(text.split("\n")), b) for s in chunk)
        reading = b.reading(name, "headings", allow_empty=True)
        return Reading(replace(reading.document, sections=sections), reading.skipped, reading.warnings)
    units = _units(parse(text))
    layout, count, _ = _choose(units)
    if not count:
        raise InputError("found no questions in this Markdown (no question headings, bold questions, "
                         "<details> blocks, Answer: lists, Q:/A: labels or question/answer tables)")
    builder = Builder(title)
    layout.read(units, builder)
    return builder.reading(name, layout.name)
