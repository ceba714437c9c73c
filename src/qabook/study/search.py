"""Full-text search over questions and answers: SQLite FTS5 with BM25 ranking (stdlib ``sqlite3``).

The index is one FTS5 table with the question and the answer as separate columns, so a word in the
question counts more than the same word in the answer (BM25 column weights
:data:`QUESTION_WEIGHT` : 1). Text is tokenised by ``unicode61`` (accents folded) with the Porter
stemmer, so "caching" finds "cache". A query is taken as words, not as FTS5 syntax: each word must
occur (in either column); when no item has them all, items with any of them are ranked instead.
A word ending in ``*`` matches as a prefix. Items that hold the words as the exact phrase rank
above those that have them scattered. Words that a large share of a big collection holds
(:data:`COMMON_SHARE`) are not ranked by, which keeps every query fast.

The index lives in memory by default (building it for a few thousand items takes milliseconds);
:meth:`SearchIndex.open_cached` keeps it in a file instead, rebuilt when the source changes.
"""

from __future__ import annotations

import os
import re
import sqlite3
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from qabook.model import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    MathBlock,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Table,
    plain_text,
)

QUESTION_WEIGHT = 4.0
"""How much more a match in the question counts than one in the answer (BM25 column weight)."""
PHRASE_BONUS = 0.5
"""Share by which an exact-phrase match improves an item's BM25 score."""
COMMON_SHARE = 0.25
COMMON_MIN = 5_000
"""A word held by more than ``max(COMMON_SHARE × items, COMMON_MIN)`` items is *common*: it is left
out of the match when the query has other words (its BM25 weight is near nothing anyway), and a
query of common words only lists the first items holding them, in document order, unranked.
Scoring every item of a huge collection for "what is" would cost over 100 ms and tell nothing."""
SCHEMA_VERSION = "1"

_HL_START, _HL_END = "\ue000", "\ue001"
_WORD_RE = re.compile(r"[^\W_]+\*?|\*", re.UNICODE)


def blocks_text(blocks: Iterable[Block]) -> str:
    """The words of answer blocks as plain text (formulas as TeX, code verbatim), one block a line."""
    out: list[str] = []
    for b in blocks:
        match b:
            case Paragraph(inlines=i):
                out.append(plain_text(i))
            case BulletList(items=items) | OrderedList(items=items):
                out.extend(blocks_text(li.blocks) for li in items)
            case CodeBlock(text=t):
                out.append(t)
            case MathBlock(tex=t):
                out.append(t)
            case Quote(blocks=inner):
                out.append(blocks_text(inner))
            case Table(header=header, rows=rows):
                for row in (header, *rows):
                    out.append(" | ".join(plain_text(c) for c in row))
            case Rule():
                pass
            case _:
                typing.assert_never(b)
    return "\n".join(t for t in out if t)


