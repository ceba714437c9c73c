r"""A formula copied from a rendered page 2–6 times, in fragments, collapsed to one formula.

KaTeX and MathJax put the TeX source, a MathML copy and the visible glyphs on the clipboard, so a
pasted answer shows one formula followed by copies and pieces of it::

    $$PP = e^{-\frac{1}{N} \sum_{i=1}^N \log P(w_i)}$$
    $$PP = e^{-\frac{1}{N} \sum_{i=1}^N \log P(w_i)}$$        ->   $$PP = e^{-\frac{1}{N} …}$$
    $$1$$
    $$\sum_{i=1}^N$$
    $$N$$

How it decides, without guessing at meaning:

* Each formula is reduced to a *skeleton*: its characters without layout (spaces, braces, ``^``,
  ``_``, ``\frac``, ``\left``, ``\text`` …), so ``\sqrt{d_k}`` and a glyph copy ``dk`` compare.
* The *anchor* is the last formula seen: a display formula, or the formulas of a paragraph.
* A following block that is only math (or a bare TeX token line such as ``\prod`` or ``n``) and
  whose skeleton is a subsequence of the anchor's is a copy or a fragment: every character it
  holds is kept in the anchor, so dropping it loses nothing. A line of bare glyph pieces
  (``z_j ) exp(T z_i``: no prose word among them) comes in the order of the rendered layout, so
  for it every character must be in the anchor at least as often, in any order. An identical-skeleton copy with more
  structure (``\frac{\lambda}{2}`` against ``\lambda^2``) replaces the anchor's TeX.
* One formula written twice inside one display (``A \quad A``) keeps one half.

A math-only block that is not inside the anchor is kept, becomes the new anchor and is noted as a
possible damaged copy so a human can look.
"""

from __future__ import annotations

import re
from collections import Counter

from qabook.model import Block, Item, Math, MathBlock, Paragraph, Text
from qabook.repair.base import PassContext, on_answer

NAME = "math-copies"

_LAYOUT_RE = re.compile(
    r"\\(?:left|right|[bB]igg?[lr]?|quad|qquad|displaystyle|textstyle|"
    r"frac|dfrac|tfrac|sqrt|text|textrm|textbf|textit|mathrm|mathbf|mathit|mathcal|mathbb|"
    r"operatorname|boldsymbol|bm)(?![A-Za-z])"
    r"|\\[,;:! ]|[{}^_\s]"
)
_STRUCTURE_RE = re.compile(r"\\(?:frac|dfrac|tfrac|sqrt|left|begin|binom)(?![A-Za-z])")
_GLYPH_MARK_RE = re.compile(r"[_^\\(){}=+|/*<>]")
_CAMEL_RE = re.compile(r"^[a-z]+[A-Z][A-Za-z]*$")
_PUNCT_ONLY_RE = re.compile(r"^[\s.,;:]*$")
# a line that is one bare TeX token or glyph copy: "\prod", "m_{t-1}", "η_t", "n", "2"
_BARE_TOKEN_RE = re.compile(
    r"^(?:(?=[^\s]{1,16}$)[\w\\{}()|+\-=/,*<>.]*[\\_^][\w\\{}()|+\-=/,*<>^_.]*"
    r"|[A-Za-z0-9()|+\-=/,*]{1,2}|[^\x00-\x7f])$"
)


def _glyph_names() -> dict[str, str]:
    from qabook.repair.tex_symbols import SYMBOLS

    names: dict[str, str] = {}
    for name, char in SYMBOLS.items():
        names.setdefault(char, "\\" + name)
    return names


_GLYPHS = _glyph_names()
_GLYPH_RE = re.compile("|".join(re.escape(c) for c in sorted(_GLYPHS, key=len, reverse=True)))


def skeleton(tex: str) -> str:
    """The characters of a formula without layout commands, spaces and grouping.

    Visible glyphs (``η``, ``∑``) are spelled as the TeX command that prints them, so a glyph
    copy compares with its source.
    """
    spelled = _GLYPH_RE.sub(lambda m: _GLYPHS[m.group(0)], tex)
    # a copied sum or product sign often arrives as the Greek capital letter
    spelled = re.sub(r"\\Sigma(?![A-Za-z])", r"\\sum", spelled)
    spelled = re.sub(r"\\Pi(?![A-Za-z])", r"\\prod", spelled)
    return _LAYOUT_RE.sub("", spelled)


def richness(tex: str) -> int:
    """How much structure a formula's TeX has (fractions, roots, sized delimiters, groups)."""
    return len(_STRUCTURE_RE.findall(tex)) * 10 + tex.count("{")


def is_subsequence(small: str, big: str) -> bool:
    """True when ``small``'s characters all occur in ``big`` in the same order."""
    it = iter(big)
    return all(ch in it for ch in small)


def _glyph_token(token: str) -> bool:
    """A whitespace-free piece of a formula's visible glyphs: ``z_j``, ``exp(T``, ``)``, ``logP``."""
    return len(token) <= 16 and (
        len(token) <= 2 or bool(_GLYPH_MARK_RE.search(token)) or bool(_CAMEL_RE.match(token))
    ) and not token.endswith((".", ":", "?", "!"))


