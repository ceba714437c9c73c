"""Fuzzing every reader and writer with inputs made from real files (tests/fuzz_inputs.py): windows
of the shared corpus (or of the fixtures when the corpus is absent), mutated as bytes and Markdown,
as JSON trees, as ZIP and DOCX packages. Whatever the input, qabook raises nothing but its own
``InputError`` (with a one-line message), every writer writes what loads, and the DOCX, Markdown and
JSON read back with every word.

Hypothesis draws the operations (derandomized: the same inputs on every run) within a fixed number
of examples; ``QABOOK_FUZZ_EXAMPLES`` multiplies them. ``bench/fuzz/run.py`` drives the same
generator for a hundred thousand inputs and more.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qabook.formats import READERS
from tests import fuzz_inputs

SCALE = float(os.environ.get("QABOOK_FUZZ_EXAMPLES", "1"))

ops = st.lists(st.tuples(st.integers(0, 255), st.integers(0, 65535), st.integers(0, (1 << 20) - 1)), max_size=8)


def _settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def _seed_kinds() -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, seed in enumerate(fuzz_inputs.seeds()):
        out.setdefault(seed.kind, []).append(i)
    return out


KINDS = sorted(_seed_kinds())


def _check(name: str, data: bytes, audit: bool = False) -> None:
    exc = fuzz_inputs.run_one(name, data, audit=audit)
    if exc is not None:
        raise AssertionError(f"{name} ({len(data)} bytes): {type(exc).__name__}: {exc}") from exc


@pytest.mark.parametrize("kind", KINDS)
@_settings(120)
@given(data=st.data(), pos=st.integers(0, 65535), size=st.integers(0, 65535), ops=ops, style=st.integers(0, 255))
def test_mutated_inputs_raise_nothing_but_input_error(kind: str, data: st.DataObject, pos: int, size: int,
                                                      ops: list[fuzz_inputs.Op], style: int) -> None:
    seed = data.draw(st.sampled_from(_seed_kinds()[kind]), label="seed")
    name, raw = fuzz_inputs.make_input(seed, pos, size, ops, style)
    _check(name, raw)


@pytest.mark.parametrize("reader", [r.name for r in READERS])
@_settings(40)
@given(seed=st.integers(0, 1 << 16), pos=st.integers(0, 65535), size=st.integers(0, 65535), ops=ops,
       style=st.integers(0, 255))
def test_every_reader_forced_on_any_input(reader: str, seed: int, pos: int, size: int,
                                          ops: list[fuzz_inputs.Op], style: int) -> None:
    """``--from READER`` makes a reader read what it would never have chosen."""
    from qabook.pipeline import Options, load
    from qabook.readers.base import InputError

    name, raw = fuzz_inputs.make_input(seed, pos, size, ops, style)
    try:
        load(raw, name, Options(reader=reader))
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)


@_settings(150)
@given(seed=st.integers(0, 1 << 16), pos=st.integers(0, 65535), size=st.integers(0, 65535), ops=ops,
       style=st.integers(0, 255))
def test_what_loads_is_reviewed_and_reads_back_with_every_word(seed: int, pos: int, size: int,
                                                               ops: list[fuzz_inputs.Op], style: int) -> None:
    name, raw = fuzz_inputs.make_input(seed, pos, size, ops, style)
    _check(name, raw, audit=True)


def test_the_seeds_cover_every_kind_of_input() -> None:
    assert {"text", "json", "html", "zip", "docx"} <= set(KINDS)
