"""ChatGPT's data export: the shared corpus's counts, fixtures with golden models, hostile input.

Run ``pytest --update-golden`` to rewrite tests/golden/chatgpt/*.json after a reviewed change.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from qabook.formats import pick_reader
from qabook.model import Document, from_json, plain_text, to_json
from qabook.pipeline import load
from qabook.readers import _chat, chatgpt
from qabook.readers.base import InputError, Reading
from qabook.source import Source

from tests.conftest import FIXTURES, GOLDEN

CASES = sorted((FIXTURES / "chatgpt").iterdir())


def read(path: Path) -> tuple[str, Reading]:
    source = Source(path.name, path=str(path))
    reader = pick_reader(source)
    return reader.name, reader.read(source, None)


def words(doc: Document) -> str:
    return to_json(doc)


# --------------------------------------------------------------------------- corpus


def _counts(path: Path) -> tuple[int, int, int, int]:
    result = load(None, path.name, path=str(path))
    doc = result.document
    assert result.report.reader == "chatgpt"
    return int(doc.meta_value("conversations")), len(doc.sections), result.report.items, result.report.answered


def test_corpus_pkuppens_export(corpus: Path) -> None:
    conversations, sections, items, answered = _counts(corpus / "chatgpt-export-pkuppens" / "conversations.json")
    assert (conversations, sections) == (192, 192)
    assert (items, answered) == (645, 641)


def test_corpus_pkuppens_branches_and_tools_are_skipped(corpus: Path) -> None:
    _, reading = read(corpus / "chatgpt-export-pkuppens" / "conversations.json")
    kinds = {s.kind for s in reading.skipped}
    assert {"off-branch message", "tool message"} <= kinds
    assert sum(1 for s in reading.skipped if s.kind == "off-branch message") >= 4  # 4 branch points


def test_corpus_oxsalt_sample(corpus: Path) -> None:
    conversations, sections, items, answered = _counts(corpus / "chatgpt-sample-oxsalt" / "sample_conversations.json")
    assert (conversations, sections, items, answered) == (5, 5, 10, 10)


def test_corpus_pionxzh_thinking(corpus: Path) -> None:
    path = corpus / "chatgpt-thinking-pionxzh" / "thinking-summaries.json"
    conversations, sections, items, answered = _counts(path)
    assert (conversations, items, answered) == (1, 2, 2)
    _, reading = read(path)
    kinds = [s.kind for s in reading.skipped]
    assert kinds.count("reasoning step") == 6  # 4 thoughts, 2 recaps
    assert "tool message" in kinds
    answers = [plain_text(b.inlines) for it in reading.document.items() for b in it.answer]  # type: ignore[attr-defined]
    assert answers == ["answer 1", "answer 2"]


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture_matches_golden_model(path: Path, update_golden: bool) -> None:
    name, reading = read(path)
    assert name == "chatgpt"
    doc = reading.document
    golden = GOLDEN / "chatgpt" / (path.name + ".json")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(to_json(doc), encoding="utf-8")
    assert to_json(doc) == golden.read_text(encoding="utf-8")
    assert from_json(golden.read_text(encoding="utf-8")) == doc


def _section(doc: Document, prefix: str):  # type: ignore[no-untyped-def]
    return next(s for s in doc.sections if s.title.startswith(prefix))


def test_only_the_current_branch_counts() -> None:
    _, reading = read(FIXTURES / "chatgpt" / "branches.json")
    doc = reading.document
    text = words(doc)
    assert "first draft, replaced" not in text and "And descending?" not in text
    assert [plain_text(it.question) for it in doc.items()] == [
        "How do I sort a list of tuples by the second element?",
        "How do I sort descending, and is the sort stable?",
    ]
    kinds = [s.kind for s in reading.skipped]
    assert kinds.count("off-branch message") == 3
    assert kinds.count("tool message") == 3  # the browser call, its page and its quote


def test_numbered_qa_in_replies_with_chat_between_batches() -> None:
    _, reading = read(FIXTURES / "chatgpt" / "conversations.json")
    sec = _section(reading.document, "Hash table")
    assert [it.number for it in sec.items] == [1, 2, 3, 4, 5]
    assert "An older draft" not in words(reading.document)
    kinds = [s.kind for s in reading.skipped]
    assert kinds.count("reasoning step") == 2 and kinds.count("prompt") == 2
    assert "chat between batches" in kinds and "closing exchange" in kinds


def test_tree_rebuilt_from_parent_links_without_current_node() -> None:
    _, reading = read(FIXTURES / "chatgpt" / "conversations.json")
    sec = _section(reading.document, "Plotting a histogram")
    assert [plain_text(it.question) for it in sec.items] == [
        "How do I plot a histogram of a list of numbers?",
        "Why does my plot look like this?",
        "Thanks! One more: how do I save it as PNG?",
    ]
    assert [it.status for it in sec.items] == ["answered", "answered", "unanswered"]


def test_sections_are_oldest_first_with_dates() -> None:
    _, reading = read(FIXTURES / "chatgpt" / "conversations.json")
    assert [s.title for s in reading.document.sections] == [
        "Sorting in Python (2024-06-01)",
        "Hash table interview questions (2024-06-02)",
        "Plotting a histogram (2024-06-03)",
    ]


def test_chat_html_reads_like_conversations_json() -> None:
    _, html = read(FIXTURES / "chatgpt" / "chat.html")
    _, js = read(FIXTURES / "chatgpt" / "conversations.json")
    assert html.document.meta_value("container") == "html"
    assert html.document.sections == js.document.sections[:2]


def test_zip_export_reads_its_conversations_json() -> None:
    _, z = read(FIXTURES / "chatgpt" / "export.zip")
    _, js = read(FIXTURES / "chatgpt" / "conversations.json")
    assert z.document.meta_value("container") == "zip"
    # the same conversations (their collection numbers are their places in each export)
    def content(sections):  # type: ignore[no-untyped-def]
        return [(s.title, [(it.number, it.question, it.answer, it.status) for it in s.items]) for s in sections]

    assert content(z.document.sections) == content((js.document.sections[0], js.document.sections[2]))


def test_zip_with_only_chat_html(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(FIXTURES / "chatgpt" / "chat.html", "chat.html")
    _, reading = read(path)
    assert len(reading.document.sections) == 2


def test_single_conversation_object_is_titled_by_it() -> None:
    _, reading = read(FIXTURES / "chatgpt" / "branches.json")
    assert reading.document.title == "Sorting in Python (2024-06-01)"


def test_repeated_titles_stay_separate_sections(tmp_path: Path) -> None:
    conv = json.loads((FIXTURES / "chatgpt" / "branches.json").read_text(encoding="utf-8"))
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv, conv]), encoding="utf-8")
    doc = load(None, path.name, path=str(path)).document
    assert [s.title for s in doc.sections] == ["Sorting in Python (2024-06-01)", "Sorting in Python (2024-06-01) #2"]


def test_records_stream_one_at_a_time() -> None:
    """The first conversation is handed over before the rest of the file has been read."""
    one = (FIXTURES / "chatgpt" / "branches.json").read_text(encoding="utf-8")
    data = ("[" + ",".join([one] * 200) + "]").encode("utf-8")
    stream = io.BytesIO(data)
    records = _chat.iter_records(stream)
    first = next(records)
    assert first["title"] == "Sorting in Python"
    assert stream.tell() < len(data) // 10


# --------------------------------------------------------------------------- hostile input


def _one_line_error(data: bytes | None = None, path: Path | None = None) -> str:
    with pytest.raises(InputError) as info:
        if path is not None:
            load(None, path.name, path=str(path))
        else:
            load(data, "conversations.json")
    message = str(info.value)
    assert message and "\n" not in message
    return message


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = b'[{"mapping": {}, "title": "' + b" " * (30 * 1024 * 1024) + b'"}]'
    message = _one_line_error(path=_zip(tmp_path / "bomb.zip", {"conversations.json": bomb}))
    assert "zip bomb" in message


def test_zip_unpacking_to_too_much_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _zip(tmp_path / "big.zip", {"conversations.json": (FIXTURES / "chatgpt" / "branches.json").read_bytes()})
    monkeypatch.setattr(_chat, "MAX_UNPACKED", 1000)
    assert "would unpack to" in _one_line_error(path=path)


@pytest.mark.parametrize("evil", ["../conversations.json", "/etc/conversations.json", "a/../../x.json",
                                  "C:/conversations.json", "..\\conversations.json"])
def test_zip_traversal_names_are_refused(tmp_path: Path, evil: str) -> None:
    good = (FIXTURES / "chatgpt" / "branches.json").read_bytes()
    path = _zip(tmp_path / "evil.zip", {"conversations.json": good, evil: b"[]"})
    assert "unsafe member name" in _one_line_error(path=path)


def test_damaged_zip_is_refused(tmp_path: Path) -> None:
    data = (FIXTURES / "chatgpt" / "export.zip").read_bytes()
    path = tmp_path / "damaged.zip"
    path.write_bytes(data[: len(data) // 2])
    _one_line_error(path=path)


def test_truncated_json_is_refused() -> None:
    data = (FIXTURES / "chatgpt" / "conversations.json").read_bytes()
    assert "truncated" in _one_line_error(data[: len(data) * 2 // 3])


def test_truncated_json_inside_zip_is_refused(tmp_path: Path) -> None:
    data = (FIXTURES / "chatgpt" / "conversations.json").read_bytes()
    path = _zip(tmp_path / "cut.zip", {"conversations.json": data[: len(data) // 2]})
    assert "truncated" in _one_line_error(path=path)


def test_deeply_nested_json_is_refused() -> None:
    deep = b'[{"mapping": {}, "current_node": "x", "x": ' + b"[" * 5_000 + b"]" * 5_000 + b"}]"
    assert "nested" in _one_line_error(deep)


def test_invalid_json_is_refused() -> None:
    assert "not valid JSON" in _one_line_error(b'[{"mapping": {"a": {"parent": null,}}}]')


def test_json_that_is_not_an_export_is_refused() -> None:
    source = Source("x.json", data=b'[{"mapping": 1, "children": 2, "parent": 3}]')
    with pytest.raises(InputError, match="not a ChatGPT export"):
        chatgpt.read(source, None)


def test_zip_without_a_readable_directory_is_a_damaged_archive() -> None:
    assert "is a ZIP archive but a damaged one" in _one_line_error(b"PK\x03\x04" + b"\x00" * 200)
