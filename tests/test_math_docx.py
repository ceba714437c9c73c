"""Formulas in the written DOCX: equations for every formula of the reference case, TeX kept for
the ones that cannot be converted, valid, deterministic, fast, and drawn by LibreOffice."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from qabook.math import check_formulas, iter_formulas, tex_to_mathml, tex_to_omml
from qabook.math import mathml as mathml_module
from qabook.math import omml as omml_module
from qabook.math.tex import _known_commands
from qabook.model import Document, Item, Math, MathBlock, Paragraph, Section, Strong, Text
from qabook.writers.docx import write

from tests.ooxml import validate_docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
NS = {"w": W, "m": M}


def docx(doc: Document) -> bytes:
    buf = io.BytesIO()
    write(doc, buf)
    return buf.getvalue()


def body(data: bytes) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read("word/document.xml"))


def formulas_in(root: etree._Element) -> int:
    """Equations in a body: every m:oMath (one per formula, also inside m:oMathPara)."""
    return len(root.findall(".//m:oMath", NS))


def style_of_run(run: etree._Element) -> str:
    s = run.find("w:rPr/w:rStyle", NS)
    return "" if s is None else s.get(f"{{{W}}}val") or ""


def style_of_paragraph(p: etree._Element) -> str:
    s = p.find("w:pPr/w:pStyle", NS)
    return "" if s is None else s.get(f"{{{W}}}val") or ""


def doc_of(*blocks: object) -> Document:
    item = Item(1, (Text("Q"),), tuple(blocks))  # type: ignore[arg-type]
    return Document("T", "t.md", (Section("S", (item,)),))


# ------------------------------------------------------------------ the reference case


@pytest.fixture(scope="module")
def reference_docx(reference) -> bytes:  # type: ignore[no-untyped-def]
    return docx(reference.document)


def test_every_formula_of_the_reference_case_converts(reference) -> None:  # type: ignore[no-untyped-def]
    formulas = list(iter_formulas(reference.document))
    assert len(formulas) >= 50
    assert check_formulas(reference.document) == []
    for _, tex, display in formulas:
        assert tex_to_mathml(tex, display).startswith("<math")
        assert tex_to_omml(tex, display).startswith("<m:oMath")


def test_reference_docx_has_one_equation_per_formula(reference, reference_docx: bytes) -> None:  # type: ignore[no-untyped-def]
    root = body(reference_docx)
    formulas = list(iter_formulas(reference.document))
    assert formulas_in(root) == len(formulas)
    blocks = sum(1 for _, _, display in formulas if display)
    paras = root.findall(".//m:oMathPara", NS)
    assert len(paras) == blocks
    for para in paras:  # display math alone on its line, in the Math Block paragraph
        p = para.getparent()
        assert style_of_paragraph(p) == "MathBlock"
        assert [etree.QName(c).localname for c in p] == ["pPr", "oMathPara"]
    # nothing fell back to TeX
    assert not [r for r in root.iter(f"{{{W}}}r") if style_of_run(r) == "MathTeX"]


def test_no_tex_control_words_left_outside_equations(reference_docx: bytes) -> None:
    root = body(reference_docx)
    known = _known_commands()
    leftovers: list[str] = []
    for p in root.iter(f"{{{W}}}p"):
        if style_of_paragraph(p) == "CodeBlock":
            continue
        for r in p.iter(f"{{{W}}}r"):
            if style_of_run(r) == "InlineCode":
                continue
            text = "".join(t.text or "" for t in r.iter(f"{{{W}}}t"))
            leftovers.extend(w for w in re.findall(r"\\([A-Za-z]+)", text) if w in known)
    assert leftovers == []


def test_reference_docx_with_equations_validates(reference_docx: bytes) -> None:
    assert validate_docx(reference_docx) == []


def test_reference_docx_is_deterministic_across_cache_clears(reference, reference_docx: bytes) -> None:  # type: ignore[no-untyped-def]
    mathml_module.cache_clear()
    omml_module.cache_clear()
    assert docx(reference.document) == reference_docx


def _repeat(reference_doc: Document, n: int) -> Document:
    source = list(reference_doc.items())
    items = tuple(dataclasses.replace(source[i % len(source)], number=i + 1) for i in range(n))
    sections = tuple(Section(f"Part {k + 1}", items[k * 50:(k + 1) * 50]) for k in range(n // 50))
    return Document("Many", "many.txt", sections)


def test_ten_thousand_items_with_formulas_write_quickly(reference) -> None:  # type: ignore[no-untyped-def]
    doc = _repeat(reference.document, 10_000)
    mathml_module.cache_clear()
    omml_module.cache_clear()
    start = time.perf_counter()
    data = docx(doc)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"{elapsed:.2f} s for 10,000 items"
    assert formulas_in(body(data)) == sum(1 for _ in iter_formulas(doc))


def test_reference_formulas_convert_quickly(reference) -> None:  # type: ignore[no-untyped-def]
    mathml_module.cache_clear()
    omml_module.cache_clear()
    start = time.perf_counter()
    for _, tex, display in iter_formulas(reference.document):
        tex_to_omml(tex, display)
    assert time.perf_counter() - start < 0.5


# ------------------------------------------------------------------ fallback


def test_unconvertible_formula_keeps_its_tex_visibly() -> None:
    doc = doc_of(
        Paragraph((Text("ok "), Math("x^2"), Text(" bad "), Math(r"\frac{a}"), Text(" end"))),
        MathBlock(r"\foo{x} + 1"),
        Paragraph((Strong((Math(r"\left( x"),)),)),
    )
    assert [reason for _, _, reason in check_formulas(doc)] == [
        "<mfrac> needs 2 arguments, found 1", "unknown command \\foo",
        "latex2mathml: ExtraLeftOrMissingRightError"]
    data = docx(doc)
    root = body(data)
    tex_runs = ["".join(t.text or "" for t in r.iter(f"{{{W}}}t"))
                for r in root.iter(f"{{{W}}}r") if style_of_run(r) == "MathTeX"]
    assert tex_runs == [r"\frac{a}", r"\foo{x} + 1", r"\left( x"]
    assert formulas_in(root) == 1  # x^2
    block = next(p for p in root.iter(f"{{{W}}}p") if style_of_paragraph(p) == "MathBlock")
    assert block.find("m:oMathPara", NS) is None
    assert validate_docx(data) == []


def test_a_failing_handler_never_breaks_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(c: object, el: object) -> str:
        raise IndexError("bug")

    monkeypatch.setitem(omml_module.HANDLERS, "mfrac", boom)
    omml_module.cache_clear()
    try:
        data = docx(doc_of(MathBlock(r"\frac{1}{2} + \unknownthing"), MathBlock(r"\frac{a}{b}"), MathBlock("x")))
        root = body(data)
        tex_runs = ["".join(t.text or "" for t in r.iter(f"{{{W}}}t"))
                    for r in root.iter(f"{{{W}}}r") if style_of_run(r) == "MathTeX"]
        assert tex_runs == [r"\frac{1}{2} + \unknownthing", r"\frac{a}{b}"]
        assert formulas_in(root) == 1
        (_, _, reason), = [f for f in check_formulas(doc_of(MathBlock(r"\frac{a}{b}")))]
        assert "internal error" in reason and "IndexError" in reason
    finally:
        omml_module.cache_clear()


def test_inline_equation_sits_inside_its_paragraph_between_the_runs() -> None:
    root = body(docx(doc_of(Paragraph((Text("Loss "), Math(r"\lambda\|W\|_2^2"), Text(" is added."))))))
    p = next(p for p in root.iter(f"{{{W}}}p") if p.find("m:oMath", NS) is not None)
    kinds = [etree.QName(c).localname for c in p if etree.QName(c).localname != "pPr"]
    assert kinds == ["r", "oMath", "r"]


def test_a_question_with_formulas_lists_them_as_equations_in_the_contents() -> None:
    question = (Text("What does  "), Math(r"\sqrt{d_k}"), Text(" do in "), Strong((Text("attention"),)),
                Text("? Not "), Math(r"\foo{x}"), Text(" "))
    doc = Document("T", "t.md", (Section("S", (Item(7, question, (Paragraph((Text("a"),)),)),)),))
    buf = io.BytesIO()
    warnings = write(doc, buf)
    data = buf.getvalue()
    assert warnings == ["Q7: formula kept as TeX (unknown command \\foo): \\foo{x}"]  # once, not per copy
    root = body(data)
    entry = next(p for p in root.iter(f"{{{W}}}p") if style_of_paragraph(p) == "TOC2")
    link = entry.find("w:hyperlink", NS)
    assert link is not None
    assert [etree.QName(c).localname for c in link] == ["r", "oMath", "r", "r"]
    runs = link.findall("w:r", NS)
    # the heading's words on one line (as in the heading, spaces collapsed and trimmed)
    assert ["".join(t.text or "" for t in r.iter(f"{{{W}}}t")) for r in runs] == [
        "7. What does ", " do in attention? Not ", r"\foo{x}"]
    assert [style_of_run(r) for r in runs] == ["", "", "MathTeX"]
    assert validate_docx(data) == []


# ------------------------------------------------------------------ LibreOffice


def _libreoffice_math() -> bool:
    soffice = shutil.which("soffice")
    if soffice is None:
        return False
    program = Path(soffice).resolve().parent
    candidates = [program, Path("/usr/lib/libreoffice/program"), Path("/opt/libreoffice/program")]
    return any((c / "libsmlo.so").exists() for c in candidates)


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice (soffice) or pdftotext is not installed")
def test_libreoffice_draws_the_equations(tmp_path: Path) -> None:
    if not _libreoffice_math():
        pytest.skip("LibreOffice has no Math module (libreoffice-math-nogui) to draw equations")
    doc = doc_of(
        MathBlock(r"P(w_1,\dots,w_n)=\prod_{i=1}^n P(w_i\mid w_{<i})"),
        MathBlock(r"PP = e^{-\frac{1}{N}\sum_{i=1}^N\log P(w_i)}"),
        Paragraph((Text("Scaled by "), Math(r"\frac{1}{\sqrt{d_k}}"), Text(" per head."))),
    )
    src = tmp_path / "eq.docx"
    src.write_bytes(docx(doc))
    profile = tmp_path / "lo-profile"
    r = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(src)],
        capture_output=True, timeout=300,
    )
    pdf = tmp_path / "eq.pdf"
    assert r.returncode == 0 and pdf.exists(), r.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    assert "∑" in text or "Σ" in text
    assert "∏" in text or "Π" in text
    assert "√" in text
    assert "\\frac" not in text and "\\sum" not in text


# ------------------------------------------------------------------ other corpus files

_DOLLARS = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


def test_formulas_of_the_faq_corpus_file_convert_and_validate(corpus: Path) -> None:
    """The FAQ file writes formulas with copy damage (``$\\(h_t\\)$``, ``$\\[...\\]$``)."""
    path = corpus / "salvatorera-faq" / "FAQ.md"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    found = [(a or b, bool(a)) for a, b in _DOLLARS.findall(path.read_text(encoding="utf-8"))]
    assert len(found) >= 50
    fragments = []
    for tex, display in found:
        fragments.append(tex_to_omml(tex, display))  # raises MathError if one cannot be converted
    items = tuple(
        Item(i + 1, (Text("Q"),), (MathBlock(tex) if display else Paragraph((Math(tex),)),))
        for i, (tex, display) in enumerate(found)
    )
    data = docx(Document("FAQ", "FAQ.md", (Section("S", items),)))
    assert formulas_in(body(data)) == len(found)
    assert validate_docx(data) == []
