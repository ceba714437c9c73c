"""The model's JSON form: versioned, complete, strict about what it accepts."""

from __future__ import annotations

from qabook.model import MODEL_VERSION

import json

import pytest

from qabook.model import (
    BulletList, Code, CodeBlock, Document, Emphasis, Item, LineBreak, Link, ListItem, Math,
    MathBlock, ModelError, OrderedList, Origin, Paragraph, Quote, Rule, Section, Strong, Table,
    Text, from_json, plain_text, to_json,
)

EVERY_NODE = Document(
    title="T", source="s.txt", meta=(("format", "x"),),
    sections=(Section("S", (
        Item(3, (Text("What "), Code("x"), Text("?")), (
            Paragraph((Text("a"), Strong((Emphasis((Text("b"),)),)), Math("x^2"), LineBreak(),
                       Link("https://e.org", (Text("l"),)))),
            BulletList((ListItem((Paragraph((Text("i"),)), OrderedList((ListItem(()),), 4))),)),
            CodeBlock("  x\n\n  y", "python"), MathBlock("\\frac{a}{b}"),
            Quote((Paragraph((Text("q"),)),)), Table(((Text("h"),),), (((Text("c"),),),)), Rule(),
        ), "answered", Origin(2, 10, 20)),
        Item(None, (Text("open"),), (), "unanswered"),
    ), synthesized=True),),
)


def test_json_round_trip_keeps_every_node() -> None:
    assert from_json(to_json(EVERY_NODE)) == EVERY_NODE


def test_json_is_versioned_and_stable() -> None:
    obj = json.loads(to_json(EVERY_NODE))
    assert list(obj)[0] == "qabook-model" and obj["qabook-model"] == MODEL_VERSION
    assert to_json(EVERY_NODE) == to_json(from_json(to_json(EVERY_NODE)))
    assert obj["sections"][0]["items"][0]["answer"][0]["type"] == "Paragraph"


@pytest.mark.parametrize("text,message", [
    ("[]", "not a qabook model"),
    ('{"qabook-model": "2.0", "type": "Document"}', "unsupported model version"),
    ('{"qabook-model": "1.0", "type": "Nope"}', "unknown node type"),
    ('{"qabook-model": "1.0", "type": "Document", "title": 5, "source": "", "sections": []}', "expected a string"),
    ('{"qabook-model": "1.0", "type": "Text", "text": "x"}', "not a Document"),
    ("{", "invalid JSON"),
])
def test_bad_json_is_rejected_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        from_json(text)


def test_plain_text_reads_formulas_as_tex() -> None:
    assert plain_text((Text("a "), Strong((Math("x"),)), LineBreak(), Code("c"))) == "a x\nc"


def test_pickle_round_trip_keeps_every_node() -> None:
    # big exports are spooled to a temporary file as pickles between reading and writing
    import pickle

    back = pickle.loads(pickle.dumps(EVERY_NODE, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == EVERY_NODE
    assert type(back.sections[0].items[0].origin) is Origin


def test_joined_text_joins_each_run_of_text_and_drops_empty_text() -> None:
    from qabook.model import Code, LineBreak, Strong, Text, joined_text

    bold = Strong((Text("b"),))
    assert joined_text(["a", Text("b"), "", "c", bold, Text(""), LineBreak(), "d", Text("e")]) == [
        Text("abc"), bold, LineBreak(), Text("de")]
    assert joined_text([Text("")]) == [] and joined_text([""]) == [] and joined_text([]) == []
    assert joined_text(["x"]) == [Text("x")] and joined_text([Code("x")]) == [Code("x")]
