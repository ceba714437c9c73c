"""TeX to MathML with latex2mathml, plus the repairs its output needs.

latex2mathml is maintained, pure Python and fast (well under a millisecond for a typical formula),
so it does the parsing. Its tree is not used as it comes, though; this module fixes what it gets
wrong for the formulas people paste from chats, so that every consumer (the DOCX writer through
:mod:`qabook.math.omml`, and later HTML and Anki writers) sees the same, valid MathML:

* token text holds ``&#x...;`` strings, which ``latex2mathml.converter.convert`` resolves with an
  ``html.unescape`` of the *whole* serialised tree, turning an escaped ``<`` in ``\\text{a<b}``
  back into markup. Here the texts are resolved one by one and the tree is serialised by
  ElementTree, which escapes correctly;
* unknown commands come out as an ``<mi>`` holding the backslash and the name (``\\arg``); a
  known function name becomes an upright ``<mi>``, anything else is an error (the formula then
  keeps its TeX, rather than showing ``\\foo`` as if it were maths);
* ``\\text{\\# items}`` keeps the backslash: TeX's text escapes are resolved inside ``<mtext>``;
* ``\\sim`` comes out as ``<mi>~</mi>``; it is the relation ``<mo>∼</mo>``;
* ``\\mathrm{d}`` (one letter) loses its upright variant; it is rewritten to ``{\\rm d}``, which
  keeps it. Runs of upright letters (``\\mathrm{Var}``) become one ``<mi>``;
* ``aligned``/``gathered`` bodies come out as one flat row with ``<mi>&amp;</mi>`` and line-break
  ``<mspace>``; such a row becomes an ``<mtable>`` (cells split at ``&``, aligned right/left);
* a fraction, script or root missing an argument is an error, not a half-empty element.
"""

from __future__ import annotations

import _imp
import functools
import html
import importlib.util
import re
import sys
import types
from typing import Callable
from xml.etree.ElementTree import Element, tostring

from qabook.math.errors import MathError
from qabook.math.tex import normalize_tex

__all__ = ["MATHML_NS", "mathml_tree", "tex_to_mathml"]

MATHML_NS = "http://www.w3.org/1998/Math/MathML"

FUNCTION_NAMES = frozenset({
    "arccos", "arcsin", "arctan", "arg", "cos", "cosh", "cot", "coth", "csc", "deg", "det", "dim",
    "exp", "gcd", "hom", "inf", "ker", "lg", "lim", "liminf", "limsup", "ln", "log", "max", "min",
    "Pr", "sec", "sin", "sinh", "sup", "tan", "tanh", "argmax", "argmin", "sgn", "tr", "Tr",
})
"""Function names that get an upright ``<mi>`` when latex2mathml passes them through as ``\\name``."""

_ARITY = {
    "mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "munder": 2, "mover": 2, "munderover": 3,
    "mroot": 2,
}
_TEXT_ESCAPE = re.compile(r"\\([#$%&_{} ])")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_MATHRM_ONE = re.compile(r"\\mathrm\s*\{\s*([A-Za-z0-9])\s*\}")
_ENTITY = "&"