def _fragment(b: Block, words: frozenset[str] = frozenset()) -> tuple[str, bool] | None:
    """(skeleton, loose) for a block that may be a copy or a piece of a formula, else None.

    ``loose`` marks lines of bare glyphs (no ``$``): their characters come in the order of the
    rendered layout, so they are checked as a bag of characters, not as a subsequence. ``words``
    are the words the anchor formula prints as text (``\text{precision}``): a glyph copy shows
    them too, so they may appear among the glyphs.
    """
    if isinstance(b, MathBlock):
        return skeleton(b.tex), False
    if isinstance(b, Paragraph) and b.inlines:
        if any(isinstance(n, Math) for n in b.inlines) and all(
            isinstance(n, Math) or (isinstance(n, Text) and _PUNCT_ONLY_RE.match(n.text))
            for n in b.inlines
        ):
            return "".join(skeleton(n.tex) for n in b.inlines if isinstance(n, Math)), False
        if len(b.inlines) == 1 and isinstance(b.inlines[0], Text):
            text = b.inlines[0].text.strip()
            if _BARE_TOKEN_RE.match(text):
                return skeleton(text), False
            tokens = text.split()
            if tokens and all(_glyph_token(t) or t in words for t in tokens):
                return skeleton(text), True
    return None


def _contained(frag: str, loose: bool, anchor: str) -> bool:
    if is_subsequence(frag, anchor):
        return True
    return loose and not (Counter(frag) - Counter(anchor))


def _anchor_skeleton(b: Block) -> str | None:
    if isinstance(b, MathBlock):
        return skeleton(b.tex)
    if isinstance(b, Paragraph):
        maths = [n.tex for n in b.inlines if isinstance(n, Math)]
        if maths:
            return "".join(skeleton(t) for t in maths)
    return None


def _single_formula(b: Block) -> str | None:
    """The TeX of a block that is exactly one formula (display, or a paragraph of one)."""
    if isinstance(b, MathBlock):
        return b.tex
    if isinstance(b, Paragraph):
        maths = [n for n in b.inlines if isinstance(n, Math)]
        rest = [n for n in b.inlines if not isinstance(n, Math)]
        if len(maths) == 1 and all(isinstance(n, Text) and not n.text.strip() for n in rest):
            return maths[0].tex
    return None


def _with_tex(b: Block, tex: str) -> Block:
    if isinstance(b, MathBlock):
        return MathBlock(tex)
    assert isinstance(b, Paragraph)
    return Paragraph(tuple(Math(tex) if isinstance(n, Math) else n for n in b.inlines))


def split_repeat(tex: str) -> str | None:
    """``A \\quad A`` (the same formula twice in one display) -> the richer A, else None."""
    parts = [p.strip() for p in re.split(r"\\q?quad(?![A-Za-z])", tex)]
    if len(parts) < 2 or any(not p for p in parts):
        return None
    skels = {skeleton(p) for p in parts}
    if len(skels) != 1:
        return None
    return max(parts, key=richness)  # max keeps the first of equals


_TEXT_ARG_RE = re.compile(r"\\(?:text|textrm|mathrm|operatorname)\{([^{}]*)\}")


def _text_words(b: Block) -> frozenset[str]:
    """Words a block's formulas print as text (``\text{precision}`` -> ``precision``)."""
    texs = [b.tex] if isinstance(b, MathBlock) else [
        n.tex for n in b.inlines if isinstance(n, Math)] if isinstance(b, Paragraph) else []
    return frozenset(w for tex in texs for arg in _TEXT_ARG_RE.findall(tex) for w in arg.split())


def _has_math(p: Paragraph) -> bool:
    return any(isinstance(n, Math) for n in p.inlines)


def run(item: Item, ctx: PassContext) -> Item:
    def fix(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        if not any(isinstance(b, MathBlock) or (isinstance(b, Paragraph) and _has_math(b)) for b in blocks):
            return blocks
        out: list[Block] = []
        anchor: str | None = None
        anchor_words: frozenset[str] = frozenset()
        anchor_at = -1
        for b in blocks:
            found = _fragment(b, anchor_words)
            frag = found[0] if found is not None else None
            if found is not None and anchor is not None and _contained(found[0], found[1], anchor):
                ctx.count += 1
                kept_tex = _single_formula(out[anchor_at])
                new_tex = _single_formula(b)
                if (kept_tex is not None and new_tex is not None and frag == anchor
                        and richness(new_tex) > richness(kept_tex)):
                    out[anchor_at] = _with_tex(out[anchor_at], new_tex)
                continue
            single = _single_formula(b)
            if single is not None:
                half = split_repeat(single)
                if half is not None:
                    ctx.count += 1
                    b = _with_tex(b, half)
            if frag is not None and anchor is not None:
                ctx.note(f"kept a formula that may be a damaged copy: {frag!r}")
            out.append(b)
            anchor = _anchor_skeleton(b)
            anchor_words = _text_words(b)
            anchor_at = len(out) - 1
        return tuple(out)

    return on_answer(item, fix)
