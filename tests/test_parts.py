"""Converting a file in two parts by two processes: the same bytes, report and errors as one.

qabook's own Markdown can be cut at a section heading (``markdown.cut``); a forked process reads
and writes the second part as records with references (``docx.write_part``) while the first
process converts the first part and joins it (``write_stream(..., then=…)``). Every test compares
with the conversion by one process, which the other tests pin down.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qabook import pipeline
from qabook.model import (
    CodeBlock,
    Document,
    Item,
    Link,
    ListItem,
    Math,
    MathBlock,
    OrderedList,
    Paragraph,
    Section,
    Text,
)
from qabook.pipeline import Options, convert, load
from qabook.readers import markdown
from qabook.readers.base import InputError
from qabook.source import Source
from qabook.writers import docx
from qabook.writers.markdown import render

from tests.model_strategies import documents

REFERENCE = "000_8484edd62e7d6ec6.txt"
needs_fork = pytest.mark.skipif(not pipeline.can_fork(), reason="needs os.fork and two cores")


def _item(n: int, *blocks: object, answered: bool = True) -> Item:
    return Item(n, (Text(f"Question {n} about part {n % 7}?"),), tuple(blocks) if answered else (),  # type: ignore[arg-type]
                "answered" if answered else "unanswered")


def _rich_document(sections: int = 12, per: int = 6) -> Document:
    """Sections whose answers use everything that needs a number from before: links (one target
    shared by all, one per item), ordered lists of several widths, formulas (one that cannot be
    converted), code holding heading-like lines, and items without an answer."""
    out = []
    n = 0
    for s in range(sections):
        items = []
        for _ in range(per):
            n += 1
            blocks = [
                Paragraph((Text("See "), Link("https://example.org/shared", (Text("the guide"),)), Text(" and "),
                           Link(f"https://example.org/{n}", (Text(f"page {n}"),)), Text(" with "), Math("x^2"))),
                OrderedList(tuple(ListItem((Paragraph((Text(f"step {k}"),)),)) for k in range(1 + n % 3)),
                            start=1 + 5 * (n % 4)),
                CodeBlock("# not a heading\n## nor this\n```", "python"),
            ]
            if n % 5 == 0:
                blocks.append(MathBlock("\\foo{x}"))  # cannot be converted: kept as TeX, reported
            items.append(_item(n, *blocks, answered=n % 9 != 0))
        out.append(Section(f"Part {s + 1}", tuple(items)))
    return Document("Parts", "parts.md", tuple(out))


def _markdown_file(tmp_path: Path, doc: Document, name: str = "qa.md") -> Path:
    path = tmp_path / name
    path.write_text(render(doc), encoding="utf-8")
    return path


def _convert_both(tmp_path: Path, src: Path, options: Options = Options(), **kwargs: object
                  ) -> tuple[pipeline.Report, pipeline.Report]:
    one, _ = convert(None, src.name, str(tmp_path / "one.docx"), options, path=str(src), **kwargs)  # type: ignore[arg-type]
    two, _ = convert(None, src.name, str(tmp_path / "two.docx"), options, path=str(src), parallel=True,
                     **kwargs)  # type: ignore[arg-type]
    assert (tmp_path / "one.docx").read_bytes() == (tmp_path / "two.docx").read_bytes()
    assert replace(two, output="") == replace(one, output="")
    return one, two


# ------------------------------------------------------------------ where a file is cut


def _lines(source: Source) -> list[str]:
    return list(source.lines())


def test_a_cut_is_a_section_heading_after_the_point_and_the_parts_give_the_whole_lines(tmp_path: Path) -> None:
    path = _markdown_file(tmp_path, _rich_document())
    data = path.read_bytes()
    at = markdown.cut(Source(path.name, path=str(path)))
    assert at is not None
    assert at.offset >= len(data) * markdown.CUT_AT and data[at.offset - 1:at.offset] == b"\n"
    assert data[at.offset:].startswith(b"## Part ")
    assert at.line == data[:at.offset].count(b"\n") + 1
    whole = Source(path.name, path=str(path))
    first = whole.window(0, at.offset - 1)
    second = whole.window(at.offset)
    assert _lines(first) + _lines(second) == _lines(Source(path.name, path=str(path)))


def test_the_cut_is_the_same_whatever_the_chunk_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _markdown_file(tmp_path, _rich_document())
    expected = markdown.cut(Source(path.name, path=str(path)), 0.3)
    for size in (1, 5, 64, 4096):
        monkeypatch.setattr(markdown, "CHUNK", size)
        assert markdown.cut(Source(path.name, path=str(path)), 0.3) == expected


def _cut_by_lines(data: bytes, at: float) -> markdown.Cut | None:
    """What :func:`markdown.cut` finds, line by line over the decoded text (for a clean file)."""
    middle = int(len(data) * at)
    fence: str | None = None
    headings = offset = 0
    for no, line in enumerate(data.decode("utf-8").split("\n"), start=1):
        fence, code = markdown._fence_after(fence, line)
        h = None if code else markdown._QABOOK_HEADING.match(line)
        if h is not None:
            if offset >= middle and (len(h.group(1)) == 2 or (len(h.group(1)) == 1 and headings)):
                return markdown.Cut(offset, no)
            headings += 1
        offset += len(line.encode("utf-8")) + 1
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.floats(0.0, 1.0), st.sampled_from([3, 17, 256, 1 << 20]))
def test_the_cut_is_the_first_section_heading_outside_fences_past_the_point(
        doc: Document, at: float, chunk: int) -> None:
    # code blocks with heading and fence lines inside, so that the fence tracking matters
    fenced = Item(None, (Text("Code?"),), (CodeBlock("## not a section\n```\n# nor this\n~~~", ""),), "answered")
    doc = replace(doc, sections=tuple(replace(s, items=(fenced, *s.items)) for s in doc.sections))
    written = render(doc).encode("utf-8")
    # the writer fences code with backticks; a hand-edited file may use tildes
    tildes = re.sub(rb"(?m)^(`{3,})", lambda m: b"~" * len(m.group(1)), written)
    for data in (written, tildes):
        # the point drawn, and points inside fenced code (where a fence opened before them is open)
        inside = [m.start() / len(data) for m in re.finditer(rb"## not a section", data)][:3]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "qa.md"
            path.write_bytes(data)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(markdown, "CHUNK", chunk)
                for point in (at, *inside):
                    assert markdown.cut(Source("qa.md", path=str(path)), point) == _cut_by_lines(data, point)


def test_a_heading_inside_fenced_code_is_no_cut(tmp_path: Path) -> None:
    filler = tuple(Paragraph((Text(f"word {k} " * 20),)) for k in range(40))
    fence = CodeBlock("\n".join(f"## Not a section {k}" for k in range(400)), "")
    doc = Document("T", "t", (Section("First", (_item(1, *filler), _item(2, fence))),
                              Section("Second", (_item(3, *filler),))))
    path = _markdown_file(tmp_path, doc)
    data = path.read_bytes()
    fence_start = data.index(b"## Not a section 0")
    at = markdown.cut(Source(path.name, path=str(path)), fence_start / len(data))
    assert at is not None and data[at.offset:].startswith(b"## Second")


@pytest.mark.parametrize("damage", [
    lambda t: t.replace(b"\n", b"\r\n"),  # newlines decoding changes
    lambda t: t.replace(b"step 1", b"step \xff1"),  # an invalid byte
    lambda t: t.replace(b"step 1", b"step \x01"),  # a control character
    lambda t: t.replace(b"step 1", "step \uffff".encode()),  # a noncharacter
    lambda t: t.replace(b"<!--", b"<!-- no longer qabook's --><!--", 1),  # not qabook's Markdown
    lambda t: t.decode().encode("utf-16"),  # not UTF-8
])
def test_no_cut_where_a_part_would_not_decode_as_the_whole_does(tmp_path: Path, damage: object) -> None:
    path = _markdown_file(tmp_path, _rich_document())
    assert markdown.cut(Source(path.name, path=str(path))) is not None
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert markdown.cut(Source(path.name, path=str(path))) is None


def test_the_title_is_no_cut_but_a_level_one_heading_after_it_is(tmp_path: Path) -> None:
    path = _markdown_file(tmp_path, _rich_document(sections=2, per=2))
    text = path.read_text(encoding="utf-8")
    assert "\n# Parts\n\n## Part 1\n" in text  # the title: a level-1 heading before any other is no section
    at = markdown.cut(Source(path.name, path=str(path)), 0.0)
    assert at is not None and path.read_bytes()[at.offset:].startswith(b"## Part 1")
    path.write_text(text.replace("## Part 2", "# Part 2"), encoding="utf-8")  # a section, after the title
    at = markdown.cut(Source(path.name, path=str(path)), 0.5)
    assert at is not None and path.read_bytes()[at.offset:].startswith(b"# Part 2")
    _convert_both(tmp_path, path)


def test_no_cut_without_a_section_heading_after_the_point(tmp_path: Path) -> None:
    path = _markdown_file(tmp_path, _rich_document(sections=1, per=20))
    assert markdown.cut(Source(path.name, path=str(path)), 0.1) is None


# ------------------------------------------------------------------ the DOCX writer in parts


def _joined(doc: Document, k: int) -> bytes:
    records = tempfile.TemporaryFile()
    summary = docx.write_part(doc.sections[k:], records)
    records.seek(0)
    out = io.BytesIO()
    docx.write_stream(doc, doc.sections[:k], out, then=lambda: (summary, records))
    records.close()
    return out.getvalue()


def test_a_document_joined_from_two_parts_is_the_same_bytes_at_every_cut() -> None:
    doc = _rich_document(sections=5, per=3)
    whole = io.BytesIO()
    docx.write(doc, whole)
    for k in range(len(doc.sections) + 1):
        assert _joined(doc, k) == whole.getvalue(), k


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.integers(min_value=0, max_value=8))
def test_any_document_joined_from_two_parts_is_the_same_bytes(doc: Document, k: int) -> None:
    whole = io.BytesIO()
    docx.write(doc, whole)
    assert _joined(doc, min(k, len(doc.sections))) == whole.getvalue()


# ------------------------------------------------------------------ conversion in two processes


@needs_fork
def test_two_processes_give_the_same_bytes_and_report(tmp_path: Path) -> None:
    one, _ = _convert_both(tmp_path, _markdown_file(tmp_path, _rich_document()))
    assert any("without an answer" in w for w in one.warnings)  # items without answer on both sides
    assert any("\\foo" in w for w in one.warnings)  # and formulas kept as TeX


@needs_fork
def test_the_reference_case_in_two_processes(tmp_path: Path, corpus: Path) -> None:
    doc = load(None, REFERENCE, path=str(corpus / REFERENCE)).document
    one, _ = _convert_both(tmp_path, _markdown_file(tmp_path, doc))
    assert one.items == 370


@needs_fork
def test_escaped_control_characters_on_both_sides_are_counted_once_each(tmp_path: Path) -> None:
    text = render(_rich_document())
    half = len(text) // 2
    text = text[:half].replace("step 1", "step &#1;1", 1) + text[half:].replace("step 2", "st&#x2;ep 2", 1)
    path = tmp_path / "escapes.md"
    path.write_text(text, encoding="utf-8")
    at = markdown.cut(Source(path.name, path=str(path)))
    assert at is not None and "&#x2;" in path.read_bytes()[at.offset:].decode()
    one, _ = _convert_both(tmp_path, path)
    assert any(w.startswith("2 control character(s) written as escapes") for w in one.warnings)


@needs_fork
def test_a_section_filter_that_leaves_nothing_before_the_cut(tmp_path: Path) -> None:
    doc = _rich_document()
    path = _markdown_file(tmp_path, doc)
    last = doc.sections[-1].title

    def keep(section: Section) -> bool:
        return section.title == last

    one, _ = _convert_both(tmp_path, path, keep=keep)
    assert one.sections == ((last, len(doc.sections[-1].items)),)


@needs_fork
@pytest.mark.parametrize("keep", [lambda s: False, None])
def test_errors_at_the_end_are_the_same(tmp_path: Path, keep: object) -> None:
    path = _markdown_file(tmp_path, _rich_document())
    options = Options(rendition="2") if keep is None else Options()
    messages = []
    for parallel in (False, True):
        with pytest.raises(InputError) as caught:
            convert(None, path.name, str(tmp_path / "o.docx"), options, path=str(path), keep=keep,  # type: ignore[arg-type]
                    parallel=parallel)
        messages.append(str(caught.value))
        assert not (tmp_path / "o.docx").exists()
    assert messages[0] == messages[1]


@needs_fork
def test_progress_reaches_the_end_of_the_file(tmp_path: Path) -> None:
    path = _markdown_file(tmp_path, _rich_document())
    seen: list[tuple[str, int, int]] = []
    convert(None, path.name, str(tmp_path / "o.docx"), path=str(path), parallel=True,
            progress=lambda *a: seen.append(a))
    size = path.stat().st_size
    assert seen[-1] == ("reading", size, size)
    assert all(phase == "reading" and total == size and 0 <= done <= size for phase, done, total in seen)


def _forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    children: list[int] = []
    fork = os.fork

    def recording_fork() -> int:
        pid = fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    return children


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@needs_fork
def test_an_error_in_the_second_part_is_a_one_line_error_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qabook import formats

    path = _markdown_file(tmp_path, _rich_document())

    def failing(source, at):  # type: ignore[no-untyped-def]
        raise InputError("is damaged halfway")

    monkeypatch.setattr(formats, "READERS", tuple(replace(r, stream_from=failing) if r.name == "markdown" else r
                                                  for r in formats.READERS))
    children = _forks(monkeypatch)
    out = tmp_path / "o.docx"
    with pytest.raises(InputError, match="^is damaged halfway$"):
        convert(None, path.name, str(out), path=str(path), parallel=True)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert len(children) == 1 and _reaped(children[0])


@needs_fork
def test_a_crash_in_the_second_part_is_reported_with_its_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _markdown_file(tmp_path, _rich_document())

    def crashing(sections, records):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a bug")

    writer = replace(pipeline.writer_for("o.docx"), write_part=crashing)
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug"):
        convert(None, path.name, str(tmp_path / "o.docx"), path=str(path), parallel=True, writer=writer)
    assert not (tmp_path / "o.docx").exists()


@needs_fork
def test_a_failure_in_the_first_part_ends_the_second_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _markdown_file(tmp_path, _rich_document())
    children = _forks(monkeypatch)

    def write_one(head, sections, out, date, then=None):  # type: ignore[no-untyped-def]
        next(iter(sections))
        raise InputError("disk full")

    writer = replace(pipeline.writer_for("o.docx"), write_stream=write_one)
    with pytest.raises(InputError, match="disk full"):
        convert(None, path.name, str(tmp_path / "o.docx"), path=str(path), parallel=True, writer=writer)
    assert len(children) == 1 and _reaped(children[0])


def test_one_process_where_a_part_would_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _markdown_file(tmp_path, _rich_document())
    children = _forks(monkeypatch)
    # repairs change items across the file; standard input has no file to cut
    convert(None, path.name, str(tmp_path / "a.docx"), Options(repairs=True), path=str(path), parallel=True)
    convert(path.read_bytes(), path.name, str(tmp_path / "b.docx"), parallel=True)
    assert children == []
    assert (tmp_path / "a.docx").exists() and (tmp_path / "b.docx").exists()


def test_a_second_process_only_when_a_core_is_free(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loadavg = tmp_path / "loadavg"
    monkeypatch.setattr(pipeline, "LOADAVG", str(loadavg))
    monkeypatch.setattr(pipeline, "usable_cpus", lambda: 2)
    loadavg.write_text("1.90 1.20 0.80 1/345 6789\n")  # only this process runs now: a core is free
    assert pipeline.spare_core()
    loadavg.write_text("0.10 0.20 0.30 2/345 6789\n")  # another one runs beside it: none is
    assert not pipeline.spare_core()
    monkeypatch.setattr(pipeline, "usable_cpus", lambda: 8)
    assert pipeline.spare_core()
    monkeypatch.setattr(pipeline, "usable_cpus", lambda: 1)
    loadavg.write_text("0.00 0.00 0.00 1/345 6789\n")
    assert not pipeline.spare_core()
    # where the run queue cannot be read, the last minute's load average decides
    monkeypatch.setattr(pipeline, "usable_cpus", lambda: 2)
    monkeypatch.setattr(pipeline, "LOADAVG", str(tmp_path / "missing"))
    monkeypatch.setattr(os, "getloadavg", lambda: (0.4, 0.0, 0.0))
    assert pipeline.spare_core()
    monkeypatch.setattr(os, "getloadavg", lambda: (1.7, 0.0, 0.0))
    assert not pipeline.spare_core()
