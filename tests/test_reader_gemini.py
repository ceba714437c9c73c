"""Gemini through Google Takeout (My Activity, JSON and HTML): fixtures with golden models, HTML answers.

Run ``pytest --update-golden`` to rewrite tests/golden/gemini/*.json after a reviewed change.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest

from qabook.formats import pick_reader
from qabook.model import (
    BulletList,
    Code,
    CodeBlock,
    Emphasis,
    LineBreak,
    Link,
    ListItem,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Strong,
    Table,
    Text,
    from_json,
    plain_text,
    to_json,
)
from qabook.readers import gemini
from qabook.readers.base import Reading
from qabook.source import Source

from tests.conftest import FIXTURES, GOLDEN

CASES = sorted((FIXTURES / "gemini").iterdir())


def read(path: Path) -> tuple[str, Reading]:
    source = Source(path.name, path=str(path))
    reader = pick_reader(source)
    return reader.name, reader.read(source, None)


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture_matches_golden_model(path: Path, update_golden: bool) -> None:
    name, reading = read(path)
    assert name == "gemini"
    doc = reading.document
    golden = GOLDEN / "gemini" / (path.name + ".json")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(to_json(doc), encoding="utf-8")
    assert to_json(doc) == golden.read_text(encoding="utf-8")
    assert from_json(golden.read_text(encoding="utf-8")) == doc


def _questions(reading: Reading) -> list[str]:
    return [plain_text(it.question) for it in reading.document.items()]


def test_json_entries_oldest_first_by_day() -> None:
    _, reading = read(FIXTURES / "gemini" / "MyActivity.json")
    doc = reading.document
    assert [s.title for s in doc.sections] == ["Gemini Apps (2024-05-01)", "Gemini Apps (2024-05-02)"]
    assert _questions(reading)[0] == "What is a closure? Explain briefly."  # a soft break, as in transcripts
    assert _questions(reading)[-2:] == ["How do I reverse a string in Python?", "Compare lists and tuples in a table"]
    kinds = [s.kind for s in reading.skipped]
    assert kinds.count("activity item") == 2  # the canvas and the feedback


def test_numbered_qa_inside_one_answer_leaves_the_other_prompts_alone() -> None:
    _, reading = read(FIXTURES / "gemini" / "MyActivity.json")
    first_day = reading.document.sections[0]
    assert [it.number for it in first_day.items] == [None, 1, 2]
    assert plain_text(first_day.items[1].question) == "What is a base case?"


def test_html_page_oldest_first_and_prompt_verb_removed() -> None:
    _, reading = read(FIXTURES / "gemini" / "MyActivity.html")
    assert _questions(reading) == ["Say hello in French", "Summarise this file", "What does git rebase do?"]
    kinds = [s.kind for s in reading.skipped]
    assert kinds.count("attachment") == 1 and kinds.count("activity item") == 1
    last = list(reading.document.items())[-1]
    assert isinstance(last.answer[1], OrderedList)
    assert last.answer[2] == Paragraph((Text("Use "), Code("git rebase -i"), Text(" to edit history <carefully>.")))


def test_german_page() -> None:
    _, reading = read(FIXTURES / "gemini" / "MeineAktivitaeten.html")
    assert _questions(reading) == ["Nenne zwei Beispiele.", "Was ist ein Monad?"]
    assert [s.title for s in reading.document.sections] == ["Gemini-Apps (2024-04-17)", "Gemini-Apps (2024-04-18)"]


def test_unknown_verb_with_an_answer_keeps_the_title_and_warns(tmp_path: Path) -> None:
    entries = [{"header": "Gemini Apps", "title": "Promptet Hvad er en monade?", "time": "2024-05-01T10:00:00Z",
                "products": ["Gemini Apps"], "safeHtmlItem": [{"html": "<p>Et mønster.</p>"}]}]
    path = tmp_path / "MyActivity.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    _, reading = read(path)
    assert _questions(reading) == ["Promptet Hvad er en monade?"]
    assert any("known prompt verb" in w for w in reading.warnings)


def test_takeout_zip(tmp_path: Path) -> None:
    path = tmp_path / "takeout-20240601T000000Z-001.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Takeout/archive_browser.html", "<html></html>")
        z.writestr("Takeout/Gemini/gemini_gems_data.html", "<div></div>")
        z.write(FIXTURES / "gemini" / "MyActivity.html", "Takeout/My Activity/Gemini Apps/MyActivity.html")
    name, reading = read(path)
    assert name == "gemini"
    assert _questions(reading) == ["Say hello in French", "Summarise this file", "What does git rebase do?"]


@pytest.mark.parametrize("line,date", [
    ("May 2, 2024, 9:15:02 AM CEST", dt.date(2024, 5, 2)),
    ("18.04.2026, 17:38:51 MESZ", dt.date(2026, 4, 18)),
    ("4 juli 2026 09:15:00 CEST", dt.date(2026, 7, 4)),
    ("2026年6月19日 12:23:08 CST", dt.date(2026, 6, 19)),
    ("10 de mai. de 2026, 03:46:09 BRT", dt.date(2026, 5, 10)),
    ("May 19, 2026, 7:07:02\u202fPM GMT-03:00", dt.date(2026, 5, 19)),
    ("12 juil. 2024, 10:00:00 UTC", dt.date(2024, 7, 12)),
])
def test_takeout_date_lines(line: str, date: dt.date) -> None:
    assert gemini._html_date(line) == date


def test_html_answer_to_blocks() -> None:
    html = ("<h2>Title</h2><p>Some <b>bold</b>, <i>italic</i> and <code>x &lt; y</code> with a "
            "<a href=\"https://example.org\">link</a>.<br>Next line.</p>"
            "<ul><li>one</li><li>two<ol start=\"3\"><li>three</li></ol></li></ul>"
            "<pre><code class=\"language-js\">let a = 1;\n  let b = 2;\n</code></pre>"
            "<blockquote><p>quoted</p></blockquote><hr>"
            "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td><strong>2</strong></td></tr></table>"
            "<script>alert(1)</script>")
    assert gemini.html_blocks(html) == (
        Paragraph((Strong((Text("Title"),)),)),
        Paragraph((Text("Some "), Strong((Text("bold"),)), Text(", "), Emphasis((Text("italic"),)), Text(" and "),
                   Code("x < y"), Text(" with a "), Link("https://example.org", (Text("link"),)), Text("."),
                   LineBreak(), Text("Next line."))),
        BulletList((ListItem((Paragraph((Text("one"),)),)),
                    ListItem((Paragraph((Text("two"),)), OrderedList((ListItem((Paragraph((Text("three"),)),)),), 3))))),
        CodeBlock("let a = 1;\n  let b = 2;", "js"),
        Quote((Paragraph((Text("quoted"),)),)),
        Rule(),
        Table(((Text("A"),), (Text("B"),)), (((Text("1"),), (Strong((Text("2"),)),)),)),
    )


def test_html_entities_are_not_fetched_or_expanded_beyond_html() -> None:
    html = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><p>&e; &amp; &copy;</p>'
    blocks = gemini.html_blocks(html)
    para = blocks[-1]
    assert isinstance(para, Paragraph)
    assert plain_text(para.inlines) == "&e; & \u00a9"  # HTML's own entities only; nothing is read
    assert "root:" not in to_json_text(blocks)


def to_json_text(blocks: object) -> str:
    return repr(blocks)
