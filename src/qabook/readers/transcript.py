"""Chat transcripts as plain text or Markdown: copied from a chat page or saved by an exporter.

The structure of a transcript lives in whole lines: who speaks ("You said:", "💡 **Gemini
Replied:**", "## Assistant"), batch headings ("Expanded Q&A (21–40)") and numbered questions
("12. Q: …" with "A:" on the same or the next line). This module finds those lines with small,
named regular expressions (no parser knows this layout), cuts the text into items, and hands each
answer's text to the CommonMark parser (:mod:`qabook.readers.commonmark`) for its content.

What is not Q&A is skipped and reported, never silently dropped and never glued into an answer:
speaker lines, the chat between batches ("✅ That's 81–100 fully expanded.", "Do you want me
to…?", the user's "yes"), and exchanges before or after the Q&A. An answer ends at the next
question, batch heading or speaker line; a batch's last answer also loses its closing chat (a
"That's N–M done" line and what follows it, and trailing offers such as "Would you like…?").

The same numbered set may appear more than once (a conversation pasted into another chat and
re-rendered there): a question number seen again starts a new *rendition*; every item records its
rendition in :class:`qabook.model.Origin`, and :mod:`qabook.renditions` picks per item later.

When a transcript holds no numbered Q&A, each user message and the reply to it form one item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from qabook.model import (
    Document,
    Inline,
    Item,
    LineBreak,
    Origin,
    Paragraph,
    Section,
    Text,
)
from qabook.readers.base import InputError, Reading, Skipped
from qabook.readers.commonmark import parse_blocks, parse_inlines

NAME = "transcript"

# names only: words such as "prompt:" or "model:" end too many lines of ordinary answers
_WHO_USER = r"you|user|me|human"
_WHO_BOT = r"chatgpt|gpt-[\w.-]+|assistant|claude|gemini|bard|copilot"
SPEAKER_RE = re.compile(
    r"^\s{0,3}(?P<h>\#{1,6}\s+)?(?:[^\w\s*#_]{1,3}\s*)?(?P<b>\*\*|__)?\s*"
    rf"(?P<who>{_WHO_USER}|{_WHO_BOT})"
    r"(?:\s+(?P<verb>said|asked|replied|says|asks|wrote|responded|answered))?"
    r"\s*(?P<c1>:)?\s*(?:\*\*|__)?\s*(?P<c2>:)?\s*$",
    re.IGNORECASE,
)
_USER_RE = re.compile(rf"^(?:{_WHO_USER})$", re.IGNORECASE)
# "User: text" on one line: only the unambiguous names, and only used when a transcript has no
# numbered Q&A (inside an answer, "User: hi" is more likely an example dialogue than a turn)
SPEAKER_INLINE_RE = re.compile(
    r"^\s{0,3}(?:\*\*)?(?P<who>you|user|human|me|chatgpt|assistant|claude|gemini)(?:\*\*)?:(?:\*\*)?\s+(?P<rest>\S.*)$",
    re.IGNORECASE,
)

QUESTION_RE = re.compile(
    r"^\s{0,3}(?:\#{1,6}\s+)?(?:\*\*)?(?P<num>\d{1,5})\s*[.)]\s*(?:\*\*)?\s*"
    r"Q(?:\s*\d+)?\s*[:.)]\s*(?:\*\*)?\s*(?P<rest>.*?)\s*$"
)
QUESTION_BARE_RE = re.compile(
    r"^\s{0,3}(?:\#{1,6}\s+)?(?:\*\*)?Q(?P<num>\d{1,5})\s*[:.)]\s*(?:\*\*)?\s*(?P<rest>.+?)\s*$"
)
ANSWER_LINE_RE = re.compile(r"^\s{0,3}(?:\*\*)?A\s*:(?:\*\*)?\s*(?P<rest>.*)$")
"""An answer label line; ``rest`` keeps trailing space (a lazy match before ``\\s*$`` is quadratic)."""
ANSWER_INLINE_RE = re.compile(r"\s(?:\*\*)?A:(?:\*\*)?(?:\s+|$)")
RANGE_RE = re.compile(r"(?P<lo>\d{1,5})\s*(?:–|—|-|to)\s*(?P<hi>\d{1,5})")
BATCH_WORD_RE = re.compile(r"\b(?:Q\s*&\s*A|Q/A|QnA|Questions?|Batch|Part|Set)\b", re.IGNORECASE)
FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")

CLOSER_RE = re.compile(
    r"^\W*(?:that[’']?s|that is|this (?:completes|wraps up|covers)|we[’']?ve (?:now )?"
    r"(?:covered|finished|completed|done)|and that[’']?s|done with)\b",
    re.IGNORECASE,
)
CLOSER_TOPIC_RE = re.compile(r"\d|question|batch|expanded|done|complete|covered", re.IGNORECASE)
OFFER_RE = re.compile(
    r"^\W*(?:do you want|would you like|want me to|shall i|should i|let me know|"
    r"if you(?:[’']d)? (?:want|like)|next up|ready for|we can keep|i can (?:also )?continue)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Line:
    kind: str  # "speaker" | "speaker_inline" | "batch" | "question" | "text"
    no: int
    text: str
    role: str = ""
    number: int = 0
    rest: str = ""
    lo: int = 0
    hi: int = 0


def classify(lines: list[str]) -> list[_Line]:
    """Label each line by what it is in the transcript's structure (fenced code is text)."""
    out: list[_Line] = []
    fence: str | None = None
    for no, raw in enumerate(lines, start=1):
        m = FENCE_RE.match(raw)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not raw.strip()[len(m.group(1)):].strip():
                fence = None
            out.append(_Line("text", no, raw))
            continue
        if m:
            fence = m.group(1)
            out.append(_Line("text", no, raw))
            continue
        out.append(_classify_line(no, raw))
    return _name_headings(out)


