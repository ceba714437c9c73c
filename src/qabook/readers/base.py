"""What every reader returns besides the document: what it skipped and what it warns about.

A reader returns a :class:`Reading` (the whole document), or a :class:`Streamed` reading whose
sections come chunk by chunk, for inputs too big to hold as one model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qabook.model import Document, Section


class InputError(Exception):
    """The input cannot be used. The message is one line a user can act on."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A piece of the source that is deliberately not part of any item."""

    kind: str
    """What it is: "speaker line", "chat between batches", "before the Q&A", "closing exchange"."""
    line: int
    """1-based line in the source."""
    text: str
    """The skipped text (first line of the paragraph)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """A reader's result."""

    document: Document
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cut:
    """Where an input can be read in two parts, each by a process of its own: the second part
    starts at byte ``offset``, on line ``line``, with a section of its own (see
    :attr:`qabook.formats.ReaderFormat.cut`)."""

    offset: int
    line: int


def unanswered_warning(where: list[int], unit: str = "lines") -> str:
    """The warning for questions kept without an answer, at ``where`` (lines or paragraphs)."""
    n = len(where)
    shown = ", ".join(str(x) for x in where[:8]) + (", …" if n > 8 else "")
    return f"{n} question{'s' if n != 1 else ''} without an answer, kept as unanswered ({unit} {shown})"


@dataclass(slots=True)
class Streamed:
    """A reading whose sections arrive a few at a time, for inputs too big to hold as one model.

    ``head`` is the document without its sections (title, source, meta). ``chunks`` yields tuples
    of sections in document order, each closed under renditions: no group of renditions of one
    question spans two chunks (a chunk is one conversation of an export, or a run of a source that
    has one rendition), so the pipeline repairs and resolves chunk by chunk and hands sections to
    a writer without ever holding the whole collection. ``skipped`` and ``warnings`` are complete
    once ``chunks`` is exhausted; the reader appends to them as it goes.
    """

    head: Document
    chunks: Iterator[tuple[Section, ...]]
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    more_skipped: dict[str, int] = field(default_factory=dict)
    """Skipped pieces counted by kind but not kept in ``skipped`` (a big export skips hundreds of
    thousands; a few of each kind are examples enough)."""
    total_sections: int | None = None
    """How many sections the chunks hold, when the reader knows before they come (a progress bar)."""
    unanswered: list[int] = field(default_factory=list)
    """Lines of the questions kept without an answer, for a reader that reports them by line
    (:func:`unanswered_warning`; kept as numbers so that two parts of one input add up)."""
    escapes: bool = True
    """Whether the input may spell characters no document may hold as escapes (``&#1;``,
    ``\\u0001``) that readers turn into those characters; the pipeline then removes them. A reader
    that sees no such spelling in what it has read so far sets this to False."""

    @classmethod
    def whole(cls, reading: Reading, escapes: bool = True) -> Streamed:
        """A reading of the whole input as one chunk."""
        from dataclasses import replace

        head = replace(reading.document, sections=())
        return cls(head, iter((reading.document.sections,)), list(reading.skipped), list(reading.warnings),
                   escapes=escapes)