def _tag(el: Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _resolve_entities(root: Element) -> None:
    for el in root.iter():
        text = el.text
        if text and _ENTITY in text:
            el.text = html.unescape(text)


def _check_token(el: Element, tag: str) -> None:
    text = el.text or ""
    if tag == "mtext":
        if "\\" in text:
            text = _TEXT_ESCAPE.sub(r"\1", text)
            found = _COMMAND.search(text)
            if found is not None:
                raise MathError(f"command \\{found.group(1)} inside \\text")
            el.text = text
        return
    if "\\" not in text:
        return
    name = text.strip().lstrip("\\")
    if name in FUNCTION_NAMES:
        el.tag = "mi"
        el.text = name
        el.attrib.pop("mathvariant", None)
        return
    if not name:
        raise MathError("a lone backslash")
    raise MathError(f"unknown command \\{name}")


def _merge_upright(row: Element) -> None:
    """Consecutive ``<mi mathvariant="normal">`` letters (``\\mathrm{Var}``) become one ``<mi>``."""
    kids = list(row)
    if len(kids) < 2:
        return
    merged: list[Element] = []
    for el in kids:
        if (
            merged
            and _tag(el) == "mi"
            and el.get("mathvariant") == "normal"
            and len(el) == 0
            and _tag(merged[-1]) == "mi"
            and merged[-1].get("mathvariant") == "normal"
            and len(merged[-1]) == 0
            and (el.text or "").isalpha()
            and (merged[-1].text or "").isalpha()
        ):
            merged[-1].text = (merged[-1].text or "") + (el.text or "")
            merged[-1].tail = el.tail
            continue
        merged.append(el)
    if len(merged) != len(kids):
        row[:] = merged


def _is_linebreak(el: Element) -> bool:
    return _tag(el) == "mspace" and el.get("linebreak") == "newline"


def _is_ampersand(el: Element) -> bool:
    return _tag(el) in ("mi", "mo", "mtext") and (el.text or "").strip() == "&" and len(el) == 0


def _rows_to_table(row: Element) -> None:
    """A flat row holding ``&`` and line breaks (aligned, gathered, a bare ``\\\\``) as a table."""
    kids = list(row)
    if not any(_is_linebreak(k) or _is_ampersand(k) for k in kids):
        return
    lines: list[list[list[Element]]] = [[[]]]
    for el in kids:
        if _is_linebreak(el):
            lines.append([[]])
        elif _is_ampersand(el):
            lines[-1].append([])
        else:
            lines[-1][-1].append(el)
    while len(lines) > 1 and lines[-1] == [[]]:
        lines.pop()  # a trailing \\ ends the last line, it does not start a new one
    aligned = any(len(line) > 1 for line in lines)
    table = Element("mtable")
    if aligned:
        table.set("displaystyle", "true")
        table.set("columnspacing", "0em")
    for line in lines:
        tr = Element("mtr")
        for index, cell in enumerate(line):
            td = Element("mtd")
            if aligned:
                td.set("columnalign", "right" if index % 2 == 0 else "left")
            td.extend(cell)
            tr.append(td)
        table.append(tr)
    row[:] = [table]


def _repair(root: Element) -> None:
    _resolve_entities(root)
    for el in list(root.iter()):
        tag = _tag(el)
        if tag in ("mi", "mo", "mn", "mtext", "ms"):
            _check_token(el, tag)
            if tag == "mi" and (el.text or "").strip() == "~":
                el.tag = "mo"
                el.text = "\u223c"
            continue
        arity = _ARITY.get(tag)
        if arity is not None and len(el) != arity:
            raise MathError(f"<{tag}> needs {arity} arguments, found {len(el)}")
        if tag in ("mrow", "math", "mstyle", "mtd"):
            _merge_upright(el)
            _rows_to_table(el)


def _unescape(data: str, entities: dict[str, str] | None = None) -> str:
    """What ``xml.sax.saxutils.unescape`` does: ``&lt;`` and ``&gt;``, then ``entities``, then
    ``&amp;`` (last, so that ``&amp;lt;`` stays ``&lt;``)."""
    data = data.replace("&lt;", "<").replace("&gt;", ">")
    for key, value in (entities or {}).items():
        data = data.replace(key, value)
    return data.replace("&amp;", "&")


_PACKAGE_INIT = 'from importlib import metadata\n\n__version__ = metadata.version("latex2mathml")\n'
"""All that latex2mathml's ``__init__`` does: it finds the package's version in the installed
metadata, which imports :mod:`importlib.metadata` and the ``email`` package and searches every
folder on the path (~35 ms, more than the converter itself)."""


def _package_stand_in() -> types.ModuleType | None:
    """The ``latex2mathml`` package without running its ``__init__``, if that file is
    :data:`_PACKAGE_INIT` (else ``None``): a module with the package's spec and path, so its
    modules import as usual, and the version looked up when someone asks for it."""
    spec = importlib.util.find_spec("latex2mathml")
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return None
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            if fh.read().strip() != _PACKAGE_INIT.strip():
                return None
    except OSError:
        return None
    package = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> object:
        if name in ("__version__", "metadata"):
            from importlib import metadata

            package.metadata = metadata  # type: ignore[attr-defined]
            package.__version__ = metadata.version("latex2mathml")  # type: ignore[attr-defined]
            return getattr(package, name)
        raise AttributeError(f"module 'latex2mathml' has no attribute {name!r}")

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    return package


@functools.cache
def _converter() -> Callable[..., Element]:
    """latex2mathml's ``convert_to_element``, imported on the first formula (~20 ms).

    Two of its imports cost more than the converter and are not needed for it, so, unless they
    are loaded already, stand-ins take their place while it loads, under the interpreter's
    import lock (no other thread can import meanwhile):

    * its module takes one function, ``unescape``, from ``xml.sax.saxutils``, which imports
      ``urllib.request`` and through it ``http.client`` and ``ssl``: another 45 ms, in every
      conversion with a formula, for networking code qabook never runs. The stand-in holds only
      :func:`_unescape` and is gone as soon as the converter is loaded: any later ``import
      xml.sax.saxutils`` gets the real module;
    * the package's ``__init__`` only looks up its version (see :data:`_PACKAGE_INIT`); the
      package module made from its spec stays (its modules belong to it) and looks the version
      up when ``latex2mathml.__version__`` is first read. When the file holds anything else, it
      runs as usual.

    Should the import fail, the usual one is made.
    """
    name = "xml.sax.saxutils"
    if name not in sys.modules:
        import xml.sax

        stand_in = types.ModuleType(name)
        stand_in.unescape = _unescape  # type: ignore[attr-defined]
        _imp.acquire_lock()
        package = None
        try:
            if "latex2mathml" not in sys.modules:
                package = _package_stand_in()
                if package is not None:
                    sys.modules["latex2mathml"] = package
            sys.modules[name] = stand_in
            try:
                from latex2mathml.converter import convert_to_element

                return convert_to_element
            except ImportError:
                sys.modules.pop("latex2mathml.converter", None)
                if package is not None and sys.modules.get("latex2mathml") is package:
                    del sys.modules["latex2mathml"]
            finally:
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]
                if getattr(xml.sax, "saxutils", None) is stand_in:
                    del xml.sax.saxutils
        finally:
            _imp.release_lock()
    from latex2mathml.converter import convert_to_element

    return convert_to_element


