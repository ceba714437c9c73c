"""The progress bar: silent for short conversions and off a terminal, shown and cleared otherwise."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from qabook.pipeline import convert
from qabook.progress import ProgressBar, progress_bar

from tests.conftest import FIXTURES


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system=None), out


def test_nothing_shows_within_the_first_second() -> None:
    console, out = _terminal()
    clock = Clock()
    bar = ProgressBar("big.json", console, clock)
    clock.now = 0.5
    bar("reading", 10, 100)
    bar.close()
    assert out.getvalue() == ""


def test_a_long_conversion_shows_reading_then_writing_and_clears() -> None:
    console, out = _terminal()
    clock = Clock()
    bar = ProgressBar("big.json", console, clock)
    clock.now = 1.5
    bar("reading", 50 << 20, 100 << 20)
    text = out.getvalue()
    assert "Reading big.json" in text and "52.4/104.9 MB" in text
    clock.now = 3.0
    bar("writing", 3, 12)
    assert "Writing big.json" in out.getvalue() and "3/12" in out.getvalue()
    bar.close()


def test_no_bar_off_a_terminal_or_when_quiet() -> None:
    assert progress_bar("x", Console(file=io.StringIO(), force_terminal=False), quiet=False) is None
    console, _ = _terminal()
    assert progress_bar("x", console, quiet=True) is None
    assert progress_bar("x", console, quiet=False) is not None


def test_convert_reports_reading_in_bytes_then_writing_in_sections(tmp_path: Path) -> None:
    src = FIXTURES / "chatgpt" / "conversations.json"
    seen: list[tuple[str, int, int]] = []
    convert(None, src.name, str(tmp_path / "o.docx"), path=str(src), progress=lambda *a: seen.append(a))
    reading = [s for s in seen if s[0] == "reading"]
    writing = [s for s in seen if s[0] == "writing"]
    size = src.stat().st_size
    assert reading and reading[-1][1:] == (size, size)
    assert all(r[2] == size for r in reading)
    assert [w[1:] for w in writing] == [(0, 3), (1, 3), (2, 3)]
    assert seen.index(writing[0]) > seen.index(reading[-1])
