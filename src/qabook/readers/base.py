"""What every reader returns besides the document: what it skipped and what it warns about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qabook.model import Document


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
