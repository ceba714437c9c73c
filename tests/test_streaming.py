"""Streaming from reader to writer: the same bytes as converting the whole document, flat state.

``pipeline.convert`` hands sections to a writer that takes them one at a time (DOCX) as the reader
gives them; ``load`` + ``write_file`` holds the whole document. Both must give the same output,
the same report, and the same errors, with nothing left behind on failure.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest

from qabook import pipeline
from qabook import source as source_module
from qabook.formats import writer_for
from qabook.model import Document, Item, Paragraph, Section, Text
from qabook.pipeline import Options, convert, load, open_conversion, write_file
from qabook.readers.base import InputError
from qabook.writers import docx

from tests.conftest import FIXTURES

REFERENCE = "000_8484edd62e7d6ec6.txt"


def _both(tmp_path: Path, src: Path, suffix: str = ".docx", options: Options = Options()) -> tuple[bytes, bytes]:
    whole = tmp_path / f"whole{suffix}"
    streamed = tmp_path / f"streamed{suffix}"
    write_file(load(None, src.name, options, path=str(src)).document, str(whole))
    report, writer = convert(None, src.name, str(streamed), options, path=str(src))
    assert writer.name == writer_for(str(streamed)).name
    assert report.output == str(streamed)
    return whole.read_bytes(), streamed.read_bytes()


@pytest.mark.parametrize("fixture", ["conversations.json", "export.zip", "chat.html", "branches.json"])
def test_a_streamed_export_gives_the_same_docx(tmp_path: Path, fixture: str) -> None:
    whole, streamed = _both(tmp_path, FIXTURES / "chatgpt" / fixture)
    assert whole == streamed


def test_the_reference_case_gives_the_same_docx_and_report(tmp_path: Path, corpus: Path) -> None:
    src = corpus / REFERENCE
    whole, streamed = _both(tmp_path, src)
    assert whole == streamed
    loaded = load(None, src.name, path=str(src)).report
    report, _ = convert(None, src.name, str(tmp_path / "again.docx"), path=str(src))
    same = ("items", "answered", "sections", "renditions", "repairs", "skipped", "reader", "encoding")
    assert {k: getattr(report, k) for k in same} == {k: getattr(loaded, k) for k in same}


@pytest.mark.parametrize("suffix", [".md", ".html"])  # both stream
def test_other_writers_give_the_same_bytes_through_convert(tmp_path: Path, suffix: str) -> None:
    whole, streamed = _both(tmp_path, FIXTURES / "chatgpt" / "conversations.json", suffix)
    assert whole == streamed


def test_conversations_come_oldest_first_from_a_newest_first_file(tmp_path: Path) -> None:
    records = json.loads((FIXTURES / "chatgpt" / "conversations.json").read_text(encoding="utf-8"))
    records.sort(key=lambda r: -(r.get("create_time") or 0))
    conversion = open_conversion(json.dumps(records).encode(), "conversations.json")
    titles = [s.title for s in conversion.sections()]
    assert titles == [
        "Sorting in Python (2024-06-01)",
        "Hash table interview questions (2024-06-02)",
        "Plotting a histogram (2024-06-03)",
    ]
    assert [t for t, _ in conversion.report().sections] == titles


def test_the_report_waits_for_the_last_section() -> None:
    conversion = open_conversion(None, "c.json", path=str(FIXTURES / "chatgpt" / "conversations.json"))
    sections = conversion.sections()
    next(sections)
    with pytest.raises(RuntimeError):
        conversion.report()
    list(sections)
    assert conversion.report().items > 0


def test_a_rendition_the_export_lacks_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.docx"
    src = FIXTURES / "chatgpt" / "conversations.json"
    with pytest.raises(InputError, match="no rendition '9'"):
        convert(None, src.name, str(out), Options(rendition="9"), path=str(src))
    assert list(tmp_path.iterdir()) == []


def test_a_selection_filters_sections_as_they_stream(tmp_path: Path) -> None:
    src = FIXTURES / "chatgpt" / "conversations.json"
    keep = lambda s: "Hash" in s.title  # noqa: E731
    report, _ = convert(None, src.name, str(tmp_path / "o.docx"), path=str(src), keep=keep)
    assert [t for t, _ in report.sections] == ["Hash table interview questions (2024-06-02)"]
    with pytest.raises(InputError, match="no section matches"):
        convert(None, src.name, str(tmp_path / "none.docx"), path=str(src), keep=lambda s: False)
    assert not (tmp_path / "none.docx").exists()


def _section(k: int, items: int = 20) -> Section:
    return Section(f"Part {k}", tuple(
        Item(i + 1, (Text(f"Question {k}.{i}?"),), (Paragraph((Text("answer " * 40),)),))
        for i in range(items)))


def test_docx_write_stream_equals_write_and_takes_sections_one_at_a_time() -> None:
    sections = [_section(k) for k in range(30)]
    head = Document("T", "s.txt", ())
    whole = io.BytesIO()
    docx.write(Document("T", "s.txt", tuple(sections)), whole)
    consumed: list[int] = []

    def one_at_a_time():  # type: ignore[no-untyped-def]
        for k, s in enumerate(sections):
            consumed.append(k)
            yield s

    streamed = io.BytesIO()
    docx.write_stream(head, one_at_a_time(), streamed)
    assert streamed.getvalue() == whole.getvalue()
    assert consumed == list(range(30))


def test_docx_writer_state_does_not_grow_with_the_sections() -> None:
    """Python memory held while streaming 4x the sections stays near that of 1x (body spooled)."""

    def peak(n: int) -> int:
        tracemalloc.start()
        try:
            docx.write_stream(Document("T", "s", ()), (_section(k, 10) for k in range(n)), io.BytesIO())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(5)  # caches of properties and styles warm
    small, big = peak(400), peak(1600)
    # the output buffer (BytesIO) grows with the document; it is compressed, a small part of it
    assert big < small * 2.5


def test_an_error_while_streaming_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = FIXTURES / "chatgpt" / "conversations.json"
    original = pipeline.Conversion.sections

    def failing(self):  # type: ignore[no-untyped-def]
        for n, s in enumerate(original(self)):
            if n == 1:
                raise InputError("is damaged halfway")
            yield s

    monkeypatch.setattr(pipeline.Conversion, "sections", failing)
    with pytest.raises(InputError, match="halfway"):
        convert(None, src.name, str(tmp_path / "o.docx"), path=str(src))
    assert list(tmp_path.iterdir()) == []


def _qabook_markdown(tmp_path: Path, sections: int) -> Path:
    from qabook.writers.markdown import render

    doc = Document("Big", "big.md", tuple(_section(k, 10) for k in range(sections)))
    path = tmp_path / f"big-{sections}.md"
    path.write_text(render(doc), encoding="utf-8")
    return path


def test_qabook_markdown_streams_line_by_line_to_the_same_docx(tmp_path: Path, corpus: Path) -> None:
    src = corpus / REFERENCE
    md = tmp_path / "reference.md"
    write_file(load(None, src.name, path=str(src)).document, str(md))
    whole, streamed = _both(tmp_path, md)
    assert whole == streamed
    conversion = open_conversion(None, md.name, path=str(md))
    assert conversion.source.decoded is None  # read as lines, never decoded whole
    assert sum(len(s.items) for s in conversion.sections()) == 370
    assert conversion.report().encoding == "utf-8"


@pytest.mark.parametrize("suffix", [".docx", ".md", ".html"])
def test_converting_qabook_markdown_holds_memory_flat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      suffix: str) -> None:
    from qabook.writers.docx import _body

    monkeypatch.setattr(_body, "COPY_CHUNK", 1 << 14)  # the contents are copied in small pieces
    monkeypatch.setattr(source_module, "CHUNK", 1 << 14)  # the input is read in small pieces
    small, big = _qabook_markdown(tmp_path, 100), _qabook_markdown(tmp_path, 400)

    def peak(path: Path) -> int:
        tracemalloc.start()
        try:
            convert(None, path.name, str(tmp_path / f"out{suffix}"), path=str(path))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(small)  # warm caches
    assert peak(big) < peak(small) * 1.6  # four times the input


def test_the_docx_writer_reports_the_formulas_it_keeps_as_tex() -> None:
    from qabook.model import Math, MathBlock

    item = Item(7, (Text("Why "), Math("x^2"), Text("?")),
                (Paragraph((Math("\\frac{a}{"),)), MathBlock("\\sum_{i=1}^n i")))
    notes = docx.write(Document("T", "s", (Section("S", (item,)),)), io.BytesIO())
    assert len(notes) == 1
    assert notes[0].startswith("Q7: formula kept as TeX (") and notes[0].endswith("\\frac{a}{")


def test_an_export_keeps_a_few_skipped_examples_per_kind_and_counts_all(monkeypatch: pytest.MonkeyPatch) -> None:
    from qabook.readers import _chat

    src = FIXTURES / "chatgpt" / "conversations.json"
    full = load(None, src.name, path=str(src)).report
    monkeypatch.setattr(_chat, "SKIPPED_EXAMPLES", 1)
    capped = load(None, src.name, path=str(src)).report
    assert capped.skipped == full.skipped  # the counts stay exact
    kinds = [s.kind for s in capped.skipped_examples]
    assert len(kinds) == len(set(kinds)) == len(full.skipped)  # one example of each kind
    assert len(full.skipped_examples) > len(capped.skipped_examples)


def test_streamed_qabook_markdown_still_removes_escaped_control_characters(tmp_path: Path) -> None:
    from qabook.writers.markdown import render

    doc = Document("T", "t.md", (_section(1, 2), _section(2, 2)))
    text = render(doc).replace("answer answer", "answer &#1;answer", 1)
    text = text[: text.rindex("## Part 2")] + text[text.rindex("## Part 2"):].replace("answer", "x&#x2;y", 1)
    path = tmp_path / "t.md"
    path.write_text(text, encoding="utf-8")
    report, _ = convert(None, path.name, str(tmp_path / "t.docx"), path=str(path))
    assert any(w.startswith("2 control character(s) written as escapes") for w in report.warnings)
    import zipfile

    body = zipfile.ZipFile(tmp_path / "t.docx").read("word/document.xml")
    assert b"\x01" not in body and b"\x02" not in body and b"xy" in body
