"""The DOCX writer: structure, numbering, verbatim code, links, validity, determinism, rendering."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree

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
)
from qabook.writers.docx import write

try:
    from ooxml import validate_docx
except ImportError:  # tests collected as a package
    from tests.ooxml import validate_docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS = {"w": W, "r": R}
DATE = datetime.date(2024, 5, 1)

CODE = "def f(x):\n\n    if x:\n\t\treturn 1   \n\n\n        # deep\n  end"
NESTED_CODE = "target: deps\n\tcommand"

# ------------------------------------------------------------------ building documents


def para(*parts: str | Inline) -> Paragraph:
    return Paragraph(tuple(Text(p) if isinstance(p, str) else p for p in parts))


def li(*blocks: Block | str) -> ListItem:
    return ListItem(tuple(para(b) if isinstance(b, str) else b for b in blocks))


def rich_doc() -> Document:
    nested = BulletList((
        li("level 0 a",
           BulletList((
               li("level 1",
                  OrderedList((li("level 2 x"), li("level 2 y")), start=3)),
           ))),
        li("level 0 b"),
    ))
    long_list = OrderedList(tuple(li(f"entry {i}") for i in range(1, 121)))
    item1 = Item(
        1,
        (Text("What is "), Code("yield"), Text(" in "), Emphasis((Text("Python"),)), Text("?")),
        (
            para("Plain ", Strong((Text("bold "), Emphasis((Text("bold italic"),)))), " and ",
                 Emphasis((Text("italic"),)), "."),
            para("  leading and trailing  ", LineBreak(), "after break\nsecond line"),
            nested,
            CodeBlock(CODE, "python"),
            MathBlock("\\int_0^1 x^2\\,dx = \\frac{1}{3}"),
            para("Inline ", Math("e^{i\\pi} + 1 = 0"), " and ",
                 Link("https://example.com/a b?x=1&y=2", (Text("a link"),)), " and ",
                 Link("https://example.com/a b?x=1&y=2", (Strong((Text("again"),)),)), "."),
        ),
    )
    item2 = Item(
        2,
        (Text("Long list?"),),
        (
            long_list,
            OrderedList((li(para("first"), para("continued"), CodeBlock(NESTED_CODE)),
                         li(MathBlock("a^2"))), start=7),
            Quote((para("quoted"), BulletList((li("quoted item"),)))),
            Table(
                ((Text("Name"),), (Text("Value"),)),
                (((Text("a"),), (Code("1"),)), ((Text("b"),),)),
            ),
            Rule(),
        ),
    )
    item3 = Item(None, (Text("Unnumbered and unanswered"),), (), status="unanswered")
    item4 = Item(370, (Text("Control\x00 chars\x0b here\ufffe"),),
                 (para("bad\x01 text\x1f ok"), CodeBlock("a\x08b")))
    return Document(
        "Rich <&> \"doc\"",
        "chat.md",
        (
            Section("First section", (item1, item2)),
            Section("Second & last", (item3, item4), synthesized=True),
        ),
    )


def docx_bytes(doc: Document, date: datetime.date | None = DATE) -> bytes:
    buf = io.BytesIO()
    write(doc, buf, date=date)
    return buf.getvalue()


def part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read(name))


@pytest.fixture(scope="module")
def rich() -> bytes:
    return docx_bytes(rich_doc())


@pytest.fixture(scope="module")
def body(rich: bytes) -> etree._Element:
    return part(rich, "word/document.xml").find("w:body", NS)


def style_of(p: etree._Element) -> str | None:
    s = p.find("w:pPr/w:pStyle", NS)
    return None if s is None else s.get(f"{{{W}}}val")


def text_of(p: etree._Element) -> str:
    """A paragraph's text: w:t, w:tab as a tab, w:br as a newline (field codes left out)."""
    out: list[str] = []
    for el in p.iter(f"{{{W}}}t", f"{{{W}}}tab", f"{{{W}}}br"):
        if el.tag == f"{{{W}}}t":
            out.append(el.text or "")
        elif el.tag == f"{{{W}}}tab":
            if el.getparent().tag == f"{{{W}}}r":  # not a tab stop in w:tabs
                out.append("\t")
        else:
            out.append("\n")
    return "".join(out)


