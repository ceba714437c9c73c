"""The reference case as a Word document: read back, validated, and opened by LibreOffice."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qabook.model import (
    Block, BulletList, CodeBlock, Emphasis, Inline, Item, Link, Math, MathBlock, OrderedList, Paragraph, Quote,
    Strong, Table, plain_text,
)
from qabook.readers import transcript
from qabook.repair import repair
from qabook.words import text_words
from qabook.writers import docx

from tests.ooxml import validate_docx

docx_reader = pytest.importorskip("docx")


def _no_math(inlines: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """The inlines without their formulas (equations are not text python-docx reads back)."""
    out: list[Inline] = []
    for node in inlines:
        if isinstance(node, Math):
            continue
        if isinstance(node, (Strong, Emphasis, Link)):
            node = dataclasses.replace(node, children=_no_math(node.children))
        out.append(node)
    return tuple(out)


def _flat(blocks: tuple[Block, ...]) -> list[str]:
    """Every word of the blocks as plain text (formulas left out, code as written)."""
    parts: list[str] = []

    def walk(bs: tuple[Block, ...]) -> None:
        for b in bs:
            if isinstance(b, Paragraph):
                parts.append(plain_text(_no_math(b.inlines)))
            elif isinstance(b, (BulletList, OrderedList)):
                for li in b.items:
                    walk(li.blocks)
            elif isinstance(b, CodeBlock):
                parts.append(b.text)
            elif isinstance(b, MathBlock):
                pass
            elif isinstance(b, Quote):
                walk(b.blocks)
            elif isinstance(b, Table):
                parts.extend(plain_text(_no_math(c)) for c in b.header)
                parts.extend(plain_text(_no_math(c)) for row in b.rows for c in row)

    walk(blocks)
    return text_words("\n".join(parts))


@pytest.fixture(scope="module")
def reference_docx(reference) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    docx.write(reference.document, buf)
    return buf.getvalue()


def _items_from_docx(data: bytes) -> list[tuple[str, list[str]]]:
    """(Heading 2 text, words of the paragraphs under it) in document order."""
    d = docx_reader.Document(io.BytesIO(data))
    out: list[tuple[str, list[str]]] = []
    for p in d.paragraphs:
        style = p.style.name if p.style is not None else ""
        if style == "Heading 2":
            out.append((p.text, []))
        elif style.startswith("Heading 1"):
            continue
        elif out:
            out[-1][1].extend(text_words(p.text))
    return out


def test_one_heading_per_question_with_number_and_question_verbatim(reference, reference_docx: bytes) -> None:  # type: ignore[no-untyped-def]
    found = _items_from_docx(reference_docx)
    items = list(reference.document.items())
    assert len(found) == 370
    for (heading, _), item in zip(found, items):
        assert heading == f"{item.number}. {plain_text(item.question)}"


def test_answer_words_read_back_equal_the_chosen_rendition(reference_bytes: bytes, reference, reference_docx: bytes) -> None:  # type: ignore[no-untyped-def]
    repaired, _ = repair(transcript.read(reference_bytes.decode(), "ref.txt").document)
    renditions: dict[tuple[int | None, int], Item] = {
        (it.number, it.origin.rendition): it for it in repaired.items()
    }
    found = _items_from_docx(reference_docx)
    for (_, words), item in zip(found, reference.document.items()):
        source = renditions[(item.number, item.origin.rendition)]
        assert words == _flat(source.answer), f"Q{item.number}"


def test_reference_docx_validates_against_ecma_376(reference_docx: bytes) -> None:
    errors = validate_docx(reference_docx)
    assert errors == []


def test_reference_docx_is_deterministic(reference) -> None:  # type: ignore[no-untyped-def]
    a, b = io.BytesIO(), io.BytesIO()
    docx.write(reference.document, a)
    docx.write(reference.document, b)
    assert a.getvalue() == b.getvalue()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_reference_docx_to_pdf(reference_docx: bytes, tmp_path: Path) -> None:
    src = tmp_path / "reference.docx"
    src.write_bytes(reference_docx)
    profile = tmp_path / "lo-profile"
    r = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(src)],
        capture_output=True, timeout=300,
    )
    pdf = tmp_path / "reference.pdf"
    assert r.returncode == 0 and pdf.exists(), r.stderr
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?![a-z])", data))
    assert data.startswith(b"%PDF") and pages > 50, pages
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-l", "3", str(pdf), "-"], capture_output=True).stdout.decode()
        assert "370 questions" in text and "Contents" in text
        assert "1. What is a Transformer?" in text


def test_answer_words_and_formula_symbols_read_back_from_the_docx(reference_bytes: bytes, reference,  # type: ignore[no-untyped-def]
                                                                   reference_docx: bytes) -> None:
    """Equations included: each Word equation shows the symbols of its rendition's formula."""
    from qabook.audit.verify import block_tokens, read_docx

    repaired, _ = repair(transcript.read(reference_bytes.decode(), "ref.txt").document)
    renditions = {(it.number, it.origin.rendition): it for it in repaired.items()}
    found = read_docx(reference_docx)
    assert [f.number for f in found] == list(range(1, 371))
    formulas = 0
    for got, item in zip(found, reference.document.items()):
        source = renditions[(item.number, item.origin.rendition)]
        want = tuple(block_tokens(source.answer))
        assert got.answer == want, f"Q{item.number}"
        formulas += sum(1 for t in want if t.startswith("⟨"))
    assert formulas >= 50
