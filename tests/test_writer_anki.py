"""The Anki writer: package contents, stable note identity, determinism, and imports into a real
Anki collection (the ``anki`` package from PyPI; those tests skip without it)."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from qabook.model import Document, Item, Math, MathBlock, Paragraph, Section, Text, plain_text
from qabook.pipeline import load, write_file
from qabook.writers import anki

from tests.test_model import EVERY_NODE

pytest.importorskip("genanki", reason="genanki is a dependency of qabook")

EDIT_FROM = "(can be GBs)"
EDIT_TO = "(often tens of GBs)"
DAY = dt.date(2024, 3, 1)


def _collection(apkg: bytes) -> sqlite3.Connection:
    with zipfile.ZipFile(io.BytesIO(apkg)) as zf:
        data = zf.read("collection.anki2")
    conn = sqlite3.connect(":memory:")
    conn.deserialize(data)
    return conn


def _front_text(field: str) -> str:
    """What a reader sees of an HTML field, with MathJax delimiters dropped."""
    text = html.unescape(re.sub(r"<[^>]+>", "", field))
    return text.replace("\\(", "").replace("\\)", "")


def test_package_holds_notes_decks_and_notetype(reference) -> None:  # type: ignore[no-untyped-def]
    doc = reference.document
    apkg = anki.package_bytes(doc, DAY)
    with zipfile.ZipFile(io.BytesIO(apkg)) as zf:
        assert zf.namelist() == ["collection.anki2", "media"]
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        assert zf.read("media") == b"{}"
    conn = _collection(apkg)
    notes = conn.execute("SELECT guid, flds, tags, mod FROM notes ORDER BY id").fetchall()
    assert len(notes) == 370
    assert conn.execute("SELECT count(*) FROM cards").fetchone()[0] == 370
    items = list(doc.items())
    for (guid, flds, tags, mod), item in zip(notes, items):
        question, answer, number, section = flds.split("\x1f")
        assert _front_text(question) == plain_text(item.question)
        assert number == str(item.number)
        assert answer.startswith("<") and "\n" not in re.sub(r"<pre.*?</pre>", "", answer, flags=re.S)
        assert tags.strip().startswith("Expanded_Q&A_(")
    assert len({n[0] for n in notes}) == 370
    decks = conn.execute("SELECT decks FROM col").fetchone()[0]
    names = {d["name"] for d in __import__("json").loads(decks).values()}
    assert "Expanded Q&A" in names
    assert {f"Expanded Q&A::{s.title}" for s in doc.sections} <= names
    models = __import__("json").loads(conn.execute("SELECT models FROM col").fetchone()[0])
    model = models[str(anki.MODEL_ID)]
    assert [f["name"] for f in model["flds"]] == ["Question", "Answer", "Number", "Section"]


def test_same_model_same_bytes(reference) -> None:  # type: ignore[no-untyped-def]
    assert anki.package_bytes(reference.document, DAY) == anki.package_bytes(reference.document, DAY)
    assert anki.package_bytes(EVERY_NODE) == anki.package_bytes(EVERY_NODE)


def test_write_file_and_cli_extension(tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    w = write_file(EVERY_NODE, str(out), DAY)
    assert w.name == "anki"
    assert out.read_bytes() == anki.package_bytes(EVERY_NODE, DAY)


def test_guid_depends_on_identity_and_number_not_on_the_answer() -> None:
    a = Document("T", "chat.txt", (Section("S", (Item(1, (Text("q"),), (Paragraph((Text("a"),)),)),)),))
    b = Document("T", "chat.txt", (Section("Other", (Item(1, (Text("q changed"),), (Paragraph((Text("b"),)),)),)),))
    c = Document("T", "other.txt", a.sections)
    ga = [n.guid for n in anki.notes(a)]
    assert ga == [n.guid for n in anki.notes(b)]
    assert ga != [n.guid for n in anki.notes(c)]
    # unchanged notes keep their modification time; a changed one gets another
    assert anki.notes(a, DAY)[0].mtime != anki.notes(b, DAY)[0].mtime
    assert anki.notes(a, DAY)[0].mtime == anki.notes(a, DAY)[0].mtime


def test_unnumbered_items_are_keyed_by_question_and_repeats_are_counted() -> None:
    items = (Item(None, (Text("Why  is"), Text(" it?")), ()), Item(None, (Text("Why is it?"),), ()),
             Item(4, (Text("x"),), ()), Item(4, (Text("y"),), ()))
    doc = Document("T", "s", (Section("S", items),))
    assert anki.item_keys(doc) == ["q:Why is it?", "q:Why is it?#2", "n:4", "n:4#2"]
    assert len({n.guid for n in anki.notes(doc)}) == 4


def test_math_uses_mathjax_delimiters() -> None:
    doc = Document("T", "s", (Section("S", (Item(1, (Math("x<1"),), (MathBlock(r"\frac{a}{b}"),)),)),))
    note = anki.notes(doc)[0]
    assert note.fields[0] == r"\(x&lt;1\)"
    assert note.fields[1] == r'<div class="math">\[\frac{a}{b}\]</div>'


def test_names_and_tags() -> None:
    assert anki.deck_name("A::B", "  C  d ") == "A:B::C d"
    assert anki.tag('Batch "1" (1–20)') == "Batch_1_(1–20)"
    assert anki.tag("   ") == "untitled"


# --------------------------------------------------------------------------- a real Anki collection

anki_collection = pytest.importorskip("anki.collection", reason="the anki package (PyPI) is not installed")


def _import(col, path: Path, always: bool):  # type: ignore[no-untyped-def]
    from anki.import_export_pb2 import (
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
        ImportAnkiPackageUpdateCondition,
    )

    cond = (ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS if always
            else ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER)
    options = ImportAnkiPackageOptions(update_notes=cond, with_scheduling=False)
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options)).log


@pytest.fixture
def col(tmp_path: Path):  # type: ignore[no-untyped-def]
    c = anki_collection.Collection(str(tmp_path / "collection.anki2"))
    yield c
    c.close()


@pytest.fixture(scope="module")
def edited(reference_bytes: bytes):  # type: ignore[no-untyped-def]
    assert reference_bytes.count(EDIT_FROM.encode()) == 2  # Q312, in both renditions
    return load(reference_bytes.replace(EDIT_FROM.encode(), EDIT_TO.encode()), "000_8484edd62e7d6ec6.txt")


def test_reference_deck_imports_into_anki(col, reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ref.apkg"
    write_file(reference.document, str(path), DAY)
    log = _import(col, path, always=False)
    assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (370, 0, 0, 0)
    assert col.note_count() == 370 and col.card_count() == 370
    fronts = []
    for nid in sorted(col.find_notes("")):
        note = col.get_note(nid)
        fronts.append(_front_text(note["Question"]))
    assert fronts == [plain_text(it.question) for it in reference.document.items()]
    names = {d.name for d in col.decks.all_names_and_ids()}
    assert {"Expanded Q&A"} | {f"Expanded Q&A::{s.title}" for s in reference.document.sections} <= names
    q312 = col.get_note(col.find_notes("Number:312")[0])
    assert q312.tags == ["Expanded_Q&A_(311–330)"]
    assert "<ul><li><strong>Benefit:</strong>" in q312["Answer"]
    # the card renders: front shows the question, back adds the answer
    card = q312.cards()[0]
    assert "What is the KV cache in Transformers?" in card.question()
    assert "Huge memory consumer" in card.answer()
    assert col.decks.name(card.did) == "Expanded Q&A::Expanded Q&A (311–330)"


def test_reimport_after_editing_one_answer_updates_one_note(col, reference, edited, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first.apkg", tmp_path / "second.apkg"
    write_file(reference.document, str(first), DAY)
    write_file(edited.document, str(second), DAY)
    _import(col, first, always=False)
    nid = col.find_notes("Number:312")[0]
    card = col.get_note(nid).cards()[0]
    # the card has been studied: review history must survive the update
    card.start_timer()
    col.sched.answerCard(card, 3)

    again = _import(col, first, always=True)  # the same package again: nothing changes
    assert (len(again.new), len(again.updated), len(again.duplicate)) == (0, 0, 370)

    log = _import(col, second, always=True)
    assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (0, 1, 369, 0)
    assert list(log.updated[0].fields)[2] == "312"
    assert col.note_count() == 370
    note = col.get_note(nid)
    assert EDIT_TO in note["Answer"] and EDIT_FROM not in note["Answer"]
    assert col.get_card(card.id).reps == 1


def test_reimport_on_a_later_day_with_if_newer_applies_the_edit(col, reference, edited, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first.apkg", tmp_path / "second.apkg"
    write_file(reference.document, str(first), DAY)
    write_file(edited.document, str(second), DAY + dt.timedelta(days=1))
    _import(col, first, always=False)
    log = _import(col, second, always=False)  # Anki's default: update notes if newer
    assert len(log.new) == 0 and col.note_count() == 370
    note = col.get_note(col.find_notes("Number:312")[0])
    assert EDIT_TO in note["Answer"]
