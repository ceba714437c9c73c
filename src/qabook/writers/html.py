"""One self-contained HTML page to study from; also the HTML fragments the Anki and CSV writers use.

The page works offline and alone: its CSS and JavaScript come from package data
(``writers/html_assets/``) and are inlined, and nothing is loaded from the network. It has

* a contents sidebar (sections with their item counts; the questions when there is one section),
  which folds away on a phone;
* one ``<details>`` per item: the question is the summary, the answer opens on a click;
* a search box that narrows the list as you type (every word must occur in the question or the
  answer; case and accents are ignored), with a count, and "expand all" / "collapse all";
* formulas as MathML (through :func:`qabook.math.tex_to_mathml`); a formula that does not convert,
  or a qabook without the math package, shows its TeX in ``<code class="tex">``;
* a print stylesheet: no sidebar or search, every answer open.

Layout::

    header: title, facts, search box, buttons
    nav#toc: contents
    main: section#s1 > h2 + details.qa#q12 > summary (number, question) + div.answer

The fragments (:func:`inlines`, :func:`blocks`) are plain, clean HTML: ``p``, ``ul``/``ol``/``li``,
``pre``/``code``, ``strong``/``em``, ``a``, ``table``, ``blockquote``, ``hr``. With
``math="mathjax"`` formulas are written as ``\\( … \\)`` and ``\\[ … \\]`` (what Anki's MathJax reads)
instead of MathML. Fragments hold no line breaks of their own outside ``<pre>``, so a record of a
text file stays on one line.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import shutil
import tempfile
import typing
from importlib import resources
from typing import BinaryIO, Callable, Literal

from qabook.model import (
    Block,
    BulletList,
    Code,
    CodeBlock,
    Document,
    Emphasis,
    Inline,
    Item,
    LineBreak,
    Link,
    ListItem,
    Math,
    MathBlock,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Section,
    Strong,
    Table,
    Text,
    plain_text,
)

NAME = "html"
EXTENSIONS = (".html", ".htm")

MathMode = Literal["mathml", "mathjax"]

_SAFE_SCHEMES = ("http:", "https:", "mailto:", "ftp:", "tel:")
_SCHEME_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*:)")
_LANG_RE = re.compile(r"[^A-Za-z0-9_+#.-]")


def esc(text: str) -> str:
    """Text escaped for HTML content and double-quoted attributes."""
    return html.escape(text, quote=True)


def _href(target: str) -> str | None:
    """The link target if it is safe to follow (no ``javascript:`` and the like), else None."""
    m = _SCHEME_RE.match(target)
    if m and m.group(1).lower() not in _SAFE_SCHEMES:
        return None
    return target.strip()


# --------------------------------------------------------------------------- math

_Converter = Callable[[str, bool], str]
_converter: _Converter | None | Literal[False] = None


def _mathml_converter() -> _Converter | None:
    """``tex_to_mathml`` when the math package is there (imported on first use), else None."""
    global _converter
    if _converter is None:
        try:
            from qabook.math import tex_to_mathml
        except ImportError:
            _converter = False
        else:
            _converter = tex_to_mathml
    return _converter or None


def _normalize_tex(tex: str) -> str:
    try:
        from qabook.math import normalize_tex
    except ImportError:
        return tex.strip()
    return normalize_tex(tex)


def math_html(tex: str, display: bool, math: MathMode) -> str:
    """A formula: MathML (or its TeX in ``<code class="tex">`` when it does not convert), or
    MathJax delimiters."""
    if math == "mathjax":
        body = esc(_normalize_tex(tex))
        return f"\\[{body}\\]" if display else f"\\({body}\\)"
    convert = _mathml_converter()
    if convert is not None:
        try:
            return convert(tex, display)
        except Exception:  # noqa: BLE001 - any formula it cannot convert keeps its TeX
            pass
    code = f'<code class="tex">{esc(tex)}</code>'
    return f'<pre class="tex">{code}</pre>' if display else code


# --------------------------------------------------------------------------- fragments


def inlines(nodes: typing.Iterable[Inline], math: MathMode = "mathml") -> str:
    """HTML for a run of inlines."""
    parts: list[str] = []
    for node in nodes:
        match node:
            case Text(text=t):
                parts.append(esc(t))
            case Strong(children=c):
                parts.append("<strong>" + inlines(c, math) + "</strong>")
            case Emphasis(children=c):
                parts.append("<em>" + inlines(c, math) + "</em>")
            case Code(text=t):
                parts.append("<code>" + esc(t) + "</code>")
            case Math(tex=t):
                parts.append(math_html(t, False, math))
            case Link(target=target, children=c):
                href = _href(target)
                inner = inlines(c, math) or esc(target)
                parts.append(f'<a href="{esc(href)}">{inner}</a>' if href is not None else inner)
            case LineBreak():
                parts.append("<br>")
            case _:
                typing.assert_never(node)
    return "".join(parts)


def _list_item(li: ListItem, math: MathMode) -> str:
    if len(li.blocks) == 1 and isinstance(li.blocks[0], Paragraph):
        return "<li>" + inlines(li.blocks[0].inlines, math) + "</li>"
    return "<li>" + blocks(li.blocks, math) + "</li>"


def block(b: Block, math: MathMode = "mathml") -> str:
    """HTML for one block."""
    match b:
        case Paragraph(inlines=i):
            return "<p>" + inlines(i, math) + "</p>"
        case BulletList(items=items):
            return "<ul>" + "".join(_list_item(li, math) for li in items) + "</ul>"
        case OrderedList(items=items, start=start):
            attr = f' start="{start}"' if start != 1 else ""
            return f"<ol{attr}>" + "".join(_list_item(li, math) for li in items) + "</ol>"
        case CodeBlock(text=t, language=lang):
            cls = _LANG_RE.sub("", lang)
            attr = f' class="language-{esc(cls)}"' if cls else ""
            label = f' data-lang="{esc(lang)}"' if lang else ""
            return f"<pre{label}><code{attr}>{esc(t)}</code></pre>"
        case MathBlock(tex=t):
            return '<div class="math">' + math_html(t, True, math) + "</div>"
        case Quote(blocks=inner):
            return "<blockquote>" + blocks(inner, math) + "</blockquote>"
        case Table(header=header, rows=rows):
            width = max([len(header)] + [len(r) for r in rows])

            def row(cells: tuple[tuple[Inline, ...], ...], tag: str) -> str:
                out = [f"<{tag}>{inlines(c, math)}</{tag}>" for c in cells]
                out += [f"<{tag}></{tag}>"] * (width - len(cells))
                return "<tr>" + "".join(out) + "</tr>"

            head = f"<thead>{row(header, 'th')}</thead>" if header else ""
            body = "".join(row(r, "td") for r in rows)
            return f'<div class="table"><table>{head}<tbody>{body}</tbody></table></div>'
        case Rule():
            return "<hr>"
        case _:
            typing.assert_never(b)


def blocks(bs: typing.Iterable[Block], math: MathMode = "mathml") -> str:
    """HTML for a sequence of blocks (no separators: block elements need none)."""
    return "".join(block(b, math) for b in bs)


# --------------------------------------------------------------------------- the page


def _asset(name: str) -> str:
    return resources.files("qabook.writers").joinpath("html_assets", name).read_text(encoding="utf-8")


class _Ids:
    """An HTML id per item in document order: ``q12`` for number 12 (``q12-2`` for a second
    item numbered 12), ``i5`` for the fifth item when it has no number."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.index = 0

    def next(self, item: Item) -> str:
        self.index += 1
        base = f"q{item.number}" if item.number is not None else f"i{self.index}"
        n = self.seen.get(base, 0) + 1
        self.seen[base] = n
        return base if n == 1 else f"{base}-{n}"


