"""Every file of the shared corpus, converted as ``qabook convert`` does, gives valid output.

For each corpus file (../shared/corpus; skipped without it):

* the DOCX validates against the ECMA-376 schemas (tests/ooxml.py), and LibreOffice converts it to
  PDF: one ``soffice`` process converts all of them, with a private profile so parallel runs do not
  collide (marked ``libreoffice``; skipped without ``soffice``);
* the Anki package imports into a new collection with a note per item (marked ``anki``);
* the HTML page parses as HTML5 without a single parse error (html5lib, strict).

That every item of every output reads back word for word is tests/test_audit_verify.py's
``test_every_format_verifies_for_every_corpus_file``. ``pytest -m "not libreoffice and not anki"``
leaves out the slow parts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qabook.pipeline import Report, convert
from tests.conftest import shared_dir


def _corpus_files() -> list[Path]:
    folder = shared_dir() / "corpus"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "README.md")


FILES = _corpus_files()
IDS = [p.name for p in FILES]
FORMATS = ("docx", "html", "apkg")
pytestmark = pytest.mark.skipif(not FILES, reason="shared corpus not found (set QABOOK_SHARED)")


class Converted:
    """One corpus file converted to each of :data:`FORMATS` by :func:`qabook.pipeline.convert`."""

    def __init__(self, path: Path, folder: Path) -> None:
        self.path = path
        self.outputs: dict[str, Path] = {}
        self.reports: dict[str, Report] = {}
        for ext in FORMATS:
            out = folder / f"{path.stem}.{ext}"
            self.reports[ext], _ = convert(None, path.name, str(out), path=str(path))
            self.outputs[ext] = out

    @property
    def items(self) -> int:
        return self.reports["docx"].items


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Converted]:
    folder = tmp_path_factory.mktemp("corpus-outputs")
    return {p.name: Converted(p, folder) for p in FILES}


def test_every_file_of_the_corpus_is_here() -> None:
    """The eight files the corpus README lists (the tests below are one per file)."""
    assert len(FILES) == 8


@pytest.mark.parametrize("name", IDS)
def test_docx_validates_against_the_ecma_376_schemas(converted: dict[str, Converted], name: str) -> None:
    from tests.ooxml import validate_docx

    c = converted[name]
    assert c.items > 0
    assert validate_docx(c.outputs["docx"].read_bytes()) == []


@pytest.mark.parametrize("name", IDS)
def test_html_parses_as_html5_without_errors(converted: dict[str, Converted], name: str) -> None:
    html5lib = pytest.importorskip("html5lib")
    page = converted[name].outputs["html"].read_text(encoding="utf-8")
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    assert len(tree.findall(".//details")) >= converted[name].items


@pytest.mark.anki
@pytest.mark.parametrize("name", IDS)
def test_anki_package_imports_with_a_note_per_item(converted: dict[str, Converted], name: str,
                                                   tmp_path: Path) -> None:
    collection = pytest.importorskip("anki.collection", reason="the anki package (PyPI) is not installed")
    from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col = collection.Collection(str(tmp_path / "collection.anki2"))
    try:
        log = col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(converted[name].outputs["apkg"]),
            options=ImportAnkiPackageOptions(with_scheduling=False))).log
        items = converted[name].items
        assert (len(log.new), len(log.duplicate), len(log.conflicting)) == (items, 0, 0)
        assert col.note_count() == items and col.card_count() == items
    finally:
        col.close()


def _pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=300).stdout
    return " ".join(out.decode("utf-8", "replace").split())


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_every_docx_to_pdf(converted: dict[str, Converted], tmp_path: Path) -> None:
    pdfs = tmp_path / "pdf"
    docs = sorted(str(c.outputs["docx"]) for c in converted.values())
    r = subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(pdfs), *docs],
        capture_output=True, timeout=900,
    )
    assert r.returncode == 0, r.stderr
    for name, c in converted.items():
        pdf = pdfs / f"{c.outputs['docx'].stem}.pdf"
        assert pdf.is_file(), (name, r.stdout, r.stderr)
        data = pdf.read_bytes()
        pages = len(re.findall(rb"/Type\s*/Page(?![a-z])", data))
        assert data.startswith(b"%PDF") and pages >= 2, (name, pages)  # a title page and the contents at least
        if shutil.which("pdftotext"):
            text = _pdf_text(pdf)
            last = c.reports["docx"].sections[-1][0]  # the last section's heading: the document was laid out to the end
            assert " ".join(last.split()[:3]) in text, (name, last)