_NAME_HEADING_RE = re.compile(r"^\s{0,3}(?P<h>\#{1,6})\s+(?P<name>[^\s#*_][^#?!:.。？！：]{0,38}?)\s*$")


def _name_headings(lines: list[_Line]) -> list[_Line]:
    """Headings such as ``## kekyo`` that alternate with the assistant's speaker heading.

    Exporters that save a conversation as Markdown head each user message with the user's own
    name, which no list of names can know. A short heading that is directly followed, at least
    twice and in most of its uses, by an assistant speaker heading of the same level (the next
    heading of that level) is the user's speaker heading. Fenced code is already plain text here,
    so a ``# comment`` in code is never a candidate.
    """
    if not any(ln.kind == "speaker" and ln.role == "assistant" for ln in lines):
        return lines
    heads: list[tuple[int, int, str]] = []  # (index, level, name or "" for an assistant heading)
    for i, ln in enumerate(lines):
        if ln.kind == "speaker" and ln.role == "assistant":
            h = SPEAKER_RE.match(ln.text)
            if h is not None and h.group("h"):
                heads.append((i, h.group("h").count("#"), ""))
        elif ln.kind == "text" and ln.text.lstrip().startswith("#"):
            m = _NAME_HEADING_RE.match(ln.text)
            if m is not None and len(m.group("name").split()) <= 3:
                heads.append((i, len(m.group("h")), m.group("name").casefold()))
    uses: dict[tuple[int, str], int] = {}
    followed: dict[tuple[int, str], int] = {}
    next_at: dict[int, str] = {}  # level -> the name of the next heading of that level ("" = assistant)
    for _, level, name in reversed(heads):
        if name:
            key = (level, name)
            uses[key] = uses.get(key, 0) + 1
            if next_at.get(level) == "":
                followed[key] = followed.get(key, 0) + 1
        next_at[level] = name
    users = {key for key, n in followed.items() if n >= 2 and 2 * n >= uses[key]}
    if not users:
        return lines
    out = list(lines)
    for i, level, name in heads:
        if name and (level, name) in users:
            ln = lines[i]
            out[i] = _Line("speaker", ln.no, ln.text, role="user")
    return out


