"""The qabook command as a user runs it: outputs, summary, report, errors and exit codes."""

from __future__ import annotations

from qabook.model import MODEL_VERSION

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qabook.cli import main

DEMO = Path(__file__).resolve().parents[1] / "src" / "qabook" / "examples" / "demo-transcript.txt"
SMALL = """You said:

Give me two questions (1–2)

ChatGPT said:

Sure.

Questions (1–2)

1. Q: What is a tensor? A: A multi-dimensional array.

2. Q: What is a gradient?

A:

The vector of partial derivatives.

✅ That's 1–2 done.

Want me to continue?
"""


def _run(*args: str, input: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "qabook.cli", *args], input=input, cwd=cwd,
                          capture_output=True, timeout=120)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    p = tmp_path / "chat.txt"
    p.write_text(SMALL, encoding="utf-8")
    return p


def test_convert_default_output_is_docx_next_to_input(small: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(small)])
    assert result.exit_code == 0, result.output
    out = small.with_suffix(".docx")
    assert zipfile.is_zipfile(out)
    assert "2 items" in result.output
    assert "Questions (1–2)" in result.output
    assert "split-code" in result.output  # every pass is listed with its count
    assert "2 speaker lines, 1 paragraph before the Q&A, 2 paragraphs of the closing exchange" in result.output


def test_convert_to_markdown_and_json(small: Path, tmp_path: Path) -> None:
    md = tmp_path / "out.md"
    js = tmp_path / "out.json"
    assert CliRunner().invoke(main, ["convert", str(small), "-o", str(md), "-q"]).exit_code == 0
    assert CliRunner().invoke(main, ["convert", str(small), "-o", str(js), "-q"]).exit_code == 0
    text = md.read_text(encoding="utf-8")
    assert "### 1. What is a tensor?" in text and "That's 1–2 done" not in text
    obj = json.loads(js.read_text(encoding="utf-8"))
    assert obj["qabook-model"] == MODEL_VERSION
    assert [i["number"] for i in obj["sections"][0]["items"]] == [1, 2]


def test_json_and_markdown_outputs_read_back_as_inputs(small: Path, tmp_path: Path) -> None:
    js = tmp_path / "out.json"
    md = tmp_path / "back.md"
    CliRunner().invoke(main, ["convert", str(small), "-o", str(js), "-q"])
    r = CliRunner().invoke(main, ["convert", str(js), "-o", str(md)])
    assert r.exit_code == 0 and "qabook-json → markdown" in r.output
    r2 = CliRunner().invoke(main, ["convert", str(md), "-o", str(tmp_path / "again.json"), "-q"])
    assert r2.exit_code == 0
    a = json.loads(js.read_text())["sections"]
    b = json.loads((tmp_path / "again.json").read_text())["sections"]
    strip = lambda secs: [[(i["number"], i["question"], i["answer"]) for i in s["items"]] for s in secs]  # noqa: E731
    assert strip(a) == strip(b)


def test_stdin_to_stdout_markdown() -> None:
    r = _run("convert", "-", "-o", "-", "-q", input=SMALL.encode())
    assert r.returncode == 0, r.stderr
    assert b"### 2. What is a gradient?" in r.stdout


