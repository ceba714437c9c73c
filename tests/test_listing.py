"""``qabook list``: sections with item counts as a table or JSON; selecting sections by title and date."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qabook.cli import main
from qabook.commands.listing import select_sections
from qabook.pipeline import load

from tests.conftest import FIXTURES

EXPORT = FIXTURES / "chatgpt" / "conversations.json"


def test_list_json() -> None:
    result = CliRunner().invoke(main, ["list", "--json", str(EXPORT)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["reader"] == "chatgpt"
    assert [(s["title"], s["date"], s["items"], s["answered"]) for s in data["sections"]] == [
        ("Sorting in Python (2024-06-01)", "2024-06-01", 2, 2),
        ("Hash table interview questions (2024-06-02)", "2024-06-02", 5, 5),
        ("Plotting a histogram (2024-06-03)", "2024-06-03", 3, 2),
    ]
    assert (data["items"], data["answered"]) == (10, 9)


def test_list_table() -> None:
    result = CliRunner().invoke(main, ["list", str(FIXTURES / "gemini" / "MyActivity.html")])
    assert result.exit_code == 0, result.output
    assert "Gemini Apps (2024-05-02)" in result.output
    assert "3 section(s), 3 item(s), 3 answered" in result.output


def test_list_bad_input_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "conversations.json"
    bad.write_bytes(EXPORT.read_bytes()[:500])
    result = CliRunner().invoke(main, ["list", str(bad)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "qabook: error:" in result.output


def test_list_corpus_export(corpus: Path) -> None:
    result = CliRunner().invoke(main, ["list", "--json", str(corpus / "chatgpt-export-pkuppens" / "conversations.json")])
    data = json.loads(result.output)
    assert (len(data["sections"]), data["items"], data["answered"]) == (192, 645, 641)


def test_select_sections_by_title_and_date() -> None:
    doc = load(None, EXPORT.name, path=str(EXPORT)).document
    assert [s.title for s in select_sections(doc, "hash").sections] == ["Hash table interview questions (2024-06-02)"]
    assert [s.title for s in select_sections(doc, "*python*").sections] == ["Sorting in Python (2024-06-01)"]
    picked = select_sections(doc, None, since=dt.date(2024, 6, 2), until=dt.date(2024, 6, 3))
    assert [s.title[:4] for s in picked.sections] == ["Hash", "Plot"]
    assert select_sections(doc, "nothing like this").sections == ()
    assert select_sections(doc) == doc


def test_list_streams_sections_and_never_loads_the_whole_document(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from qabook import pipeline
    from qabook.cli import main

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("list must not load the whole document")

    monkeypatch.setattr(pipeline, "load", whole)
    src = FIXTURES / "chatgpt" / "conversations.json"
    r = CliRunner().invoke(main, ["list", str(src), "--json"])
    assert r.exit_code == 0, r.output
    assert [s["title"] for s in json.loads(r.output)["sections"]][0] == "Sorting in Python (2024-06-01)"