def _classify_line(no: int, raw: str) -> _Line:
    stripped = raw.strip()
    if not stripped:
        return _Line("text", no, raw)
    if len(stripped) > 300:
        return _long_line(no, raw)
    m = SPEAKER_RE.match(raw) if len(stripped) <= 60 else None
    if m and (m.group("h") or m.group("c1") or m.group("c2") or m.group("verb")):
        role = "user" if _USER_RE.match(m.group("who")) else "assistant"
        return _Line("speaker", no, raw, role=role)
    m = SPEAKER_INLINE_RE.match(raw) if ":" in raw[:24] else None
    if m:
        role = "user" if _USER_RE.match(m.group("who")) else "assistant"
        return _Line("speaker_inline", no, raw, role=role, rest=m.group("rest"))
    m = (QUESTION_RE.match(raw) or QUESTION_BARE_RE.match(raw)) if "Q" in raw else None
    if m:
        return _Line("question", no, raw, number=int(m.group("num")), rest=m.group("rest"))
    heading = stripped.lstrip("#").strip().strip("*_").strip()
    if len(heading) <= 80 and not heading.endswith((".", "?", "!", ":")) and any(c.isdigit() for c in heading):
        r = RANGE_RE.search(heading)
        if r and (BATCH_WORD_RE.search(heading) or stripped.startswith("#")):
            return _Line("batch", no, raw, rest=heading, lo=int(r.group("lo")), hi=int(r.group("hi")))
    return _Line("text", no, raw)


def _long_line(no: int, raw: str) -> _Line:
    """A line too long for a speaker line or a batch heading may still be a (long) question.

    The question patterns are matched on the line's first 300 characters (their ``rest`` part
    matches whatever follows), so a megabyte-long question costs no more than a short one.
    """
    head = raw[:300]
    m = (QUESTION_RE.match(head) or QUESTION_BARE_RE.match(head)) if "Q" in head else None
    if m:
        return _Line("question", no, raw, number=int(m.group("num")), rest=raw[m.start("rest"):].rstrip())
    return _Line("text", no, raw)


def sniff(text: str) -> int:
    """How sure we are that this is a chat transcript (0 = not at all)."""
    head = text[:50_000].splitlines()
    lines = classify(head)
    speakers = sum(1 for ln in lines if ln.kind in ("speaker", "speaker_inline"))
    questions = sum(1 for ln in lines if ln.kind == "question")
    if speakers and questions:
        return 60
    if questions >= 2:
        return 50
    if speakers >= 2:
        return 40
    return 1 if text.strip() else 0


@dataclass
class _OpenItem:
    number: int
    line: int
    question: str
    answer: list[tuple[int, str]] = field(default_factory=list)
    awaiting_a: bool = True


@dataclass
class _OpenSection:
    title: str
    lo: int
    hi: int
    synthesized: bool
    items: list[Item] = field(default_factory=list)
    rendition: int = 1


def read(text: str, name: str = "-", title: str | None = None) -> Reading:
    """Read a transcript into a document (all renditions kept; see :mod:`qabook.renditions`)."""
    lines = text.splitlines()
    classified = classify(lines)
    if any(ln.kind == "question" for ln in classified):
        return _read_numbered(classified, name, title)
    return _read_turns(classified, name, title)


# --------------------------------------------------------------------------- numbered Q&A