def test_stdin_default_output_name(tmp_path: Path) -> None:
    r = _run("convert", "-", "-q", input=SMALL.encode(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert zipfile.is_zipfile(tmp_path / "qabook.docx")


def test_report_json_has_the_summary(small: Path, tmp_path: Path) -> None:
    rep = tmp_path / "report.json"
    r = CliRunner().invoke(main, ["convert", str(small), "-o", str(tmp_path / "o.md"), "--report", str(rep), "-q"])
    assert r.exit_code == 0
    data = json.loads(rep.read_text())
    assert data["items"] == 2
    assert data["sections"] == [{"title": "Questions (1–2)", "items": 2}]
    assert {x["name"] for x in data["repairs"]} >= {"math-copies", "split-code", "labels"}
    assert data["skipped"]["speaker line"] == 2
    assert data["renditions"]["count"] == 1


def test_rendition_option(tmp_path: Path) -> None:
    text = SMALL + "\nGemini Replied:\n\nQuestions (1–2)\n\n1. Q: What is a tensor? A: An n-dimensional array.\n\n2. Q: What is a gradient? A: The vector of partial derivatives.\n"
    src = tmp_path / "two.txt"
    src.write_text(text)
    for mode, want in (("auto", "multi-dimensional"), ("first", "multi-dimensional"),
                       ("last", "n-dimensional"), ("2", "n-dimensional")):
        out = tmp_path / f"{mode}.md"
        r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--rendition", mode])
        assert r.exit_code == 0, r.output
        assert want in out.read_text(), mode
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "a.md")])
    assert "Renditions differ in words for 1 item (kept rendition 1): Q1" in r.output
    bad = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "x.md"), "--rendition", "7"])
    assert bad.exit_code == 2 and "no rendition '7'" in bad.output


def test_converting_twice_gives_identical_bytes(small: Path, tmp_path: Path) -> None:
    outs = []
    for n in range(2):
        out = tmp_path / f"o{n}.docx"
        assert CliRunner().invoke(main, ["convert", str(small), "-o", str(out), "-q"]).exit_code == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_source_date_epoch_sets_the_date(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.docx"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    r = subprocess.run([sys.executable, "-m", "qabook.cli", "convert", str(small), "-o", str(out), "-q"],
                       env=env, capture_output=True)
    assert r.returncode == 0, r.stderr
    core = zipfile.ZipFile(out).read("docProps/core.xml").decode()
    assert "2023-11-14" in core


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("content,message", [
    (b"", "is empty"),
    (b"   \n\n  ", "is empty"),
    (b"PK\x03\x04rest-of-a-zip", "is a ZIP archive"),
    (b"%PDF-1.7 ...", "is a PDF file"),
    (b"just some words with no questions at all", "found no questions and answers"),
    (b'{"qabook-model": "9.0", "type": "Document"}', "unsupported model version"),
    (b'[{"title": "a chat export", "mapping": {}}]', "is JSON but neither a qabook model nor a chat-app export"),
])
def test_unusable_input_one_line_error_exit_2_no_output(tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(content)
    before = _digest(src)
    out = tmp_path / "out.docx"
    r = _run("convert", str(src), "-o", str(out))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.startswith(f"qabook: error: {src}: ") and message in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.txt"]  # no temporary file left either
    assert _digest(src) == before


def test_missing_file_folder_and_bad_extension(tmp_path: Path, small: Path) -> None:
    r = _run("convert", str(tmp_path / "nope.txt"))
    assert r.returncode == 2 and "no such file" in r.stderr.decode()
    r = _run("convert", str(tmp_path))
    assert r.returncode == 2
    r = _run("convert", str(small), "-o", str(tmp_path / "out.pdf"))
    assert r.returncode == 2 and "unknown output extension" in r.stderr.decode()
    r = _run("convert", str(small), "-o", str(tmp_path / "missing-dir" / "o.docx"))
    assert r.returncode == 2 and "does not exist" in r.stderr.decode()


def test_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "notes.md"
    src.write_text("### 1. What?\n\nThis.\n\n### 2. Why?\n\nThat.\n")
    before = _digest(src)
    r = _run("convert", str(src), "-o", str(src))
    assert r.returncode == 2 and "is the input file" in r.stderr.decode()
    assert _digest(src) == before


def test_failed_write_leaves_no_partial_file(tmp_path: Path, small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qabook import formats

    def boom(doc, out, date):  # type: ignore[no-untyped-def]
        out.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(formats, "WRITERS", (formats.WriterFormat("docx", "x", (".docx",), boom),))
    out = tmp_path / "o.docx"
    r = CliRunner().invoke(main, ["convert", str(small), "-o", str(out)])
    assert r.exit_code == 2 and "No space left on device" in r.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["chat.txt"]


def test_debug_shows_traceback(tmp_path: Path) -> None:
    src = tmp_path / "e.txt"
    src.write_bytes(b"")
    r = _run("convert", str(src), "--debug")
    assert r.returncode != 0 and b"Traceback" in r.stderr


def test_encodings_and_newlines_are_read(tmp_path: Path) -> None:
    for name, data in (("bom.txt", b"\xef\xbb\xbf" + SMALL.encode()),
                       ("u16.txt", SMALL.encode("utf-16")),
                       ("crlf.txt", SMALL.replace("\n", "\r\n").encode()),
                       ("cr.txt", SMALL.replace("\n", "\r").encode())):
        src = tmp_path / name
        src.write_bytes(data)
        out = tmp_path / (name + ".md")
        r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "-q"])
        assert r.exit_code == 0, (name, r.output)
        assert "### 2. What is a gradient?" in out.read_text(), name