MNS = {"m": "http://schemas.openxmlformats.org/officeDocument/2006/math"}


def math_text_of(el: etree._Element) -> str:
    """The characters of the equations in ``el`` (m:t), in order."""
    return "".join(t.text or "" for t in el.iter(f"{{{MNS['m']}}}t"))


def paragraphs(body: etree._Element, style: str) -> list[etree._Element]:
    return [p for p in body.iter(f"{{{W}}}p") if style_of(p) == style]


# ------------------------------------------------------------------ validity and packaging


def test_every_part_is_schema_valid(rich: bytes) -> None:
    assert validate_docx(rich) == []


@pytest.mark.parametrize(
    "doc",
    [
        Document("Empty", "-", ()),
        Document("", "x", (Section("", ()),)),
        Document("One", "x", (Section("S", (Item(None, (), ()),)),)),
        Document("Odd table", "x", (Section("S", (Item(1, (Text("q"),), (
            Table((), ()), Table((), (((Text("only body"),),),)), Quote(()), CodeBlock(""),
            OrderedList((ListItem(()),), start=0), BulletList(()),
        )),)),)),
    ],
    ids=["no-sections", "empty-section", "empty-item", "degenerate-blocks"],
)
def test_edge_documents_are_schema_valid(doc: Document) -> None:
    assert validate_docx(docx_bytes(doc, None)) == []


def test_members_in_fixed_order_with_fixed_headers(rich: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(rich)) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == [
        "[Content_Types].xml",
        "_rels/.rels",
        "word/document.xml",
        "word/_rels/document.xml.rels",
        "word/numbering.xml",
        "word/styles.xml",
        "word/settings.xml",
        "word/fontTable.xml",
        "word/webSettings.xml",
        "word/footer1.xml",
        "docProps/core.xml",
        "docProps/app.xml",
    ]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.external_attr == 0o100644 << 16


def test_no_markup_compatibility_or_word_extensions(rich: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(rich)) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            assert b"mc:Ignorable" not in data and b"w14:" not in data, name


def test_output_is_deterministic() -> None:
    doc = rich_doc()
    assert docx_bytes(doc) == docx_bytes(doc)
    assert docx_bytes(doc, None) == docx_bytes(doc, None)
    assert docx_bytes(doc, DATE) != docx_bytes(doc, datetime.date(2024, 5, 2))


def test_non_seekable_output_gives_the_same_valid_package() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.data += b
            return len(b)

    first, second = Pipe(), Pipe()
    write(rich_doc(), first, date=DATE)  # type: ignore[arg-type]
    write(rich_doc(), second, date=DATE)  # type: ignore[arg-type]
    assert bytes(first.data) == bytes(second.data)
    with zipfile.ZipFile(io.BytesIO(bytes(first.data))) as zf:
        assert zf.testzip() is None
    assert validate_docx(bytes(first.data)) == []


def test_date_on_title_page_and_in_core_properties(rich: bytes) -> None:
    dcterms = "{http://purl.org/dc/terms/}"
    core = part(rich, "docProps/core.xml")
    assert core.findtext(f"{dcterms}created") == "2024-05-01T00:00:00Z"
    assert core.findtext(f"{dcterms}modified") == "2024-05-01T00:00:00Z"
    assert core.findtext("{http://purl.org/dc/elements/1.1/}title") == 'Rich <&> "doc"'
    assert core.findtext("{http://purl.org/dc/elements/1.1/}creator") == "qabook"
    body = part(rich, "word/document.xml").find("w:body", NS)
    assert [text_of(p) for p in paragraphs(body, "Subtitle")] == [
        "4 questions", "Source: chat.md", "1 May 2024",
    ]

    undated = docx_bytes(rich_doc(), None)
    core = part(undated, "docProps/core.xml")
    assert core.find(f"{dcterms}created") is None and core.find(f"{dcterms}modified") is None
    body = part(undated, "word/document.xml").find("w:body", NS)
    assert [text_of(p) for p in paragraphs(body, "Subtitle")] == ["4 questions", "Source: chat.md"]
    app = part(undated, "docProps/app.xml")
    assert app.findtext("{*}Application") == "qabook"


