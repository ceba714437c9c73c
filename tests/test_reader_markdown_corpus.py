"""Real Markdown Q&A from the shared corpus: the counts a careful human finds (corpus README).

Each file is read from ../shared/corpus at run time (never copied into the project); the tests
skip when the corpus is absent. The Markdown and transcript fixtures' outputs also go through the
JSON model and the DOCX writer here, and LibreOffice opens the DOCX when it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from qabook.cli import main
from qabook.model import from_json, plain_text, to_json
from qabook.pipeline import load, write_file

from tests.conftest import FIXTURES

# file, reader, layout, questions, answered
CORPUS = [
    ("dsi-theory/theory.md", "markdown", "bold", 166, 152),
    ("salvatorera-faq/FAQ.md", "markdown", "details", 64, 55),
    ("aishwaryanr-genai60/60_gen_ai_questions.md", "markdown", "answer-lists", 62, 62),
    ("transcript-kekyo-ja/git-db-internals.md", "transcript", "", 47, 46),
]
IDS = [c[0].split("/")[0] for c in CORPUS]


@pytest.mark.parametrize("name,reader,layout,questions,answered", CORPUS, ids=IDS)
def test_corpus_counts(corpus: Path, name: str, reader: str, layout: str, questions: int, answered: int) -> None:
    result = load(path=str(corpus / name), name=name)
    assert result.report.reader == reader
    assert result.document.meta_value("layout") == layout
    assert (result.report.items, result.report.answered) == (questions, answered)


def test_dsi_placeholders_are_reported_not_answered(corpus: Path) -> None:
    result = load(path=str(corpus / "dsi-theory/theory.md"), name="theory.md")
    unanswered = [it for it in result.document.items() if it.status == "unanswered"]
    assert len(unanswered) == 14 and all(it.answer == () for it in unanswered)
    assert dict(result.report.skipped)["placeholder answer"] == 14
    assert dict(result.report.skipped)["table of contents"] == 1
    assert any("14 questions without an answer" in w for w in result.report.warnings)
    # questions keep their difficulty marks; the one with a stray letter after its emoji is found
    questions = [plain_text(it.question) for it in result.document.items()]
    assert sum(q.endswith("👶") for q in questions) == 40
    assert any(q.endswith("\u2b50\ufe0fI") for q in questions)
    assert len(result.document.sections) == 19


def test_salvatorera_headings_inside_answers_stay_in_them(corpus: Path) -> None:
    result = load(path=str(corpus / "salvatorera-faq/FAQ.md"), name="FAQ.md")
    questions = [plain_text(it.question) for it in result.document.items()]
    assert not any(q.startswith("Why do we care about it") for q in questions)
    assert dict(result.report.skipped)["placeholder answer"] == 9
    kan = next(it for it in result.document.items() if plain_text(it.question).startswith("What are Kolmogorov"))
    assert "Why do we care about it" in repr(kan.answer)  # the heading, as a bold paragraph


def test_aishwaryanr_numbering_restarts_per_section(corpus: Path) -> None:
    result = load(path=str(corpus / "aishwaryanr-genai60/60_gen_ai_questions.md"), name="genai.md")
    per_section = [[it.number for it in s.items] for s in result.document.sections]
    assert [len(n) for n in per_section] == [12, 17, 12, 14, 7]
    assert all(n == list(range(1, len(n) + 1)) for n in per_section)


def test_kekyo_user_name_headings_are_speakers(corpus: Path) -> None:
    result = load(path=str(corpus / "transcript-kekyo-ja/git-db-internals.md"), name="git.md")
    items = list(result.document.items())
    assert len(items) == 47
    # the message near line 617 has its reply under the user's own heading: kept, not answered
    lonely = [it for it in items if it.status == "unanswered"]
    assert [it.origin.first_line for it in lonely] == [617]
    assert dict(result.report.skipped)["speaker line"] == 93


def _outputs() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted((FIXTURES / "markdown").glob("*.md"))]


@pytest.mark.parametrize("name,data", _outputs(), ids=[n for n, _ in _outputs()])
def test_fixture_output_round_trips_through_json(name: str, data: bytes) -> None:
    doc = load(data, name).document
    assert from_json(to_json(doc)) == doc


@pytest.mark.parametrize("name", [c[0] for c in CORPUS], ids=IDS)
def test_corpus_output_round_trips_through_json(corpus: Path, name: str) -> None:
    doc = load(path=str(corpus / name), name=name).document
    assert from_json(to_json(doc)) == doc


@pytest.mark.parametrize("name", [c[0] for c in CORPUS], ids=IDS)
def test_cli_converts_each_corpus_file_to_docx(corpus: Path, name: str, tmp_path: Path) -> None:
    out = tmp_path / "x.docx"
    result = CliRunner().invoke(main, ["convert", str(corpus / name), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.read_bytes().startswith(b"PK\x03\x04")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_docx_of_every_markdown_layout(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    sources = _outputs()
    try:
        corpus = request.getfixturevalue("corpus")
        sources += [(Path(name).name, (corpus / name).read_bytes()) for name, *_ in CORPUS]
    except pytest.skip.Exception:
        pass
    docs = []
    for name, data in sources:
        target = tmp_path / (Path(name).stem + ".docx")
        write_file(load(data, name).document, str(target))
        docs.append(target)
    outdir = tmp_path / "pdf"
    profile = (tmp_path / "lo-profile").as_uri()
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(outdir), *map(str, docs)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    for doc in docs:
        pdf = outdir / (doc.stem + ".pdf")
        assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF"), doc.name
