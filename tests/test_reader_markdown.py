"""The Markdown reader: one fixture per layout people write, compared with golden model JSON.

Run ``pytest --update-golden`` to rewrite tests/golden/markdown/*.json after a reviewed change.
The fixtures are written for these tests; the shared corpus is tested in
tests/test_reader_markdown_corpus.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qabook import formats
from qabook.model import (
    BulletList, CodeBlock, OrderedList, Paragraph, Strong, Text, from_json, plain_text, to_json,
)
from qabook.pipeline import load
from qabook.readers import markdown
from qabook.readers.base import InputError, Reading
from qabook.source import Source

from tests.conftest import FIXTURES, GOLDEN

CASES = sorted((FIXTURES / "markdown").glob("*.md"))

LAYOUTS = {
    "numbered-headings.md": "headings", "q-headings.md": "headings", "topic-headings.md": "headings",
    "bold-questions.md": "bold", "details.md": "details", "answer-lists.md": "answer-lists",
    "qa-labels.md": "qa-labels", "table.md": "table",
}


def _read(name: str) -> Reading:
    path = FIXTURES / "markdown" / name
    return markdown.read(path.read_text(encoding="utf-8"), name)


def _questions(reading: Reading) -> list[tuple[int | None, str, str]]:
    return [(it.number, plain_text(it.question), it.status) for it in reading.document.items()]


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture_matches_golden_model(path: Path, update_golden: bool) -> None:
    doc = markdown.read(path.read_text(encoding="utf-8"), path.name).document
    golden = GOLDEN / "markdown" / (path.stem + ".json")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(to_json(doc), encoding="utf-8")
    assert to_json(doc) == golden.read_text(encoding="utf-8")
    assert from_json(golden.read_text(encoding="utf-8")) == doc


def test_every_layout_has_a_fixture() -> None:
    assert sorted(LAYOUTS) == [p.name for p in CASES]
    assert {layout.name for layout in markdown.LAYOUTS} == set(LAYOUTS.values())


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_the_layout_is_recognised_and_the_markdown_reader_is_picked(path: Path) -> None:
    data = path.read_bytes()
    assert formats.pick_reader(Source(path.name, data=data)).name == "markdown"
    result = load(data, path.name)
    assert result.report.reader == "markdown"
    assert result.document.meta_value("layout") == LAYOUTS[path.name]


def test_numbered_headings_keep_sub_headings_in_the_answer() -> None:
    reading = _read("numbered-headings.md")
    assert _questions(reading) == [
        (1, "Why does bread rise?", "answered"), (2, "What does baking soda need?", "answered"),
        (3, "Why add salt to pasta water?", "answered"), (4, "Does a lid save energy?", "unanswered"),
    ]
    first = next(reading.document.items())
    assert first.answer[1] == Paragraph((Strong((Text("In short"),)),))
    assert [s.title for s in reading.document.sections] == ["Baking", "Boiling"]
    assert reading.document.title == "Kitchen chemistry"


def test_q_number_headings_with_ans_labels() -> None:
    items = list(_read("q-headings.md").document.items())
    assert [it.number for it in items] == [1, 2, 3]
    assert items[0].answer == (Paragraph((Text("A word that names a person, place or thing."),)),)
    assert plain_text(items[1].answer[0].inlines).startswith("A word for an action")  # type: ignore[union-attr]
    assert isinstance(items[2].answer[1], BulletList)


def test_bold_questions_with_difficulty_emoji_and_placeholders() -> None:
    reading = _read("bold-questions.md")
    assert _questions(reading) == [
        (None, "What is a derailleur? 👶", "answered"),
        (None, "Why do tyres have different pressures? \u200d⭐️", "answered"),
        (None, "Tubeless setup trade-offs \u200d⭐️", "unanswered"),
        (None, "How do you fix a puncture on the road?", "answered"),
        (None, "What does a chain checker measure? 🚀", "unanswered"),
    ]
    # a bold label inside an answer is not a question; <br/> spacers are not answer text
    derailleur = next(reading.document.items())
    assert len(derailleur.answer) == 2 and "<br" not in to_json(reading.document)
    kinds = [(s.kind, s.text) for s in reading.skipped]
    assert ("placeholder answer", "Answer here") in kinds
    assert ("table of contents", "[Basics](#basics)") in kinds
    assert reading.warnings == ("2 questions without an answer, kept as unanswered (lines 26, 39)",)


def test_details_blocks_keep_question_like_headings_inside_the_answer() -> None:
    reading = _read("details.md")
    assert _questions(reading) == [
        (None, "Why is Mars red?", "answered"), (None, "How long is a day on Venus?", "answered"),
        (None, "What is a dwarf planet?", "unanswered"), (None, "What is a light-year?", "answered"),
    ]
    mars = next(reading.document.items())
    assert Paragraph((Strong((Text("Does it have seasons?"),)),)) in mars.answer
    # the answer's first line sat in the same HTML block as the summary
    venus = list(reading.document.items())[1]
    assert venus.answer[0] == Paragraph((Text("Longer than its year: about 243 Earth days."),))
    assert [s.title for s in reading.document.sections] == ["Planets", "Stars"]
    assert ("placeholder answer", "!") in [(s.kind, s.text) for s in reading.skipped]


def test_numbered_list_questions_with_answer_lists() -> None:
    reading = _read("answer-lists.md")
    assert _questions(reading) == [
        (1, "What is gauge?", "answered"), (2, "Why knit a swatch first?", "answered"),
        (3, "What is ribbing?", "unanswered"),
        (1, "How do you read a chart?", "answered"), (2, "What is steeking?", "answered"),
    ]
    items = list(reading.document.items())
    # the answer indented under "- Answer:" is the answer itself, its own numbered list kept
    assert items[0].answer == (Paragraph((Text("The number of stitches and rows in a set width, usually 10 cm."),)),)
    assert isinstance(items[1].answer[1], OrderedList) and len(items[1].answer[1].items) == 3
    # a repeated "**Answer:**" label inside the answer is dropped
    assert items[4].answer == (Paragraph((Text("Cutting knitted fabric on purpose, after reinforcing it."),)),)
    assert [s.title for s in reading.document.sections] == ["Basics", "Advanced"]


def test_q_and_a_labels() -> None:
    reading = _read("qa-labels.md")
    assert _questions(reading) == [
        (None, "Which river is the longest?", "answered"), (None, "What is a delta?", "answered"),
        (2, "What is an oxbow lake?", "unanswered"),
    ]
    delta = list(reading.document.items())[1]
    assert delta.answer[0] == Paragraph((Text("Land built from sediment where a river meets the sea."),))
    assert isinstance(delta.answer[-1], BulletList)
    # a list that repeats the questions is a table of contents, not a second set
    assert ("table of contents", 5) in [(s.kind, s.line) for s in reading.skipped]


def test_question_answer_tables() -> None:
    reading = _read("table.md")
    assert _questions(reading) == [
        (1, "Capital of Portugal?", "answered"), (2, "Capital of Slovenia?", "answered"),
        (3, "Capital of Malta?", "unanswered"), (None, "Capital of Chile?", "answered"),
    ]


def test_unnumbered_question_headings_under_topics_and_a_linked_toc() -> None:
    reading = _read("topic-headings.md")
    assert [s.title for s in reading.document.sections] == ["Roots", "Fruit"]
    assert len(list(reading.document.items())) == 3
    assert [s.kind for s in reading.skipped] == ["table of contents"]


@pytest.mark.parametrize("text", [
    "**What is it? 👶**", "**What is it? \u200d⭐️**", "**Trade-offs \u200d⭐️I**", "**Why?**", "**Warum？**",
])
def test_looks_like_a_question(text: str) -> None:
    assert markdown.looks_like_question(text.strip("*"))


@pytest.mark.parametrize("text", ["Important:", "Bias", "A note (see below)", "Summary."])
def test_does_not_look_like_a_question(text: str) -> None:
    assert not markdown.looks_like_question(text)


def test_sniff_scores_rank_the_layouts() -> None:
    def score(name: str) -> int:
        return markdown.sniff((FIXTURES / "markdown" / name).read_text(encoding="utf-8"))

    assert score("numbered-headings.md") == 70
    assert score("details.md") == score("answer-lists.md") == 65
    assert score("qa-labels.md") == score("table.md") == 55
    assert score("bold-questions.md") == 50
    assert score("topic-headings.md") == 45
    assert markdown.sniff("just prose\n\nand more\n") == 0


def test_chat_transcripts_stay_with_the_transcript_reader() -> None:
    chat = ("You said:\n\nExplain two things.\n\nChatGPT said:\n\n**What is a cache?**\n\nA fast store.\n\n"
            "**What is a queue?**\n\nFirst in, first out.\n\nYou said:\n\nthanks\n\nChatGPT said:\n\nWelcome.\n")
    assert markdown.sniff(chat) < 40
    assert formats.pick_reader(Source("chat.md", data=chat.encode())).name == "transcript"


def test_qabook_json_still_wins_for_json() -> None:
    json_text = to_json(_read("details.md").document)
    assert formats.pick_reader(Source("x.json", data=json_text.encode())).name == "qabook-json"


def test_markdown_without_questions_is_an_input_error() -> None:
    with pytest.raises(InputError, match="found no questions"):
        markdown.read("# Notes\n\nJust prose.\n\n- a list\n", "notes.md")


def test_code_fences_hide_their_content() -> None:
    text = "## T\n\n**What is this? 👶**\n\n```\n**Not a question?**\n# not a heading\n```\n\n**And this?**\n\nYes.\n"
    items = list(markdown.read(text, "x.md").document.items())
    assert len(items) == 2
    assert isinstance(items[0].answer[0], CodeBlock)


def test_a_saved_chat_with_the_users_name_as_heading_is_a_transcript() -> None:
    chat = ("## Notes\n\nSaved from the app.\n\n## alice\n\nWhat is a **cache**?\n\n## chatgpt\n\nA fast store.\n\n"
            "## alice\n\nAnd a queue?\n\n## chatgpt\n\nFirst in, first out.\n\n```sh\n# alice\n```\n")
    result = load(chat.encode(), "chat.md")
    assert result.report.reader == "transcript"
    assert [plain_text(it.question) for it in result.document.items()] == ["What is a cache?", "And a queue?"]
    assert dict(result.report.skipped)["speaker line"] == 4