@dataclass(frozen=True, slots=True)
class Hit:
    """One result."""

    rank: int
    """1 for the best match."""
    index: int
    """0-based position of the item in the document."""
    number: int | None
    section: str
    question: str
    snippet: str
    """A short passage of the answer around the match (its start when only the question matches)."""
    highlights: tuple[tuple[int, int], ...]
    """(start, end) character offsets of the matched words in :attr:`snippet`."""
    score: float
    """BM25 relevance (higher is better)."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "rank": self.rank, "number": self.number, "section": self.section, "question": self.question,
            "snippet": self.snippet, "highlights": [list(h) for h in self.highlights],
            "score": round(self.score, 4),
        }


def words(query: str) -> list[str]:
    """The words of a query, lower-cased; a trailing ``*`` (prefix search) is kept."""
    return [w.lower() for w in _WORD_RE.findall(query) if w != "*"]


def _term(word: str) -> str:
    if word.endswith("*"):
        return '"' + word[:-1].replace('"', '""') + '"*'
    return '"' + word.replace('"', '""') + '"'


def _unmark(snippet: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    start = -1
    for ch in snippet:
        if ch == _HL_START:
            start = pos
        elif ch == _HL_END:
            if start >= 0:
                spans.append((start, pos))
            start = -1
        else:
            text.append(ch)
            pos += 1
    return " ".join("".join(text).split("\n")), tuple(spans)


class SearchIndex:
    """An FTS5 index of one document's items."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._count: int | None = None

    # ---------------------------------------------------------------- building

    @staticmethod
    def _create(conn: sqlite3.Connection) -> None:
        conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE VIRTUAL TABLE IF NOT EXISTS items USING fts5(
                question, answer, number UNINDEXED, section UNINDEXED,
                tokenize = 'porter unicode61 remove_diacritics 2'
            );
            """
        )

    @classmethod
    def build(cls, doc: Document, path: str | None = None) -> SearchIndex:
        """Index every item of ``doc`` (in memory, or in the SQLite file ``path``)."""
        conn = sqlite3.connect(path or ":memory:")
        cls._create(conn)
        index = cls(conn)
        index._fill(doc)
        return index

    def _fill(self, doc: Document) -> None:
        rows = (
            (i, plain_text(item.question), blocks_text(item.answer),
             None if item.number is None else str(item.number), section.title)
            for i, (section, item) in enumerate((s, it) for s in doc.sections for it in s.items)
        )
        self._count = None
        with self.conn:
            self.conn.execute("DELETE FROM items")
            self.conn.executemany(
                "INSERT INTO items(rowid, question, answer, number, section) VALUES (?, ?, ?, ?, ?)", rows)
            self.conn.execute("INSERT INTO items(items) VALUES ('optimize')")

    @classmethod
    def open_cached(cls, source: str, load: Callable[[], Document], cache: str | None = None) -> SearchIndex:
        """The index kept in ``cache`` (default ``SOURCE.qabook-search.sqlite``), rebuilt with
        ``load()`` when the source's size or modification time, or this module's schema, changed."""
        from qabook import __version__

        cache_path = cache or f"{source}.qabook-search.sqlite"
        st = os.stat(source)
        stamp = f"{SCHEMA_VERSION}:{__version__}:{st.st_size}:{st.st_mtime_ns}"
        if Path(cache_path).exists():
            try:
                conn = sqlite3.connect(cache_path)
                row = conn.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
                if row and row[0] == stamp:
                    return cls(conn)
                conn.close()
            except sqlite3.DatabaseError:
                pass
            Path(cache_path).unlink()
        doc = load()
        tmp = f"{cache_path}.part"
        if Path(tmp).exists():
            Path(tmp).unlink()
        index = cls.build(doc, tmp)
        with index.conn:
            index.conn.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (stamp,))
        index.conn.close()
        os.replace(tmp, cache_path)
        return cls(sqlite3.connect(cache_path))

    def close(self) -> None:
        self.conn.close()

    def __len__(self) -> int:
        if self._count is None:
            self._count = int(self.conn.execute("SELECT count(*) FROM items").fetchone()[0])
        return self._count

    # ---------------------------------------------------------------- searching

    def search(self, query: str, limit: int = 10, snippet_words: int = 16) -> list[Hit]:
        """The best ``limit`` items for ``query``, best first."""
        ws = words(query)
        if not ws:
            return []
        cap = max(int(len(self) * COMMON_SHARE), COMMON_MIN)
        rare = [w for w in ws if self._doc_count(w, cap + 1) <= cap]
        terms = rare or ws
        # the phrase bonus needs a lookup of the whole phrase: only affordable when no word is common
        phrase = " ".join(w.rstrip("*") for w in ws) if len(ws) > 1 and len(rare) == len(ws) else ""
        every = " ".join(_term(w) for w in terms)
        queries = [every] if len(terms) == 1 else [every, " OR ".join(_term(w) for w in terms)]
        for fts in queries:
            rows = self._run(fts, phrase, limit, snippet_words, ranked=bool(rare))
            if rows:
                return [self._hit(rank, row) for rank, row in enumerate(rows, start=1)]
        return []

    def _doc_count(self, word: str, cap: int) -> int:
        """How many items hold ``word``, counting no further than ``cap`` (which bounds the cost)."""
        try:
            row = self.conn.execute(
                "SELECT count(*) FROM (SELECT rowid FROM items WHERE items MATCH ? LIMIT ?)", (_term(word), cap)
            ).fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0])

    def _run(self, fts: str, phrase: str, limit: int, snippet_words: int,
             ranked: bool = True) -> list[tuple[typing.Any, ...]]:
        weights = f"{QUESTION_WEIGHT}, 1.0"
        cols = "rowid, number, section, question, snippet(items, 1, :hs, :he, '…', :n)"
        params: dict[str, typing.Any] = {"q": fts, "hs": _HL_START, "he": _HL_END, "n": snippet_words,
                                         "limit": limit}
        if not ranked:
            # every word is in a large share of all items: ranking them all would cost more than it
            # tells, so the first items that hold the words come in document order
            sql = f"SELECT {cols}, bm25(items, {weights}) FROM items WHERE items MATCH :q LIMIT :limit"
        elif phrase:
            # exact-phrase matches get a bonus: a second FTS lookup, of the phrase
            sql = f"""
                WITH phrase(id) AS (SELECT rowid FROM items WHERE items MATCH :phrase)
                SELECT {cols},
                       bm25(items, {weights}) * (CASE WHEN rowid IN (SELECT id FROM phrase)
                                                      THEN 1 + :bonus ELSE 1 END) AS score
                FROM items WHERE items MATCH :q ORDER BY score LIMIT :limit
            """
            params.update({"phrase": '"' + phrase.replace('"', '""') + '"', "bonus": PHRASE_BONUS})
        else:
            sql = f"SELECT {cols}, bm25(items, {weights}) AS score FROM items WHERE items MATCH :q " \
                  "ORDER BY score LIMIT :limit"
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []

    @staticmethod
    def _hit(rank: int, row: tuple[typing.Any, ...]) -> Hit:
        rowid, number, section, question, snippet, score = row
        text, spans = _unmark(snippet)
        return Hit(rank, int(rowid), None if number is None else int(number), section,
                   " ".join(question.split()), text, spans, -float(score))


def search(doc: Document, query: str, limit: int = 10) -> list[Hit]:
    """Build an in-memory index of ``doc`` and search it once."""
    index = SearchIndex.build(doc)
    try:
        return index.search(query, limit)
    finally:
        index.close()


def iter_hits_text(hits: list[Hit]) -> Iterator[str]:
    """Plain-text lines for hits (highlights in ``[…]``), for logs and tests."""
    for h in hits:
        marked = h.snippet
        for start, end in reversed(h.highlights):
            marked = marked[:start] + "[" + marked[start:end] + "]" + marked[end:]
        num = f"Q{h.number}" if h.number is not None else f"#{h.index + 1}"
        yield f"{h.rank:>3}. {num}  {h.question}\n     {marked}"
