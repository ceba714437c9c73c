"""``qabook check``: a review of a collection as an editor would want it.

It looks at what a conversion found, not at any output file:

* numbering per rendition: the range covered, gaps, repeats and numbers out of order, and batches
  whose heading is missing;
* questions asked more than once (exact, or near: the same question worded a little differently),
  grouped, with how alike their answers are;
* unanswered items, and the chat that was skipped, by kind;
* per item, where a later rendition's words differ from the earliest's, as word-level hunks
  (formulas are single tokens, so a rewritten formula shows as one changed token).

Near-duplicates avoid all-pairs comparison: questions are reduced to keys (lower case, no
punctuation, no filler words such as "what is", a parenthetical read as an alias: "LoRA
(Low-Rank Adaptation)" is both "lora" and "low rank adaptation"); questions sharing a key are one
group. Keys that differ only by a misspelt word are found with rapidfuzz, comparing only within
blocks of keys that share a rare token, so 100,000 questions check in seconds.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz import fuzz

from qabook.model import Document, Item, plain_text
from qabook.pipeline import Result
from qabook.words import answer_words, question_words


@dataclass(frozen=True, slots=True)
class Coverage:
    """The numbers one rendition covers."""

    rendition: int
    items: int
    first: int | None
    last: int | None
    gaps: tuple[int, ...]
    """Numbers missing between ``first`` and ``last`` (the first :data:`MAX_GAPS` of them)."""
    repeats: tuple[int, ...]
    """Numbers that appear more than once in this rendition with different questions."""
    out_of_order: tuple[int, ...]
    """Numbers that come after a higher number."""

    @property
    def complete(self) -> bool:
        return not self.gaps and not self.repeats and not self.out_of_order


@dataclass(frozen=True, slots=True)
class MissingHeading:
    """A run of items with no batch heading, where other batches have one."""

    rendition: int
    first: int | None
    last: int | None
    line: int


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Questions asked more than once."""

    kind: str
    """``exact`` (same words) or ``near`` (same question worded differently)."""
    numbers: tuple[int | None, ...]
    questions: tuple[str, ...]
    answer_similarity: int
    """How alike the answers are, 0–100 (the lowest against the first item of the group)."""


@dataclass(frozen=True, slots=True)
class Hunk:
    """One changed stretch of words between two renditions of an answer."""

    before: str
    """Words of context before the change."""
    earliest: str
    other: str
    after: str


@dataclass(frozen=True, slots=True)
class RenditionDiff:
    """How a later rendition's answer differs from the earliest one."""

    number: int
    question: str
    rendition: int
    hunks: tuple[Hunk, ...]


