"""How long ``qabook check`` takes on big collections made by repeating the reference case's items.

    python bench/check_bench.py [--items 100000] [--runs 3]

Builds a qabook Markdown file of N items (the reference case's 370 items repeated and renumbered,
in sections of 50, so every question is asked about N/370 times: the worst case for the
near-duplicate search) and times ``qabook check FILE --json`` in a fresh process: wall time and
peak memory (``os.wait4``), median of the runs. Needs ../shared/corpus (QABOOK_SHARED overrides).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"


def build(items: int, path: Path) -> None:
    from qabook.model import Document, Section
    from qabook.pipeline import load
    from qabook.writers.markdown import render

    shared = Path(os.environ.get("QABOOK_SHARED", HERE.parents[1] / "shared"))
    reference = shared / "corpus" / "000_8484edd62e7d6ec6.txt"
    base = list(load(None, reference.name, path=str(reference)).document.items())
    sections: list[Section] = []
    for start in range(0, items, 50):
        chunk = tuple(dataclasses.replace(base[k % len(base)], number=k + 1)
                      for k in range(start, min(items, start + 50)))
        sections.append(Section(f"Batch {len(sections) + 1}", chunk))
    path.write_text(render(Document("Check benchmark", path.name, tuple(sections))), encoding="utf-8")


def run_once(path: Path) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "qabook.cli", "check", str(path), "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"qabook check failed with exit code {code}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    path = WORK / f"check-{args.items}.md"
    if not path.exists():
        build(args.items, path)
    results = [run_once(path) for _ in range(args.runs)]
    wall = statistics.median(r[0] for r in results)
    peak = statistics.median(r[1] for r in results)
    print(f"qabook check, {args.items:,} items ({path.stat().st_size / 1e6:.1f} MB of Markdown): "
          f"median wall {wall:.2f} s, peak {peak:.0f} MB over {args.runs} run(s); target < 30 s "
          f"-> {'pass' if wall < 30 else 'FAIL'}")


if __name__ == "__main__":
    main()
