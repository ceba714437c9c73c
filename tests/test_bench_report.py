"""bench/run.py's report: the issue's targets, with pass/fail from made-up figures (no timing here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def _row(run: ModuleType, case: str, inp: str, items: int, tool: str, wall: float, peak: float,
         size_mb: float = 0.0) -> object:
    return run.Row(case, inp, items, tool, [run.Sample(wall, wall, peak)], size_mb=size_mb)


def _rows(run: ModuleType, k100_wall: float, k100_peak: float, export_mb: float = 200.4) -> list[object]:
    return [
        _row(run, "reference", "000_x.txt", 370, run.QABOOK_DOCX, 0.45, 30),
        _row(run, "10,000 items", "items-10000.md", 10_000, run.QABOOK_DOCX, 1.5, 60),
        _row(run, "10,000 items", "items-10000.md", 10_000, run.PANDOC, 31.0, 2600),
        _row(run, "100,000 items", "items-100000.md", 100_000, run.QABOOK_DOCX, k100_wall, k100_peak),
        _row(run, f"{export_mb:.0f} MB export", "export.json", 0, run.QABOOK_DOCX, 50, 390, size_mb=export_mb),
    ]


def test_every_target_of_the_issue_is_listed_with_its_number(run: ModuleType) -> None:
    names = [t for t, _, _ in run.targets([])]
    assert names == [
        "10,000 items → DOCX: ≤ 2 s wall",
        "10,000 items → DOCX: ≤ 150 MB peak",
        "10,000 items → DOCX: at least 20× faster than pandoc (pandoc's wall ÷ qabook's)",
        "10,000 items → DOCX: at least 40× less memory than pandoc (pandoc's peak ÷ qabook's)",
        "100,000 items → DOCX: ≤ 20 s wall",
        "100,000 items → DOCX: peak memory within 1.5× of the 10,000-item run (memory flat)",
        "100,000 items → DOCX: time within 12× of the 10,000-item run (linear)",
        "200 MB ChatGPT export → DOCX: ≤ 60 s wall",
        "200 MB ChatGPT export → DOCX: ≤ 400 MB peak",
        "The reference case → DOCX: ≤ 0.5 s wall including interpreter start",
    ]
    assert {v for _, _, v in run.targets([])} == {"—"}


def test_targets_pass_and_fail_on_the_figures(run: ModuleType) -> None:
    verdicts = [v for _, _, v in run.targets(_rows(run, k100_wall=15.0, k100_peak=80))]
    assert verdicts == ["pass"] * 10
    verdicts = [v for _, _, v in run.targets(_rows(run, k100_wall=19.0, k100_peak=95))]
    # 19 s is within 20 s but more than 12 × 1.5 s; 95 MB is more than 1.5 × 60 MB
    assert verdicts[4:7] == ["pass", "FAIL", "FAIL"]


def test_an_export_of_another_size_does_not_count(run: ModuleType) -> None:
    measured = dict((t, m) for t, m, _ in run.targets(_rows(run, 15.0, 80, export_mb=5.0)))
    assert measured["200 MB ChatGPT export → DOCX: ≤ 60 s wall"] == "not measured (this run's export was 5 MB)"


def test_peers_are_shown_as_ratios_to_qabook(run: ModuleType) -> None:
    table = run.results_table(_rows(run, 15.0, 80))
    pandoc = next(line for line in table.splitlines() if "pandoc" in line)
    assert "| 20.67× | 43.33× |" in pandoc
