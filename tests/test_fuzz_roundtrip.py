"""Property-based tests of the writers: generated models (tests/model_strategies.py) go out in
every format and come back with nothing lost.

* Markdown: model → qabook Markdown → model gives the same items (number, question, answer, status),
  section titles and title;
* JSON: the same document;
* DOCX: the words and formulas ``qabook verify`` reads back from the document equal the model's,
  and so do those of qabook's DOCX reader (with the numbers, answered or not, section titles, title);
* HTML is well-formed HTML5 (html5lib, strict), the DOCX valid against ECMA-376 (a few examples:
  schema validation is slow).

Runs are derandomized (fixed seeds) with a bounded number of examples, so CI is deterministic and
fast; ``QABOOK_FUZZ_EXAMPLES`` multiplies the number of examples for a longer local run.
"""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings

from qabook import model
from qabook.audit.verify import items_of, read_docx
from qabook.model import Document
from qabook.pipeline import load
from qabook.writers import docx, markdown
from tests.model_strategies import documents

SCALE = float(os.environ.get("QABOOK_FUZZ_EXAMPLES", "1"))


def _settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _items(doc: Document) -> list[tuple[object, ...]]:
    return [(it.number, it.question, it.answer, it.status) for it in doc.items()]


@_settings(300)
@given(documents())
def test_markdown_round_trip_keeps_every_item(doc: Document) -> None:
    text = markdown.render(doc)
    back = load(text.encode(), "notes.md").document
    assert back.title == doc.title
    assert [s.title for s in back.sections] == [s.title for s in doc.sections]
    assert _items(back) == _items(doc), text


@_settings(100)
@given(documents())
def test_json_round_trip_is_exact(doc: Document) -> None:
    assert model.from_json(model.to_json(doc)) == doc
    back = load(model.to_json(doc).encode(), "doc.json").document
    assert _items(back) == _items(doc)


@_settings(150)
@given(documents())
def test_docx_holds_every_word_and_formula(doc: Document) -> None:
    buf = io.BytesIO()
    docx.write(doc, buf)
    assert read_docx(buf.getvalue()) == items_of(doc)
    back = load(buf.getvalue(), "notes.docx").document
    assert items_of(back) == items_of(doc)
    assert [(it.number, it.status) for it in back.items()] == [(it.number, it.status) for it in doc.items()]
    assert [s.title for s in back.sections] == [s.title for s in doc.sections]
    assert back.title == doc.title


html5lib = pytest.importorskip("html5lib")


@_settings(100)
@given(documents())
def test_html_is_well_formed_html5(doc: Document) -> None:
    from qabook.writers import html

    buf = io.BytesIO()
    html.write(doc, buf, None)
    html5lib.HTMLParser(strict=True).parse(buf.getvalue().decode("utf-8"))


@_settings(15)
@given(documents())
def test_docx_is_valid_against_the_schemas(doc: Document) -> None:
    from tests.ooxml import validate_docx

    buf = io.BytesIO()
    docx.write(doc, buf)
    assert validate_docx(buf.getvalue()) == []
