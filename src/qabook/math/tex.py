"""Undo copy damage in a formula's TeX before it is converted.

Formulas copied out of chat pages, Markdown exports and JSON dumps arrive with damage that is
certain to be damage, because the damaged form means nothing (or nothing sensible) inside math:

* every backslash doubled (``\\\\frac{a}{b}`` for ``\\frac{a}{b}``), as left by a JSON or
  string-literal escape applied to the whole formula. It is undone only when *every* run of
  backslashes in the formula has even length and at least one doubled run stands before a TeX
  command that exists; a real line break ``\\\\`` next to single-backslash commands (a matrix)
  is therefore never touched;
* the delimiters of another math syntax left inside: ``\\(`` ... ``\\)`` and ``\\[`` ... ``\\]``
  at either end (they mean "start/end math", which makes no sense inside math);
* stray ``$`` at either end (a formula whose delimiters were doubled or mismatched); an escaped
  ``\\$`` is a dollar sign and stays;
* ``\\*`` from a Markdown escape of ``*`` (in TeX it is a discretionary times that shows as
  nothing) becomes ``*``;
* surrounding whitespace, and no-break / zero-width spaces that a web page put in.

Anything else is left exactly as written: a formula that still does not convert keeps its TeX.
"""

from __future__ import annotations

import functools
import re

__all__ = ["normalize_tex"]

_BACKSLASH_RUN = re.compile(r"(\\+)([A-Za-z]*)")
_OUTER_DELIMS = re.compile(r"^\s*(?:\\\(|\\\[)|(?:\\\)|\\\])\s*$")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_NBSP = re.compile("[\u00a0\u202f\u2007]")


@functools.cache
def _known_commands() -> frozenset[str]:
    """Every command name (without the backslash) latex2mathml knows: symbols and commands."""
    from latex2mathml import commands, symbols_parser

    names: set[str] = set()
    for key in symbols_parser.SYMBOLS:
        if key.startswith("\\"):
            names.add(key[1:])
    for value in vars(commands).values():
        items = value if isinstance(value, (tuple, list, set, frozenset)) else (value,)
        for item in items:
            if isinstance(item, str) and item.startswith("\\") and item[1:].isalpha():
                names.add(item[1:])
    return frozenset(names)


def _undouble(tex: str) -> str:
    """``tex`` with every backslash run halved, when the whole formula was doubled."""
    if "\\\\" not in tex:
        return tex
    runs = _BACKSLASH_RUN.findall(tex)
    if any(len(slashes) % 2 for slashes, _ in runs):
        return tex  # a single backslash somewhere: written by hand, not doubled
    known = _known_commands()
    if not any(len(slashes) == 2 and word and word in known for slashes, word in runs):
        return tex  # only line breaks (or unknown words): nothing says it was doubled
    return _BACKSLASH_RUN.sub(lambda m: "\\" * (len(m.group(1)) // 2) + m.group(2), tex)


def _strip_dollars(tex: str) -> str:
    start = 0
    while start < len(tex) and tex[start] == "$":
        start += 1
    end = len(tex)
    while end > start and tex[end - 1] == "$" and not _escaped(tex, end - 1):
        end -= 1
    return tex[start:end]


def _escaped(tex: str, index: int) -> bool:
    """True when the character at ``index`` follows an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and tex[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def normalize_tex(tex: str) -> str:
    """``tex`` with the copy damage described in the module docstring undone."""
    text = _ZERO_WIDTH.sub("", tex)
    text = _NBSP.sub(" ", text).strip()
    text = _undouble(text)
    previous = None
    while previous != text:  # delimiters may nest: "$\(x\)$"
        previous = text
        text = _strip_dollars(text).strip()
        text = _OUTER_DELIMS.sub("", text).strip()
    if "\\*" in text:
        text = re.sub(r"(?<!\\)\\\*", "*", text)
    return text