# ------------------------------------------------------------------ structure


def test_title_page_then_contents(body: etree._Element) -> None:
    ps = list(body.iterchildren(f"{{{W}}}p"))
    assert style_of(ps[0]) == "Title" and text_of(ps[0]) == 'Rich <&> "doc"'
    contents = paragraphs(body, "TOCHeading")
    assert [text_of(p) for p in contents] == ["Contents"]
    assert contents[0].find("w:pPr/w:pageBreakBefore", NS) is not None
    # A page break also separates the contents from the first section.
    first_h1 = paragraphs(body, "Heading1")[0]
    assert first_h1.find("w:pPr/w:pageBreakBefore", NS) is not None


def test_headings_per_section_and_question(body: etree._Element) -> None:
    assert [text_of(p) for p in paragraphs(body, "Heading1")] == ["First section", "Second & last"]
    assert [text_of(p) for p in paragraphs(body, "Heading2")] == [
        "1. What is yield in Python?",
        "2. Long list?",
        "Unnumbered and unanswered",
        "370. Control chars here",
    ]


def test_toc_field_is_filled_with_links_to_heading_bookmarks(body: etree._Element) -> None:
    toc = [p for p in body.iter(f"{{{W}}}p") if style_of(p) in ("TOC1", "TOC2")]
    assert [(style_of(p), text_of(p)) for p in toc] == [
        ("TOC1", "First section"),
        ("TOC2", "1. What is yield in Python?"),
        ("TOC2", "2. Long list?"),
        ("TOC1", "Second & last"),
        ("TOC2", "Unnumbered and unanswered"),
        ("TOC2", "370. Control chars here"),
    ]
    # One field: begin and instruction in the first entry, separate before the entries, end last.
    chars = [(el.get(f"{{{W}}}fldCharType"), el) for el in body.iter(f"{{{W}}}fldChar")]
    assert [c for c, _ in chars] == ["begin", "separate", "end"]
    instr = "".join(t.text for t in body.iter(f"{{{W}}}instrText"))
    assert instr == ' TOC \\o "1-2" \\h \\z \\u '
    assert all(el.getparent().getparent() is toc[0] for _, el in chars[:2])
    assert chars[2][1].getparent().getparent() is toc[-1]

    bookmarks: dict[str, etree._Element] = {}
    for start in body.iter(f"{{{W}}}bookmarkStart"):
        bookmarks[start.get(f"{{{W}}}name")] = start.getparent()
    ids = [int(b.get(f"{{{W}}}id")) for b in body.iter(f"{{{W}}}bookmarkStart")]
    assert ids == list(range(len(ids)))
    ends = [int(b.get(f"{{{W}}}id")) for b in body.iter(f"{{{W}}}bookmarkEnd")]
    assert ends == ids
    for entry in toc:
        links = entry.findall("w:hyperlink", NS)
        assert len(links) == 1
        target = bookmarks[links[0].get(f"{{{W}}}anchor")]
        assert style_of(target) == {"TOC1": "Heading1", "TOC2": "Heading2"}[style_of(entry)]
        assert text_of(target) == text_of(entry)


