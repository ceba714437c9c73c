"""The Word reader: fixtures built with python-docx, qabook's own DOCX read back, hostile packages.

The fixtures are written at run time by tests/fixtures/docx/build.py and compared with golden
model JSON (``pytest --update-golden`` rewrites tests/golden/docx/*.json after a reviewed change).
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from qabook import formats
from qabook.model import (
    BulletList, Code, CodeBlock, Document, Emphasis, Item, LineBreak, Link, ListItem, Math, MathBlock,
    OrderedList, Paragraph, Quote, Rule, Section, Strong, Table, Text, from_json, plain_text, to_json,
)
from qabook.pipeline import load, write_file
from qabook.readers import docx as docx_reader
from qabook.readers.base import InputError, Reading
from qabook.source import Source
from qabook.words import answer_words, question_words
from qabook.writers import docx as docx_writer

from tests.conftest import FIXTURES, GOLDEN

_spec = importlib.util.spec_from_file_location("docx_fixtures", FIXTURES / "docx" / "build.py")
assert _spec is not None and _spec.loader is not None
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

CASES = sorted(build.BUILDERS)
LAYOUTS = {"auto-numbered": "numbered", "labels": "labels", "bold-questions": "bold",
           "heading-questions": "headings", "qa-table": "table"}


def _read(data: bytes, name: str = "x.docx") -> Reading:
    return docx_reader.read(Source(name, data=data))


def _fixture(name: str) -> bytes:
    return build.BUILDERS[name]()  # type: ignore[no-any-return]


def _questions(doc: Document) -> list[tuple[int | None, str, str]]:
    return [(it.number, plain_text(it.question), it.status) for it in doc.items()]


# ------------------------------------------------------------------ fixtures


@pytest.mark.parametrize("name", CASES)
def test_fixture_matches_golden_model(name: str, update_golden: bool) -> None:
    doc = _read(_fixture(name), name + ".docx").document
    golden = GOLDEN / "docx" / (name + ".json")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(to_json(doc), encoding="utf-8")
    assert to_json(doc) == golden.read_text(encoding="utf-8")
    assert from_json(golden.read_text(encoding="utf-8")) == doc


@pytest.mark.parametrize("name", CASES)
def test_the_docx_reader_is_picked_and_the_layout_found(name: str) -> None:
    data = _fixture(name)
    assert formats.pick_reader(Source(name + ".docx", data=data)).name == "docx"
    result = load(data, name + ".docx")
    assert result.report.reader == "docx"
    assert result.document.meta_value("layout") == LAYOUTS[name]


def test_auto_numbered_questions_take_the_numbers_word_shows() -> None:
    reading = _read(_fixture("auto-numbered"))
    assert _questions(reading.document) == [
        (1, "How often should I water a cactus?", "answered"), (2, "Why do leaves droop?", "answered"),
        (1, "Does a fern need full sun?", "answered"), (2, "Can herbs grow on a north window?", "unanswered"),
    ]
    droop = list(reading.document.items())[1]
    assert isinstance(droop.answer[1], BulletList) and len(droop.answer[1].items) == 2
    assert reading.document.title == "Plant care"
    assert [s.title for s in reading.document.sections] == ["Watering", "Light"]
    assert reading.warnings == ("1 question without an answer, kept as unanswered (paragraphs 14)",)


def test_question_and_answer_labels() -> None:
    reading = _read(_fixture("labels"))
    assert _questions(reading.document) == [
        (None, "What is HTTP?", "answered"), (2, "What does DNS do?", "answered"),
        (None, "Which port does HTTPS use?", "answered"),
    ]
    dns = list(reading.document.items())[1]
    assert dns.answer[0] == Paragraph((Text("It turns names such as example.org into addresses."),))


def test_bold_questions_and_placeholders() -> None:
    reading = _read(_fixture("bold-questions"))
    assert _questions(reading.document) == [
        (None, "What is castling?", "answered"), (None, "Why control the centre? \u2b50", "answered"),
        (None, "What is opposition?", "unanswered"),
    ]
    assert [(s.kind, s.text) for s in reading.skipped] == [("placeholder answer", "TBD")]


def test_heading_questions_with_tables_code_and_quotes() -> None:
    reading = _read(_fixture("heading-questions"))
    items = list(reading.document.items())
    assert [plain_text(it.question) for it in items] == [
        "What is a mortgage?", "How is interest computed?", "Why keep an emergency fund?"]
    assert isinstance(items[0].answer[-1], Table)
    assert items[0].answer[1] == Paragraph((Strong((Text("Fixed or variable"),)),))
    assert items[1].answer == (CodeBlock("interest = balance * rate / 12"),
                               Quote((Paragraph((Text("Lenders round to the penny."),)),)))


def test_question_answer_tables() -> None:
    reading = _read(_fixture("qa-table"))
    assert _questions(reading.document) == [
        (1, "Symbol of gold?", "answered"), (2, "Symbol of iron?", "answered"), (3, "Symbol of tin?", "unanswered")]


# ------------------------------------------------------------------ qabook's own DOCX


def p(*parts: object) -> Paragraph:
    return Paragraph(tuple(Text(x) if isinstance(x, str) else x for x in parts))  # type: ignore[misc]


def li(*blocks: object) -> ListItem:
    return ListItem(tuple(p(b) if isinstance(b, str) else b for b in blocks))  # type: ignore[misc]


RICH = Document("Study set", "rich.md", (
    Section("First section", (
        Item(1, (Text("What is "), Code("yield"), Text(" in Python?")), (
            p("It makes a ", Strong((Text("generator"),)), " and ", Emphasis((Text("pauses"),)), "."),
            BulletList((li("one", OrderedList((li("nested a"), li("nested b")), 3)), li("two"))),
            CodeBlock("def f():\n    yield 1\n\n\treturn"),
            p("See ", Link("https://docs.python.org/", (Text("the docs"),)), LineBreak(), "next line"),
        )),
        Item(2, (Strong((Text("Bold"),)), Text(" question?")), (
            Table(((Text("Term"),), (Text("Meaning"),)), (((Text("a"),), (Text("first"),)),)),
            Quote((p("quoted"),)),
            Rule(),
            p("after the rule"),
        )),
    )),
    Section("Second & last", (
        Item(None, (Text("Unnumbered and unanswered"),), (), "unanswered"),
        Item(370, (Text("Long list?"),), (OrderedList(tuple(li(f"step {n}") for n in range(1, 12))),)),
    )),
))


def _docx(doc: Document) -> bytes:
    buf = io.BytesIO()
    docx_writer.write(doc, buf)
    return buf.getvalue()


def _plain_code(doc: Document) -> list[tuple[object, ...]]:
    """Items as compared after a DOCX round trip (a code block's language is not kept by Word)."""
    def blocks(bs: tuple[object, ...]) -> tuple[object, ...]:
        out: list[object] = []
        for b in bs:
            if isinstance(b, CodeBlock):
                b = replace(b, language="")
            out.append(b)
        return tuple(out)

    return [(it.number, it.question, blocks(it.answer), it.status) for it in doc.items()]


def test_qabooks_own_docx_reads_back_into_the_same_items() -> None:
    back = _read(_docx(RICH), "rich.docx").document
    assert back.meta_value("layout") == "headings"
    assert back.title == "Study set"
    assert [s.title for s in back.sections] == ["First section", "Second & last"]
    assert _plain_code(back) == _plain_code(RICH)


def test_qabooks_own_docx_is_read_as_written_whatever_its_words_look_like() -> None:
    """Stand-ins and labels are answers, every Heading 2 is a question (numbered or not, asking or
    not), and a list of two in the only answer does not make the list the questions."""
    doc = Document("T", "s.md", (Section("S", (
        Item(1, (Text("What is left?"),), (p("TBD"),)),
        Item(2, (Text("And this?"),), (p("Answer: yes."),)),
        Item(3, (Text("Underscore?"),), (p("_"),)),
        Item(4, (Text("Rule?"),), (Rule(),)),
    )), Section("T", (
        Item(None, (Text("plain words"),), (OrderedList((li("first"), li("second")), 5),)),
    ))))
    back = _read(_docx(doc))
    assert _plain_code(back.document) == _plain_code(doc)
    assert [s.title for s in back.document.sections] == ["S", "T"]


def test_a_docx_from_another_program_still_reads_stand_ins_as_no_answer() -> None:
    doc = Document("T", "s.md", (Section("S", (
        Item(1, (Text("What is left?"),), (p("TBD"),)), Item(2, (Text("And this?"),), (p("It is."),)),
    )),))
    data = _docx(doc)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["docProps/app.xml"] = members["docProps/app.xml"].replace(b">qabook<", b">Microsoft Office Word<")
    back = _read(_zip(members)).document
    assert [(it.number, it.status) for it in back.items()] == [(1, "unanswered"), (2, "answered")]


def test_formulas_read_back_from_office_math() -> None:
    doc = Document("M", "m.md", (Section("S", (
        Item(1, (Text("Area?"),), (p("It is ", Math("x^2"), " here."), MathBlock("\\frac{a}{b}"))),
    )),))
    back = list(_read(_docx(doc)).document.items())
    assert back[0].answer == doc.sections[0].items[0].answer


def test_reference_case_docx_reads_back_with_the_same_words(reference) -> None:  # type: ignore[no-untyped-def]
    back = _read(_docx(reference.document), "reference.docx").document
    want = list(reference.document.items())
    got = list(back.items())
    assert len(got) == len(want) == 370
    for a, b in zip(want, got):
        assert (a.number, question_words(a), a.status) == (b.number, question_words(b), b.status)
        # Word keeps equations, not their TeX: compare every word but the formulas
        assert [w for w in answer_words(a) if not w.startswith("$")] == \
            [w for w in answer_words(b) if not w.startswith("$")], f"Q{a.number}"


def test_docx_reading_round_trips_through_json_and_back_to_docx(tmp_path: Path) -> None:
    for name in CASES:
        doc = load(_fixture(name), name + ".docx").document
        assert from_json(to_json(doc)) == doc
        write_file(doc, str(tmp_path / (name + ".docx")))
        again = load((tmp_path / (name + ".docx")).read_bytes(), name + ".docx").document
        assert [(it.number, question_words(it), answer_words(it)) for it in again.items()] == \
            [(it.number, question_words(it), answer_words(it)) for it in doc.items()]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_docx_written_from_each_word_layout(tmp_path: Path) -> None:
    docs = []
    for name in CASES:
        target = tmp_path / (name + ".docx")
        write_file(load(_fixture(name), name + ".docx").document, str(target))
        docs.append(target)
    profile = (tmp_path / "lo-profile").as_uri()
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), *map(str, docs)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for doc in docs:
        assert (tmp_path / "pdf" / (doc.stem + ".pdf")).read_bytes().startswith(b"%PDF")


