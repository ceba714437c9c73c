"""Claude's data export: fixtures with golden models (content blocks, and the older text field).

Run ``pytest --update-golden`` to rewrite tests/golden/claude/*.json after a reviewed change.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from qabook.formats import pick_reader
from qabook.model import from_json, plain_text, to_json
from qabook.pipeline import load
from qabook.readers.base import InputError, Reading
from qabook.source import Source

from tests.conftest import FIXTURES, GOLDEN

CASES = sorted((FIXTURES / "claude").iterdir())


def read(path: Path) -> tuple[str, Reading]:
    source = Source(path.name, path=str(path))
    reader = pick_reader(source)
    return reader.name, reader.read(source, None)


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture_matches_golden_model(path: Path, update_golden: bool) -> None:
    name, reading = read(path)
    assert name == "claude"
    doc = reading.document
    golden = GOLDEN / "claude" / (path.name + ".json")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(to_json(doc), encoding="utf-8")
    assert to_json(doc) == golden.read_text(encoding="utf-8")
    assert from_json(golden.read_text(encoding="utf-8")) == doc


def test_text_blocks_are_the_answer_thinking_and_tools_are_skipped() -> None:
    _, reading = read(FIXTURES / "claude" / "conversations.json")
    doc = reading.document
    text = to_json(doc)
    assert "keep it simple" not in text  # thinking
    assert "re.match(...)" not in text and '"True"' not in text  # tool use and result
    sec = next(s for s in doc.sections if s.title.startswith("Regex for dates"))
    first = sec.items[0]
    assert plain_text(first.question) == "Write a regex that matches ISO dates like 2024-07-01."
    assert "I checked it" in to_json(from_json(to_json(doc)))  # both text blocks kept, in order
    kinds = [s.kind for s in reading.skipped]
    assert kinds.count("reasoning step") == 1 and kinds.count("tool message") == 2 and "attachment" in kinds


def test_numbered_qa_in_a_reply_and_untitled_conversation() -> None:
    _, reading = read(FIXTURES / "claude" / "conversations.json")
    first = reading.document.sections[0]
    assert first.title == "Untitled (2024-06-30)"
    assert [it.number for it in first.items] == [1, 2]


def test_older_export_reads_the_text_field_and_warns() -> None:
    _, reading = read(FIXTURES / "claude" / "old-format.json")
    doc = reading.document
    assert [plain_text(it.question) for it in doc.items()] == ["How do I loop over files in bash?", "And recursively?"]
    assert all(it.status == "answered" for it in doc.items())
    assert any("'text' field" in w for w in reading.warnings)


def test_zip_export(tmp_path: Path) -> None:
    path = tmp_path / "data-export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("users.json", json.dumps([{"uuid": "u"}]))
        z.writestr("projects.json", "[]")
        z.write(FIXTURES / "claude" / "conversations.json", "conversations.json")
    name, reading = read(path)
    assert name == "claude"
    _, plain = read(FIXTURES / "claude" / "conversations.json")
    assert reading.document.sections == plain.document.sections


def test_current_branch_when_the_export_records_one(tmp_path: Path) -> None:
    conv = {"uuid": "b", "name": "Branches", "created_at": "2024-08-01T10:00:00Z",
            "current_leaf_message_uuid": "a2",
            "chat_messages": [
                {"uuid": "h1", "sender": "human", "content": [{"type": "text", "text": "Question one?"}]},
                {"uuid": "a1", "sender": "assistant", "parent_message_uuid": "h1",
                 "content": [{"type": "text", "text": "Old answer."}]},
                {"uuid": "a2", "sender": "assistant", "parent_message_uuid": "h1",
                 "content": [{"type": "text", "text": "New answer."}]},
            ]}
    conv["chat_messages"][0]["parent_message_uuid"] = "00000000-0000-4000-8000-000000000000"
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]), encoding="utf-8")
    _, reading = read(path)
    text = to_json(reading.document)
    assert "New answer." in text and "Old answer." not in text


def test_truncated_export_is_refused() -> None:
    data = (FIXTURES / "claude" / "conversations.json").read_bytes()
    with pytest.raises(InputError, match="truncated"):
        load(data[:-40], "conversations.json")