def test_heading_styles_list_questions_in_navigation(rich: bytes) -> None:
    styles = part(rich, "word/styles.xml")
    for style_id, level in (("Heading1", "0"), ("Heading2", "1")):
        style = styles.find(f"w:style[@w:styleId='{style_id}']", NS)
        assert style.find("w:pPr/w:outlineLvl", NS).get(f"{{{W}}}val") == level
    needed = {
        "Normal", "Title", "Subtitle", "Heading1", "Heading2", "TOCHeading", "TOC1", "TOC2",
        "ListParagraph", "CodeBlock", "InlineCode", "MathTeX", "MathBlock", "Quote", "Hyperlink",
        "TableGrid", "Footer",
    }
    defined = {s.get(f"{{{W}}}styleId") for s in styles.findall("w:style", NS)}
    assert needed <= defined
    # Every style the body uses is defined.
    body = part(rich, "word/document.xml")
    used = {el.get(f"{{{W}}}val") for el in body.iter(f"{{{W}}}pStyle", f"{{{W}}}rStyle", f"{{{W}}}tblStyle")}
    assert used <= defined


def test_unanswered_item_gets_a_note(body: etree._Element) -> None:
    notes = paragraphs(body, "Note")
    assert [text_of(p) for p in notes] == ["(no answer in the source)"]
    assert text_of(notes[0].getprevious()) == "Unnumbered and unanswered"


def test_footer_has_centered_page_field(rich: bytes) -> None:
    footer = part(rich, "word/footer1.xml")
    assert "PAGE" in "".join(t.text for t in footer.iter(f"{{{W}}}instrText"))
    assert footer.find(".//w:jc", NS).get(f"{{{W}}}val") == "center"
    sect = part(rich, "word/document.xml").find("w:body/w:sectPr", NS)
    ref = sect.find("w:footerReference", NS)
    rels = part(rich, "word/_rels/document.xml.rels")
    targets = {r.get("Id"): r.get("Target") for r in rels}
    assert targets[ref.get(f"{{{R}}}id")] == "footer1.xml"
    size = sect.find("w:pgSz", NS)
    assert (size.get(f"{{{W}}}w"), size.get(f"{{{W}}}h")) == ("11906", "16838")


# ------------------------------------------------------------------ blocks


def test_code_block_text_is_exact(body: etree._Element) -> None:
    code = paragraphs(body, "CodeBlock")
    texts = [text_of(p) for p in code]
    first = texts[: CODE.count("\n") + 1]
    assert "\n".join(first) == CODE
    nested = texts[len(first): len(first) + 2]
    assert "\n".join(nested) == NESTED_CODE
    # Spaces are preserved (leading, inner, trailing), never collapsed.
    for p in code:
        for t in p.iter(f"{{{W}}}t"):
            assert t.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"
    # Blank lines are their own (empty) paragraphs, so they keep their height.
    assert texts[1] == "" and code[1].find("w:r", NS) is None
    # The language is metadata: it appears nowhere in the text.
    assert all("python" not in t for t in texts)


def test_code_tabs_are_tab_elements_with_stops(body: etree._Element) -> None:
    code = paragraphs(body, "CodeBlock")
    tabbed = [p for p in code if p.find("w:r/w:tab", NS) is not None]
    assert tabbed
    for p in tabbed:
        stops = [int(t.get(f"{{{W}}}pos")) for t in p.findall("w:pPr/w:tabs/w:tab", NS)]
        assert stops and stops == sorted(stops)
        assert len({b - a for a, b in zip(stops, stops[1:])}) == 1  # evenly spaced


def _numbered(body: etree._Element) -> list[tuple[str, int, int]]:
    out = []
    for p in body.iter(f"{{{W}}}p"):
        num = p.find("w:pPr/w:numPr", NS)
        if num is not None:
            out.append((
                text_of(p),
                int(num.find("w:ilvl", NS).get(f"{{{W}}}val")),
                int(num.find("w:numId", NS).get(f"{{{W}}}val")),
            ))
    return out


