"""MathML to Office Math (OMML), the equations Word reads and edits.

Why this mapping is written by hand
-----------------------------------
Word stores equations as OMML (``m:oMath`` in ECMA-376 Part 1, ``shared-math.xsd``). No maintained
Python library turns MathML into OMML: Microsoft's ``MML2OMML.XSL`` ships only with Office (and may
not be redistributed), the small PyPI packages that wrap it or reimplement parts of it are
unmaintained and emit invalid markup, and pandoc's converter (texmath, Haskell) would make a
400 MB binary a runtime dependency. texmath's OMML output is the reference for the *shape* Word
expects; where it is known to be invalid (``<m:rPr><m:nor/><m:sty/>``, ``m:mcJc`` before
``m:count``) this module follows the schema instead.

How it works
------------
:data:`HANDLERS` is a table from MathML element name to a function returning the OMML text for
that element; every element type has one. A few constructs are not one element in MathML but a
run of siblings, so rows (``mrow`` and every inferred row) are read by :meth:`_Omml.row`, which
looks ahead before dispatching:

* a large operator (``∑ ∏ ∫ ⋃ ...``, bare or with scripts) becomes ``m:nary``; its operand is the
  following siblings up to the next relation, ``+``/``−`` or separator outside brackets;
* a function name (``\\log``, ``\\cos``, ``\\max_x``, ``\\operatorname{...}``) followed by an
  argument becomes ``m:func`` with the name upright in ``m:fName`` (``m:limLow`` under it for
  limits in display math);
* a bracket pair (``( )``, ``[ ]``, ``\\{ \\}``, also ``[0, 1)``) and a ``‖ ... ‖`` or ``| ... |`` pair
  (norms, absolute values) becomes ``m:d``, with any scripts on the closing one moved onto the
  whole group (``(a+b)^2``, ``\\|W\\|_2^2``). This is the shape Word builds itself, the brackets
  grow with what they hold, and a reader that rebuilds a formula from its runs (LibreOffice)
  never sees an unbalanced bracket. A lone ``|`` is written as ``∣`` (``\\mid``).

``\\left ... \\right`` (an ``mrow`` with ``fence`` operators) becomes a growing ``m:d``. Identifiers
are italic by Word's default; operators, multi-letter names, symbols and Greek capitals (upright
in TeX) get ``m:sty p``; ``\\text`` is normal text (``m:nor``); see :data:`LITERAL` for ``m:lit``. Elements inside
``m:rPr``/``m:naryPr``/``m:mPr``... are written in schema order, so the result validates against
``shared-math.xsd``. Output depends only on the input: same MathML, same bytes.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Sequence
from xml.etree.ElementTree import Element, fromstring

from qabook.math.errors import MathError
from qabook.writers.docx._xml import esc
from qabook.math.mathml import mathml_tree

__all__ = ["HANDLERS", "OMML_NS", "mathml_to_omml", "tex_to_omml"]

OMML_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"

# ------------------------------------------------------------------ character classes

NARY = frozenset("∑∏∐∫∬∭∮∯∰∱∲∳⨌⋀⋁⋂⋃⨀⨁⨂⨄⨆")
"""Large operators that become ``m:nary``."""

STOPS = frozenset(
    "=≠<>≤≥≦≧≈≃≅≡≢∼≁∝≪≫≺≻⪯⪰→←↔⇒⇐⇔↦⟶⟵⟹⟸⟺↪∈∉∋⊂⊃⊆⊇⊄⊊⊥∣∥+−-±∓,;:"
)
"""Operators that end a large operator's operand when they stand outside brackets."""

OPEN = frozenset("([{⟨⌊⌈⟦")
CLOSE = frozenset(")]}⟩⌋⌉⟧")
BARS = frozenset("|‖")
"""Delimiters that open and close alike: paired up into ``m:d`` when a partner follows."""

ACCENTS: dict[str, str] = {
    "^": "\u0302", "\u02c6": "\u0302", "\u0302": "\u0302",
    "~": "\u0303", "\u02dc": "\u0303", "\u0303": "\u0303",
    "\u00af": "\u0305", "\u0305": "\u0305", "\u02c9": "\u0305",
    "\u02d9": "\u0307", ".": "\u0307", "\u0307": "\u0307",
    "\u00a8": "\u0308", "\u0308": "\u0308", "\u20db": "\u20db",
    "\u02c7": "\u030c", "\u030c": "\u030c",
    "\u02d8": "\u0306", "\u0306": "\u0306",
    "\u00b4": "\u0301", "\u0301": "\u0301",
    "`": "\u0300", "\u0300": "\u0300",
    "\u02da": "\u030a", "\u030a": "\u030a",
    "\u2192": "\u20d7", "\u20d7": "\u20d7", "\u2190": "\u20d6", "\u20d6": "\u20d6",
    "\u2194": "\u20e1",
}
"""Over-accent characters (spacing or combining) -> the combining character ``m:acc`` wants."""