def _paragraphs(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Group lines into blank-line separated paragraphs; a fenced block stays in one group."""
    groups: list[list[tuple[int, str]]] = []
    cur: list[tuple[int, str]] = []
    fence: str | None = None
    for no, raw in lines:
        m = FENCE_RE.match(raw)
        if fence is None and not raw.strip():
            if cur:
                groups.append(cur)
                cur = []
            continue
        cur.append((no, raw))
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1)[0] == fence[0]:
                fence = None
    if cur:
        groups.append(cur)
    return groups


def _split_tail(paras: list[list[tuple[int, str]]], batch_end: bool) -> int:
    """Index of the first paragraph that is closing chat rather than answer."""
    for i, para in enumerate(paras):
        first = para[0][1].strip()
        if len(first) < 240 and CLOSER_RE.match(first) and CLOSER_TOPIC_RE.search(first):
            return i
    cut = len(paras)
    if batch_end:
        while cut > 0:
            first = paras[cut - 1][0][1].strip()
            if len(paras[cut - 1]) == 1 and len(first) < 400 and OFFER_RE.match(first):
                cut -= 1
            else:
                break
    return cut


def _read_numbered(lines: list[_Line], name: str, title: str | None) -> Reading:
    skipped: list[Skipped] = []
    warnings: list[str] = []
    sections: list[_OpenSection] = []
    rendition = 1
    seen: set[int] = set()
    section: _OpenSection | None = None
    item: _OpenItem | None = None
    loose: list[tuple[int, str]] = []  # lines outside any item, waiting to be reported
    last_item_end = 0

    def flush_loose() -> None:
        for para in _paragraphs(loose):
            skipped.append(Skipped("chat", para[0][0], para[0][1].strip()))
        loose.clear()

    def close_item(batch_end: bool) -> None:
        nonlocal item, last_item_end
        if item is None:
            return
        paras = _paragraphs(item.answer)
        cut = _split_tail(paras, batch_end)
        kept = [ln for para in paras[:cut] for ln in para]
        for para in paras[cut:]:
            skipped.append(Skipped("chat", para[0][0], para[0][1].strip()))
        # keep the original line layout of what stays (blank lines matter to Markdown)
        if kept:
            lo, hi = kept[0][0], kept[-1][0]
            body = [raw for no, raw in item.answer if lo <= no <= hi]
        else:
            hi = item.line
            body = []
        answer = parse_blocks("\n".join(body), tex_delimiters=True)
        assert section is not None
        section.items.append(Item(
            number=item.number,
            question=_question(item.question),
            answer=answer,
            status="answered" if answer else "unanswered",
            origin=Origin(rendition=rendition, first_line=item.line, last_line=hi),
        ))
        last_item_end = hi
        item = None

    for ln in lines:
        if ln.kind == "speaker":
            close_item(batch_end=True)
            flush_loose()
            skipped.append(Skipped("speaker line", ln.no, ln.text.strip()))
        elif ln.kind == "batch":
            close_item(batch_end=True)
            flush_loose()
            if ln.lo in seen:  # the numbered set starts over: a new rendition
                rendition += 1
                seen = set()
            section = _OpenSection(ln.rest, ln.lo, ln.hi, False, rendition=rendition)
            sections.append(section)
        elif ln.kind == "question":
            close_item(batch_end=False)
            flush_loose()
            if ln.number in seen:
                rendition += 1
                seen = set()
                if section is not None and section.rendition != rendition:
                    section = None
            seen.add(ln.number)
            if section is None or section.rendition != rendition or (
                    section.hi and not section.lo <= ln.number <= section.hi):
                section = _OpenSection("", ln.number, 0, True, rendition=rendition)
                sections.append(section)
            q, a = ln.rest, None
            m = ANSWER_INLINE_RE.search(q)
            if m:
                q, a = q[: m.start()], q[m.end():]
            item = _OpenItem(ln.number, ln.no, q.strip())
            if a is not None:
                item.awaiting_a = False
                if a.strip():
                    item.answer.append((ln.no, a))
        elif item is not None:
            if item.awaiting_a and ln.text.strip():
                item.awaiting_a = False
                m = ANSWER_LINE_RE.match(ln.text)
                if m:
                    rest = m.group("rest").rstrip()
                    if rest:
                        item.answer.append((ln.no, rest))
                    continue
            item.answer.append((ln.no, ln.text))
        else:
            loose.append((ln.no, ln.text))
    close_item(batch_end=True)
    flush_loose()

    first_item = min((it.origin.first_line for s in sections for it in s.items), default=0)
    final: list[Skipped] = []
    for s in skipped:
        if s.kind == "chat" and s.line < first_item:
            s = Skipped("before the Q&A", s.line, s.text)
        elif s.kind == "chat" and s.line > last_item_end:
            s = Skipped("closing exchange", s.line, s.text)
        elif s.kind == "chat":
            s = Skipped("chat between batches", s.line, s.text)
        final.append(s)

    out_sections: list[Section] = []
    headed = {sec.rendition for sec in sections if not sec.synthesized and sec.items}
    for sec in sections:
        if not sec.items:
            continue
        if sec.synthesized:
            lo = sec.items[0].number
            hi = sec.items[-1].number
            sec.title = f"Questions {lo}–{hi}"
        if sec.synthesized and sec.rendition in headed:  # other batches here have headings
            warnings.append(
                f"no batch heading before items {lo}–{hi} (rendition {sec.rendition}, "
                f"line {sec.items[0].origin.first_line}); named the section “{sec.title}”"
            )
        out_sections.append(Section(sec.title, tuple(sec.items), synthesized=sec.synthesized))

    doc = Document(
        title=title or _guess_title(out_sections, name),
        source=name,
        sections=tuple(out_sections),
        meta=(("format", NAME), ("renditions", str(rendition))),
    )
    return Reading(doc, tuple(sorted(final, key=lambda s: s.line)), tuple(warnings))


def _question(text: str) -> tuple[Inline, ...]:
    text = text.strip()
    if text.endswith("**") and text.count("**") % 2 == 1:
        text = text[:-2].rstrip()
    return parse_inlines(text, tex_delimiters=True)


def _guess_title(sections: list[Section], name: str) -> str:
    """The batch headings' shared name ("Expanded Q&A"), else the file's name."""
    prefixes = {
        RANGE_RE.split(s.title)[0].rstrip(" (–-:").strip()
        for s in sections if not s.synthesized
    }
    if len(prefixes) == 1:
        (only,) = prefixes
        if only:
            return only
    stem = PurePath(name).stem if name not in ("", "-") else ""
    return stem.replace("_", " ").strip() or "Questions and answers"


# --------------------------------------------------------------------------- turn pairs


def _read_turns(lines: list[_Line], name: str, title: str | None) -> Reading:
    turns: list[tuple[str, int, list[tuple[int, str]]]] = []
    skipped: list[Skipped] = []
    for ln in lines:
        if ln.kind == "speaker":
            turns.append((ln.role, ln.no, []))
            skipped.append(Skipped("speaker line", ln.no, ln.text.strip()))
        elif ln.kind == "speaker_inline":
            turns.append((ln.role, ln.no, [(ln.no, ln.rest)]))
        elif turns:
            turns[-1][2].append((ln.no, ln.text))
        elif ln.text.strip():
            skipped.append(Skipped("before the Q&A", ln.no, ln.text.strip()))
    items: list[Item] = []
    roles = {role for role, _, _ in turns}
    if roles != {"user", "assistant"}:
        raise InputError("found no questions and answers (no numbered Q&A and no user/assistant turns)")
    i = 0
    while i < len(turns):
        role, no, body = turns[i]
        if role == "user" and any(t.strip() for _, t in body):
            reply: list[tuple[int, str]] = []
            j = i + 1
            while j < len(turns) and turns[j][0] == "assistant":
                reply.extend(turns[j][2])
                j += 1
            answer = parse_blocks("\n".join(t for _, t in reply), tex_delimiters=True)
            last = max([n for n, t in reply if t.strip()] or [no])
            items.append(Item(
                number=None,
                question=_turn_question(body),
                answer=answer,
                status="answered" if answer else "unanswered",
                origin=Origin(1, no, last),
            ))
            i = j
        else:
            for n, t in body:
                if t.strip():
                    skipped.append(Skipped("chat between batches", n, t.strip()))
            i += 1
    if not items:
        raise InputError("found no questions and answers (no numbered Q&A and no user/assistant turns)")
    doc = Document(
        title=title or _guess_title([], name),
        source=name,
        sections=(Section("Conversation", tuple(items)),),
        meta=(("format", NAME), ("renditions", "1")),
    )
    return Reading(doc, tuple(sorted(skipped, key=lambda s: s.line)), ())


def _turn_question(body: list[tuple[int, str]]) -> tuple[Inline, ...]:
    """A user message as question inlines; several paragraphs are joined by line breaks."""
    blocks = parse_blocks("\n".join(t for _, t in body))
    if blocks and all(isinstance(b, Paragraph) for b in blocks):
        out: list[Inline] = []
        for b in blocks:
            assert isinstance(b, Paragraph)
            if out:
                out.append(LineBreak())
            out.extend(b.inlines)
        return tuple(out)
    text_lines = [t.rstrip() for _, t in body if t.strip()]
    out2: list[Inline] = []
    for t in text_lines:
        if out2:
            out2.append(LineBreak())
        out2.append(Text(t.strip()))
    return tuple(out2)