def test_nested_lists_use_deeper_levels(body: etree._Element) -> None:
    numbered = _numbered(body)
    levels = {text: ilvl for text, ilvl, _ in numbered}
    assert levels["level 0 a"] == 0
    assert levels["level 1"] == 1
    assert levels["level 2 x"] == 2 and levels["level 2 y"] == 2
    assert levels["level 0 b"] == 0
    # Deeper text sits further right.
    indents = {}
    for p in body.iter(f"{{{W}}}p"):
        ind = p.find("w:pPr/w:ind", NS)
        if p.find("w:pPr/w:numPr", NS) is not None and ind is not None:
            indents[text_of(p)] = int(ind.get(f"{{{W}}}left"))
    assert indents["level 0 a"] < indents["level 1"] < indents["level 2 x"]


def test_each_ordered_list_restarts_at_its_start(rich: bytes, body: etree._Element) -> None:
    numbering = part(rich, "word/numbering.xml")
    nums = {
        int(n.get(f"{{{W}}}numId")): n for n in numbering.findall("w:num", NS)
    }
    numbered = _numbered(body)
    by_text = {text: (ilvl, num_id) for text, ilvl, num_id in numbered}
    seen: set[int] = set()
    for text, start in (("level 2 x", 3), ("entry 1", 1), ("first", 7)):
        ilvl, num_id = by_text[text]
        assert num_id not in seen
        seen.add(num_id)
        override = nums[num_id].find("w:lvlOverride", NS)
        assert int(override.get(f"{{{W}}}ilvl")) == ilvl
        assert override.find("w:startOverride", NS).get(f"{{{W}}}val") == str(start)
    # numIds are given in document order: bullets share 1, ordered lists count up from 2.
    ordered_ids = []
    for _, _, num_id in numbered:
        if num_id != 1 and num_id not in ordered_ids:
            ordered_ids.append(num_id)
    assert ordered_ids == list(range(2, 2 + len(ordered_ids)))
    # All 120 entries of the long list share one numId.
    long_ids = {num_id for text, _, num_id in numbered if text.startswith("entry ")}
    assert len(long_ids) == 1


def test_hanging_indent_fits_three_digit_numbers(rich: bytes, body: etree._Element) -> None:
    numbering = part(rich, "word/numbering.xml")
    abstract_of = {
        n.get(f"{{{W}}}numId"): n.find("w:abstractNumId", NS).get(f"{{{W}}}val")
        for n in numbering.findall("w:num", NS)
    }
    hang_of: dict[str, int] = {}
    for p in body.iter(f"{{{W}}}p"):
        num = p.find("w:pPr/w:numPr", NS)
        if num is None:
            continue
        num_id = num.find("w:numId", NS).get(f"{{{W}}}val")
        hang = int(p.find("w:pPr/w:ind", NS).get(f"{{{W}}}hanging"))
        hang_of[text_of(p)] = hang
        # The numbering definition itself uses the same hanging indent for that level.
        abstract = numbering.find(f"w:abstractNum[@w:abstractNumId='{abstract_of[num_id]}']", NS)
        ilvl = num.find("w:ilvl", NS).get(f"{{{W}}}val")
        lvl_ind = abstract.find(f"w:lvl[@w:ilvl='{ilvl}']/w:pPr/w:ind", NS)
        assert int(lvl_ind.get(f"{{{W}}}hanging")) == hang
    # "120." at 11 pt Calibri is about 400 twips wide; leave room for the gap before the text.
    assert hang_of["entry 1"] == hang_of["entry 120"] >= 560
    assert hang_of["first"] < hang_of["entry 1"]  # one-digit list is narrower


