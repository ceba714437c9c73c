"""Anki decks (``.apkg``), made with genanki: one note per item, a deck per document.

* **Notes.** Notetype "qabook Q&A" with the fields Question, Answer, Number and Section. The front
  shows the question (and its number); the back adds the answer as clean HTML (lists, code blocks,
  tables) with formulas as ``\\( … \\)`` / ``\\[ … \\]``, which Anki's built-in MathJax renders.
* **Decks.** The document is a deck named after its title; each section is a subdeck
  (``Title::Section``). Each note is tagged with its section's name (spaces become ``_``).
* **Identity.** A note's GUID comes from the collection's identity (document title and source name)
  and the item's key: its number, or its question text when it has none (a repeated number or
  question gets ``#2``, ``#3`` … in order). Never from the answer, so a package exported again after
  an answer changed *updates* the notes already imported instead of adding copies, and the cards
  keep their review history. The same keys name items in the quiz's progress file
  (:func:`item_keys`).
* **Modification times.** Anki updates an existing note only when the incoming one has another
  modification time (import option *Update notes: Always*) or a later one (*If newer*, the
  default). A note's time is the document date (midnight UTC; a fixed day without one) plus an
  offset within that day taken from the note's content, so an unchanged note keeps exactly the same
  time (Anki leaves it alone) and a changed one gets another. Importing with *Update notes: Always*
  therefore updates exactly the notes whose text changed; with *If newer*, a package made on a
  later day than the one imported before updates every note (to the same text where nothing
  changed), and one made on the same day updates a changed note only when its new time happens to
  be later.
* **Deterministic.** Same model and date, same bytes: note and card ids, deck ids, the notetype id
  and every timestamp are fixed or derived from the document, and the zip members carry a fixed
  date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import re
import sqlite3
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Iterator

from qabook.model import Document, Item, plain_text
from qabook.writers import html as html_writer

if TYPE_CHECKING:
    import genanki  # type: ignore[import-untyped]

NAME = "anki"
EXTENSIONS = (".apkg",)

MODEL_ID = 1_731_409_127
"""The notetype's id: fixed, so every qabook deck shares one notetype in a collection."""
MODEL_NAME = "qabook Q&A"
FIXED_DAY = dt.date(2024, 1, 1)
"""The day used for timestamps when a document has no date."""
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

CSS = """\
.card { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 19px;
  line-height: 1.5; text-align: left; color: #1d2330; background: #fff; max-width: 46em; margin: 0 auto;
  padding: 0 .5em; }
.nightMode.card, .night_mode .card { color: #e4e7ee; background: #1c1f26; }
.qa-num { color: #2859c5; font-size: .8em; font-weight: 600; letter-spacing: .02em; }
.nightMode .qa-num { color: #8fb0ff; }
.qa-question { font-weight: 600; margin: .2em 0 .4em; }
.qa-answer p { margin: .5em 0; }
.qa-answer ul, .qa-answer ol { margin: .4em 0; padding-left: 1.4em; }
.qa-answer li { margin: .15em 0; }
.qa-section { color: #7a8294; font-size: .7em; margin-top: 1.5em; }
code { font-family: ui-monospace, Menlo, Consolas, "Liberation Mono", monospace; font-size: .88em;
  background: rgba(127,127,127,.14); padding: .05em .3em; border-radius: 4px; }
pre { background: rgba(127,127,127,.12); padding: .6em .8em; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid rgba(127,127,127,.4); padding: .25em .5em; text-align: left; }
blockquote { margin: .5em 0; padding-left: .9em; border-left: 3px solid rgba(127,127,127,.4); }
"""

FRONT = """\
{{#Number}}<div class="qa-num">Q{{Number}}</div>{{/Number}}
<div class="qa-question">{{Question}}</div>"""

BACK = """\
{{FrontSide}}
<hr id="answer">
<div class="qa-answer">{{Answer}}</div>
{{#Section}}<div class="qa-section">{{Section}}</div>{{/Section}}"""


def collection_identity(doc: Document) -> str:
    """What makes two exports "the same collection": the title and the source's name."""
    return f"{doc.title}\x1f{doc.source}"


