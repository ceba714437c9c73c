"""The Anki writer writes the same collection rows as genanki's own Package.write_to_db."""

from __future__ import annotations

import itertools
import sqlite3

import genanki

from qabook.writers import anki


def _decks(n_decks: int, notes_per_deck: int) -> list[genanki.Deck]:
    model = anki._model()
    top = genanki.Deck(1_000_000, "Top")
    top.add_model(model)
    decks = [top]
    for d in range(n_decks):
        deck = genanki.Deck(2_000_000 + d, f"Top::Section {d}")
        for k in range(notes_per_deck):
            deck.add_note(genanki.Note(model=model, fields=[f"Q{d}.{k}", f"A <b>{k}</b>", str(k), f"S{d}"],
                                       tags=[f"s{d}"], guid=f"g{d}-{k}"))
        decks.append(deck)
    return decks


def _rows(write) -> dict[str, list[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(":memory:")
    cursor = conn.cursor()
    write(cursor)
    tables = [t for (t,) in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    rows = {t: cursor.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    conn.close()
    return rows


def test_decks_notes_and_cards_are_the_rows_genanki_writes() -> None:
    timestamp = 1_700_000_000
    ours = _rows(lambda c: anki._write_decks(c, _decks(7, 3), timestamp, itertools.count(timestamp * 1000)))
    theirs = _rows(lambda c: genanki.Package(_decks(7, 3)).write_to_db(c, timestamp, itertools.count(timestamp * 1000)))
    assert ours == theirs
    assert len(ours["notes"]) == 21 and len(ours["cards"]) == 21