def item_ids(doc: Document) -> list[str]:
    """An HTML id per item in document order (see :class:`_Ids`)."""
    ids = _Ids()
    return [ids.next(item) for item in doc.items()]


def _item_html(item: Item, ident: str) -> str:
    number = f'<span class="num">{item.number}.</span> ' if item.number is not None else ""
    question = inlines(item.question) or "<em>(no question)</em>"
    if item.answer:
        answer = blocks(item.answer)
    else:
        answer = '<p class="none">No answer in the source.</p>'
    status = "" if item.status == "answered" else " unanswered"
    return (f'<details class="qa{status}" id="{ident}"><summary>{number}<span class="q">{question}</span>'
            f'</summary><div class="answer">{answer}</div></details>\n')


def _toc_item(item: Item, ident: str) -> str:
    num = f'<span class="num">{item.number}.</span> ' if item.number is not None else ""
    text = esc(plain_text(item.question).replace("\n", " ")) or "(no question)"
    return f'<li><a href="#{ident}">{num}{text}</a></li>'


def _toc_section(section: Section, sid: str) -> str:
    return (f'<li data-section="{sid}"><a href="#{sid}">{esc(section.title)}</a>'
            f' <span class="count">{len(section.items)}</span></li>')


def _section_html(section: Section, sid: str, ids: list[str]) -> str:
    out = [f'<section class="sec" id="{sid}"><h2>{esc(section.title)}</h2>\n']
    for item, ident in zip(section.items, ids):
        out.append(_item_html(item, ident))
    out.append("</section>\n")
    return "".join(out)