# ------------------------------------------------------------------ bad input


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


_MINIMAL_BODY = (
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    '<w:p><w:r><w:t>Q: What?</w:t></w:r></w:p><w:p><w:r><w:t>A: That.</w:t></w:r></w:p>'
    '<w:p><w:r><w:t>Q: Why?</w:t></w:r></w:p><w:p><w:r><w:t>A: Because.</w:t></w:r></w:p>'
    "</w:body></w:document>"
).encode()


def test_a_minimal_package_reads() -> None:
    doc = _read(_zip({"word/document.xml": _MINIMAL_BODY})).document
    assert _questions(doc) == [(None, "What?", "answered"), (None, "Why?", "answered")]


BAD = {
    "truncated": (lambda: _fixture("labels")[:3000], "damaged or truncated"),
    "garbage after the zip magic": (lambda: b"PK\x03\x04" + bytes(range(256)) * 8, "damaged or truncated"),
    "no document part": (lambda: _zip({"word/styles.xml": b"<x/>"}), "not a Word document"),
    "not well-formed xml": (lambda: _zip({"word/document.xml": b"<w:document><w:body>"}), "not well-formed"),
    "a dtd (billion laughs)": (lambda: _zip({"word/document.xml": (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<d>&b;</d>")}), "DTD"),
    "path traversal": (lambda: _zip({"word/document.xml": _MINIMAL_BODY, "../../evil.sh": b"rm"}), "unsafe member name"),
    "absolute member name": (lambda: _zip({"word/document.xml": _MINIMAL_BODY, "/etc/passwd": b"x"}), "unsafe member"),
    "zip bomb": (lambda: _zip({"word/document.xml": _MINIMAL_BODY, "word/media/big.bin": b"\0" * (8 * 2**20)}),
                 "inflate"),
    "no questions": (lambda: _zip({"word/document.xml": _MINIMAL_BODY.replace(b"Q: ", b"").replace(b"A: ", b"")}),
                     "found no questions"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_packages_are_input_errors_with_one_line(case: str) -> None:
    make, message = BAD[case]
    with pytest.raises(InputError, match=message) as info:
        _read(make())
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_packages_never_crash_the_pipeline(case: str) -> None:
    make, _ = BAD[case]
    with pytest.raises(InputError) as info:
        load(make(), "bad.docx")
    assert "\n" not in str(info.value)


def test_total_unpacked_size_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docx_reader, "MAX_TOTAL", 1000)
    with pytest.raises(InputError, match="unpacks to"):
        _read(_fixture("labels"))


def test_sniff_wants_a_zip_with_a_document_part() -> None:
    assert docx_reader.sniff(Source("a.docx", data=_fixture("labels"))) == 100
    assert docx_reader.sniff(Source("a.zip", data=_zip({"notes.txt": b"hi"}))) == 0
    assert docx_reader.sniff(Source("a.txt", data=b"1. Q: What? A: That.")) == 0
