"""``qabook verify``: outputs read back prove their source's words; tampering is caught and named."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from qabook.audit.verify import formula_glyphs, verify
from qabook.cli import main
from qabook.pipeline import write_file

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DEMO = Path(__file__).resolve().parents[1] / "src" / "qabook" / "examples" / "demo-transcript.txt"


@pytest.fixture(scope="module")
def reference_outputs(reference, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("outputs")
    out = {}
    for ext in ("docx", "md", "json"):
        path = folder / f"ref.{ext}"
        write_file(reference.document, str(path))
        out[ext] = path.read_bytes()
    return out


@pytest.mark.parametrize("ext", ["docx", "md", "json"])
def test_every_output_format_verifies_against_the_reference(reference, reference_outputs, ext: str) -> None:  # type: ignore[no-untyped-def]
    result = verify(reference_outputs[ext], f"ref.{ext}", reference.document, "ref.txt")
    assert result.ok, result.problems[:3]
    assert result.verified == result.items == 370 and result.extra == ()


def _edit_docx(data: bytes, edit) -> bytes:  # type: ignore[no-untyped-def]
    zin = zipfile.ZipFile(io.BytesIO(data))
    root = etree.fromstring(zin.read("word/document.xml"))
    edit(root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True) \
                if info.filename == "word/document.xml" else zin.read(info)
            zout.writestr(info, body)
    return buf.getvalue()


def _heading(root, number: int):  # type: ignore[no-untyped-def]
    for p in root.iter(f"{W}p"):
        style = p.find(f"{W}pPr/{W}pStyle")
        text = "".join(t.text or "" for t in p.iter(f"{W}t"))
        if style is not None and style.get(f"{W}val") == "Heading2" and text.startswith(f"{number}. "):
            return p
    raise AssertionError(number)


def _answer_paragraphs(root, number: int) -> list:  # type: ignore[type-arg, no-untyped-def]
    out = []
    p = _heading(root, number).getnext()
    while p is not None:
        style = p.find(f"{W}pPr/{W}pStyle")
        if style is not None and style.get(f"{W}val") in ("Heading1", "Heading2"):
            break
        out.append(p)
        p = p.getnext()
    return out


def test_deleted_word_is_caught_and_named(reference, reference_outputs) -> None:  # type: ignore[no-untyped-def]
    def delete_word(root) -> None:  # type: ignore[no-untyped-def]
        for p in _answer_paragraphs(root, 42):
            for t in p.iter(f"{W}t"):
                if t.text and re.search(r"\b\w{4,}\b", t.text):
                    t.text = re.sub(r"\b\w{4,}\b ?", "", t.text, count=1)
                    return
        raise AssertionError("no word to delete")

    result = verify(_edit_docx(reference_outputs["docx"], delete_word), "x.docx", reference.document, "ref.txt")
    assert [(p.number, p.kind) for p in result.problems] == [(42, "answer changed")]
    assert "[-" in result.problems[0].diff


def test_swapped_answers_are_caught(reference, reference_outputs) -> None:  # type: ignore[no-untyped-def]
    def swap(root) -> None:  # type: ignore[no-untyped-def]
        a, b = _answer_paragraphs(root, 100), _answer_paragraphs(root, 101)
        ha, hb = _heading(root, 100), _heading(root, 101)
        for p in a:
            hb.addnext(p) if p is a[0] else a[a.index(p) - 1].addnext(p)
        for p in b:
            ha.addnext(p) if p is b[0] else b[b.index(p) - 1].addnext(p)

    result = verify(_edit_docx(reference_outputs["docx"], swap), "x.docx", reference.document, "ref.txt")
    assert sorted((p.number, p.kind) for p in result.problems) == [(100, "answer changed"), (101, "answer changed")]


def test_dropped_item_is_caught(reference, reference_outputs) -> None:  # type: ignore[no-untyped-def]
    def drop(root) -> None:  # type: ignore[no-untyped-def]
        for p in [_heading(root, 250), *_answer_paragraphs(root, 250)]:
            p.getparent().remove(p)

    result = verify(_edit_docx(reference_outputs["docx"], drop), "x.docx", reference.document, "ref.txt")
    assert [(p.number, p.kind) for p in result.problems] == [(250, "missing")]


def test_changed_formula_symbol_is_caught(tmp_path: Path) -> None:
    md = tmp_path / "f.md"
    md.write_text("### 1. Formula?\n\n$$y = \\frac{x-\\mu}{\\sigma}$$\n\n### 2. Other?\n\nText.\n")
    edited = tmp_path / "edited.md"
    edited.write_text(md.read_text().replace("\\mu", "\\nu"))
    r = CliRunner().invoke(main, ["verify", str(edited), "--source", str(md)])
    assert r.exit_code == 1
    assert "Q1 answer changed: Formula?" in r.output and "[-⟨yxμσ⟩-]{+⟨yxνσ⟩+}" in r.output.replace(" ", "")


def test_cli_verify_ok_and_edited(tmp_path: Path) -> None:
    docx = tmp_path / "demo.docx"
    r = CliRunner().invoke(main, ["convert", str(DEMO), "-o", str(docx), "-q"])
    assert r.exit_code == 0
    r = CliRunner().invoke(main, ["verify", str(docx), "--source", str(DEMO)])
    assert r.exit_code == 0 and "all 4 items" in r.output
    edited = tmp_path / "edited.docx"
    edited.write_bytes(_edit_docx(docx.read_bytes(), lambda root: [
        p.getparent().remove(p) for p in [_heading(root, 3), *_answer_paragraphs(root, 3)]]))
    r = CliRunner().invoke(main, ["verify", str(edited), "--source", str(DEMO), "--json"])
    assert r.exit_code == 1 and '"missing"' in r.output


def test_unusable_files_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    r = CliRunner().invoke(main, ["verify", str(bad), "--source", str(DEMO)])
    assert r.exit_code == 2 and "is not a readable DOCX file" in r.output
    r = CliRunner().invoke(main, ["verify", str(tmp_path / "none.docx"), "--source", str(DEMO)])
    assert r.exit_code == 2 and "no such file" in r.output


@pytest.mark.parametrize("tex,glyphs", [
    (r"y = \frac{x - \mu}{\sigma} \cdot \gamma + \beta", "yxμσγβ"),
    (r"\text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V", "softmaxQKTdkV"),
    (r"\log P(w_i) \% \#", "logPwi"),
    (r"\mathbb{R}^{d}", "Rd"),
])
def test_formula_glyphs(tex: str, glyphs: str) -> None:
    assert formula_glyphs(tex) == glyphs


CORPUS_FILES = [
    "000_8484edd62e7d6ec6.txt", "dsi-theory/theory.md", "salvatorera-faq/FAQ.md",
    "aishwaryanr-genai60/60_gen_ai_questions.md", "chatgpt-export-pkuppens/conversations.json",
    "chatgpt-sample-oxsalt/sample_conversations.json", "chatgpt-thinking-pionxzh/thinking-summaries.json",
    "transcript-kekyo-ja/git-db-internals.md",
]
FORMATS = ["docx", "md", "json", "html", "apkg", "csv", "tsv"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_every_format_verifies_for_every_corpus_file(corpus: Path, name: str, tmp_path: Path) -> None:
    from qabook.pipeline import load

    path = corpus / name
    result = load(None, name, path=str(path))
    for ext in FORMATS:
        out = tmp_path / f"out.{ext}"
        write_file(result.document, str(out))
        check = verify(out.read_bytes(), out.name, result.document, name)
        assert check.ok, (ext, [(p.number, p.kind, p.diff[:200]) for p in check.problems[:3]])
        assert check.verified == check.items == len(list(result.document.items()))


def test_edited_html_anki_and_csv_are_caught(reference, reference_outputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for ext in ("html", "apkg", "tsv"):
        path = tmp_path / f"ref.{ext}"
        write_file(reference.document, str(path))
        data = path.read_bytes()
        if ext == "apkg":
            import sqlite3

            zin = zipfile.ZipFile(io.BytesIO(data))
            member = next(n for n in zin.namelist() if n.startswith("collection.anki2"))
            db = tmp_path / "c.db"
            db.write_bytes(zin.read(member))
            con = sqlite3.connect(db)
            (flds,) = con.execute("SELECT flds FROM notes WHERE flds LIKE '%\x1f77\x1f%'").fetchone()
            con.execute("UPDATE notes SET flds = ? WHERE flds = ?", (flds.replace("model", "", 1), flds))
            con.commit()
            con.close()
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zout:
                for info in zin.infolist():
                    zout.writestr(info, db.read_bytes() if info.filename == member else zin.read(info))
            edited = buf.getvalue()
            want = 77
        else:
            text = data.decode()
            marker = 'id="q77"' if ext == "html" else None
            if marker:
                at = text.index(marker)
                cut = text.index("model", at)
                edited = (text[:cut] + text[cut + len("model"):]).encode()
                want = 77
            else:
                lines = text.splitlines(keepends=True)
                body = [i for i, ln in enumerate(lines) if not ln.startswith("#")]
                lines[body[76]] = lines[body[76]].replace("model", "", 1)
                edited = "".join(lines).encode()
                want = 77
        result = verify(edited, path.name, reference.document, "ref.txt")
        assert [p.number for p in result.problems] == [want], ext