def item_keys(doc: Document) -> list[str]:
    """A stable key per item in document order: ``n:12`` for number 12, ``q:<question>`` without
    a number; a repeated key gets ``#2``, ``#3`` … Answers never take part."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for item in doc.items():
        if item.number is not None:
            base = f"n:{item.number}"
        else:
            base = "q:" + " ".join(plain_text(item.question).split())
        n = seen.get(base, 0) + 1
        seen[base] = n
        out.append(base if n == 1 else f"{base}#{n}")
    return out


def note_guid(doc: Document, key: str) -> str:
    """The note's GUID: genanki's base91 form of a hash of the collection identity and the key."""
    from genanki import guid_for

    return str(guid_for("qabook", collection_identity(doc), key))


def _id(*parts: str, low: int = 1 << 40, span: int = 1 << 48) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return low + int.from_bytes(digest[:8], "big") % span


def deck_name(*parts: str) -> str:
    """A deck name from parts, with ``::`` (Anki's nesting) kept out of the parts."""
    clean = [re.sub(r"\s+", " ", p.replace("::", ":")).strip() or "Untitled" for p in parts]
    return "::".join(clean)


def tag(text: str) -> str:
    """An Anki tag for a section title: no spaces, no quotes, no nesting."""
    t = re.sub(r"\s+", "_", text.strip()).replace('"', "").replace("::", ":")
    return t or "untitled"


@dataclass(frozen=True, slots=True)
class NoteData:
    """One note as written: fields, tags, GUID, deck and modification time."""

    guid: str
    fields: tuple[str, str, str, str]
    tags: tuple[str, ...]
    deck: str
    mtime: int


def _day_start(date: dt.date | None) -> int:
    day = date or FIXED_DAY
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def _offset(fields: tuple[str, ...], tags: tuple[str, ...]) -> int:
    digest = hashlib.sha256("\x1f".join(fields + ("\x1e",) + tags).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 86_400


def notes(doc: Document, date: dt.date | None = None) -> list[NoteData]:
    """Every note of the package, in document order."""
    base = _day_start(date)
    keys = iter(item_keys(doc))
    out: list[NoteData] = []
    for section in doc.sections:
        deck = deck_name(doc.title, section.title)
        tags = (tag(section.title),)
        for item in section.items:
            fields = _fields(item, section.title)
            out.append(NoteData(note_guid(doc, next(keys)), fields, tags, deck, base + _offset(fields, tags)))
    return out


def _fields(item: Item, section: str) -> tuple[str, str, str, str]:
    question = html_writer.inlines(item.question, math="mathjax")
    answer = html_writer.blocks(item.answer, math="mathjax")
    number = "" if item.number is None else str(item.number)
    return (question, answer, number, html_writer.esc(section))


def _model() -> genanki.Model:
    import genanki

    return genanki.Model(
        MODEL_ID, MODEL_NAME,
        fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Number"}, {"name": "Section"}],
        templates=[{"name": "Question → Answer", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
    )


def package_bytes(doc: Document, date: dt.date | None = None) -> bytes:
    """The ``.apkg`` as bytes."""
    import warnings

    import genanki

    model = _model()
    identity = collection_identity(doc)
    decks: dict[str, genanki.Deck] = {}

    def deck(name: str) -> genanki.Deck:
        if name not in decks:
            decks[name] = genanki.Deck(_id("deck", identity, name), name)
        return decks[name]

    top = deck(deck_name(doc.title))
    n_items = sum(len(s.items) for s in doc.sections)
    top.description = html_writer.esc(f"{n_items} questions from {doc.source}, made by qabook.")
    top.add_model(model)
    written = notes(doc, date)
    for nd in written:
        deck(nd.deck).add_note(genanki.Note(model=model, fields=list(nd.fields), tags=list(nd.tags), guid=nd.guid))

    timestamp = _day_start(date)
    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # genanki warns about HTML tags it does not know (none here)
            _write_decks(cursor, list(decks.values()), timestamp, _ids(timestamp, identity))
        # by note id (the table's key; cards are indexed by it): notes have no index on guid, and
        # looking each one up by guid made this quadratic in the number of notes
        note_ids: dict[str, list[int]] = {}
        for guid, nid in cursor.execute("SELECT guid, id FROM notes ORDER BY id"):
            note_ids.setdefault(guid, []).append(nid)
        cursor.executemany("UPDATE notes SET mod = ? WHERE id = ?",
                           [(nd.mtime, nid) for nd in written for nid in note_ids.get(nd.guid, ())])
        cursor.executemany("UPDATE cards SET mod = ? WHERE nid = ?",
                           [(nd.mtime, note_ids[nd.guid][0]) for nd in written if nd.guid in note_ids])
        conn.commit()
        db = conn.serialize()
    finally:
        conn.close()

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, data in (("collection.anki2", db), ("media", json.dumps({}).encode("ascii"))):
            info = zipfile.ZipInfo(member, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)
    return buf.getvalue()


def _write_decks(cursor: sqlite3.Cursor, decks: list[genanki.Deck], timestamp: int, ids: Iterator[int]) -> None:
    """What genanki's ``Package.write_to_db`` writes, with the collection's deck list written once.

    genanki reads the list of decks (JSON in the one ``col`` row) and writes it back for every deck
    it adds, which is quadratic in the number of decks (one per section: 2,001 for 100,000 items).
    The rows written are the same: the deck list holds the same decks in the same order, the
    model list is built by the same steps, and notes and cards are written in the same order with
    the same ids.
    """
    from genanki.apkg_col import APKG_COL  # type: ignore[import-untyped]
    from genanki.apkg_schema import APKG_SCHEMA  # type: ignore[import-untyped]

    cursor.executescript(APKG_SCHEMA)
    cursor.executescript(APKG_COL)
    (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
    (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
    all_decks = json.loads(decks_json)
    for deck in decks:
        all_decks[str(deck.deck_id)] = deck.to_json()
        models = json.loads(models_json)  # small (one model); kept exactly as genanki builds it
        for note in deck.notes:
            deck.add_model(note.model)
        models.update({model.model_id: model.to_json(timestamp, deck.deck_id) for model in deck.models.values()})
        models_json = json.dumps(models)
    cursor.execute("UPDATE col SET decks = ?", (json.dumps(all_decks),))
    cursor.execute("UPDATE col SET models = ?", (models_json,))
    for deck in decks:
        for note in deck.notes:
            note.write_to_db(cursor, timestamp, deck.deck_id, ids)


def _ids(timestamp: int, identity: str) -> Iterator[int]:
    """Note and card ids: consecutive numbers from a millisecond time within the document's day
    (genanki's scheme), placed by the collection identity so two documents rarely overlap."""
    return itertools.count(timestamp * 1000 + _id("ids", identity, low=0, span=80_000_000))


def write(doc: Document, out: BinaryIO, date: dt.date | None = None) -> None:
    """Write the deck package."""
    out.write(package_bytes(doc, date))
