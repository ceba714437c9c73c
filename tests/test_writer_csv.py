"""The CSV/TSV writer: Anki's header lines, one record per line, HTML answers, and Anki's own text
import reading the files (skips without the ``anki`` package)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from qabook.model import CodeBlock, Document, Item, Math, Paragraph, Section, Text
from qabook.pipeline import write_file
from qabook.writers import csv as csv_writer

from tests.test_model import EVERY_NODE

CODE_DOC = Document("My deck", "s.txt", (Section("Batch 1", (
    Item(1, (Text('Say "hi", please'),), (Paragraph((Text("a\tb, c"),)), CodeBlock("x = 1\n\ty = 2"))),
    Item(2, (Math("x<1"),), ()),
)),))


def test_tsv_headers_and_records() -> None:
    text = csv_writer.render(CODE_DOC, tab=True)
    lines = text.split("\n")
    assert lines[:6] == ["#separator:tab", "#html:true", "#notetype:Basic", "#deck:My deck",
                         "#columns:Front\tBack\tTags", "#tags column:3"]
    assert lines[-1] == "" and len(lines) == 6 + 2 + 1  # one line per item
    q, a, tags = lines[6].split("\t")
    assert q == "Say &quot;hi&quot;, please"
    assert a == '<p>a&#9;b, c</p><pre><code>x = 1&#10;&#9;y = 2</code></pre>'
    assert tags == "Batch_1"
    assert lines[7].split("\t") == [r"\(x&lt;1\)", "", "Batch_1"]


def test_csv_is_rfc4180_and_reads_back() -> None:
    text = csv_writer.render(CODE_DOC, tab=False)
    assert "\r\n" in text
    body = [ln for ln in text.split("\r\n") if ln and not ln.startswith("#")]
    assert len(body) == 2
    rows = list(csv.reader(io.StringIO("\r\n".join(body))))
    assert rows[0][0] == "Say &quot;hi&quot;, please"
    assert rows[0][1].startswith("<p>a&#9;b, c</p>")
    assert text.startswith("#separator:comma\r\n#html:true\r\n")


def test_every_record_is_one_line() -> None:
    for tab in (True, False):
        text = csv_writer.render(EVERY_NODE, tab=tab)
        records = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
        assert len(records) == 2


def test_extensions_choose_the_writer(tmp_path: Path) -> None:
    assert write_file(EVERY_NODE, str(tmp_path / "a.csv")).name == "csv"
    assert write_file(EVERY_NODE, str(tmp_path / "a.tsv")).name == "tsv"
    assert (tmp_path / "a.tsv").read_bytes() == csv_writer.render(EVERY_NODE, tab=True).encode("utf-8")


# --------------------------------------------------------------------------- Anki's text import

anki_collection = pytest.importorskip("anki.collection", reason="the anki package (PyPI) is not installed")


@pytest.mark.parametrize("ext", ["tsv", "csv"])
def test_anki_imports_the_reference_case(reference, tmp_path: Path, ext: str) -> None:  # type: ignore[no-untyped-def]
    from anki.import_export_pb2 import ImportCsvRequest

    path = tmp_path / f"ref.{ext}"
    write_file(reference.document, str(path))
    col = anki_collection.Collection(str(tmp_path / "c.anki2"))
    try:
        meta = col.get_csv_metadata(str(path), None)
        assert meta.is_html  # the HTML flag was read from the header
        assert list(meta.column_labels) == ["Front", "Back", "Tags"]
        assert meta.tags_column == 3
        log = col.import_csv(ImportCsvRequest(path=str(path), metadata=meta)).log
        assert len(log.new) == 370 and col.note_count() == 370
        note = col.get_note(col.find_notes('"Front:What is the KV cache in Transformers?"')[0])
        assert note["Back"].startswith("<p>Stores keys (K) and values (V)")
        assert note.tags == ["Expanded_Q&A_(311–330)"]
        code = col.get_note(col.find_notes('"Back:*import torch.nn as nn*"')[0])
        assert "&#10;" in code["Back"] or "\n" in code["Back"]
        assert col.decks.name(code.cards()[0].did) == "Expanded Q&A"
    finally:
        col.close()