@functools.lru_cache(maxsize=4096)
def _convert(tex: str, display: bool) -> tuple[Element | None, str, str]:
    """``(tree, mathml, "")`` or ``(None, "", reason)``; cached, so failures are cheap too."""
    source = normalize_tex(tex)
    if not source:
        return None, "", "empty formula"
    source = _MATHRM_ONE.sub(r"{\\rm \1}", source)
    try:
        root = _converter()(source, display="block" if display else "inline")
    except MathError as exc:
        return None, "", exc.reason
    except Exception as exc:  # noqa: BLE001 - latex2mathml raises many unrelated types
        name = type(exc).__name__
        detail = str(exc).strip()
        return None, "", f"latex2mathml: {name}" + (f" ({detail})" if detail else "")
    try:
        _repair(root)
    except MathError as exc:
        return None, "", exc.reason
    except Exception as exc:  # noqa: BLE001 - never fail a caller on a formula
        return None, "", f"internal error repairing MathML: {type(exc).__name__}: {exc}"
    return root, tostring(root, encoding="unicode"), ""


def mathml_tree(tex: str, display: bool = False) -> Element:
    """The repaired MathML tree of ``tex`` (shared and cached: do not modify it).

    Raises :class:`~qabook.math.errors.MathError` when the formula cannot be converted.
    """
    root, _, reason = _convert(tex, display)
    if root is None:
        raise MathError(reason)
    return root


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """``tex`` (without ``$`` delimiters) as a MathML ``<math>`` element string.

    ``display`` selects ``display="block"`` (limits under sums, display-size fractions).
    Copy damage is undone first (:func:`qabook.math.tex.normalize_tex`). The result is cached per
    ``(tex, display)``. Raises :class:`~qabook.math.errors.MathError` with a reason on failure.
    """
    root, mathml, reason = _convert(tex, display)
    if root is None:
        raise MathError(reason)
    return mathml


def cache_clear() -> None:
    """Forget every cached conversion (for tests and benchmarks)."""
    _convert.cache_clear()

