"""Markdown whose questions are numbered headings (``### 12. What is …?``).

This is the layout qabook's own Markdown writer produces, and a common one in hand-written notes:
a heading whose text starts with a number and ``.`` or ``)`` is a question, and so is any other
heading of the level most numbered questions use; the first level-1 heading before any question
is the title; headings above the questions' level open sections, and headings below it belong to
the answer they sit in. An answer is every block up to the next question or section heading.
The whole file is parsed once by markdown-it-py
(through :mod:`qabook.readers.commonmark`); this module only walks the top-level tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.token import Token

from qabook.model import Document, Inline, Item, Origin, Section, Text
from qabook.readers.base import InputError, Reading, Skipped
from qabook.readers.commonmark import blocks_from_tokens, inlines_from_tokens, parser

NAME = "markdown"

_QUESTION_RE = re.compile(r"^(?P<num>\d{1,6})[.)]\s+(?P<rest>\S.*)$", re.DOTALL)


def sniff(text: str) -> int:
    """Confidence that this is Markdown with numbered question headings."""
    head = text[:200_000]
    questions = len(re.findall(r"(?m)^#{1,6}\s+\d{1,6}[.)]\s+\S", head))
    return 70 if questions >= 2 else (30 if questions == 1 else 0)


@dataclass
class _Open:
    title: str
    items: list[Item] = field(default_factory=list)


def _question_level(tokens: list[Token]) -> int:
    """The heading level most numbered questions use (questions are headings of that level)."""
    levels: dict[int, int] = {}
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and _QUESTION_RE.match(tokens[i + 1].content.strip()):
            lvl = int(tok.tag[1])
            levels[lvl] = levels.get(lvl, 0) + 1
    return max(sorted(levels), key=lambda k: levels[k]) if levels else 7


def read(text: str, name: str = "-", title: str | None = None) -> Reading:
    """Read numbered-heading Markdown into a document."""
    tokens = parser().parse(text)
    doc_title = title
    sections: list[_Open] = []
    skipped: list[Skipped] = []
    current: tuple[int | None, tuple[Inline, ...], int] | None = None
    answer: list[Token] = []

    def close(end_line: int) -> None:
        nonlocal current
        if current is None:
            for tok in answer:
                if tok.map is not None and tok.level == 0:
                    skipped.append(Skipped("before the Q&A", tok.map[0] + 1, tok.content[:80]))
            answer.clear()
            return
        number, question, line = current
        blocks, _ = blocks_from_tokens(answer, 0, None)
        if not sections:
            sections.append(_Open(""))
        last = max([t.map[1] for t in answer if t.map is not None] or [line])
        sections[-1].items.append(Item(
            number=number,
            question=question,
            answer=tuple(blocks),
            status="answered" if blocks else "unanswered",
            origin=Origin(1, line, last),
        ))
        answer.clear()
        current = None

    level = _question_level(tokens)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open" and tok.level == 0 and int(tok.tag[1]) > level:
            answer.extend(tokens[i:i + 3])  # a sub-heading inside an answer
            i += 3
            continue
        if tok.type == "heading_open" and tok.level == 0:
            inline = tokens[i + 1]
            line = (tok.map[0] + 1) if tok.map else 0
            close(line)
            kids = tuple(inlines_from_tokens(inline.children or []))
            first = kids[0] if kids else None
            # decide on the raw heading, so an escaped "1\." is not read as a number
            raw = _QUESTION_RE.match(inline.content.strip())
            m = _QUESTION_RE.match(first.text) if isinstance(first, Text) else None
            if raw is not None and m is not None and isinstance(first, Text):
                rest = (Text(m.group("rest")),) + kids[1:]
                current = (int(m.group("num")), rest, line)
            elif int(tok.tag[1]) == level:  # an unnumbered question at the questions' level
                current = (None, kids, line)
            elif tok.tag == "h1" and doc_title is None and not sections:
                doc_title = inline.content.strip()
            elif any(s.items for s in sections) or tok.tag != "h1":
                sections.append(_Open(inline.content.strip()))
            i += 3
            continue
        answer.append(tok)
        i += 1
    close(0)

    out = tuple(Section(s.title or "Questions", tuple(s.items), synthesized=not s.title)
                for s in sections if s.items)
    if not out:
        raise InputError("found no numbered question headings")
    doc = Document(
        title=doc_title or "Questions and answers",
        source=name,
        sections=out,
        meta=(("format", NAME), ("renditions", "1")),
    )
    return Reading(doc, tuple(skipped), ())
