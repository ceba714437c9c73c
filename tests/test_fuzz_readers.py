"""Fuzzing every reader and writer with inputs made from real files (tests/fuzz_inputs.py): windows
of the shared corpus (or of the fixtures when the corpus is absent), mutated as bytes and Markdown,
as JSON trees, as ZIP and DOCX packages. Whatever the input, qabook raises nothing but its own
``InputError`` (with a one-line message); what loads is written in every format, converting from a
file as ``qabook convert`` does agrees with loading (the same DOCX, or the same refusal with no file
left behind), and the DOCX, Markdown and JSON read back with every word.

Hypothesis draws the operations derandomized (the same inputs on every run, no example database)
within a fixed number of examples, and every input is small (a window of at most 16 KB of a text,
three records of an export, nesting at most a few thousand deep), so the whole file runs in about a
minute on two cores. ``QABOOK_FUZZ_EXAMPLES`` multiplies the number of examples for a longer run;
``bench/fuzz/run.py`` drives the same generator for a hundred thousand inputs and more.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qabook.formats import READERS
from tests import fuzz_inputs

SCALE = float(os.environ.get("QABOOK_FUZZ_EXAMPLES", "1"))

KINDS = ("docx", "html", "json", "text", "zip")
"""The kinds of seed (tests/fuzz_inputs.py): which mutations an input gets."""

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # zipfile, on hostile packages

ops = st.lists(st.tuples(st.integers(0, 255), st.integers(0, 65535), st.integers(0, (1 << 20) - 1)), max_size=8)
position = st.integers(0, 65535)
style = st.integers(0, 255)


def _settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def _seeds_of(kind: str) -> list[int]:
    return [i for i, seed in enumerate(fuzz_inputs.seeds()) if seed.kind == kind]


def _check(name: str, data: bytes, audit: bool = False, reader: str | None = None) -> None:
    exc = fuzz_inputs.run_one(name, data, audit=audit, reader=reader)
    if exc is not None:
        raise AssertionError(f"{name} ({len(data)} bytes): {type(exc).__name__}: {exc}") from exc


def test_the_seeds_cover_every_kind_of_input() -> None:
    kinds = [seed.kind for seed in fuzz_inputs.seeds()]
    assert set(kinds) == set(KINDS)
    assert all(kinds.count(k) >= 1 for k in KINDS)


@pytest.mark.parametrize("kind", KINDS)
@_settings(120)
@given(data=st.data(), pos=position, size=position, ops=ops, style=style)
def test_mutated_inputs_raise_nothing_but_input_error(kind: str, data: st.DataObject, pos: int, size: int,
                                                      ops: list[fuzz_inputs.Op], style: int) -> None:
    seed = data.draw(st.sampled_from(_seeds_of(kind)), label="seed")
    name, raw = fuzz_inputs.make_input(seed, pos, size, ops, style)
    _check(name, raw)


@pytest.mark.parametrize("reader", [r.name for r in READERS])
@_settings(40)
@given(seed=st.integers(0, 1 << 16), pos=position, size=position, ops=ops, style=style)
def test_every_reader_forced_on_any_input(reader: str, seed: int, pos: int, size: int,
                                          ops: list[fuzz_inputs.Op], style: int) -> None:
    """``--from READER`` makes a reader read what it would never have chosen."""
    name, raw = fuzz_inputs.make_input(seed, pos, size, ops, style)
    _check(name, raw, reader=reader)


@_settings(150)
@given(seed=st.integers(0, 1 << 16), pos=position, size=position, ops=ops, style=style)
def test_what_loads_is_reviewed_and_reads_back_with_every_word(seed: int, pos: int, size: int,
                                                               ops: list[fuzz_inputs.Op], style: int) -> None:
    name, raw = fuzz_inputs.make_input(seed, pos, size, ops, style)
    _check(name, raw, audit=True)


def test_the_checks_catch_what_they_look_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_one itself: a clean input passes, a refused one is fine, and a lost word and a
    traceback are each reported (so a green fuzz run means something)."""
    import io

    import qabook.pipeline
    from qabook.model import Document, Item, Paragraph, Section, Text, to_json
    from qabook.writers import docx

    good = b"1. Q: What is a tensor?\nA: An array.\n\n2. Q: And a gradient?\nA: Derivatives.\n"
    assert fuzz_inputs.run_one("chat.txt", good, audit=True) is None
    assert fuzz_inputs.run_one("chat.txt", b"") is None  # refused with an InputError

    doc = Document("T", "s", (Section("S", (Item(1, (Text("q"),), (Paragraph((Text("kept words"),)),)),)),))
    buf = io.BytesIO()
    docx.write(doc, buf)
    outputs = {"docx": buf.getvalue(), "markdown": b"# T\n\n### 1. q\n\nkept\n", "json": to_json(doc).encode()}
    assert fuzz_inputs._lost_items(doc, outputs).startswith("markdown: 1 item(s) not read back")

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a reader bug")

    monkeypatch.setattr(qabook.pipeline, "load", broken)
    assert isinstance(fuzz_inputs.run_one("chat.txt", good), KeyError)
