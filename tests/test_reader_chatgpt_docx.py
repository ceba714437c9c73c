"""Every chat-export reader's output (ChatGPT, Claude, Gemini fixtures) survives the JSON model and
converts to DOCX that LibreOffice opens (skipped without ``soffice``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from qabook.model import from_json, to_json
from qabook.pipeline import load, write_file

from tests.conftest import FIXTURES

CASES = sorted(p for folder in ("chatgpt", "claude", "gemini") for p in (FIXTURES / folder).iterdir())


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_round_trips_through_the_json_model(path: Path, tmp_path: Path) -> None:
    doc = load(None, path.name, path=str(path)).document
    assert from_json(to_json(doc)) == doc
    out = tmp_path / "model.json"
    write_file(doc, str(out))
    again = load(None, out.name, path=str(out)).document
    assert [len(s.items) for s in again.sections] == [len(s.items) for s in doc.sections]


def test_docx_opens_in_libreoffice(tmp_path: Path) -> None:
    docs = []
    for path in CASES:
        doc = load(None, path.name, path=str(path)).document
        out = tmp_path / f"{path.parent.name}-{path.name.replace('.', '_')}.docx"
        write_file(doc, str(out))
        assert out.stat().st_size > 0
        docs.append(out)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed")
    outdir = tmp_path / "txt"
    outdir.mkdir()
    profile = (tmp_path / "lo-profile").resolve().as_uri()
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
         "--convert-to", "txt:Text", "--outdir", str(outdir), *map(str, docs)],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, HOME=str(tmp_path)),
    )
    assert proc.returncode == 0, proc.stderr
    for d in docs:
        txt = outdir / (d.stem + ".txt")
        assert txt.exists(), f"LibreOffice did not open {d.name}: {proc.stdout} {proc.stderr}"
        assert txt.stat().st_size > 0
    text = (outdir / "chatgpt-conversations_json.txt").read_text(encoding="utf-8-sig")
    assert "What is a hash table?" in text and "Hash table interview questions (2024-06-02)" in text