OVERBARS = frozenset("\u2015\u203e_\u0332\u2500")
"""``\\overline`` / ``\\underline`` marks: ``m:bar``."""

GROUP_CHARS = frozenset("\u23de\u23df\u23dc\u23dd\u23b4\u23b5")
"""Horizontal braces and brackets: ``m:groupChr``."""

LIMIT_NAMES = frozenset({
    "lim", "liminf", "limsup", "max", "min", "sup", "inf", "argmax", "argmin", "det", "gcd", "Pr",
})
"""Function names whose subscript goes underneath in display math (``m:limLow`` in ``m:fName``)."""

INVISIBLE = frozenset("\u2061\u2062\u2063\u2064")

LITERAL = frozenset("*<>&#%^_\"~'`\\|")
"""ASCII characters written with ``m:lit``. Word draws a literal character exactly like any other
(``m:lit`` only stops its linear-format meaning), but LibreOffice reads run text as StarMath
source, where these are syntax (``%`` starts a comment, ``&`` is "and", ``<`` wants a left
operand); a literal run it quotes and shows as written."""

LEADING_LITERAL = (STOPS | frozenset("·⋅×÷∘⊙⊗⊕/∗⋆")) - frozenset("+−-±∓")
"""Binary and relation operators that get ``m:lit`` when nothing stands on their left (a formula
such as ``= W + AB`` or ``\\leq i``): fine in Word, and LibreOffice shows them instead of an error."""

_SPACES: tuple[tuple[float, str], ...] = (
    (0.12, "\u200a"),  # hair
    (0.2, "\u2009"),  # thin (\,)
    (0.25, "\u205f"),  # medium (\:)
    (0.3, "\u2004"),  # thick (\;)
    (0.6, "\u2002"),  # en
    (1.5, "\u2003"),  # em (\quad)
)

# ------------------------------------------------------------------ small helpers


