"""The HTML writer: a valid, self-contained HTML5 page with the document's structure, and clean
fragments for the Anki and CSV writers."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from qabook.model import (
    BulletList, Code, CodeBlock, Document, Emphasis, Item, LineBreak, Link, ListItem, Math, MathBlock,
    OrderedList, Paragraph, Quote, Rule, Section, Strong, Table, Text,
)
from qabook.writers import html as html_writer

from tests.test_model import EVERY_NODE

html5lib = pytest.importorskip("html5lib", reason="html5lib is in the test extra")
NS = "{http://www.w3.org/1999/xhtml}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"


def _parse(text: str):  # type: ignore[no-untyped-def]
    """Parse strictly: html5lib raises on any parse error (unclosed or misnested tags, bad nesting)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(text)


def _all(tree, tag: str, cls: str | None = None):  # type: ignore[no-untyped-def]
    out = [e for e in tree.iter(f"{NS}{tag}")]
    if cls is not None:
        out = [e for e in out if cls in (e.get("class") or "").split()]
    return out


def _text(el) -> str:  # type: ignore[no-untyped-def]
    return "".join(el.itertext())


def _doc(*items: Item, title: str = "T", sections: int = 1) -> Document:
    secs = tuple(Section(f"S{n}", items) for n in range(1, sections + 1))
    return Document(title, "chat.txt", secs)


def test_every_node_type_gives_a_valid_page() -> None:
    page = html_writer.render(EVERY_NODE)
    tree = _parse(page)
    assert page.startswith("<!DOCTYPE html>\n")
    assert len(_all(tree, "details", "qa")) == len(list(EVERY_NODE.items()))
    assert _all(tree, "pre")  # code block
    assert len(list(tree.iter(f"{MATHML}math"))) == 2  # formulas as MathML


def test_structure_title_contents_sections_items() -> None:
    doc = Document("My <Deck>", "chat.txt", (
        Section("First", (Item(1, (Text("What is a?"),), (Paragraph((Text("A."),)),)),
                          Item(2, (Text("What is b?"),), ()), )),
        Section("Second", (Item(3, (Text("What is c?"),), (Paragraph((Text("C."),)),)),)),
    ))
    tree = _parse(html_writer.render(doc, dt.date(2024, 5, 6)))
    assert _text(next(tree.iter(f"{NS}title"))) == "My <Deck>"
    assert _text(next(tree.iter(f"{NS}h1"))) == "My <Deck>"
    toc = next(e for e in tree.iter(f"{NS}nav") if e.get("id") == "toc")
    assert [_text(a) for a in toc.iter(f"{NS}a")] == ["First", "Second"]
    assert [a.get("href") for a in toc.iter(f"{NS}a")] == ["#s1", "#s2"]
    sections = _all(tree, "section", "sec")
    assert [_text(s.find(f"{NS}h2")) for s in sections] == ["First", "Second"]
    details = _all(tree, "details", "qa")
    assert [d.get("id") for d in details] == ["q1", "q2", "q3"]
    summary = details[0].find(f"{NS}summary")
    assert _text(summary) == "1. What is a?"
    assert _text(details[0].find(f"{NS}div")) == "A."
    assert "No answer" in _text(details[1])
    assert "2024-05-06" in _text(next(e for e in tree.iter(f"{NS}p") if e.get("class") == "facts"))
    assert tree.iter(f"{NS}input")
    search = [e for e in tree.iter(f"{NS}input") if e.get("id") == "search"]
    assert search and search[0].get("type") == "search"


def test_one_section_lists_the_questions_in_the_contents() -> None:
    doc = _doc(Item(None, (Text("Why?"),), ()), Item(None, (Text("Why?"),), ()))
    tree = _parse(html_writer.render(doc))
    toc = next(e for e in tree.iter(f"{NS}nav") if e.get("id") == "toc")
    assert [a.get("href") for a in toc.iter(f"{NS}a")] == ["#i1", "#i2"]


def test_repeated_numbers_get_distinct_ids() -> None:
    item = Item(7, (Text("q"),), ())
    doc = Document("T", "s", (Section("A", (item,)), Section("B", (item,))))
    assert html_writer.item_ids(doc) == ["q7", "q7-2"]


def test_self_contained_no_network() -> None:
    page = html_writer.render(EVERY_NODE)
    tree = _parse(page)
    assert not [e for e in tree.iter(f"{NS}script") if e.get("src")]
    assert not list(tree.iter(f"{NS}link"))
    assert not list(tree.iter(f"{NS}img"))
    assert "@import" not in page and "url(" not in page
    styles = list(tree.iter(f"{NS}style"))
    assert len(styles) == 1 and "@media print" in _text(styles[0]) and "max-width" in _text(styles[0])
    scripts = list(tree.iter(f"{NS}script"))
    assert len(scripts) == 1 and "getElementById(\"search\")" in _text(scripts[0])
    assert "</script" not in _text(scripts[0])


@pytest.mark.parametrize("text", ["<b>x</b>", "a & b", "\"quoted\" 'single'", "</details></summary>", "<!--"])
def test_text_is_escaped(text: str) -> None:
    doc = _doc(Item(1, (Text(text),), (Paragraph((Text(text),)), CodeBlock(text))), title=text)
    tree = _parse(html_writer.render(doc))
    d = _all(tree, "details", "qa")[0]
    assert _text(d.find(f"{NS}summary")) == f"1. {text}"
    assert _text(d.find(f"{NS}div")) == text + text


