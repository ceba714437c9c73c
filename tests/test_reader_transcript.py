"""The transcript reader: fixtures written for one behaviour each, compared with golden model JSON.

Run ``pytest --update-golden`` to rewrite tests/golden/transcript/*.json after a reviewed change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qabook.model import BulletList, Paragraph, Text, from_json, plain_text, to_json
from qabook.pipeline import load
from qabook.readers import transcript
from qabook.readers.base import InputError

from tests.conftest import FIXTURES, GOLDEN

CASES = sorted((FIXTURES / "transcript").iterdir())


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture_matches_golden_model(path: Path, update_golden: bool) -> None:
    doc = load(path.read_bytes(), path.name).document
    golden = GOLDEN / "transcript" / (path.stem + ".json")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(to_json(doc), encoding="utf-8")
    assert to_json(doc) == golden.read_text(encoding="utf-8")
    assert from_json(golden.read_text(encoding="utf-8")) == doc


@pytest.mark.parametrize("line,role", [
    ("You said:", "user"), ("ChatGPT said:", "assistant"), ("You asked:", "user"),
    ("Gemini Replied:", "assistant"), ("💡 **Gemini Replied:**", "assistant"), ("✦ Gemini Replied:", "assistant"),
    ("User:", "user"), ("Assistant:", "assistant"), ("Claude:", "assistant"), ("## You", "user"),
    ("**User:**", "user"), ("### ChatGPT said:", "assistant"), ("🤖 Assistant:", "assistant"),
])
def test_speaker_line_variants(line: str, role: str) -> None:
    (ln,) = transcript.classify([line])
    assert (ln.kind, ln.role) == ("speaker", role)


@pytest.mark.parametrize("line", ["You", "Assistant said this was fine.", "User: what now?", "Claude is a name"])
def test_not_speaker_lines(line: str) -> None:
    (ln,) = transcript.classify([line])
    assert ln.kind != "speaker"


@pytest.mark.parametrize("line,number,rest", [
    ("12. Q: What is X?", 12, "What is X?"),
    ("3) Q: Why? A: Because.", 3, "Why? A: Because."),
    ("**7. Q:** Bold question?", 7, "Bold question?"),
    ("Q14: What is Y?", 14, "What is Y?"),
    ("### 2. Q: Heading question?", 2, "Heading question?"),
])
def test_question_lines(line: str, number: int, rest: str) -> None:
    (ln,) = transcript.classify([line])
    assert (ln.kind, ln.number, ln.rest) == ("question", number, rest)


@pytest.mark.parametrize("line,lo,hi", [
    ("Expanded Q&A (21–40)", 21, 40), ("## Questions 1-20", 1, 20), ("**Batch 3 (41 to 60)**", 41, 60),
])
def test_batch_headings(line: str, lo: int, hi: int) -> None:
    (ln,) = transcript.classify([line])
    assert (ln.kind, ln.lo, ln.hi) == ("batch", lo, hi)


@pytest.mark.parametrize("line", ["Next up: 101–120.", "✅ That's 81–100 fully expanded.", "We did 1-20 already"])
def test_not_batch_headings(line: str) -> None:
    (ln,) = transcript.classify([line])
    assert ln.kind != "batch"


def test_question_lines_inside_code_fences_are_code() -> None:
    lines = ["```", "1. Q: not a question", "```"]
    assert [ln.kind for ln in transcript.classify(lines)] == ["text", "text", "text"]


def test_turn_pairs_when_there_is_no_numbered_qa() -> None:
    reading = transcript.read((FIXTURES / "transcript" / "turns.txt").read_text(), "turns.txt")
    items = list(reading.document.items())
    assert [plain_text(it.question) for it in items] == [
        "What is the capital of France?", "And of Italy? Why do you ask twice?", "thanks"]
    assert items[1].answer[0] == Paragraph((Text("Rome."),))
    assert isinstance(items[1].answer[1], BulletList)
    assert items[2].status == "unanswered"


def test_pasted_conversation_chat_is_skipped_and_counted() -> None:
    result = load((FIXTURES / "transcript" / "pasted.md").read_bytes(), "pasted.md")
    doc = result.document
    assert [it.number for it in doc.items()] == [1, 2, 3, 4, 5]
    assert [s.title for s in doc.sections] == ["Revision Questions (1–3)", "Revision Questions (4–5)"]
    text = to_json(doc)
    for chat in ("That's the first 3", "Do you want me", "give me batch one", "Great — next batch", "That's 4–5 done"):
        assert chat not in text
    skipped = dict(result.report.skipped)
    assert skipped == {"speaker line": 5, "before the Q&A": 3, "chat between batches": 4, "closing exchange": 1}


def test_text_without_any_qa_is_an_input_error() -> None:
    with pytest.raises(InputError, match="found no questions and answers"):
        transcript.read("just some prose\n\nand more prose\n", "x.txt")


def test_renditions_are_numbered_when_a_number_repeats() -> None:
    text = "1. Q: A? A: a\n\n2. Q: B? A: b\n\nagain:\n\n1. Q: A? A: a\n\n2. Q: B? A: b\n"
    reading = transcript.read(text, "x.txt")
    assert [it.origin.rendition for it in reading.document.items()] == [1, 1, 2, 2]
    assert reading.document.meta_value("renditions") == "2"


def test_sniff_prefers_transcripts_with_speakers_and_questions() -> None:
    assert transcript.sniff("You said:\n\nhi\n\n1. Q: a? A: b\n") > transcript.sniff("1. Q: a? A: b\n\n2. Q: c? A: d\n") > 0
    assert transcript.sniff("") == 0