def _head(doc: Document, count: int, date: dt.date | None) -> str:
    facts = [f"{count} question{'' if count == 1 else 's'}"]
    if doc.source and doc.source != "-":
        facts.append(f"from {esc(doc.source)}")
    if date is not None:
        facts.append(f'<time datetime="{date.isoformat()}">{date.isoformat()}</time>')
    lang = doc.meta_value("language")
    return (
        "<!DOCTYPE html>\n"
        + (f'<html lang="{esc(lang)}">\n' if lang else "<html>\n")
        + '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="qabook">\n'
        f"<title>{esc(doc.title)}</title>\n"
        f"<style>\n{_asset('page.css')}</style>\n"
        "</head>\n<body>\n"
        '<a class="skip" href="#items">Skip to the questions</a>\n'
        '<header class="top">\n'
        f"<h1>{esc(doc.title)}</h1>\n"
        f'<p class="facts">{" · ".join(facts)}</p>\n'
        '<div class="tools" role="search">'
        '<input type="search" id="search" placeholder="Search questions and answers" '
        'aria-label="Search questions and answers" autocomplete="off" spellcheck="false">'
        f'<span id="shown" aria-live="polite">{count} of {count}</span>'
        '<button type="button" id="expand">Expand all</button>'
        '<button type="button" id="collapse">Collapse all</button>'
        "</div>\n</header>\n"
        '<div class="layout">\n'
    )


def write_stream(head: Document, sections: typing.Iterable[Section], out: BinaryIO,
                 date: dt.date | None = None) -> list[str]:
    """Write the page of the document ``head`` (title, source, meta; its own sections are
    ignored) with ``sections`` taken one at a time, so that memory does not grow with them: the
    header counts the questions and the contents come first, so the sections and the entries
    of the contents wait in temporary files until the last section has been written.

    Returns a warning per formula written as TeX because it could not be converted."""
    from qabook.math.check import formula_warnings

    ids = _Ids()
    warnings: list[str] = []
    count = 0
    toc_sections: list[str] = []  # an entry per section with items
    with tempfile.TemporaryFile() as body, tempfile.TemporaryFile() as toc_items:
        for n, section in enumerate(sections, start=1):
            sid = f"s{n}"
            section_ids = [ids.next(item) for item in section.items]
            body.write(_section_html(section, sid, section_ids).encode("utf-8"))
            if section.items:
                toc_sections.append(_toc_section(section, sid))
                toc_items.write("".join(_toc_item(item, ident)
                                        for item, ident in zip(section.items, section_ids)).encode("utf-8"))
            count += len(section.items)
            warnings.extend(formula_warnings(Document("", "", (section,))))
        out.write(_head(head, count, date).encode("utf-8"))
        out.write(b'<nav id="toc" aria-label="Contents"><details id="toc-box" open><summary>Contents</summary>')
        if len(toc_sections) <= 1:  # one section: its items are the contents
            out.write(b'<ol class="toc-items">')
            toc_items.seek(0)
            shutil.copyfileobj(toc_items, out)
        else:
            out.write(('<ol class="toc-sections">' + "".join(toc_sections)).encode("utf-8"))
        out.write(b'</ol></details></nav>\n<main id="items">\n')
        body.seek(0)
        shutil.copyfileobj(body, out)
    out.write(('<p id="nothing" hidden>No question or answer contains all the words searched for.</p>\n'
               "</main>\n</div>\n"
               f"<script>\n{_asset('page.js')}</script>\n</body>\n</html>\n").encode("utf-8"))
    return warnings


def render(doc: Document, date: dt.date | None = None) -> str:
    """The whole page."""
    buf = io.BytesIO()
    write_stream(doc, doc.sections, buf, date)
    return buf.getvalue().decode("utf-8")


def write(doc: Document, out: BinaryIO, date: dt.date | None = None) -> None:
    """Write the page as UTF-8."""
    write_stream(doc, doc.sections, out, date)