def test_inlines_and_blocks_are_clean_html() -> None:
    inl = (Text("a "), Strong((Text("b"),)), Emphasis((Text("c"),)), Code("x<y"), LineBreak(),
           Link("https://e.org/?a=1&b=2", (Text("link"),)))
    assert html_writer.inlines(inl) == ('a <strong>b</strong><em>c</em><code>x&lt;y</code><br>'
                                        '<a href="https://e.org/?a=1&amp;b=2">link</a>')
    lst = BulletList((ListItem((Paragraph((Text("one"),)),)),
                      ListItem((Paragraph((Text("two"),)), OrderedList((ListItem((Paragraph((Text("x"),)),)),),
                                                                         start=3)))))
    assert html_writer.block(lst) == ('<ul><li>one</li><li><p>two</p><ol start="3"><li>x</li></ol></li></ul>')
    assert html_writer.block(CodeBlock("a\n\n  b", "python")) == (
        '<pre data-lang="python"><code class="language-python">a\n\n  b</code></pre>')
    assert html_writer.block(Rule()) == "<hr>"
    assert html_writer.block(Quote((Paragraph((Text("q"),)),))) == "<blockquote><p>q</p></blockquote>"
    table = Table(((Text("h1"),), (Text("h2"),)), (((Text("a"),),),))
    assert html_writer.block(table) == ('<div class="table"><table><thead><tr><th>h1</th><th>h2</th></tr></thead>'
                                        '<tbody><tr><td>a</td><td></td></tr></tbody></table></div>')


@pytest.mark.parametrize("target", ["javascript:alert(1)", " JavaScript:x", "data:text/html,<b>", "vbscript:x"])
def test_unsafe_links_lose_their_target(target: str) -> None:
    out = html_writer.inlines((Link(target, (Text("t"),)),))
    assert out == "t"


def test_math_is_mathml_or_tex_in_code_when_it_does_not_convert() -> None:
    pytest.importorskip("qabook.math", reason="the math package is not there yet")
    good = html_writer.inlines((Math(r"\frac{a}{b}"),))
    assert good.startswith("<math") and "<mfrac>" in good
    display = html_writer.block(MathBlock("x^2"))
    assert 'display="block"' in display
    bad = html_writer.inlines((Math(r"\unknowncommand{x} < 1"),))
    assert bad == r'<code class="tex">\unknowncommand{x} &lt; 1</code>'
    assert html_writer.block(MathBlock(r"\unknowncommand")) == (
        r'<div class="math"><pre class="tex"><code class="tex">\unknowncommand</code></pre></div>')


def test_math_falls_back_to_tex_without_the_math_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_writer, "_converter", False)
    assert html_writer.inlines((Math("x<1"),)) == '<code class="tex">x&lt;1</code>'


def test_mathjax_mode_for_anki() -> None:
    assert html_writer.inlines((Math("a<b"),), math="mathjax") == r"\(a&lt;b\)"
    assert html_writer.block(MathBlock(r"\sum_i x_i"), math="mathjax") == r'<div class="math">\[\sum_i x_i\]</div>'


def test_fragments_have_no_newlines_outside_pre() -> None:
    frag = html_writer.blocks(EVERY_NODE.sections[0].items[0].answer, math="mathjax")
    outside = re.sub(r"<pre.*?</pre>", "", frag, flags=re.S)
    assert "\n" not in outside


def test_write_is_deterministic_bytes() -> None:
    a, b = io.BytesIO(), io.BytesIO()
    html_writer.write(EVERY_NODE, a, dt.date(2024, 1, 2))
    html_writer.write(EVERY_NODE, b, dt.date(2024, 1, 2))
    assert a.getvalue() == b.getvalue()
    a.getvalue().decode("utf-8")


def test_reference_case_page(reference, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from qabook.pipeline import write_file

    out = tmp_path / "ref.html"
    write_file(reference.document, str(out), dt.date(2024, 1, 1))
    tree = _parse(out.read_text(encoding="utf-8"))
    details = _all(tree, "details", "qa")
    assert len(details) == 370
    assert len({d.get("id") for d in details}) == 370
    assert all(d.find(f"{NS}summary") is not None for d in details)
    assert len(_all(tree, "section", "sec")) == len(reference.document.sections)
    maths = list(tree.iter(f"{MATHML}math"))
    assert len(maths) >= 40  # 33 inline + 22 display formulas in the reference; nearly all convert


def test_the_page_written_section_by_section_is_the_whole_page_and_reports_formulas() -> None:
    from qabook.math.check import check_formulas, formula_warning
    from qabook.model import Item, Math, Paragraph, Section, Text

    def item(n: int | None, tex: str) -> Item:
        return Item(n, (Text(f"Question {n}?"),), (Paragraph((Text("See "), Math(tex))),), "answered")

    one = Document("One section", "t.md", (Section("Only", (item(7, "x^2"), item(7, "\\foo{y}"))),))
    many = Document("Sections", "t.md", (Section("A", (item(1, "a"),)), Section("Empty", ()),
                                          Section("B", (item(None, "\\bar{b}"), item(2, "\\nope")))))
    for doc in (one, many):
        out = io.BytesIO()
        warnings = html_writer.write_stream(Document(doc.title, doc.source, ()), iter(doc.sections), out)
        assert out.getvalue().decode("utf-8") == html_writer.render(doc)
        assert warnings == [formula_warning(n, tex, why) for n, tex, why in check_formulas(doc)]
        assert warnings  # a formula that cannot be converted is reported