def test_later_blocks_of_a_list_item_align_with_its_text(body: etree._Element) -> None:
    ps = list(body.iter(f"{{{W}}}p"))
    first = next(p for p in ps if text_of(p) == "first")
    cont = next(p for p in ps if text_of(p) == "continued")
    assert cont.find("w:pPr/w:numPr", NS) is None
    first_left = int(first.find("w:pPr/w:ind", NS).get(f"{{{W}}}left"))
    cont_left = int(cont.find("w:pPr/w:ind", NS).get(f"{{{W}}}left"))
    assert cont_left == first_left
    # The item's code sits inside the item too.
    code = next(p for p in ps if text_of(p) == "target: deps")
    assert int(code.find("w:pPr/w:ind", NS).get(f"{{{W}}}left")) > first_left
    # An item starting with a non-paragraph block still gets its number.
    math_p = next(p for p in ps if style_of(p) == "MathBlock" and math_text_of(p) == "a2")
    before = math_p.getprevious()
    assert before.find("w:pPr/w:numPr", NS) is not None and text_of(before) == ""


def test_bullet_numbering_definition(rich: bytes) -> None:
    numbering = part(rich, "word/numbering.xml")
    bullets = numbering.find("w:abstractNum[@w:abstractNumId='0']", NS)
    lvls = bullets.findall("w:lvl", NS)
    assert len(lvls) == 9
    assert {lvl.find("w:numFmt", NS).get(f"{{{W}}}val") for lvl in lvls} == {"bullet"}
    glyphs = [lvl.find("w:lvlText", NS).get(f"{{{W}}}val") for lvl in lvls[:3]]
    assert len(set(glyphs)) == 3
    lefts = [int(lvl.find("w:pPr/w:ind", NS).get(f"{{{W}}}left")) for lvl in lvls]
    assert lefts == sorted(lefts) and len(set(lefts)) == 9


def test_math_written_as_equations(body: etree._Element) -> None:
    blocks = paragraphs(body, "MathBlock")
    assert text_of(blocks[0]) == ""  # no TeX left as text
    para = blocks[0].find("m:oMathPara", MNS)
    assert para is not None and para.find("m:oMath/m:nary", MNS) is not None  # \\int_0^1
    assert para.find(".//m:f", MNS) is not None  # \\frac{1}{3}
    inline = next(p for p in body.iter(f"{{{W}}}p") if p.find("m:oMath", MNS) is not None)
    assert math_text_of(inline.find("m:oMath", MNS)) == "eiπ+1=0"
    assert not [
        r for r in body.iter(f"{{{W}}}r")
        if (s := r.find("w:rPr/w:rStyle", NS)) is not None and s.get(f"{{{W}}}val") == "MathTeX"
    ]


def test_inline_formatting_accumulates(body: etree._Element) -> None:
    runs = {}
    for r in body.iter(f"{{{W}}}r"):
        text = "".join(t.text or "" for t in r.iter(f"{{{W}}}t"))
        props = r.find("w:rPr", NS)
        runs[text] = set() if props is None else {etree.QName(c).localname for c in props}
    assert {"b", "i"} <= runs["bold italic"]
    assert "b" in runs["bold "] and "i" not in runs["bold "]
    assert "i" in runs["italic"] and "b" not in runs["italic"]
    assert "b" not in runs["Plain "]
    assert "  leading and trailing  " in runs


def test_text_newlines_and_line_breaks(body: etree._Element) -> None:
    p = next(p for p in body.iter(f"{{{W}}}p") if text_of(p).startswith("  leading"))
    assert text_of(p) == "  leading and trailing  \nafter break\nsecond line"


def test_links_are_external_relationships(rich: bytes, body: etree._Element) -> None:
    rels = part(rich, "word/_rels/document.xml.rels")
    by_id = {r.get("Id"): r for r in rels}
    links = [h for h in body.iter(f"{{{W}}}hyperlink") if h.get(f"{{{R}}}id")]
    assert len(links) == 2
    rids = {h.get(f"{{{R}}}id") for h in links}
    assert len(rids) == 1  # the same target shares one relationship
    rel = by_id[rids.pop()]
    assert rel.get("TargetMode") == "External"
    assert rel.get("Target") == "https://example.com/a%20b?x=1&y=2"
    assert rel.get("Type").endswith("/hyperlink")
    link_runs = links[0].findall("w:r", NS)
    assert link_runs[0].find("w:rPr/w:rStyle", NS).get(f"{{{W}}}val") == "Hyperlink"
    assert text_of(links[1]) == "again"