@dataclass(frozen=True, slots=True)
class Review:
    """Everything ``check`` found."""

    source: str
    items: int
    coverage: tuple[Coverage, ...]
    missing_headings: tuple[MissingHeading, ...]
    duplicates: tuple[DuplicateGroup, ...]
    unanswered: tuple[tuple[int | None, str], ...]
    skipped: tuple[tuple[str, int], ...]
    differences: tuple[RenditionDiff, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def needs_review(self) -> bool:
        """True when an editor should look at something."""
        return bool(
            any(not c.complete for c in self.coverage) or self.missing_headings or self.duplicates
            or self.unanswered or self.differences
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["needs_review"] = self.needs_review
        for c, cd in zip(self.coverage, d["coverage"]):
            cd["complete"] = c.complete
        d["skipped"] = dict(self.skipped)
        d["unanswered"] = [{"number": n, "question": q} for n, q in self.unanswered]
        return d


# --------------------------------------------------------------------------- numbering


def _coverage(doc: Document) -> tuple[Coverage, ...]:
    by_rendition: dict[int, list[Item]] = defaultdict(list)
    for it in doc.items():
        by_rendition[it.origin.rendition].append(it)
    out: list[Coverage] = []
    for rendition in sorted(by_rendition):
        items = by_rendition[rendition]
        numbers = [it.number for it in items if it.number is not None]
        seen: set[int] = set()
        repeats: list[int] = []
        order: list[int] = []
        highest = None
        for n in numbers:
            if n in seen:
                repeats.append(n)
            seen.add(n)
            if highest is not None and n < highest:
                order.append(n)
            highest = n if highest is None else max(highest, n)
        first, last = (min(seen), max(seen)) if seen else (None, None)
        gaps = _gaps(seen)
        out.append(Coverage(rendition, len(items), first, last, gaps, tuple(repeats), tuple(order)))
    return tuple(out)


MAX_GAPS = 10_000
"""Most missing numbers listed per rendition (a number like 999999999 among 1–20 would otherwise
list a billion)."""


def _gaps(seen: set[int]) -> tuple[int, ...]:
    """The numbers missing between the lowest and the highest in ``seen`` (the first MAX_GAPS)."""
    out: list[int] = []
    ordered = sorted(seen)
    for a, b in zip(ordered, ordered[1:]):
        out.extend(range(a + 1, min(b, a + 1 + MAX_GAPS - len(out))))
        if len(out) >= MAX_GAPS:
            break
    return tuple(out)


def _missing_headings(doc: Document) -> tuple[MissingHeading, ...]:
    headed = {it.origin.rendition for s in doc.sections if not s.synthesized for it in s.items}
    out = []
    for s in doc.sections:
        if s.synthesized and s.items and s.items[0].origin.rendition in headed:
            first, last = s.items[0], s.items[-1]
            out.append(MissingHeading(first.origin.rendition, first.number, last.number, first.origin.first_line))
    return tuple(out)


# --------------------------------------------------------------------------- duplicates

FILLER = frozenset(
    "what is are was were the a an of in on for to and how does do did why when which who explain "
    "define describe tell me about again depth detail detailed briefly exactly really s".split()
)
_PARENS_RE = re.compile(r"\(([^()]*)\)")


def _words(text: str) -> list[str]:
    norm = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in re.findall(r"[^\W_]+", norm) if w not in FILLER]


def question_keys(question: str) -> set[str]:
    """The keys a question is known by: its words without filler, and each parenthetical alias."""
    keys = set()
    main = " ".join(_words(_PARENS_RE.sub(" ", question)))
    if main:
        keys.add(main)
    if len(main.split()) <= 3:  # "LoRA (Low-Rank Adaptation)": the parenthetical names the same thing
        for alias in _PARENS_RE.findall(question):
            k = " ".join(_words(alias))
            if k and (" " in k or len(k) >= 3):
                keys.add(k)
    whole = " ".join(_words(question))
    if whole:
        keys.add(whole)
    return {k for k in keys} | {k.replace(" ", "") for k in keys}


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _typo_variant(a: str, b: str, threshold: int) -> bool:
    """Keys that differ only by misspelt words ("tokenisation"/"tokenization"), not by a word
    that changes the subject ("Adam"/"AdamW", "FlashAttention"/"FlashAttention 2")."""
    ta, tb = a.split(), b.split()
    if len(ta) != len(tb) or fuzz.ratio(a, b) < threshold:
        return False
    for x, y in zip(ta, tb):
        if x != y and (min(len(x), len(y)) < 6 or fuzz.ratio(x, y) < 80
                       or any(c.isdigit() for c in x + y)):
            return False
    return True


def duplicate_groups(items: list[Item], near_threshold: int = 92) -> tuple[DuplicateGroup, ...]:
    """Groups of items that ask the same question (exactly or nearly)."""
    questions = [plain_text(it.question) for it in items]
    uf = _UnionFind(len(items))
    owner: dict[str, int] = {}
    mains: dict[str, int] = {}
    for i, q in enumerate(questions):
        for key in question_keys(q):
            if key in owner:
                uf.union(owner[key], i)
            else:
                owner[key] = i
        main = " ".join(_words(_PARENS_RE.sub(" ", q)))
        mains.setdefault(main, i)
    # near: keys that differ by a typo or a word; compared only within blocks of a rare token
    postings: dict[str, list[str]] = defaultdict(list)
    for key in mains:
        for tok in set(key.split()):
            postings[tok].append(key)
    for key, i in mains.items():
        toks = sorted(set(key.split()), key=lambda t: len(postings[t]))
        for tok in toks[:2]:
            block = postings[tok]
            if len(block) > 200:
                continue
            for other in block:
                if other != key and _typo_variant(key, other, near_threshold):
                    uf.union(i, mains[other])
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        members[uf.find(i)].append(i)
    groups: list[DuplicateGroup] = []
    answers: dict[int, str] = {}

    def answer_text(i: int) -> str:
        if i not in answers:
            answers[i] = " ".join(answer_words(items[i]))
        return answers[i]

    for idxs in sorted(members.values(), key=lambda g: g[0]):
        if len(idxs) < 2:
            continue
        normalized = {" ".join(question_words(items[i])).casefold() for i in idxs}
        kind = "exact" if len(normalized) == 1 else "near"
        first = answer_text(idxs[0])
        sim = min(int(round(fuzz.token_sort_ratio(first, answer_text(j)))) for j in idxs[1:])
        groups.append(DuplicateGroup(kind, tuple(items[i].number for i in idxs),
                                     tuple(questions[i] for i in idxs), sim))
    return tuple(groups)


# --------------------------------------------------------------------------- rendition diffs


def _hunks(a: tuple[str, ...], b: tuple[str, ...], context: int = 4) -> tuple[Hunk, ...]:
    out: list[Hunk] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        out.append(Hunk(
            before=" ".join(a[max(0, i1 - context):i1]),
            earliest=" ".join(a[i1:i2]),
            other=" ".join(b[j1:j2]),
            after=" ".join(a[i2:i2 + context]),
        ))
    return tuple(out)


def rendition_differences(all_renditions: Document) -> tuple[RenditionDiff, ...]:
    """Per item and later rendition, the word hunks where it differs from the earliest."""
    groups: dict[tuple[int, int, tuple[str, ...]], list[Item]] = defaultdict(list)
    for it in all_renditions.items():
        if it.number is not None:
            groups[(it.origin.collection, it.number, question_words(it))].append(it)
    out: list[RenditionDiff] = []
    for (_, number, _), occurrences in groups.items():
        if len(occurrences) < 2:
            continue
        base = answer_words(occurrences[0])
        for other in occurrences[1:]:
            words = answer_words(other)
            if words != base:
                out.append(RenditionDiff(number, plain_text(other.question), other.origin.rendition,
                                         _hunks(base, words)))
    return tuple(sorted(out, key=lambda d: (d.number, d.rendition)))


# --------------------------------------------------------------------------- the review


def review(result: Result) -> Review:
    """Review a loaded collection."""
    items = list(result.document.items())
    return Review(
        source=result.report.source,
        items=len(items),
        coverage=_coverage(result.all_renditions),
        missing_headings=_missing_headings(result.all_renditions),
        duplicates=duplicate_groups(items),
        unanswered=tuple((it.number, plain_text(it.question)) for it in items if it.status == "unanswered"),
        skipped=result.report.skipped,
        differences=rendition_differences(result.all_renditions),
        warnings=result.report.warnings,
    )