def _tag(el: Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(el: Element) -> str:
    return (el.text or "").strip()


# text and attribute values are escaped as everywhere in the DOCX (forbidden characters dropped)
_esc = esc


def _chr(tag: str, char: str) -> str:
    """``<m:chr m:val=".."/>``-style property with one character (``ST_Char`` allows at most one)."""
    return f'<m:{tag} m:val="{_esc(char[:1])}"/>'


def _unwrap(el: Element) -> Element:
    """The single child of an ``mrow`` (repeatedly), or ``el`` itself."""
    while _tag(el) in ("mrow", "mstyle") and len(el) == 1:
        el = el[0]
    return el


def _token_text(el: Element) -> str | None:
    """The text of ``el`` when it is (an mrow around) a single token, else ``None``."""
    el = _unwrap(el)
    if _tag(el) in ("mo", "mi", "mn", "mtext") and len(el) == 0:
        return _text(el)
    return None


_SCRIPTS = frozenset({"msub", "msup", "msubsup", "munder", "mover", "munderover"})


def _base(el: Element) -> Element:
    """The base of a scripted element, or the element itself."""
    return _unwrap(el[0]) if _tag(el) in _SCRIPTS and len(el) else el


def _is_nary(el: Element) -> bool:
    base = _base(el)
    return _tag(base) in ("mo", "mi") and len(base) == 0 and _text(base) in NARY


def _is_function_name(el: Element) -> bool:
    """``\\log`` (an upright multi-letter ``mi``), ``\\max``/``\\operatorname`` (an alphabetic ``mo``)."""
    base = _base(el)
    if len(base):
        return False
    tag = _tag(base)
    text = _text(base)
    if tag == "mo":
        return text.isalpha()
    if tag == "mi":
        return len(text) > 1 and text.isalpha() and base.get("mathvariant") in (None, "normal")
    return False


def _fence(el: Element) -> tuple[str, str] | None:
    """``("open"|"close"|"bar", char)`` for a non-stretchy bracket, scripted or not."""
    base = _base(el)
    if _tag(base) not in ("mo", "mi") or len(base):
        return None
    text = _text(base)
    if len(text) != 1:
        return None
    if text in OPEN:
        return "open", text
    if text in CLOSE:
        return "close", text
    if text in BARS:
        return "bar", text
    return None


def _is_stop(el: Element) -> bool:
    if _tag(el) == "mspace":
        return el.get("linebreak") == "newline"
    return _tag(el) == "mo" and len(el) == 0 and _text(el) in STOPS


def _space_for(width: str) -> str:
    """Unicode spaces for an ``mspace`` width such as ``0.167em``, ``1em``, ``2em``."""
    named = {
        "veryverythinmathspace": 0.056, "verythinmathspace": 0.111, "thinmathspace": 0.167,
        "mediummathspace": 0.222, "thickmathspace": 0.278, "verythickmathspace": 0.333,
        "veryverythickmathspace": 0.389,
    }
    width = width.strip()
    if width in named:
        em = named[width]
    elif width.endswith("em"):
        try:
            em = float(width[:-2])
        except ValueError:
            return ""
    else:
        return ""
    if em <= 0:
        return ""
    out: list[str] = []
    while em >= 1.5:
        out.append("\u2003")
        em -= 1.0
    for limit, char in _SPACES:
        if em < limit:
            out.append(char)
            break
    return "".join(out)


@functools.cache
def _variant_of(char: str) -> bool:
    """True for a character that already carries its style (𝐖, ℝ, 𝒪): it is written upright."""
    if len(char) != 1:
        return False
    code = ord(char)
    if 0x1D400 <= code <= 0x1D7FF:
        return True
    return unicodedata.name(char, "").startswith(("DOUBLE-STRUCK", "SCRIPT CAPITAL", "BLACK-LETTER"))


_STY = {
    "normal": ("", "p"), "bold": ("", "b"), "italic": ("", "i"), "bold-italic": ("", "bi"),
    "double-struck": ("double-struck", "p"), "script": ("script", "p"),
    "bold-script": ("script", "b"), "fraktur": ("fraktur", "p"), "bold-fraktur": ("fraktur", "b"),
    "sans-serif": ("sans-serif", "p"), "bold-sans-serif": ("sans-serif", "b"),
    "sans-serif-italic": ("sans-serif", "i"), "sans-serif-bold-italic": ("sans-serif", "bi"),
    "monospace": ("monospace", "p"),
}


def _run(text: str, sty: str = "", scr: str = "", nor: bool = False, lit: bool = False) -> str:
    """One ``m:r``; ``m:rPr`` children in schema order (``m:nor`` excludes ``m:scr``/``m:sty``)."""
    if not text:
        return ""
    if nor:
        rpr = "<m:rPr><m:lit/><m:nor/></m:rPr>" if lit else "<m:rPr><m:nor/></m:rPr>"
    elif scr or sty or lit:
        rpr = "<m:rPr><m:lit/>" if lit else "<m:rPr>"
        if scr:
            rpr += f'<m:scr m:val="{scr}"/>'
        if sty:
            rpr += f'<m:sty m:val="{sty}"/>'
        rpr += "</m:rPr>"
    else:
        rpr = ""
    if text[0].isspace() or text[-1].isspace():
        return f'<m:r>{rpr}<m:t xml:space="preserve">{_esc(text)}</m:t></m:r>'
    return f"<m:r>{rpr}<m:t>{_esc(text)}</m:t></m:r>"


def _is_upright_identifier(text: str) -> bool:
    """Identifiers Word would italicise but TeX sets upright."""
    if len(text) > 1:
        return True  # multi-letter names: cos, exp, Var
    if "\u0391" <= text <= "\u03a9":
        return True  # capital Greek (TeX convention; texmath does the same)
    return not text.isalpha() or _variant_of(text)


def _onoff(tag: str) -> str:
    return f'<m:{tag} m:val="on"/>'


# ------------------------------------------------------------------ the converter


class _Omml:
    """One conversion; ``display`` decides where function limits go."""

    def __init__(self, display: bool) -> None:
        self.display = display

    # ---- dispatch

    def node(self, el: Element) -> str:
        handler = HANDLERS.get(_tag(el))
        if handler is None:
            raise MathError(f"MathML element <{_tag(el)}> is not supported")
        return handler(self, el)

    def arg(self, el: Element) -> str:
        """The content of one argument slot (``m:e``, ``m:num``, ``m:sub``...)."""
        if _tag(el) in ("mrow", "mstyle", "mpadded"):
            return self.row(list(el))
        return self.row([el])

    def kids(self, el: Element) -> str:
        return self.row(list(el))

    # ---- rows: the look-ahead constructs

    def row(self, kids: Sequence[Element]) -> str:
        out: list[str] = []
        i = 0
        n = len(kids)
        while i < n:
            el = kids[i]
            if _is_nary(el):
                end = self._operand_end(kids, i + 1)
                out.append(self.nary(el, kids[i + 1:end]))
                i = end
                continue
            if _is_function_name(el):
                end = self._argument_end(kids, i + 1)
                if end > i + 1:
                    out.append(self.func(el, kids[i + 1:end]))
                    i = end
                    continue
            fence = _fence(el)
            if fence is not None and fence[0] != "close" and len(el) == 0:
                matched = self._delimited(kids, i, fence)
                if matched is not None:
                    text, i = matched
                    out.append(text)
                    continue
            if not out and _tag(el) == "mo" and len(el) == 0 and _text(el) in LEADING_LITERAL:
                out.append(_run(_text(el), "p", lit=True))  # no left operand: see LEADING_LITERAL
            elif fence == ("bar", "|") and len(el) == 0:
                out.append(_run("\u2223", "p"))  # a lone | is "given"/"such that": \mid
            else:
                out.append(self.node(el))
            i += 1
        return "".join(out)

    def _match(self, kids: Sequence[Element], start: int) -> int:
        """Index just past the bracket that closes the one before ``start`` (or ``-1``)."""
        depth = 0
        for j in range(start, len(kids)):
            fence = _fence(kids[j])
            if fence is None:
                continue
            if fence[0] == "open":
                depth += 1
            elif fence[0] == "close":
                if depth == 0:
                    return j + 1
                depth -= 1
        return -1

    def _operand_end(self, kids: Sequence[Element], start: int) -> int:
        """End of a large operator's operand: next stop outside brackets (a leading sign stays)."""
        depth = 0
        j = start
        while j < len(kids):
            el = kids[j]
            if depth == 0 and _is_stop(el) and not (j == start and _text(el) in ("+", "−", "-", "±")):
                break
            fence = _fence(el)
            if fence is not None:
                if fence[0] == "open":
                    depth += 1
                elif fence[0] == "close":
                    if depth == 0:
                        break
                    depth -= 1
            j += 1
        return j

    def _argument_end(self, kids: Sequence[Element], start: int) -> int:
        """End of a function's argument: a bracket group, or one term (with its own call)."""
        if start >= len(kids):
            return start
        first = kids[start]
        if _is_stop(first) or _tag(first) == "mspace":
            return start
        fence = _fence(first)
        if fence is not None:
            if fence[0] == "open" and len(first) == 0:
                end = self._match(kids, start + 1)
                return end if end > 0 else start
            return start
        if _is_nary(first):
            return self._operand_end(kids, start + 1)
        if _is_function_name(first):
            end = self._argument_end(kids, start + 1)
            return end if end > start + 1 else start + 1
        if _tag(first) == "mo":
            return start
        end = start + 1
        if end < len(kids):
            nxt = _fence(kids[end])
            if nxt is not None and nxt == ("open", "(") and len(kids[end]) == 0:
                close = self._match(kids, end + 1)
                if close > 0:
                    end = close
        return end

    def _delimited(
        self, kids: Sequence[Element], i: int, fence: tuple[str, str]
    ) -> tuple[str, int] | None:
        """``m:d`` for a bracket pair or a ``‖x‖``/``|x|`` pair starting at ``i``; ``None`` if unpaired."""
        kind, char = fence
        if kind == "open":
            end = self._match(kids, i + 1)
            if end < 0:
                return None
            closing = kids[end - 1]
            group = self._d(char, _text(_base(closing)), [self.row(kids[i + 1:end - 1])])
            if len(closing):  # (a+b)^2: the scripts of the closing bracket belong to the group
                group = self.scripted(closing, group)
            return group, end
        # a bar: pair it with the next equal bar at the same bracket depth
        depth = 0
        for j in range(i + 1, len(kids)):
            other = _fence(kids[j])
            if other is None:
                continue
            if other[0] == "open":
                depth += 1
            elif other[0] == "close":
                if depth == 0:
                    return None
                depth -= 1
            elif depth == 0 and other[1] == char:
                if j == i + 1:
                    return None
                group = self._d(char, char, [self.row(kids[i + 1:j])])
                closing = kids[j]
                if len(closing):  # the scripts of the closing bar belong to the whole group
                    group = self.scripted(closing, group)
                return group, j + 1
        return None

    # ---- building blocks

    @staticmethod
    def _d(begin: str, end: str, parts: list[str], sep: str = "") -> str:
        props = ""
        if begin != "(":
            props += _chr("begChr", begin) if begin else '<m:begChr m:val=""/>'
        if len(parts) > 1:
            props += _chr("sepChr", sep) if sep else '<m:sepChr m:val=""/>'
        if end != ")":
            props += _chr("endChr", end) if end else '<m:endChr m:val=""/>'
        head = f"<m:dPr>{props}</m:dPr>" if props else ""
        body = "".join(f"<m:e>{p}</m:e>" for p in parts)
        return f"<m:d>{head}{body}</m:d>"

    def scripted(self, el: Element, base: str) -> str:
        """``el``'s scripts (``msub``/``msup``/``msubsup``...) around an already built ``base``."""
        tag = _tag(el)
        if tag == "msub":
            return f"<m:sSub><m:e>{base}</m:e><m:sub>{self.arg(el[1])}</m:sub></m:sSub>"
        if tag == "msup":
            return f"<m:sSup><m:e>{base}</m:e><m:sup>{self.arg(el[1])}</m:sup></m:sSup>"
        if tag == "msubsup":
            return (
                f"<m:sSubSup><m:e>{base}</m:e><m:sub>{self.arg(el[1])}</m:sub>"
                f"<m:sup>{self.arg(el[2])}</m:sup></m:sSubSup>"
            )
        if tag == "munder":
            return f"<m:limLow><m:e>{base}</m:e><m:lim>{self.arg(el[1])}</m:lim></m:limLow>"
        if tag == "mover":
            return f"<m:limUpp><m:e>{base}</m:e><m:lim>{self.arg(el[1])}</m:lim></m:limUpp>"
        if tag == "munderover":
            low = f"<m:limLow><m:e>{base}</m:e><m:lim>{self.arg(el[1])}</m:lim></m:limLow>"
            return f"<m:limUpp><m:e>{low}</m:e><m:lim>{self.arg(el[2])}</m:lim></m:limUpp>"
        return base

    def nary(self, el: Element, operand: Sequence[Element]) -> str:
        tag = _tag(el)
        char = _text(_base(el))
        sub = sup = ""
        if tag in ("msub", "munder"):
            sub = self.arg(el[1])
        elif tag in ("msup", "mover"):
            sup = self.arg(el[1])
        elif tag in ("msubsup", "munderover"):
            sub, sup = self.arg(el[1]), self.arg(el[2])
        under = tag in ("munder", "mover", "munderover")
        if tag in _SCRIPTS:
            loc = "undOvr" if under else "subSup"
        else:
            loc = "undOvr" if self.display and char not in "∫∬∭∮∯∰∱∲∳⨌" else "subSup"
        props = _chr("chr", char) + f'<m:limLoc m:val="{loc}"/>'
        if tag not in _SCRIPTS or tag in ("msup", "mover"):
            props += _onoff("subHide")
        if tag not in _SCRIPTS or tag in ("msub", "munder"):
            props += _onoff("supHide")
        return (
            f"<m:nary><m:naryPr>{props}</m:naryPr><m:sub>{sub}</m:sub><m:sup>{sup}</m:sup>"
            f"<m:e>{self.row(operand)}</m:e></m:nary>"
        )

    def _function_name(self, el: Element) -> str:
        base = _base(el)
        name = _run(_text(base), "p")
        tag = _tag(el)
        if tag == "mi" or tag == "mo" or tag not in _SCRIPTS:
            return name
        limits = _tag(base) == "mo" and (_text(base) in LIMIT_NAMES or base.get("movablelimits") == "true")
        if tag == "msub" and limits and self.display:
            return f"<m:limLow><m:e>{name}</m:e><m:lim>{self.arg(el[1])}</m:lim></m:limLow>"
        return self.scripted(el, name)

    def func(self, el: Element, argument: Sequence[Element]) -> str:
        return (
            f"<m:func><m:fName>{self._function_name(el)}</m:fName>"
            f"<m:e>{self.row(argument)}</m:e></m:func>"
        )


# ------------------------------------------------------------------ element handlers

Handler = Callable[[_Omml, Element], str]


def _math(c: _Omml, el: Element) -> str:
    return c.kids(el)


def _mi(c: _Omml, el: Element) -> str:
    text = _text(el)
    if not text:
        return ""
    variant = el.get("mathvariant")
    if variant in _STY:
        scr, sty = _STY[variant]
        return _run(text, sty, scr)
    if _is_upright_identifier(text):
        return _run(text, "p", lit=text in LITERAL)
    return _run(text)


def _mn(c: _Omml, el: Element) -> str:
    text = _text(el)
    variant = el.get("mathvariant")
    if variant in _STY and variant != "normal":
        scr, sty = _STY[variant]
        return _run(text, sty, scr)
    return _run(text)


def _mo(c: _Omml, el: Element) -> str:
    text = _text(el)
    if not text or text in INVISIBLE:
        return ""
    return _run(text, "p", lit=text in LITERAL)


def _mtext(c: _Omml, el: Element) -> str:
    text = (el.text or "").replace("\u00a0", " ")
    if not text:
        return ""
    variant = el.get("mathvariant")
    if variant in _STY and variant != "normal":
        scr, sty = _STY[variant]
        return _run(text, sty, scr)
    return _run(text, nor=True)


def _ms(c: _Omml, el: Element) -> str:
    lquote = el.get("lquote", "\u201c")
    rquote = el.get("rquote", "\u201d")
    return _run(f"{lquote}{el.text or ''}{rquote}", nor=True)


def _mspace(c: _Omml, el: Element) -> str:
    width = el.get("width")
    return _run(_space_for(width), "p") if width else ""


def _mglyph(c: _Omml, el: Element) -> str:
    return _run(el.get("alt", ""), "p")


def _nothing(c: _Omml, el: Element) -> str:
    return ""


def _mrow(c: _Omml, el: Element) -> str:
    """A row; with ``fence`` operators at its ends (``\\left``/``\\right``, cases) a growing ``m:d``."""
    kids = list(el)
    opens = len(kids) >= 1 and _is_fence_mo(kids[0]) and kids[0].get("form") != "postfix"
    closes = len(kids) >= 2 and _is_fence_mo(kids[-1]) and kids[-1].get("form") != "prefix"
    if opens or closes:
        begin = _text(kids[0]) if opens else ""
        end = _text(kids[-1]) if closes else ""
        inner = kids[1 if opens else 0:len(kids) - 1 if closes else len(kids)]
        parts: list[list[Element]] = [[]]
        sep = ""
        for k in inner:
            if _is_fence_mo(k):
                sep = sep or _text(k)
                parts.append([])
            else:
                parts[-1].append(k)
        bodies = [c.row(p) for p in parts]
        return c._d(begin, end, bodies, sep)
    return c.row(kids)


def _is_fence_mo(el: Element) -> bool:
    return _tag(el) == "mo" and el.get("fence") == "true" and len(el) == 0


def _semantics(c: _Omml, el: Element) -> str:
    for child in el:
        if _tag(child) not in ("annotation", "annotation-xml"):
            return c.node(child)
    return ""


def _first_child(c: _Omml, el: Element) -> str:
    return c.node(el[0]) if len(el) else ""


def _mphantom(c: _Omml, el: Element) -> str:
    return f'<m:phant><m:phantPr><m:show m:val="off"/></m:phantPr><m:e>{c.kids(el)}</m:e></m:phant>'


def _mfrac(c: _Omml, el: Element) -> str:
    if len(el) != 2:
        raise MathError("<mfrac> needs 2 arguments")
    kind = ""
    thickness = (el.get("linethickness") or "").strip()
    if thickness in ("0", "0em", "0pt", "0px", "0.0em"):
        kind = "noBar"
    elif el.get("bevelled") == "true":
        kind = "skw"
    props = f'<m:fPr><m:type m:val="{kind}"/></m:fPr>' if kind else ""
    return f"<m:f>{props}<m:num>{c.arg(el[0])}</m:num><m:den>{c.arg(el[1])}</m:den></m:f>"


def _msqrt(c: _Omml, el: Element) -> str:
    return f'<m:rad><m:radPr>{_onoff("degHide")}</m:radPr><m:deg/><m:e>{c.kids(el)}</m:e></m:rad>'


def _mroot(c: _Omml, el: Element) -> str:
    if len(el) != 2:
        raise MathError("<mroot> needs 2 arguments")
    return f"<m:rad><m:deg>{c.arg(el[1])}</m:deg><m:e>{c.arg(el[0])}</m:e></m:rad>"


def _scripts(c: _Omml, el: Element) -> str:
    """msub, msup, msubsup (a large operator or function name in a row is caught by the row)."""
    need = 3 if _tag(el) == "msubsup" else 2
    if len(el) != need:
        raise MathError(f"<{_tag(el)}> needs {need} arguments")
    if _is_nary(el):
        return c.nary(el, ())
    return c.scripted(el, c.arg(el[0]))


def _munder(c: _Omml, el: Element) -> str:
    if len(el) != 2:
        raise MathError("<munder> needs 2 arguments")
    if _is_nary(el):
        return c.nary(el, ())
    mark = _token_text(el[1])
    if mark is not None and len(mark) == 1:
        if mark in OVERBARS:
            return f'<m:bar><m:barPr><m:pos m:val="bot"/></m:barPr><m:e>{c.arg(el[0])}</m:e></m:bar>'
        if mark in GROUP_CHARS:
            return f"<m:groupChr><m:groupChrPr>{_chr('chr', mark)}</m:groupChrPr><m:e>{c.arg(el[0])}</m:e></m:groupChr>"
    return c.scripted(el, c.arg(el[0]))


def _mover(c: _Omml, el: Element) -> str:
    if len(el) != 2:
        raise MathError("<mover> needs 2 arguments")
    if _is_nary(el):
        return c.nary(el, ())
    mark = _token_text(el[1])
    if mark is not None and len(mark) == 1:
        if mark in ACCENTS and _tag(_unwrap(el[1])) == "mo":
            return f"<m:acc><m:accPr>{_chr('chr', ACCENTS[mark])}</m:accPr><m:e>{c.arg(el[0])}</m:e></m:acc>"
        if mark in OVERBARS:
            return f'<m:bar><m:barPr><m:pos m:val="top"/></m:barPr><m:e>{c.arg(el[0])}</m:e></m:bar>'
        if mark in GROUP_CHARS:
            return (
                f"<m:groupChr><m:groupChrPr>{_chr('chr', mark)}<m:pos m:val=\"top\"/>"
                f"<m:vertJc m:val=\"bot\"/></m:groupChrPr><m:e>{c.arg(el[0])}</m:e></m:groupChr>"
            )
    return c.scripted(el, c.arg(el[0]))


def _munderover(c: _Omml, el: Element) -> str:
    if len(el) != 3:
        raise MathError("<munderover> needs 3 arguments")
    if _is_nary(el):
        return c.nary(el, ())
    return c.scripted(el, c.arg(el[0]))


_ALIGN = {"left": "left", "right": "right", "center": "center"}


def _mtable(c: _Omml, el: Element) -> str:
    rows: list[list[Element]] = []
    for tr in el:
        tag = _tag(tr)
        if tag == "mtr":
            rows.append([td for td in tr if _tag(td) == "mtd"])
        elif tag == "mlabeledtr":
            rows.append([td for td in tr if _tag(td) == "mtd"][1:])
        elif tag == "mtd":
            rows.append([tr])
    if not rows:
        return ""
    width = max(1, max(len(r) for r in rows))
    if width > 64:
        raise MathError("a table wider than 64 columns")
    table_align = (el.get("columnalign") or "").split()
    aligns: list[str] = []
    for col in range(width):
        align = ""
        for r in rows:
            if col < len(r) and r[col].get("columnalign"):
                align = r[col].get("columnalign") or ""
                break
        if not align and table_align:
            align = table_align[min(col, len(table_align) - 1)]
        aligns.append(_ALIGN.get(align, "center"))
    mcs = "".join(
        f'<m:mc><m:mcPr><m:count m:val="1"/><m:mcJc m:val="{a}"/></m:mcPr></m:mc>' for a in aligns
    )
    props = f'<m:mPr><m:baseJc m:val="center"/>{_onoff("plcHide")}<m:mcs>{mcs}</m:mcs></m:mPr>'
    body: list[str] = []
    for r in rows:
        cells = [f"<m:e>{c.kids(td)}</m:e>" for td in r]
        cells.extend("<m:e/>" for _ in range(width - len(r)))
        body.append(f"<m:mr>{''.join(cells)}</m:mr>")
    return f"<m:m>{props}{''.join(body)}</m:m>"


def _menclose(c: _Omml, el: Element) -> str:
    notation = set((el.get("notation") or "longdiv").split())
    strikes = {
        "horizontalstrike": "strikeH", "verticalstrike": "strikeV",
        "updiagonalstrike": "strikeBLTR", "downdiagonalstrike": "strikeTLBR",
    }
    props = ""
    if notation <= set(strikes):  # only strikes: no box around
        props += "".join(_onoff(t) for t in ("hideTop", "hideBot", "hideLeft", "hideRight"))
    for name in ("horizontalstrike", "verticalstrike", "updiagonalstrike", "downdiagonalstrike"):
        if name in notation:
            props += _onoff(strikes[name])
    head = f"<m:borderBoxPr>{props}</m:borderBoxPr>" if props else ""
    return f"<m:borderBox>{head}<m:e>{c.kids(el)}</m:e></m:borderBox>"


def _mfenced(c: _Omml, el: Element) -> str:
    begin = el.get("open", "(")
    end = el.get("close", ")")
    separators = "".join((el.get("separators", ",") or "").split())
    parts = [c.arg(k) for k in el]
    return c._d(begin, end, parts or [""], separators[:1])


def _mmultiscripts(c: _Omml, el: Element) -> str:
    kids = list(el)
    if not kids:
        return ""
    base = c.arg(kids[0])
    post: list[Element] = []
    pre: list[Element] = []
    target = post
    for k in kids[1:]:
        if _tag(k) == "mprescripts":
            target = pre
            continue
        target.append(k)
    for index in range(0, len(post) - 1, 2):
        sub, sup = c.arg(post[index]), c.arg(post[index + 1])
        base = f"<m:sSubSup><m:e>{base}</m:e><m:sub>{sub}</m:sub><m:sup>{sup}</m:sup></m:sSubSup>"
    if len(pre) >= 2:
        sub, sup = c.arg(pre[0]), c.arg(pre[1])
        base = f"<m:sPre><m:sub>{sub}</m:sub><m:sup>{sup}</m:sup><m:e>{base}</m:e></m:sPre>"
    return base


HANDLERS: dict[str, Handler] = {
    # tokens
    "mi": _mi,
    "mn": _mn,
    "mo": _mo,
    "mtext": _mtext,
    "ms": _ms,
    "mspace": _mspace,
    "mglyph": _mglyph,
    # general layout
    "math": _math,
    "mrow": _mrow,
    "mstyle": _math,
    "mpadded": _math,
    "merror": _math,
    "mphantom": _mphantom,
    "mfrac": _mfrac,
    "msqrt": _msqrt,
    "mroot": _mroot,
    "mfenced": _mfenced,
    "menclose": _menclose,
    # scripts and limits
    "msub": _scripts,
    "msup": _scripts,
    "msubsup": _scripts,
    "munder": _munder,
    "mover": _mover,
    "munderover": _munderover,
    "mmultiscripts": _mmultiscripts,
    "mprescripts": _nothing,
    "none": _nothing,
    # tables
    "mtable": _mtable,
    "mtr": _math,
    "mlabeledtr": _math,
    "mtd": _math,
    "maligngroup": _nothing,
    "malignmark": _nothing,
    # semantics and actions
    "semantics": _semantics,
    "annotation": _nothing,
    "annotation-xml": _nothing,
    "maction": _first_child,
}
"""MathML element name -> function writing its OMML. latex2mathml emits only elements listed here;
MathML's elementary-math layout (``mstack``, ``mlongdiv``, ``msgroup``, ``msrow``, ``mscarries``,
``mscarry``, ``msline``) has no OMML counterpart and raises :class:`MathError` (the TeX is kept)."""


# ------------------------------------------------------------------ public API


def mathml_to_omml(mathml: str | Element, display: bool = False) -> str:
    """A MathML ``<math>`` element (string or tree) as an OMML fragment.

    The fragment is ``<m:oMath>...</m:oMath>``, wrapped in ``<m:oMathPara>`` when ``display``; it
    uses the ``m:`` prefix without declaring it (``word/document.xml`` declares it once). Raises
    :class:`~qabook.math.errors.MathError` for MathML it cannot map.
    """
    root = fromstring(mathml) if isinstance(mathml, str) else mathml
    body = _Omml(display).node(root)
    if display:
        return (
            '<m:oMathPara><m:oMathParaPr><m:jc m:val="center"/></m:oMathParaPr>'
            f"<m:oMath>{body}</m:oMath></m:oMathPara>"
        )
    return f"<m:oMath>{body}</m:oMath>"


@functools.lru_cache(maxsize=4096)
def _tex_to_omml(tex: str, display: bool) -> tuple[str, str]:
    try:
        return mathml_to_omml(mathml_tree(tex, display), display), ""
    except MathError as exc:
        return "", exc.reason
    except RecursionError:
        return "", "formula nested too deeply"
    except Exception as exc:  # noqa: BLE001 - a writer must never fail on a formula
        return "", f"internal error in the OMML mapping: {type(exc).__name__}: {exc}"


def tex_to_omml(tex: str, display: bool = False) -> str:
    """``tex`` (without ``$`` delimiters) as an OMML fragment (see :func:`mathml_to_omml`).

    Cached per ``(tex, display)``. Raises :class:`~qabook.math.errors.MathError` with a reason
    when the formula cannot be converted.
    """
    omml, reason = _tex_to_omml(tex, display)
    if not omml:
        raise MathError(reason)
    return omml


def cache_clear() -> None:
    """Forget every cached conversion (for tests and benchmarks)."""
    _tex_to_omml.cache_clear()