def test_quote_table_and_rule(body: etree._Element) -> None:
    quotes = paragraphs(body, "Quote")
    assert [text_of(p) for p in quotes] == ["quoted", "quoted item"]
    assert quotes[1].find("w:pPr/w:numPr", NS) is not None

    tables = body.findall("w:tbl", NS)
    assert len(tables) == 1
    table = tables[0]
    assert table.find("w:tblPr/w:tblStyle", NS).get(f"{{{W}}}val") == "TableGrid"
    width = table.find("w:tblPr/w:tblW", NS)
    assert (width.get(f"{{{W}}}w"), width.get(f"{{{W}}}type")) == ("5000", "pct")
    cols = [int(c.get(f"{{{W}}}w")) for c in table.findall("w:tblGrid/w:gridCol", NS)]
    assert len(cols) == 2 and cols[0] == cols[1]
    rows = table.findall("w:tr", NS)
    assert rows[0].find("w:trPr/w:tblHeader", NS) is not None
    header_runs = rows[0].findall(".//w:r", NS)
    assert header_runs and all(r.find("w:rPr/w:b", NS) is not None for r in header_runs)
    cells = [[text_of(p) for p in row.findall("w:tc/w:p", NS)] for row in rows]
    assert cells == [["Name", "Value"], ["a", "1"], ["b", ""]]  # short rows are padded

    rules = [
        p for p in body.iter(f"{{{W}}}p")
        if p.find("w:pPr/w:pBdr/w:bottom", NS) is not None and style_of(p) is None
    ]
    assert len(rules) == 1 and text_of(rules[0]) == ""


def test_forbidden_control_characters_are_removed(rich: bytes, body: etree._Element) -> None:
    texts = [text_of(p) for p in body.iter(f"{{{W}}}p")]
    assert "370. Control chars here" in texts
    assert "bad text ok" in texts
    assert "ab" in texts
    with zipfile.ZipFile(io.BytesIO(rich)) as zf:
        raw = zf.read("word/document.xml").decode("utf-8")
    assert not any(ch in raw for ch in "\x00\x01\x08\x0b\x1f\ufffe")


# ------------------------------------------------------------------ other readers of the file


def test_python_docx_reads_the_questions(rich: bytes) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document(io.BytesIO(rich))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings == [
        "1. What is yield in Python?",
        "2. Long list?",
        "Unnumbered and unanswered",
        "370. Control chars here",
    ]
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == [
        "First section", "Second & last",
    ]
    assert len(document.tables) == 1


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not on PATH")
def test_libreoffice_renders_pdf(tmp_path: Path, rich: bytes) -> None:
    src = tmp_path / "rich.docx"
    src.write_bytes(rich)
    outdir = tmp_path / "out"
    profile = (tmp_path / "lo-profile").as_uri()
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(outdir), str(src)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    pdf = outdir / "rich.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 1000
    assert pdf.read_bytes().startswith(b"%PDF")


# ------------------------------------------------------------------ speed


def _many(n: int) -> Document:
    items = tuple(
        Item(i, (Text(f"Question number {i}?"),), (
            para("An answer with ", Strong((Text("bold"),)), " and ", Code("code"), "."),
            BulletList((li("one"), li("two"))),
        ))
        for i in range(1, n + 1)
    )
    return Document("Many", "many.md", tuple(
        Section(f"Part {k}", items[k * 1000:(k + 1) * 1000]) for k in range(n // 1000)
    ))


def test_ten_thousand_items_write_quickly() -> None:
    doc = _many(10_000)
    start = time.perf_counter()
    data = docx_bytes(doc)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"{elapsed:.2f} s for 10,000 items"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