def test_invalid_bytes_and_control_characters_are_reported(tmp_path: Path) -> None:
    src = tmp_path / "bad.txt"
    src.write_bytes(SMALL.replace("tensor", "ten\x00sor\x07").encode() + b"\xff\xfe tail")
    out = tmp_path / "bad.docx"
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out)])
    assert r.exit_code == 0
    assert "invalid byte sequence(s) replaced" in r.output
    assert "control character(s) removed" in r.output
    body = zipfile.ZipFile(out).read("word/document.xml")
    assert b"\x00" not in body and b"\x07" not in body


def test_demo_writes_the_demo_document(tmp_path: Path) -> None:
    r = _run("demo", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert zipfile.is_zipfile(tmp_path / "qabook-demo.docx")
    assert (tmp_path / "qabook-demo.txt").read_bytes() == DEMO.read_bytes()
    err = r.stderr.decode()
    for pass_name in ("math-copies", "split-code", "code-labels", "empty-items", "labels", "tex-symbols"):
        line = next(ln for ln in err.splitlines() if pass_name in ln)
        assert int(line.split()[1]) > 0, f"the demo shows no {pass_name} damage"


def test_help_explains_formats() -> None:
    r = CliRunner().invoke(main, ["convert", "--help"])
    assert r.exit_code == 0
    for word in (".docx", ".md", ".json", "--rendition", "--report", "transcript"):
        assert word in r.output


def test_from_forces_a_reader(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("### 1. What?\n\nThis.\n\n### 2. Why?\n\nThat.\n")
    out = tmp_path / "o.json"
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out)])
    assert r.exit_code == 0 and "markdown → json" in r.output
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--from", "transcript"])
    assert r.exit_code == 2 and "found no questions and answers" in r.output
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--from", "nonsense"])
    assert r.exit_code == 2 and "Invalid value for '--from'" in r.output


def test_formula_that_cannot_become_an_equation_is_listed(tmp_path: Path) -> None:
    src = tmp_path / "m.md"
    src.write_text("### 1. Good?\n\n$$x^2$$\n\n### 2. Bad?\n\n$$\\frac{a}{$$\n")
    out = tmp_path / "m.docx"
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out)])
    assert r.exit_code == 0
    lines = [ln for ln in r.output.splitlines() if "formula kept as TeX" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning: Q2: formula kept as TeX (")
    assert b"\\frac{a}{" in zipfile.ZipFile(out).read("word/document.xml")


def test_select_keeps_matching_sections(tmp_path: Path) -> None:
    src = tmp_path / "n.md"
    src.write_text("## Networking (2024-01-05)\n\n### 1. What is DNS?\n\nNames.\n\n"
                   "## Storage (2024-03-01)\n\n### 1. What is RAID?\n\nDisks.\n")
    out = tmp_path / "o.md"
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--select", "stor"])
    assert r.exit_code == 0 and "1 item" in r.output
    assert "RAID" in out.read_text() and "DNS" not in out.read_text()
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--until", "2024-02-01"])
    assert r.exit_code == 0 and "DNS" in out.read_text() and "RAID" not in out.read_text()
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "x.md"), "--select", "nothing"])
    assert r.exit_code == 2 and "no section matches" in r.output and not (tmp_path / "x.md").exists()
