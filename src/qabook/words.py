"""The words of an item, as qabook compares them.

Two renditions of an answer, or a document and its source, "have the same words" when these
sequences are equal. Text contributes its words (letters and digits, Unicode-normalised, curly
apostrophes read as straight ones; punctuation, bold and list structure do not count). A formula
counts as one token, its TeX without spacing, so a changed formula is a changed answer. Inline
code counts like text; a code block by its whitespace-separated tokens; a code block's language is metadata, not a word.
"""

from __future__ import annotations

import re
import typing
import unicodedata
from typing import Iterable, Iterator

from qabook.model import (
    Block,
    BulletList,
    Code,
    CodeBlock,
    Emphasis,
    Inline,
    Item,
    LineBreak,
    Link,
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

_WORD_RE = re.compile(r"\w+(?:'\w+)*")
_TEX_SPACE_RE = re.compile(r"\\(?:left|right)(?![A-Za-z])|\\[,;:! ]|\s+")


def text_words(text: str) -> list[str]:
    """The words of plain text."""
    norm = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return _WORD_RE.findall(norm)


def formula_token(tex: str) -> str:
    """One comparable token for a formula."""
    return "$" + _TEX_SPACE_RE.sub("", unicodedata.normalize("NFKC", tex)) + "$"


def inline_words(inlines: Iterable[Inline]) -> Iterator[str]:
    """Words of a run of inlines; neighbouring text runs are read as one text."""
    pending: list[str] = []
    for node in inlines:
        match node:
            case Text(text=t):
                pending.append(t)
            case Strong(children=c) | Emphasis(children=c) | Link(children=c):
                pending.append(" ")
                yield from text_words("".join(pending))
                pending = []
                yield from inline_words(c)
                pending.append(" ")
            case Code(text=t):
                pending.append(" " + t + " ")
            case Math(tex=t):
                yield from text_words("".join(pending))
                pending = [" "]
                yield formula_token(t)
            case LineBreak():
                pending.append(" ")
            case _:
                typing.assert_never(node)
    yield from text_words("".join(pending))


def block_words(blocks: Iterable[Block]) -> Iterator[str]:
    """Words of blocks in reading order."""
    for b in blocks:
        match b:
            case Paragraph(inlines=i):
                yield from inline_words(i)
            case BulletList(items=items) | OrderedList(items=items):
                for li in items:
                    yield from block_words(li.blocks)
            case CodeBlock(text=t):
                yield from t.split()
            case MathBlock(tex=t):
                yield formula_token(t)
            case Quote(blocks=inner):
                yield from block_words(inner)
            case Table(header=header, rows=rows):
                for cell in header:
                    yield from inline_words(cell)
                for row in rows:
                    for cell in row:
                        yield from inline_words(cell)
            case Rule():
                pass
            case _:
                typing.assert_never(b)


def question_words(item: Item) -> tuple[str, ...]:
    """The words of an item's question."""
    return tuple(inline_words(item.question))


def answer_words(item: Item) -> tuple[str, ...]:
    """The words of an item's answer."""
    return tuple(block_words(item.answer))
